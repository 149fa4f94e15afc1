import { type FormEvent, useState } from 'react';
import { ApiError, api, describeError } from '../../api/client.ts';
import type { Authority, CreatedUserInfo, UserInfo } from '../../api/types.ts';
import { SelectField, TextField } from '../../components/Field.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { Secret } from '../../components/Secret.tsx';
import { useResource } from '../../components/hooks.ts';
import { TableWrap } from '../../components/TableWrap.tsx';
import { placeProblems } from '../../lib/field-errors.ts';
import { formatTime } from '../../lib/time.ts';
import { USER_ROLES } from '../../lib/vocabulary.ts';

/** People who sign in: list, create (password and TOTP secret shown once), disable. */
export function UsersPage() {
  const users = useResource('users', (signal) => api<{ users: UserInfo[] }>('GET', '/v1/users', { signal }));
  const authorities = useResource('authorities', (signal) =>
    api<{ authorities: Authority[] }>('GET', '/v1/authorities', { signal }),
  );
  const [status, setStatus] = useState('');
  const [confirming, setConfirming] = useState('');
  const names = new Map((authorities.data?.authorities ?? []).map((a) => [a.id, a.name]));

  const disable = async (u: UserInfo) => {
    try {
      await api('POST', `/v1/users/${encodeURIComponent(u.id)}/disable`);
      setStatus(`User “${u.username}” disabled; their sessions ended and sign-ins are refused.`);
      setConfirming('');
      users.reload();
    } catch (e) {
      setStatus(describeError(e));
    }
  };

  return (
    <Page
      title="Users"
      lead="People who sign in to the console and the portal. The password and TOTP secret are shown once, when created."
    >
      <StatusLine>{status}</StatusLine>
      {users.loading && !users.data ? (
        <Loading />
      ) : users.error ? (
        <ErrorBox messages={[describeError(users.error)]} />
      ) : (
        <TableWrap label="Users">
          <table className="stack-on-phone">
            <caption className="visually-hidden">Users</caption>
            <thead>
              <tr>
                <th scope="col">Username</th>
                <th scope="col">Role</th>
                <th scope="col">Created</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {users.data?.users.map((u) => (
                <tr key={u.id}>
                  <td data-label="Username">
                    {u.username}
                    <span className="sub">{u.id}</span>
                  </td>
                  <td data-label="Role">
                    {u.role.replace('_', ' ')}
                    {u.authorityId ? <span className="sub">{names.get(u.authorityId) ?? u.authorityId}</span> : null}
                  </td>
                  <td data-label="Created">{formatTime(u.createdAt)}</td>
                  <td data-label="State">
                    {u.disabledAt ? (
                      `disabled ${formatTime(u.disabledAt)}`
                    ) : confirming === u.id ? (
                      <span className="button-row">
                        <button type="button" className="danger" onClick={() => void disable(u)}>
                          Confirm: disable “{u.username}”
                        </button>
                        <button type="button" onClick={() => setConfirming('')}>
                          Keep
                        </button>
                      </span>
                    ) : (
                      <>
                        {u.lockedUntil ? <span className="sub">locked until {formatTime(u.lockedUntil)}</span> : null}
                        <button type="button" onClick={() => setConfirming(u.id)}>
                          Disable…
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableWrap>
      )}
      <CreateUser authorities={authorities.data?.authorities ?? []} onCreated={() => users.reload()} />
    </Page>
  );
}

function CreateUser({ authorities, onCreated }: { authorities: Authority[]; onCreated: () => void }) {
  const [role, setRole] = useState<string>('moderator');
  const [username, setUsername] = useState('');
  const [authorityId, setAuthorityId] = useState('');
  const [created, setCreated] = useState<CreatedUserInfo | null>(null);
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    setCreated(null);
    try {
      const r = await api<CreatedUserInfo>('POST', '/v1/users', {
        body: {
          username: username.trim(),
          role,
          ...(role === 'authority' && authorityId ? { authorityId } : {}),
        },
      });
      setCreated(r);
      setUsername('');
      onCreated();
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, ['/username', '/role', '/authorityId']);
        setProblems(placed.byField);
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    }
  };

  return (
    <section className="card" aria-labelledby="create-user-title">
      <h2 id="create-user-title">Create a user</h2>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorBox messages={general} />
        <div className="row-fields">
          <TextField
            pointer="/username"
            form="user"
            label="Username"
            hint="3 to 64 letters, digits and . _ @ -"
            value={username}
            onValue={setUsername}
            errors={problems['/username']}
          />
          <SelectField
            pointer="/role"
            form="user"
            label="Role"
            value={role}
            onValue={setRole}
            options={USER_ROLES.map((r) => ({ value: r, label: r.replace('_', ' ') }))}
            errors={problems['/role']}
          />
        </div>
        {role === 'authority' ? (
          <SelectField
            pointer="/authorityId"
            form="user"
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
        <div className="form-actions">
          <button type="submit" className="primary">
            Create user
          </button>
        </div>
      </form>
      {created ? (
        <>
          <Secret
            label={`The password of “${created.username}”`}
            value={created.password}
            note="Shown once: give it to the person through a safe channel."
          />
          <Secret
            label="The TOTP secret, for an authenticator app"
            value={created.totpSecret}
            note="Shown once. The app may also take this otpauth address."
          />
          <Secret label="The otpauth address" value={created.totpUri} />
        </>
      ) : null}
    </section>
  );
}
