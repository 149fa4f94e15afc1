import { useEffect, useRef, useState } from 'react';
import { ApiError, api, describeError } from '../../api/client.ts';
import type {
  CaseDetail,
  CaseSummary,
  Decision,
  DecisionBody,
  SessionUser,
  Signal,
  Violations,
} from '../../api/types.ts';
import { HelpDialog, type ShortcutHelp } from '../../components/HelpDialog.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useNow, useResource, useShortcuts } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { ageOf, formatTime } from '../../lib/time.ts';
import { actionLabel, categoryLabel } from '../../lib/vocabulary.ts';
import { Link, navigate } from '../../router.tsx';
import { DecisionForm } from './DecisionForm.tsx';
import { forget, neighbour, queueHref, setFlash, takeFlash } from './queue-store.ts';

const SHORTCUTS: readonly ShortcutHelp[] = [
  { keys: 'c', what: 'Claim the case' },
  { keys: 'u', what: 'Release your claim' },
  { keys: 'd', what: 'Go to the decision form' },
  { keys: '1 2 3 4 5', what: 'Apply a decision template' },
  { keys: 'i', what: 'Reveal the image (logged)' },
  { keys: 'j', what: 'Next case in the queue' },
  { keys: 'k', what: 'Previous case in the queue' },
  { keys: 'q', what: 'Back to the queue' },
  { keys: '?', what: 'Show this help' },
];

