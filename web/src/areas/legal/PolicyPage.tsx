import { api, describeError } from '../../api/client.ts';
import type { PolicyView } from '../../api/types.ts';
import { ErrorBox, Loading } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { formatTime } from '../../lib/time.ts';

/** The disclosure policy in force (GET /v1/transparency/policy) and the versions used so far. */
export function PolicyPage() {
  const policy = useResource('policy', (signal) =>
    api<PolicyView>('GET', '/v1/transparency/policy', { signal, credentials: 'omit' }),
  );
  const p = policy.data;
  return (
    <Page
      title="Disclosure policy"
      lead={
        <>
          The rules every order is checked against. The public sees the same on the{' '}
          <a href="/transparency">transparency page</a>.
        </>
      }
    >
      {policy.loading && !p ? (
        <Loading />
      ) : !p ? (
        <ErrorBox messages={[describeError(policy.error)]} />
      ) : (
        <>
          <section className="card" aria-labelledby="in-force">
            <h2 id="in-force">
              In force: <q>{p.disclosure.name}</q>
            </h2>
            <p>
              Version <code>{p.disclosure.version}</code>. Moderation policy <q>{p.moderation.name}</q>, version{' '}
              <code>{p.moderation.version}</code>.
            </p>
            {/* A scrolling box must be reachable by keyboard to be read (WCAG 2.1.1). */}
            {/* biome-ignore lint/a11y/noNoninteractiveTabindex: the region scrolls */}
            <section className="policy-text" tabIndex={0} aria-label="Policy text">
              <pre>{p.disclosure.text}</pre>
            </section>
          </section>
          <section className="card" aria-labelledby="history-title">
            <h2 id="history-title">Versions used</h2>
            <TableWrap label="Policy versions used">
              <table>
                <thead>
                  <tr>
                    <th scope="col">Kind</th>
                    <th scope="col">Name</th>
                    <th scope="col">Version</th>
                    <th scope="col">First used</th>
                    <th scope="col">Last used</th>
                  </tr>
                </thead>
                <tbody>
                  {p.history.map((h) => (
                    <tr key={h.version}>
                      <td>{h.kind}</td>
                      <td>{h.name}</td>
                      <td>
                        <code>{h.version.slice(0, 19)}…</code>
                      </td>
                      <td>{formatTime(h.firstSeen)}</td>
                      <td>{formatTime(h.lastSeen)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableWrap>
          </section>
        </>
      )}
    </Page>
  );
}
