import { type FormEvent, useState } from 'react';
import { api, describeError, query } from '../../api/client.ts';
import type { AuditEntry } from '../../api/types.ts';
import { TextField } from '../../components/Field.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { formatTime, isoToLocalInput, localInputToIso } from '../../lib/time.ts';
import { setSearch, useLocation } from '../../router.tsx';

const PAGE = 200;

/** What POST /v1/audit/verify answers. */
type Verification = { ok: true; entries: number; headHash: string } | { ok: false; badSeq: number; problem: string };

/**
 * The hash-chained audit log, oldest first, a page at a time, and a button that
 * verifies the whole chain on the server (as `custos audit verify` does).
 */
export function AuditPage() {
  const search = useLocation().search;
  const from = search.get('from') ?? '';
  const to = search.get('to') ?? '';
  const [more, setMore] = useState<AuditEntry[]>([]);
  const [next, setNext] = useState<number | null | undefined>(undefined);
  const [error, setError] = useState('');
  const [verifying, setVerifying] = useState(false);
  const [verification, setVerification] = useState<Verification | null>(null);
  const first = useResource(`${from}|${to}`, async (signal) => {
    setMore([]);
    setNext(undefined);
    return api<{ entries: AuditEntry[]; nextAfter: number | null }>(
      'GET',
      `/v1/audit${query({ from, to, limit: PAGE })}`,
      {
        signal,
      },
    );
  });
  const entries = [...(first.data?.entries ?? []), ...more];
  const nextAfter = next === undefined ? first.data?.nextAfter : next;

  const loadMore = async () => {
    if (nextAfter === null || nextAfter === undefined) return;
    try {
      const page = await api<{ entries: AuditEntry[]; nextAfter: number | null }>(
        'GET',
        `/v1/audit${query({ from, to, after: nextAfter, limit: PAGE })}`,
      );
      setMore((m) => [...m, ...page.entries]);
      setNext(page.nextAfter);
    } catch (e) {
      setError(describeError(e));
    }
  };

  const verify = async () => {
    setVerifying(true);
    setVerification(null);
    setError('');
    try {
      setVerification(await api<Verification>('POST', '/v1/audit/verify'));
    } catch (e) {
      setError(describeError(e));
    } finally {
      setVerifying(false);
    }
  };

  const filter = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    const data = new FormData(event.currentTarget);
    setSearch({
      from: localInputToIso(String(data.get('/from') ?? '')) || undefined,
      to: localInputToIso(String(data.get('/to') ?? '')) || undefined,
    });
  };

  return (
    <Page
      title="Audit log"
      lead={
        <>
          Every access to personal data and every decision, oldest first; each entry commits to the one before.
          Verifying recomputes every hash on the server, as <code>custos audit verify</code> does, and is itself
          recorded.
        </>
      }
      actions={
        <button type="button" onClick={() => void verify()} disabled={verifying}>
          {verifying ? 'Verifying…' : 'Verify the chain'}
        </button>
      }
    >
      <StatusLine>
        {verification?.ok
          ? `The chain is intact: ${verification.entries} entries, last hash ${verification.headHash.slice(0, 16)}….`
          : ''}
      </StatusLine>
      {verification && !verification.ok ? (
        <ErrorBox title={`The chain is broken at entry ${verification.badSeq}`} messages={[verification.problem]} />
      ) : null}
      <form className="filters" onSubmit={filter} aria-label="Filter the audit log" key={`${from}|${to}`}>
        <TextField
          pointer="/from"
          label="From"
          type="datetime-local"
          defaultValue={from ? isoToLocalInput(from) : ''}
        />
        <TextField pointer="/to" label="To" type="datetime-local" defaultValue={to ? isoToLocalInput(to) : ''} />
        <div className="form-actions">
          <button type="submit">Show</button>
        </div>
      </form>
      <StatusLine>{first.data ? `${entries.length} entries shown.` : ''}</StatusLine>
      <ErrorBox messages={error ? [error] : []} />
      {first.loading && !first.data ? (
        <Loading />
      ) : first.error ? (
        <ErrorBox messages={[describeError(first.error)]} />
      ) : (
        <>
          <TableWrap label="Audit entries">
            <table className="stack-on-phone audit">
              <caption className="visually-hidden">Audit entries</caption>
              <thead>
                <tr>
                  <th scope="col">#</th>
                  <th scope="col">Time</th>
                  <th scope="col">Actor</th>
                  <th scope="col">Action</th>
                  <th scope="col">Subject</th>
                  <th scope="col">Details</th>
                </tr>
              </thead>
              <tbody>
                {entries.map((e) => (
                  <tr key={e.seq}>
                    <td data-label="#">{e.seq}</td>
                    <td data-label="Time">{formatTime(e.at)}</td>
                    <td data-label="Actor">
                      {e.actor.role}
                      <span className="sub">{e.actor.id}</span>
                    </td>
                    <td data-label="Action">
                      <code>{e.action}</code>
                    </td>
                    <td data-label="Subject">{e.subject ? `${e.subject.type} ${e.subject.id}` : '—'}</td>
                    <td data-label="Details">
                      <details>
                        <summary>Show</summary>
                        <pre>{JSON.stringify(e.details, null, 2)}</pre>
                        <p className="hint">
                          request {e.requestId ?? '—'} · hash <code>{e.hash.slice(0, 16)}…</code> · previous{' '}
                          <code>{e.prevHash.slice(0, 16)}…</code>
                        </p>
                      </details>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableWrap>
          {nextAfter !== null && nextAfter !== undefined ? (
            <button type="button" onClick={() => void loadMore()}>
              Load the next {PAGE}
            </button>
          ) : null}
        </>
      )}
    </Page>
  );
}
