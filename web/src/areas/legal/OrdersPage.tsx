import { api, describeError, query } from '../../api/client.ts';
import type { LegalQueueItem } from '../../api/types.ts';
import { SelectField } from '../../components/Field.tsx';
import { ErrorBox, Loading } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useNow, useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { formatTime, timeLeft } from '../../lib/time.ts';
import { LEGAL_STATUSES, categoryLabel } from '../../lib/vocabulary.ts';
import { Link, setSearch, useLocation } from '../../router.tsx';

/** The legal queue: nearest deadline first, with the time left. */
export function OrdersPage() {
  const status = useLocation().search.get('status') ?? 'open';
  const orders = useResource(status, (signal) =>
    api<{ requests: LegalQueueItem[] }>('GET', `/v1/legal-requests${query({ status, limit: 500 })}`, { signal }),
  );
  const now = useNow();
  return (
    <Page title="Legal orders" lead="Nearest deadline first. Emergency orders are due within 8 hours.">
      <form className="filters" aria-label="Filter orders" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          pointer="/status"
          label="Status"
          value={status}
          onValue={(v) => setSearch({ status: v })}
          options={[
            { value: 'open', label: 'Open (received, in review, approved)' },
            ...Object.entries(LEGAL_STATUSES).map(([value, label]) => ({ value, label })),
          ]}
        />
      </form>
      {orders.loading && !orders.data ? (
        <Loading what="Loading orders" />
      ) : orders.error ? (
        <ErrorBox messages={[describeError(orders.error)]} />
      ) : orders.data?.requests.length === 0 ? (
        <p className="empty">No orders with this status.</p>
      ) : (
        <TableWrap label="Orders, nearest deadline first">
          <table className="stack-on-phone">
            <caption className="visually-hidden">Orders, nearest deadline first</caption>
            <thead>
              <tr>
                <th scope="col">Deadline</th>
                <th scope="col">Order</th>
                <th scope="col">Authority</th>
                <th scope="col">Offence</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {orders.data?.requests.map((o) => {
                const left = timeLeft(o.dueAt, now);
                const open = ['received', 'in_review', 'approved'].includes(o.status);
                return (
                  <tr key={o.id} className={o.type === 'emergency' ? 'emergency' : undefined}>
                    <td data-label="Deadline">
                      <time dateTime={o.dueAt}>{formatTime(o.dueAt)}</time>
                      {open ? (
                        <span className={`left${left.overdue ? ' overdue' : left.urgent ? ' urgent' : ''}`}>
                          {left.text}
                        </span>
                      ) : null}
                    </td>
                    <td data-label="Order">
                      <Link to={`/console/legal/${encodeURIComponent(o.id)}`}>{o.caseReference}</Link>
                      <span className="sub">
                        {o.type === 'emergency' ? <span className="badge danger">emergency</span> : o.type}
                        {o.round > 1 ? ` · round ${o.round}` : ''}
                      </span>
                    </td>
                    <td data-label="Authority">
                      {o.authority.name} <span className="muted">({o.authority.country})</span>
                    </td>
                    <td data-label="Offence">{categoryLabel(o.offence)}</td>
                    <td data-label="Status">
                      {LEGAL_STATUSES[o.status] ?? o.status}
                      {o.extraReview ? <span className="badge warn">extra review</span> : null}
                      {o.secondApprovalOwed ? <span className="badge warn">second approval owed</span> : null}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableWrap>
      )}
    </Page>
  );
}
