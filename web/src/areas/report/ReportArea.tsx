import { type FormEvent, useEffect, useState } from 'react';
import { ApiError, api, describeError } from '../../api/client.ts';
import type { ReportReceipt, ReportStatus } from '../../api/types.ts';
import { Choice, ChoiceGroup, TextArea, TextField } from '../../components/Field.tsx';
import { ErrorBox, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { Secret } from '../../components/Secret.tsx';
import { Shell } from '../../components/Shell.tsx';
import { placeProblems } from '../../lib/field-errors.ts';
import { formatTime } from '../../lib/time.ts';
import { CATEGORIES, REPORT_OUTCOMES, REPORT_STATUSES, categoryLabel } from '../../lib/vocabulary.ts';
import { Link, useLocation } from '../../router.tsx';

/** `/report` (the form) and `/report/outcome` (what became of it). No sign-in, no cookie sent. */
export default function ReportArea() {
  const { pathname } = useLocation();
  return <Shell area="Report">{pathname === '/report/outcome' ? <OutcomePage /> : <ReportPage />}</Shell>;
}

const FIELDS = [
  '/subject',
  '/subject/contentId',
  '/subject/accountId',
  '/category',
  '/explanation',
  '/reporter',
  '/reporter/email',
];

/** The link to the outcome page: id and key in the fragment, which never reaches a server log. */
function outcomeHref(id: string, key: string): string {
  return `/report/outcome#${new URLSearchParams({ id, key }).toString()}`;
}

function ReportPage() {
  const [kind, setKind] = useState<'contentId' | 'accountId'>('contentId');
  const [subject, setSubject] = useState('');
  const [category, setCategory] = useState('');
  const [explanation, setExplanation] = useState('');
  const [email, setEmail] = useState('');
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [receipt, setReceipt] = useState<ReportReceipt | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    const missing: Record<string, string[]> = {};
    if (!subject.trim()) missing[`/subject/${kind}`] = ['Enter the id of what you report.'];
    if (!category) missing['/category'] = ['Choose what is wrong with it.'];
    if (Object.keys(missing).length) {
      setProblems(missing);
      setGeneral(['Some answers are missing; see the messages next to them.']);
      return;
    }
    setBusy(true);
    try {
      const r = await api<ReportReceipt>('POST', '/v1/reports', {
        credentials: 'omit',
        body: {
          subject: { [kind]: subject.trim() },
          category,
          ...(explanation.trim() ? { explanation: explanation.trim() } : {}),
          ...(email.trim() ? { reporter: { email: email.trim() } } : {}),
        },
      });
      setReceipt(r);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        setProblems({ [`/subject/${kind}`]: ['We could not find a message or account with this id.'] });
        setGeneral([e.message]);
      } else if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, [...FIELDS]);
        // The subject is one of two shapes; a problem with it belongs to the input shown.
        if (placed.byField['/subject']) {
          placed.byField[`/subject/${kind}`] = [
            ...(placed.byField[`/subject/${kind}`] ?? []),
            'Check this id: letters, digits and . _ : @ - only.',
          ];
          delete placed.byField['/subject'];
        }
        setProblems(placed.byField);
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    } finally {
      setBusy(false);
    }
  };

  if (receipt) {
    return (
      <div className="narrow">
        <Page title="Thank you: your report is in" lead={`Report ${receipt.id}. A moderator will look at it.`}>
          <div className="card">
            <Secret
              label="Your access key"
              value={receipt.accessKey}
              note="Keep it: with the report id it is the only way to see what was decided. We show it once."
            />
            <p>
              <Link to={outcomeHref(receipt.id, receipt.accessKey)}>See the outcome of this report</Link> (bookmark this
              link; it holds the key).
            </p>
            <button
              type="button"
              onClick={() => {
                setReceipt(null);
                setSubject('');
                setExplanation('');
                setCategory('');
              }}
            >
              Report something else
            </button>
          </div>
        </Page>
      </div>
    );
  }

  return (
    <div className="narrow">
      <Page
        title="Report content or an account"
        lead="Tell us about a message or an account that breaks the law or our rules. You do not need an account; we do not tell the person you reported who you are."
      >
        <p>
          Already reported something? <Link to="/report/outcome">See the outcome</Link>.
        </p>
        <form className="form card" onSubmit={submit} noValidate>
          <ErrorBox messages={general} />
          <ChoiceGroup pointer="/subject" legend="What do you report?" errors={problems['/subject']} className="inline">
            <Choice
              type="radio"
              name="kind"
              idBase="f-kind"
              value="contentId"
              label="A message"
              checked={kind === 'contentId'}
              onChange={() => setKind('contentId')}
            />
            <Choice
              type="radio"
              name="kind"
              idBase="f-kind"
              value="accountId"
              label="An account"
              checked={kind === 'accountId'}
              onChange={() => setKind('accountId')}
            />
          </ChoiceGroup>
          <TextField
            key={kind}
            pointer={`/subject/${kind}`}
            label={kind === 'contentId' ? 'Message id' : 'Account id'}
            hint={
              kind === 'contentId'
                ? 'In the app: press the message, then “Report” → “Copy id”.'
                : 'In the app: open the profile, then “Report” → “Copy id”.'
            }
            autoCapitalize="none"
            spellCheck={false}
            value={subject}
            onValue={setSubject}
            errors={problems[`/subject/${kind}`]}
          />
          <ChoiceGroup pointer="/category" legend="What is wrong with it?" errors={problems['/category']}>
            {CATEGORIES.map((c) => (
              <Choice
                key={c.code}
                type="radio"
                name="category"
                idBase="f-category"
                value={c.code}
                label={c.label}
                help={c.help}
                checked={category === c.code}
                onChange={() => setCategory(c.code)}
              />
            ))}
          </ChoiceGroup>
          <TextArea
            pointer="/explanation"
            label="Anything we should know? (optional)"
            hint="What happened, and why it is harmful or illegal. At most 5,000 characters."
            maxLength={5000}
            value={explanation}
            onValue={setExplanation}
            errors={problems['/explanation']}
          />
          <TextField
            pointer="/reporter/email"
            label="Your e-mail (optional)"
            hint="Only if you want us to be able to write to you."
            type="email"
            autoComplete="email"
            value={email}
            onValue={setEmail}
            errors={problems['/reporter/email']}
          />
          <div className="form-actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Sending…' : 'Send the report'}
            </button>
          </div>
        </form>
      </Page>
    </div>
  );
}