/** One case: the subject, reports, signals, the account's record; claim, release and decide. */
export function CasePage({ id, user }: { id: string; user: SessionUser }) {
  const detail = useResource(id, (signal) => api<CaseDetail>('GET', `/v1/cases/${encodeURIComponent(id)}`, { signal }));
  const [status, setStatus] = useState(() => takeFlash());
  const [error, setError] = useState('');
  const [claim, setClaim] = useState<CaseSummary['claim'] | undefined>(undefined);
  const [revealed, setRevealed] = useState(false);
  const [help, setHelp] = useState(false);
  const decisionRef = useRef<HTMLElement>(null);
  const now = useNow();
  const c = detail.data;

  useEffect(() => {
    setRevealed(false);
    setClaim(undefined);
  }, [id]);

  const currentClaim = claim === undefined ? (c?.claim ?? null) : claim;
  const mine = currentClaim && currentClaim.by === user.id;

  const doClaim = async (release: boolean) => {
    setError('');
    try {
      const r = await api<CaseSummary>('POST', `/v1/cases/${encodeURIComponent(id)}/${release ? 'release' : 'claim'}`);
      setClaim(r.claim);
      setStatus(release ? 'Claim released.' : `Claimed until ${formatTime(r.claim?.until)}.`);
    } catch (e) {
      setError(describeError(e));
    }
  };

  const go = (delta: number) => {
    const other = neighbour(id, delta);
    if (other) navigate(`/console/cases/${encodeURIComponent(other)}`);
    else setStatus(delta > 0 ? 'This is the last case of the queue.' : 'This is the first case of the queue.');
  };

  useShortcuts({
    c: () => void doClaim(false),
    u: () => void doClaim(true),
    d: () => decisionRef.current?.querySelector<HTMLElement>('h2')?.focus(),
    i: () => setRevealed(true),
    j: () => go(1),
    k: () => go(-1),
    q: () => navigate(queueHref()),
    Escape: () => navigate(queueHref()),
    '?': () => setHelp(true),
  });

  const decide = async (body: DecisionBody) => {
    const decision = await api<Decision>('POST', `/v1/cases/${encodeURIComponent(id)}/decisions`, { body });
    const after = neighbour(id, 1);
    forget([id]);
    const summary = `Case ${id} decided: ${decision.actions.map((a) => actionLabel(a.type)).join(', ')}.`;
    setFlash(summary);
    if (after) navigate(`/console/cases/${encodeURIComponent(after)}`);
    else navigate(queueHref());
  };

  if (detail.loading && !c) return <Loading what="Loading the case" />;
  if (!c) {
    return (
      <Page title="Case">
        <ErrorBox messages={[describeError(detail.error)]} />
        <Link to={queueHref()}>Back to the queue</Link>
      </Page>
    );
  }

  return (
    <Page
      title={`${categoryLabel(c.category)} · ${c.subject.type} ${c.subject.id}`}
      lead={`Case ${c.id} · queue ${c.queue} · priority ${Math.round(c.priority)} · opened ${ageOf(c.createdAt, now)} ago`}
      actions={
        <>
          <Link to={queueHref()}>Queue</Link>
          <button type="button" onClick={() => setHelp(true)}>
            Shortcuts <kbd>?</kbd>
          </button>
        </>
      }
    >
      <StatusLine>{status}</StatusLine>
      <ErrorBox messages={error ? [error] : []} />
      <div className="case-layout">
        <div className="case-main-col">
          <section className="card" aria-labelledby="claim-title">
            <h2 id="claim-title">Status</h2>
            <p>
              <span className={`badge ${c.status}`}>{c.status}</span>{' '}
              {currentClaim
                ? mine
                  ? `Claimed by you until ${formatTime(currentClaim.until)}.`
                  : `Claimed by ${currentClaim.by} until ${formatTime(currentClaim.until)}.`
                : c.status === 'open'
                  ? 'Not claimed.'
                  : ''}
              {c.proposedAction ? ` Proposed action: ${c.proposedAction}.` : ''}
            </p>
            {c.status === 'open' ? (
              <div className="button-row">
                <button type="button" onClick={() => void doClaim(false)}>
                  Claim <kbd>c</kbd>
                </button>
                {currentClaim ? (
                  <button type="button" onClick={() => void doClaim(true)}>
                    Release <kbd>u</kbd>
                  </button>
                ) : null}
              </div>
            ) : null}
          </section>

          <Subject c={c} revealed={revealed} onReveal={() => setRevealed(true)} />
          <Reports c={c} />
          <Signals signals={c.signals} />
          <History c={c} />
        </div>
        <div className="case-side-col">
          <AccountRecord c={c} />
          {c.status === 'open' ? (
            <section className="card" ref={decisionRef} aria-labelledby="decide-title">
              <h2 id="decide-title" tabIndex={-1}>
                Decide <kbd>d</kbd>
              </h2>
              <DecisionForm
                key={c.id}
                form="decision"
                defaultCategory={c.category}
                hasImage={Boolean(c.content?.hasImage)}
                submitLabel="Decide"
                onSubmit={decide}
                templateKeys
              />
            </section>
          ) : c.decisionId ? (
            <DecisionSummary id={c.decisionId} />
          ) : null}
        </div>
      </div>
      <HelpDialog open={help} onClose={() => setHelp(false)} shortcuts={SHORTCUTS} />
    </Page>
  );
}

function Subject({ c, revealed, onReveal }: { c: CaseDetail; revealed: boolean; onReveal: () => void }) {
  const base = `/v1/cases/${encodeURIComponent(c.id)}/image`;
  return (
    <section className="card" aria-labelledby="subject-title">
      <h2 id="subject-title">Subject</h2>
      {c.content ? (
        <>
          <p className="meta">
            {c.content.kind} message {c.content.id}
            {c.content.chatId ? ` in chat ${c.content.chatId}` : ''} · {c.content.public ? 'public' : 'private'} ·{' '}
            {c.content.state} · sent {formatTime(c.content.createdAt)}
          </p>
          {c.content.text ? <blockquote className="content-text">{c.content.text}</blockquote> : null}
          {c.content.hasImage ? (
            <figure className="case-image">
              {revealed ? (
                <img src={`${base}?reveal=true`} alt="The reported attachment, revealed" />
              ) : (
                <button type="button" className="reveal" onClick={onReveal}>
                  <img src={base} alt="Blurred preview of the reported attachment" />
                  <span className="reveal-label">
                    Show the image <kbd>i</kbd>
                  </span>
                </button>
              )}
              <figcaption className="hint">
                Blurred until you choose to see it; every reveal is written to the audit log.
              </figcaption>
            </figure>
          ) : null}
        </>
      ) : (
        <p>The account {c.subject.id} itself is reported.</p>
      )}
    </section>
  );
}

