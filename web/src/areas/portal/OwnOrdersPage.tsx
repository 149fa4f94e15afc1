import { api, describeError, query } from '../../api/client.ts';
import type { LegalBase } from '../../api/types.ts';
import { SelectField } from '../../components/Field.tsx';
import { ErrorBox, Loading } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useNow, useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { formatTime, timeLeft } from '../../lib/time.ts';
import { LEGAL_STATUSES } from '../../lib/vocabulary.ts';
import { Link, setSearch, useLocation } from '../../router.tsx';

/** The authority's own orders, newest first. */
export function OwnOrdersPage() {
  const status = useLocation().search.get('status') ?? '';
  const orders = useResource(status, (signal) =>
    api<{ requests: LegalBase[] }>('GET', `/v1/legal-requests${query({ status, limit: 500 })}`, { signal }),
  );
  const now = useNow();
  return (
    <Page title="Our orders" lead="Newest first." actions={<Link to="/portal/new">File an order</Link>}>
      <form className="filters" aria-label="Filter orders" onSubmit={(e) => e.preventDefault()}>
        <SelectField
          pointer="/status"
          label="Status"
          value={status}
          onValue={(v) => setSearch({ status: v })}
          options={[
            { value: '', label: 'All' },
            { value: 'open', label: 'Open' },
            ...Object.entries(LEGAL_STATUSES).map(([value, label]) => ({ value, label })),
          ]}
        />
      </form>
      {orders.loading && !orders.data ? (
        <Loading />
      ) : orders.error ? (
        <ErrorBox messages={[describeError(orders.error)]} />
      ) : orders.data?.requests.length === 0 ? (
        <p className="empty">
          No orders yet. <Link to="/portal/new">File one</Link>.
        </p>
      ) : (
        <TableWrap label="Our orders">
          <table className="stack-on-phone">
            <caption className="visually-hidden">Our orders</caption>
            <thead>
              <tr>
                <th scope="col">Reference</th>
                <th scope="col">Type</th>
                <th scope="col">Status</th>
                <th scope="col">Received</th>
                <th scope="col">Deadline</th>
              </tr>
            </thead>
            <tbody>
              {orders.data?.requests.map((o) => {
                const open = ['received', 'in_review', 'approved'].includes(o.status);
                const left = timeLeft(o.dueAt, now);
                return (
                  <tr key={o.id}>
                    <td data-label="Reference">
                      <Link to={`/portal/orders/${encodeURIComponent(o.id)}`}>{o.caseReference}</Link>
                    </td>
                    <td data-label="Type">{o.type}</td>
                    <td data-label="Status">
                      {LEGAL_STATUSES[o.status] ?? o.status}
                      {o.packageAvailable ? <span className="badge ok">package ready</span> : null}
                    </td>
                    <td data-label="Received">{formatTime(o.receivedAt)}</td>
                    <td data-label="Deadline">
                      {formatTime(o.dueAt)}
                      {open ? <span className={`left${left.overdue ? ' overdue' : ''}`}>{left.text}</span> : null}
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
