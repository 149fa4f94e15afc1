import { api, describeError } from '../../api/client.ts';
import type { PolicyView } from '../../api/types.ts';
import { ErrorBox, Loading } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { formatTime } from '../../lib/time.ts';

/**
 * Every version of the moderation and disclosure policies a Custos process ran
 * with (GET /v1/transparency/policy), newest first: its hash, and from when to
 * when it was in force. A version switched in quietly shows here.
 */
export function PolicyHistoryPage() {
  const policy = useResource('policy', (signal) =>
    api<PolicyView>('GET', '/v1/transparency/policy', { signal, credentials: 'omit' }),
  );
  const p = policy.data;
  const current = new Set(p ? [p.disclosure.version, p.moderation.version] : []);
  return (
    <Page
      title="Policy history"
      lead={
        <>
          Each policy version is named by the hash of its file. The public sees the same list on the{' '}
          <a href="/transparency">transparency page</a>.
        </>
      }
    >
      {policy.loading && !p ? (
        <Loading />
      ) : !p ? (
        <ErrorBox messages={[describeError(policy.error)]} />
      ) : p.history.length === 0 ? (
        <p className="empty">No policy version has been recorded yet.</p>
      ) : (
        <TableWrap label="Policy versions, newest first">
          <table className="stack-on-phone">
            <caption className="visually-hidden">Policy versions, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Policy</th>
                <th scope="col">Version</th>
                <th scope="col">In force from</th>
                <th scope="col">Last used</th>
              </tr>
            </thead>
            <tbody>
              {p.history.map((h) => (
                <tr key={h.version}>
                  <td data-label="Policy">
                    {h.name}
                    <span className="sub">{h.kind}</span>
                  </td>
                  <td data-label="Version">
                    <code className="hash-value">{h.version}</code>{' '}
                    {current.has(h.version) ? <span className="badge ok">in force</span> : null}
                  </td>
                  <td data-label="In force from">{formatTime(h.firstSeen)}</td>
                  <td data-label="Last used">{formatTime(h.lastSeen)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
    </Page>
  );
}
