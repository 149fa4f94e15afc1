import { useState } from 'react';
import { api, describeError } from '../../api/client.ts';
import type { AuthorityOrder } from '../../api/types.ts';
import { saveText } from '../../browser/files.ts';
import { ChecksList } from '../../components/Checks.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useNow, useResource } from '../../components/hooks.ts';
import { formatTime, timeLeft } from '../../lib/time.ts';
import { LEGAL_STATUSES, dataLabel, reasonText } from '../../lib/vocabulary.ts';
import { Link } from '../../router.tsx';
import { takePortalFlash } from './portal-flash.ts';

/** One of the authority's orders: status, deadline, checks, withdraw, package download. */
export function OwnOrderPage({ id }: { id: string }) {
  const order = useResource(id, (signal) =>
    api<AuthorityOrder>('GET', `/v1/legal-requests/${encodeURIComponent(id)}`, { signal }),
  );
  const [status, setStatus] = useState(() => takePortalFlash());
  const [error, setError] = useState('');
  const [confirmWithdraw, setConfirmWithdraw] = useState(false);
  const now = useNow();
  const o = order.data;

  const act = async (what: 'withdraw' | 'extend') => {
    setError('');
    try {
      await api('POST', `/v1/legal-requests/${encodeURIComponent(id)}/${what}`);
      setStatus(what === 'withdraw' ? 'The order is withdrawn.' : 'The preservation is extended by 30 days.');
      setConfirmWithdraw(false);
      order.reload();
    } catch (e) {
      setError(describeError(e));
    }
  };

  const download = async () => {
    setError('');
    try {
      const r = await api<{ package: string }>('GET', `/v1/legal-requests/${encodeURIComponent(id)}/package`);
      saveText(`custos-package-${id}.jwe`, r.package, 'application/jose');
      setStatus('The package is saved: a JWE encrypted to your registered key, wrapping a JWS signed by the platform.');
    } catch (e) {
      setError(describeError(e));
    }
  };

  if (order.loading && !o) return <Loading what="Loading the order" />;
  if (!o) {
    return (
      <Page title="Order">
        <ErrorBox messages={[describeError(order.error)]} />
        <Link to="/portal">Our orders</Link>
      </Page>
    );
  }
  const open = ['received', 'in_review', 'approved'].includes(o.status);
  const left = timeLeft(o.dueAt, now);
  return (
    <Page
      title={`Order ${o.caseReference}`}
      lead={`${o.type} order · ${LEGAL_STATUSES[o.status] ?? o.status}`}
      actions={<Link to="/portal">Our orders</Link>}
    >
      <StatusLine>{status}</StatusLine>
      <ErrorBox messages={error ? [error] : []} />
      <section className="card" aria-labelledby="state-title">
        <h2 id="state-title">Status</h2>
        <dl className="facts">
          <dt>Status</dt>
          <dd>{LEGAL_STATUSES[o.status] ?? o.status}</dd>
          <dt>Deadline</dt>
          <dd>
            {formatTime(o.dueAt)}{' '}
            {open ? (
              <span className={`left${left.overdue ? ' overdue' : left.urgent ? ' urgent' : ''}`}>{left.text}</span>
            ) : null}
          </dd>
          <dt>Received</dt>
          <dd>{formatTime(o.receivedAt)}</dd>
          <dt>Data</dt>
          <dd>{o.data.map(dataLabel).join(', ')}</dd>
          <dt>Period</dt>
          <dd>
            {formatTime(o.period.from)} – {formatTime(o.period.to)}
          </dd>
          {o.preservedUntil ? (
            <>
              <dt>Preserved until</dt>
              <dd>
                {formatTime(o.preservedUntil)}
                {o.preservationExtended ? ' (extended once)' : ''}
              </dd>
            </>
          ) : null}
        </dl>
        {o.reasons.length ? (
          <>
            <h3>Why it was rejected</h3>
            <ul className="plain-list">
              {o.reasons.map((r) => (
                <li key={r}>
                  {reasonText(r) === r ? (
                    r
                  ) : (
                    <>
                      <code>{r}</code> {reasonText(r)}
                    </>
                  )}
                </li>
              ))}
            </ul>
          </>
        ) : null}
        <div className="button-row">
          {o.packageAvailable ? (
            <button type="button" className="primary" onClick={() => void download()}>
              Download the package
            </button>
          ) : null}
          {o.status === 'preserved' && !o.preservationExtended ? (
            <button type="button" onClick={() => void act('extend')}>
              Extend the preservation by 30 days
            </button>
          ) : null}
          {open ? (
            confirmWithdraw ? (
              <>
                <button type="button" className="danger" onClick={() => void act('withdraw')}>
                  Confirm: withdraw this order
                </button>
                <button type="button" onClick={() => setConfirmWithdraw(false)}>
                  Keep it
                </button>
              </>
            ) : (
              <button type="button" onClick={() => setConfirmWithdraw(true)}>
                Withdraw…
              </button>
            )
          ) : null}
        </div>
      </section>
      <section className="card" aria-labelledby="checks-title">
        <h2 id="checks-title">Automatic checks</h2>
        <ChecksList checks={o.checks} />
      </section>
      <section className="card" aria-labelledby="targets-title">
        <h2 id="targets-title">Targets</h2>
        <ul className="plain-list">
          {o.targets.map((t) => (
            <li key={t.position}>
              Target {t.position + 1} ({t.kind}):{' '}
              <span className={`badge ${t.status === 'included' ? 'ok' : 'danger'}`}>{t.status}</span>
              {t.reasons.length ? (
                <ul>
                  {t.reasons.map((r) => (
                    <li key={r}>
                      <code>{r}</code> {reasonText(r)}
                    </li>
                  ))}
                </ul>
              ) : null}
            </li>
          ))}
        </ul>
      </section>
      <section className="card" aria-labelledby="history-title">
        <h2 id="history-title">History</h2>
        <ol className="timeline">
          {o.history.map((h, i) => (
            <li key={i}>
              <time dateTime={h.at}>{formatTime(h.at)}</time> {h.type.replaceAll('.', ' ')} → {h.status}
            </li>
          ))}
        </ol>
      </section>
    </Page>
  );
}