function OutcomePage() {
  const { hash } = useLocation();
  const given = new URLSearchParams(hash.replace(/^#/, ''));
  const [id, setId] = useState(given.get('id') ?? '');
  const [key, setKey] = useState(given.get('key') ?? '');
  const [result, setResult] = useState<ReportStatus | null>(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);

  const look = async (event?: FormEvent) => {
    event?.preventDefault();
    setError('');
    setResult(null);
    if (!id.trim() || !key.trim()) {
      setError('Enter the report id and its access key.');
      return;
    }
    setBusy(true);
    try {
      setResult(
        await api<ReportStatus>(
          'GET',
          `/v1/reports/${encodeURIComponent(id.trim())}?${new URLSearchParams({ accessKey: key.trim() })}`,
          { credentials: 'omit' },
        ),
      );
    } catch (e) {
      setError(
        e instanceof ApiError && e.status === 404
          ? 'No report has this id and access key. Check both and try again.'
          : describeError(e),
      );
    } finally {
      setBusy(false);
    }
  };

  // Arriving from the confirmation's link: show the outcome at once.
  useEffect(() => {
    if (id && key) void look();
  }, []);

  return (
    <div className="narrow">
      <Page title="The outcome of your report" lead="Enter the report id and the access key you were given.">
        <form className="form card" onSubmit={look} noValidate>
          <ErrorBox messages={error ? [error] : []} />
          <TextField
            pointer="/id"
            label="Report id"
            autoCapitalize="none"
            spellCheck={false}
            value={id}
            onValue={setId}
          />
          <TextField
            pointer="/accessKey"
            label="Access key"
            autoCapitalize="none"
            spellCheck={false}
            autoComplete="off"
            value={key}
            onValue={setKey}
          />
          <div className="form-actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Looking…' : 'Show the outcome'}
            </button>
          </div>
        </form>
        <StatusLine>{result ? 'Outcome loaded.' : ''}</StatusLine>
        {result ? (
          <section className="card" aria-labelledby="outcome-title">
            <h2 id="outcome-title">{result.status === 'resolved' ? 'Decided' : 'Waiting for a moderator'}</h2>
            <p>{REPORT_STATUSES[result.status] ?? result.status}</p>
            {result.outcome ? <p className="outcome">{REPORT_OUTCOMES[result.outcome] ?? result.outcome}</p> : null}
            <dl className="facts">
              <dt>Reported as</dt>
              <dd>{categoryLabel(result.category)}</dd>
              <dt>Received</dt>
              <dd>{formatTime(result.createdAt)}</dd>
              {result.resolvedAt ? (
                <>
                  <dt>Decided</dt>
                  <dd>{formatTime(result.resolvedAt)}</dd>
                </>
              ) : null}
            </dl>
          </section>
        ) : null}
      </Page>
    </div>
  );
}
