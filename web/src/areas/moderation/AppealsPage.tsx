import { type FormEvent, useState } from 'react';
import { ApiError, api, describeError, query } from '../../api/client.ts';
import type { Appeal, Decision } from '../../api/types.ts';
import { Choice, ChoiceGroup, SelectField, TextArea } from '../../components/Field.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useResource } from '../../components/hooks.ts';
import { placeProblems } from '../../lib/field-errors.ts';
import { formatTime } from '../../lib/time.ts';
import { actionLabel, categoryLabel } from '../../lib/vocabulary.ts';
import { setSearch, useLocation } from '../../router.tsx';

/** Appeals against decisions by other moderators, oldest first, each with its resolve form. */
export function AppealsPage() {
  const status = useLocation().search.get('status') ?? 'open';
  const appeals = useResource(status, (signal) =>
    api<{ appeals: Appeal[] }>('GET', `/v1/appeals${query({ status, limit: 200 })}`, { signal }),
  );
  const [done, setDone] = useState('');
  return (
    <Page title="Appeals" lead="Appeals against decisions taken by other moderators; you cannot review your own.">
      <form className="filters" aria-label="Filter appeals" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          pointer="/status"
          label="Status"
          value={status}
          onValue={(v) => setSearch({ status: v })}
          options={[
            { value: 'open', label: 'Open' },
            { value: 'upheld', label: 'Upheld' },
            { value: 'overturned', label: 'Overturned' },
          ]}
        />
      </form>
      <StatusLine>{done}</StatusLine>
      {appeals.loading && !appeals.data ? (
        <Loading what="Loading appeals" />
      ) : appeals.error ? (
        <ErrorBox messages={[describeError(appeals.error)]} />
      ) : appeals.data?.appeals.length === 0 ? (
        <p className="empty">No {status} appeals.</p>
      ) : (
        <ul className="cards">
          {appeals.data?.appeals.map((a) => (
            <li key={a.id}>
              <AppealCard
                appeal={a}
                onResolved={(outcome) => {
                  setDone(`Appeal ${a.id} ${outcome}.`);
                  appeals.reload();
                }}
              />
            </li>
          ))}
        </ul>
      )}
    </Page>
  );
}

function AppealCard({ appeal, onResolved }: { appeal: Appeal; onResolved: (outcome: string) => void }) {
  const decision = useResource(appeal.decisionId, (signal) =>
    api<Decision>('GET', `/v1/decisions/${encodeURIComponent(appeal.decisionId)}`, { signal }),
  );
  const [outcome, setOutcome] = useState('');
  const [explanation, setExplanation] = useState('');
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const form = `appeal-${appeal.id}`;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    if (!outcome) {
      setProblems({ '/outcome': ['Choose uphold or overturn.'] });
      return;
    }
    setBusy(true);
    try {
      await api('POST', `/v1/appeals/${encodeURIComponent(appeal.id)}/resolve`, {
        body: { outcome, explanation: explanation.trim() },
      });
      onResolved(outcome);
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, ['/outcome', '/explanation']);
        setProblems(placed.byField);
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    } finally {
      setBusy(false);
    }
  };

  const d = decision.data;
  return (
    <article className="card" aria-labelledby={`${form}-title`}>
      <h2 id={`${form}-title`}>Appeal by account {appeal.accountId}</h2>
      <p className="meta">
        Filed {formatTime(appeal.filedAt)} · decision {appeal.decisionId} · {appeal.status}
      </p>
      {d ? (
        <div className="decision-recap">
          <p>
            <strong>Decision:</strong> {d.actions.map((x) => actionLabel(x.type)).join(', ')} ·{' '}
            {categoryLabel(d.category)} · {d.ground} · {formatTime(d.createdAt)}
          </p>
          <p className="quote">{d.explanation}</p>
        </div>
      ) : null}
      <p>
        <strong>The account says:</strong>
      </p>
      <blockquote className="content-text">{appeal.text}</blockquote>
      {appeal.status === 'open' ? (
        <form className="form" onSubmit={submit} noValidate>
          <ErrorBox messages={general} />
          <ChoiceGroup pointer="/outcome" form={form} legend="Outcome" errors={problems['/outcome']} className="inline">
            <Choice
              type="radio"
              name={`${form}-outcome`}
              idBase={`${form}-outcome`}
              value="upheld"
              label="Uphold the decision"
              checked={outcome === 'upheld'}
              onChange={() => setOutcome('upheld')}
            />
            <Choice
              type="radio"
              name={`${form}-outcome`}
              idBase={`${form}-outcome`}
              value="overturned"
              label="Overturn it"
              help="The enforcement is reversed and the violation no longer counts."
              checked={outcome === 'overturned'}
              onChange={() => setOutcome('overturned')}
            />
          </ChoiceGroup>
          <TextArea
            pointer="/explanation"
            form={form}
            label="Explanation"
            hint="Sent to the account. At least 10 characters."
            value={explanation}
            onValue={setExplanation}
            errors={problems['/explanation']}
          />
          <div className="form-actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Resolving…' : 'Resolve appeal'}
            </button>
          </div>
        </form>
      ) : (
        <p>
          {appeal.status} {formatTime(appeal.resolvedAt)}: {appeal.resolution}
        </p>
      )}
    </article>
  );
}