function Reports({ c }: { c: CaseDetail }) {
  return (
    <section className="card" aria-labelledby="reports-title">
      <h2 id="reports-title">Reports ({c.reports.length})</h2>
      {c.reports.length === 0 ? (
        <p>No reports: the case was opened by the automatic scan.</p>
      ) : (
        <ul className="plain-list">
          {c.reports.map((r) => (
            <li key={r.id}>
              <strong>{categoryLabel(r.category)}</strong> from {r.source.replace('_', ' ')} (weight {r.weight}) ·{' '}
              {formatTime(r.createdAt)}
              {r.explanation ? <p className="quote">{r.explanation}</p> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function detailText(detail: Record<string, unknown> | undefined): string {
  if (!detail) return '';
  return Object.entries(detail)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(' · ');
}

function Signals({ signals }: { signals: Signal[] }) {
  const rules = signals.filter((s) => s.detail && 'ruleId' in s.detail);
  const hashes = signals.filter((s) => s.detail && 'bank' in s.detail);
  return (
    <section className="card" aria-labelledby="signals-title">
      <h2 id="signals-title">Signals</h2>
      {signals.length === 0 ? (
        <p>No scanner signals for this subject.</p>
      ) : (
        <TableWrap label="Scanner signals with their scores">
          <table>
            <caption className="visually-hidden">Scanner signals with their scores</caption>
            <thead>
              <tr>
                <th scope="col">Scanner</th>
                <th scope="col">Category</th>
                <th scope="col">Score</th>
                <th scope="col">Effect</th>
              </tr>
            </thead>
            <tbody>
              {signals.map((s, i) => (
                <tr key={i}>
                  <td>{s.scanner}</td>
                  <td>{s.category ? categoryLabel(s.category) : '—'}</td>
                  <td>
                    <meter min={0} max={1} value={s.score} aria-label={`score ${s.score.toFixed(2)}`} />{' '}
                    {s.score.toFixed(2)}
                  </td>
                  <td>
                    {s.shadow
                      ? 'shadow (not acted on)'
                      : s.decides
                        ? `decides: ${s.decides}`
                        : s.ceiling
                          ? `at most ${s.ceiling}`
                          : '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      {rules.length ? (
        <>
          <h3>Matched rules</h3>
          <ul className="plain-list">
            {rules.map((s, i) => (
              <li key={i}>
                Rule <code>{String(s.detail?.ruleId)}</code> ({String(s.detail?.kind ?? 'rule')})
                {s.detail?.term ? (
                  <>
                    {' '}
                    matched <q>{String(s.detail.term)}</q>
                  </>
                ) : null}
                {s.detail?.count ? ` ${String(s.detail.count)}×` : ''}
                {s.category ? ` → ${categoryLabel(s.category)}` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {hashes.length ? (
        <>
          <h3>Hash matches</h3>
          <ul className="plain-list">
            {hashes.map((s, i) => (
              <li key={i}>
                Bank <strong>{String(s.detail?.bank)}</strong> · {String(s.detail?.kind ?? 'hash')} · distance{' '}
                {String(s.detail?.distance)}
                {s.detail?.threshold !== undefined ? ` (threshold ${String(s.detail.threshold)})` : ''}
                {s.detail?.variant ? ` · matched as ${String(s.detail.variant)}` : ''}
                {s.decides ? ` · bank action: ${s.decides}` : ''}
              </li>
            ))}
          </ul>
        </>
      ) : null}
      {signals.some((s) => s.detail && !('ruleId' in s.detail) && !('bank' in s.detail)) ? (
        <details>
          <summary>Other signal details</summary>
          <ul className="plain-list">
            {signals
              .filter((s) => s.detail && !('ruleId' in s.detail) && !('bank' in s.detail))
              .map((s, i) => (
                <li key={i}>
                  {s.scanner}: {detailText(s.detail)}
                </li>
              ))}
          </ul>
        </details>
      ) : null}
    </section>
  );
}

function History({ c }: { c: CaseDetail }) {
  return (
    <section className="card" aria-labelledby="history-title">
      <h2 id="history-title">History</h2>
      <ol className="timeline">
        {c.history.map((h) => (
          <li key={h.id}>
            <time dateTime={h.at}>{formatTime(h.at)}</time> {h.type} <span className="muted">by {h.actor.role}</span>
          </li>
        ))}
      </ol>
    </section>
  );
}

/** The account's confirmed violations and strikes (GET /v1/accounts/:id/violations; the case's copy when the role may not read it). */
function AccountRecord({ c }: { c: CaseDetail }) {
  const record = useResource(c.accountId, async (signal) => {
    try {
      return await api<Violations>('GET', `/v1/accounts/${encodeURIComponent(c.accountId)}/violations`, { signal });
    } catch (e) {
      if (e instanceof ApiError && e.status === 403 && c.violations) return c.violations;
      throw e;
    }
  });
  const a = c.account;
  const v = record.data;
  return (
    <section className="card" aria-labelledby="account-title">
      <h2 id="account-title">Account</h2>
      {a ? (
        <dl className="facts">
          <dt>Id</dt>
          <dd>{a.id}</dd>
          <dt>Username</dt>
          <dd>{a.username ?? '—'}</dd>
          <dt>Country</dt>
          <dd>{a.country ?? '—'}</dd>
          <dt>Status</dt>
          <dd>
            {a.status}
            {a.suspendedUntil ? ` until ${formatTime(a.suspendedUntil)}` : ''}
          </dd>
          <dt>Created</dt>
          <dd>{formatTime(a.createdAt)}</dd>
        </dl>
      ) : (
        <p>Account {c.accountId} is not known to Custos.</p>
      )}
      <h3>Confirmed violations</h3>
      {record.loading && !v ? (
        <Loading />
      ) : v ? (
        <>
          <p>
            <strong>{v.activeStrikes}</strong> active {v.activeStrikes === 1 ? 'strike' : 'strikes'},{' '}
            {v.violations.length} confirmed {v.violations.length === 1 ? 'violation' : 'violations'}.
          </p>
          {v.violations.length ? (
            <ul className="plain-list">
              {v.violations.map((x) => (
                <li key={x.id}>
                  {categoryLabel(x.category)} ({x.ground}) · {formatTime(x.at)} · strike until{' '}
                  {formatTime(x.strikeExpiresAt)}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : (
        <p className="muted">{describeError(record.error)}</p>
      )}
    </section>
  );
}

function DecisionSummary({ id }: { id: string }) {
  const d = useResource(id, (signal) => api<Decision>('GET', `/v1/decisions/${encodeURIComponent(id)}`, { signal }));
  return (
    <section className="card" aria-labelledby="decision-title">
      <h2 id="decision-title">Decision</h2>
      {d.data ? (
        <>
          <p>
            {d.data.actions.map((a) => actionLabel(a.type)).join(', ')} · {categoryLabel(d.data.category)} ·{' '}
            {d.data.ground} · {d.data.status} · {formatTime(d.data.createdAt)}
          </p>
          <p className="quote">{d.data.explanation}</p>
          {d.data.actions.some((a) => a.type === 'dismiss') ? (
            <p className="hint">A dismissal restricts nothing, so it has no statement of reasons.</p>
          ) : (
            <p>
              <Link to={`/console/decisions/${encodeURIComponent(id)}/statement`}>
                The statement of reasons sent to the account
              </Link>
            </p>
          )}
        </>
      ) : d.loading ? (
        <Loading />
      ) : (
        <p className="muted">Decision {id}.</p>
      )}
    </section>
  );
}
