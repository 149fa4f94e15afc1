import { useState } from 'react';
import { api, describeError } from '../../api/client.ts';
import type { LegalDetail, LegalTarget, Violations } from '../../api/types.ts';
import { ChecksList } from '../../components/Checks.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useNow, useResource } from '../../components/hooks.ts';
import { formatTime, timeLeft } from '../../lib/time.ts';
import { LEGAL_STATUSES, categoryLabel, dataLabel, reasonText } from '../../lib/vocabulary.ts';
import { Link } from '../../router.tsx';
import { ReviewForm } from './ReviewForm.tsx';

/** One order for the legal team: everything needed to approve, narrow or reject it. */
export function OrderPage({ id }: { id: string }) {
  const order = useResource(id, (signal) =>
    api<LegalDetail>('GET', `/v1/legal-requests/${encodeURIComponent(id)}`, { signal }),
  );
  const [done, setDone] = useState('');
  const now = useNow();
  const o = order.data;
  if (order.loading && !o) return <Loading what="Loading the order" />;
  if (!o) {
    return (
      <Page title="Order">
        <ErrorBox messages={[describeError(order.error)]} />
        <Link to="/console/legal">Back to the orders</Link>
      </Page>
    );
  }
  const left = timeLeft(o.dueAt, now);
  const open = ['received', 'in_review', 'approved'].includes(o.status);
  const reviewable = o.status === 'in_review' || o.secondApprovalOwed;
  const targetLabel = (position: number) => {
    const t = o.targets.find((x) => x.position === position);
    return t ? `target ${position + 1} (${t.identifier ?? t.kind})` : `target ${position + 1}`;
  };
  return (
    <Page
      title={`Order ${o.caseReference}`}
      lead={`${o.type} order from ${o.authority.name} (${o.authority.country}) · ${LEGAL_STATUSES[o.status] ?? o.status}`}
      actions={<Link to="/console/legal">All orders</Link>}
    >
      <StatusLine>{done}</StatusLine>
      <div className="case-layout">
        <div className="case-main-col">
          <section className="card" aria-labelledby="deadline-title">
            <h2 id="deadline-title">Deadline</h2>
            <p className="deadline">
              <time dateTime={o.dueAt}>{formatTime(o.dueAt)}</time>{' '}
              {open ? (
                <span className={`left${left.overdue ? ' overdue' : left.urgent ? ' urgent' : ''}`}>{left.text}</span>
              ) : null}
            </p>
            <p>
              Received {formatTime(o.receivedAt)} · round {o.round}
              {o.extraReview ? ' · needs the extra human-rights review (a senior approver)' : ''}
              {o.secondApprovalOwed ? ' · disclosed on one senior approval: the second approval is owed' : ''}
            </p>
            {o.type === 'emergency' && o.emergencyJustification ? (
              <p>
                <strong>Emergency justification:</strong> {o.emergencyJustification}
              </p>
            ) : null}
          </section>

          <section className="card" aria-labelledby="checks-title">
            <h2 id="checks-title">Automatic checks</h2>
            <p className="hint">
              Run against the disclosure policy {o.policyVersion.slice(0, 19)}… when the order arrived.
            </p>
            <ChecksList checks={o.checks} targetLabel={targetLabel} />
          </section>

          <section className="card" aria-labelledby="targets-title">
            <h2 id="targets-title">Targets</h2>
            <ul className="plain-list">
              {o.targets.map((t) => (
                <TargetItem key={t.id} target={t} />
              ))}
            </ul>
          </section>

          <section className="card" aria-labelledby="order-title">
            <h2 id="order-title">The order</h2>
            <dl className="facts">
              <dt>Issued by</dt>
              <dd>
                {o.issuingAuthority.name} ({o.issuingAuthority.country})
              </dd>
              <dt>Legal basis</dt>
              <dd>{o.legalBasis}</dd>
              <dt>Court order</dt>
              <dd>
                {o.courtOrder.reference}, {o.courtOrder.issuedBy}, {formatTime(o.courtOrder.issuedAt)}
              </dd>
              <dt>Document</dt>
              <dd>
                {o.courtOrder.documentSha256 ? (
                  <>
                    <a href={`/v1/legal-requests/${encodeURIComponent(o.id)}/document`} target="_blank" rel="noopener">
                      Open the court order (PDF, {Math.ceil((o.courtOrder.documentSize ?? 0) / 1024)} KB)
                    </a>
                    <span className="hint">
                      {' '}
                      Every opening is written to the audit log. SHA-256 {o.courtOrder.documentSha256.slice(0, 16)}…
                    </span>
                  </>
                ) : (
                  'No document was filed.'
                )}
              </dd>
              <dt>Offence</dt>
              <dd>
                {categoryLabel(o.offence.category)}: {o.offence.description} ({o.offence.provisions})
              </dd>
              <dt>Data</dt>
              <dd>{o.data.map(dataLabel).join(', ')}</dd>
              <dt>Period</dt>
              <dd>
                {formatTime(o.period.from)} – {formatTime(o.period.to)}
              </dd>
              {o.nonDisclosureUntil ? (
                <>
                  <dt>Gag until</dt>
                  <dd>{formatTime(o.nonDisclosureUntil)}</dd>
                </>
              ) : null}
              {o.preservedUntil ? (
                <>
                  <dt>Preserved until</dt>
                  <dd>
                    {formatTime(o.preservedUntil)}
                    {o.preservationExtended ? ' (extended)' : ''}
                  </dd>
                </>
              ) : null}
            </dl>
          </section>

          <section className="card" aria-labelledby="history-title">
            <h2 id="history-title">History</h2>
            <ol className="timeline">
              {o.history.map((h, i) => (
                <li key={i}>
                  <time dateTime={h.at}>{formatTime(h.at)}</time> {h.type.replaceAll('.', ' ')} → {h.status}
                  {h.actorRole ? <span className="muted"> by {h.actorRole}</span> : null}
                </li>
              ))}
            </ol>
          </section>
        </div>

        <div className="case-side-col">
          <section className="card" aria-labelledby="reviews-title">
            <h2 id="reviews-title">Reviews</h2>
            {o.reviews.length === 0 ? (
              <p>No reviews yet. Two different members of the legal team must approve.</p>
            ) : (
              <ul className="plain-list">
                {o.reviews.map((r) => (
                  <li key={r.id}>
                    <strong>{r.decision}</strong> by {r.reviewerRole} {r.reviewerId} · round {r.round} ·{' '}
                    {formatTime(r.at)}
                    {r.reasons.length ? (
                      <ul>
                        {r.reasons.map((x) => (
                          <li key={x}>{REASON_IN_WORDS(x)}</li>
                        ))}
                      </ul>
                    ) : null}
                    {r.note ? <p className="quote">Note: {r.note}</p> : null}
                  </li>
                ))}
              </ul>
            )}
          </section>
          {reviewable ? (
            <section className="card" aria-labelledby="review-title">
              <h2 id="review-title">Review</h2>
              <ReviewForm
                key={`${o.id}-${o.reviews.length}`}
                order={o}
                onDone={(m) => {
                  setDone(m);
                  order.reload();
                }}
              />
            </section>
          ) : null}
          <section className="card" aria-labelledby="package-title">
            <h2 id="package-title">Disclosure package</h2>
            {o.package ? (
              <dl className="facts">
                <dt>Produced</dt>
                <dd>{formatTime(o.package.producedAt)}</dd>
                <dt>Downloaded</dt>
                <dd>{o.package.downloadedAt ? formatTime(o.package.downloadedAt) : 'not yet'}</dd>
                <dt>Content</dt>
                <dd>
                  {o.package.targets} targets, {o.package.records} records
                </dd>
                <dt>SHA-256</dt>
                <dd>
                  <code>{o.package.sha256.slice(0, 24)}…</code>
                </dd>
                <dt>Signing key</dt>
                <dd>
                  <code>{o.package.kid}</code>
                </dd>
              </dl>
            ) : (
              <p>No package has been produced.</p>
            )}
          </section>
        </div>
      </div>
    </Page>
  );
}

