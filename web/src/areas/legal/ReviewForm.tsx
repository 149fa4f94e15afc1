import { type FormEvent, useState } from 'react';
import { ApiError, api, describeError } from '../../api/client.ts';
import type { LegalDetail } from '../../api/types.ts';
import { Choice, ChoiceGroup, TextArea, TextField } from '../../components/Field.tsx';
import { ErrorBox } from '../../components/Messages.tsx';
import { placeProblems } from '../../lib/field-errors.ts';
import { isoToLocalInput, localInputToIso } from '../../lib/time.ts';
import { DATA_CATEGORIES, REASONS } from '../../lib/vocabulary.ts';

type Decision = 'approve' | 'reject' | 'narrow';

const FIELDS = [
  '/decision',
  '/reasons',
  '/note',
  '/narrowTo',
  '/narrowTo/targets',
  '/narrowTo/period',
  '/narrowTo/period/from',
  '/narrowTo/period/to',
  '/narrowTo/data',
];

/**
 * Approve, reject or narrow an order (POST /v1/legal-requests/:id/reviews). Two
 * different members must approve; the API refuses a second review by the same
 * person (409), which is shown as it comes.
 */
export function ReviewForm({ order, onDone }: { order: LegalDetail; onDone: (message: string) => void }) {
  const [decision, setDecision] = useState<Decision | ''>('');
  const [reasons, setReasons] = useState('');
  const [note, setNote] = useState('');
  const included = order.targets.filter((t) => t.status === 'included');
  const [keep, setKeep] = useState<number[]>(included.map((t) => t.position));
  // The inputs hold minutes; the order's period may carry seconds. Only a period the reviewer edited is sent,
  // or an untouched one would read as moved (and its start as widened).
  const shownFrom = isoToLocalInput(order.period.from);
  const shownTo = isoToLocalInput(order.period.to);
  const [from, setFrom] = useState(shownFrom);
  const [to, setTo] = useState(shownTo);
  const [data, setData] = useState<string[]>(order.data);
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    if (!decision) {
      setProblems({ '/decision': ['Choose approve, reject or narrow.'] });
      setGeneral(['Choose approve, reject or narrow.']);
      return;
    }
    const lines = reasons
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean);
    const body: Record<string, unknown> = { decision };
    if (lines.length) body.reasons = lines;
    if (note.trim()) body.note = note.trim();
    if (decision === 'narrow') {
      const narrowTo: Record<string, unknown> = {};
      if (keep.length !== included.length) narrowTo.targets = [...keep].sort((a, b) => a - b);
      if (from !== shownFrom || to !== shownTo) {
        const f = from === shownFrom ? order.period.from : localInputToIso(from);
        const t = to === shownTo ? order.period.to : localInputToIso(to);
        narrowTo.period = { from: f || from, to: t || to };
      }
      if (data.length !== order.data.length) narrowTo.data = data;
      body.narrowTo = narrowTo;
    }
    setBusy(true);
    try {
      await api('POST', `/v1/legal-requests/${encodeURIComponent(order.id)}/reviews`, { body });
      onDone(
        decision === 'approve'
          ? 'Your approval is recorded.'
          : decision === 'reject'
            ? 'The order is rejected.'
            : 'The order is narrowed; it needs two approvals again.',
      );
      setDecision('');
      setReasons('');
      setNote('');
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, FIELDS);
        setProblems(placed.byField);
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    } finally {
      setBusy(false);
    }
  };

  const period = [...(problems['/narrowTo/period'] ?? [])];
  return (
    <form className="form" onSubmit={submit} noValidate>
      <ErrorBox messages={general} />
      <ChoiceGroup
        pointer="/decision"
        form="review"
        legend="Your review"
        errors={problems['/decision']}
        className="inline"
      >
        <Choice
          type="radio"
          name="review-decision"
          idBase="review-decision"
          value="approve"
          label="Approve"
          checked={decision === 'approve'}
          onChange={() => setDecision('approve')}
        />
        <Choice
          type="radio"
          name="review-decision"
          idBase="review-decision"
          value="narrow"
          label="Narrow"
          checked={decision === 'narrow'}
          onChange={() => setDecision('narrow')}
        />
        <Choice
          type="radio"
          name="review-decision"
          idBase="review-decision"
          value="reject"
          label="Reject"
          checked={decision === 'reject'}
          onChange={() => setDecision('reject')}
        />
      </ChoiceGroup>

      {decision === 'narrow' ? (
        <fieldset className="nested">
          <legend>Narrow to</legend>
          <ChoiceGroup
            pointer="/narrowTo/targets"
            form="review"
            legend="Targets to keep"
            errors={problems['/narrowTo/targets']}
          >
            {included.map((t) => (
              <Choice
                key={t.position}
                type="checkbox"
                idBase="review-keep"
                value={String(t.position)}
                label={`Target ${t.position + 1}: ${t.identifier ?? `${t.kind} (sealed)`}${t.accountId && t.accountId !== t.identifier ? ` → ${t.accountId}` : ''}`}
                checked={keep.includes(t.position)}
                onChange={(e) =>
                  setKeep((k) => (e.target.checked ? [...k, t.position] : k.filter((p) => p !== t.position)))
                }
              />
            ))}
          </ChoiceGroup>
          <div className="row-fields">
            <TextField
              pointer="/narrowTo/period/from"
              form="review"
              label="Period from"
              type="datetime-local"
              value={from}
              onValue={setFrom}
              errors={[...period, ...(problems['/narrowTo/period/from'] ?? [])]}
            />
            <TextField
              pointer="/narrowTo/period/to"
              form="review"
              label="Period to"
              type="datetime-local"
              value={to}
              onValue={setTo}
              errors={problems['/narrowTo/period/to']}
            />
          </div>
          <ChoiceGroup
            pointer="/narrowTo/data"
            form="review"
            legend="Data to disclose"
            errors={problems['/narrowTo/data']}
          >
            {DATA_CATEGORIES.filter((d) => order.data.includes(d.code)).map((d) => (
              <Choice
                key={d.code}
                type="checkbox"
                idBase="review-data"
                value={d.code}
                label={d.label}
                checked={data.includes(d.code)}
                onChange={(e) => setData((x) => (e.target.checked ? [...x, d.code] : x.filter((c) => c !== d.code)))}
              />
            ))}
          </ChoiceGroup>
          {problems['/narrowTo'] ? <p className="field-error">{problems['/narrowTo'].join(' ')}</p> : null}
        </fieldset>
      ) : null}

      {decision === 'reject' || decision === 'narrow' ? (
        <TextArea
          pointer="/reasons"
          form="review"
          label="Reasons (shown to the authority)"
          hint={`One per line. Reason codes may be used: ${Object.keys(REASONS).slice(0, 4).join(', ')}, …`}
          value={reasons}
          onValue={setReasons}
          errors={problems['/reasons']}
        />
      ) : null}
      <TextArea
        pointer="/note"
        form="review"
        label="Internal note (optional)"
        hint="For the legal team only; never shown to the authority."
        value={note}
        onValue={setNote}
        rows={2}
        errors={problems['/note']}
      />
      <div className="form-actions">
        <button type="submit" className="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Submit review'}
        </button>
      </div>
    </form>
  );
}
