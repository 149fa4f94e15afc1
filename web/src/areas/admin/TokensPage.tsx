import { type FormEvent, useState } from 'react';
import { ApiError, api, describeError } from '../../api/client.ts';
import type { Authority, TokenInfo } from '../../api/types.ts';
import { SelectField, TextField } from '../../components/Field.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { Secret } from '../../components/Secret.tsx';
import { useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { placeProblems } from '../../lib/field-errors.ts';
import { formatTime, localInputToIso } from '../../lib/time.ts';
import { ROLES } from '../../lib/vocabulary.ts';

/** API tokens: list, create (shown once), revoke. */
export function TokensPage() {
  const tokens = useResource('tokens', (signal) => api<{ tokens: TokenInfo[] }>('GET', '/v1/tokens', { signal }));
  const authorities = useResource('authorities', (signal) =>
    api<{ authorities: Authority[] }>('GET', '/v1/authorities', { signal }),
  );
  const [status, setStatus] = useState('');
  const [confirming, setConfirming] = useState('');
  const names = new Map((authorities.data?.authorities ?? []).map((a) => [a.id, a.name]));

  const revoke = async (t: TokenInfo) => {
    try {
      await api('POST', `/v1/tokens/${encodeURIComponent(t.id)}/revoke`);
      setStatus(`Token “${t.name}” revoked; it stopped working.`);
      setConfirming('');
      tokens.reload();
    } catch (e) {
      setStatus(describeError(e));
    }
  };

  return (
    <Page
      title="API tokens"
      lead="Tokens for the platform, trusted flaggers and integrations. The secret is shown once, when created."
    >
      <StatusLine>{status}</StatusLine>
      {tokens.loading && !tokens.data ? (
        <Loading />
      ) : tokens.error ? (
        <ErrorBox messages={[describeError(tokens.error)]} />
      ) : (
        <TableWrap label="Tokens">
          <table className="stack-on-phone">
            <caption className="visually-hidden">Tokens</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">Expires</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {tokens.data?.tokens.map((t) => (
                <tr key={t.id}>
                  <td data-label="Name">
                    {t.name}
                    <span className="sub">{t.id}</span>
                  </td>
                  <td data-label="Role">
                    {t.role}
                    {t.authorityId ? <span className="sub">{names.get(t.authorityId) ?? t.authorityId}</span> : null}
                  </td>
                  <td data-label="Created">{formatTime(t.createdAt)}</td>
                  <td data-label="Expires">{t.expiresAt ? formatTime(t.expiresAt) : 'never'}</td>
                  <td data-label="State">
                    {t.revokedAt ? (
                      `revoked ${formatTime(t.revokedAt)}`
                    ) : confirming === t.id ? (
                      <span className="button-row">
                        <button type="button" className="danger" onClick={() => void revoke(t)}>
                          Confirm: revoke “{t.name}”
                        </button>
                        <button type="button" onClick={() => setConfirming('')}>
                          Keep
                        </button>
                      </span>
                    ) : (
                      <button type="button" onClick={() => setConfirming(t.id)}>
                        Revoke…
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <CreateToken
        authorities={authorities.data?.authorities ?? []}
        onCreated={() => {
          tokens.reload();
        }}
      />
    </Page>
  );
}

function CreateToken({ authorities, onCreated }: { authorities: Authority[]; onCreated: () => void }) {
  const [role, setRole] = useState<string>('platform');
  const [name, setName] = useState('');
  const [authorityId, setAuthorityId] = useState('');
  const [expires, setExpires] = useState('');
  const [token, setToken] = useState('');
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    setToken('');
    try {
      const r = await api<{ id: string; token: string }>('POST', '/v1/tokens', {
        body: {
          role,
          name: name.trim(),
          ...(role === 'authority' && authorityId ? { authorityId } : {}),
          ...(expires ? { expiresAt: localInputToIso(expires) } : {}),
        },
      });
      setToken(r.token);
      setName('');
      onCreated();
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, ['/role', '/name', '/authorityId', '/expiresAt']);
        setProblems(placed.byField);
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    }
  };

  return (
    <section className="card" aria-labelledby="create-title">
      <h2 id="create-title">Create a token</h2>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorBox messages={general} />
        <div className="row-fields">
          <SelectField
            pointer="/role"
            form="tok"
            label="Role"
            value={role}
            onValue={setRole}
            options={ROLES.map((r) => ({ value: r, label: r.replace('_', ' ') }))}
            errors={problems['/role']}
          />
          <TextField
            pointer="/name"
            form="tok"
            label="Who or what holds it"
            value={name}
            onValue={setName}
            errors={problems['/name']}
          />
        </div>
        {role === 'authority' ? (
          <SelectField
            pointer="/authorityId"
            form="tok"
            label="Authority"
            value={authorityId}
            onValue={setAuthorityId}
            options={[
              { value: '', label: 'Choose…' },
              ...authorities.map((a) => ({ value: a.id, label: `${a.name} (${a.country})` })),
            ]}
            errors={problems['/authorityId']}
          />
        ) : null}
        <TextField
          pointer="/expiresAt"
          form="tok"
          label="Expires (optional)"
          type="datetime-local"
          value={expires}
          onValue={setExpires}
          errors={problems['/expiresAt']}
        />
        <div className="form-actions">
          <button type="submit" className="primary">
            Create token
          </button>
        </div>
      </form>
      {token ? <Secret label="The new token" value={token} note="Shown once: store it now." /> : null}
    </section>
  );
}