function REASON_IN_WORDS(reason: string): string {
  const words = reasonText(reason);
  return words === reason ? reason : `${reason}: ${words}`;
}

/** A target with the account it resolved to and that account's confirmed violations. */
function TargetItem({ target }: { target: LegalTarget }) {
  const violations = useResource(target.accountId ?? '', async (signal) =>
    target.accountId
      ? api<Violations>('GET', `/v1/accounts/${encodeURIComponent(target.accountId)}/violations`, { signal })
      : null,
  );
  const v = violations.data;
  return (
    <li>
      <strong>
        Target {target.position + 1}: {target.identifier ?? `${target.kind} (sealed)`}
      </strong>{' '}
      {target.accountId && target.accountId !== target.identifier ? `→ account ${target.accountId} ` : ''}·{' '}
      <span className={`badge ${target.status === 'included' ? 'ok' : 'danger'}`}>{target.status}</span>
      {target.reasons.length ? (
        <ul>
          {target.reasons.map((r) => (
            <li key={r}>{REASON_IN_WORDS(r)}</li>
          ))}
        </ul>
      ) : null}
      {target.accountId ? (
        v ? (
          v.violations.length ? (
            <ul className="violations">
              {v.violations.map((x) => (
                <li key={x.id}>
                  Confirmed violation: {categoryLabel(x.category)} ({x.ground}), {formatTime(x.at)}
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">No confirmed violations.</p>
          )
        ) : violations.error ? (
          <p className="muted">{describeError(violations.error)}</p>
        ) : null
      ) : null}
      {target.notifiedAt ? <p className="hint">Account notified {formatTime(target.notifiedAt)}.</p> : null}
    </li>
  );
}
