import { type FormEvent, useState } from 'react';
import { ApiError, api, describeError } from '../../api/client.ts';
import type { Authority } from '../../api/types.ts';
import { readAsText } from '../../browser/files.ts';
import { SelectField, TextArea, TextField } from '../../components/Field.tsx';
import { ErrorBox, Loading, StatusLine } from '../../components/Messages.tsx';
import { Page } from '../../components/Page.tsx';
import { Secret } from '../../components/Secret.tsx';
import { useResource } from '../../components/hooks.ts';
import { placeProblems } from '../../lib/field-errors.ts';
import { formatTime, localInputToIso } from '../../lib/time.ts';
import { AUTHORITY_KINDS } from '../../lib/vocabulary.ts';

/** Verified authorities: register (with the public key packages are encrypted to), suspend, reinstate, give a token. */
export function AuthoritiesPage() {
  const list = useResource('authorities', (signal) =>
    api<{ authorities: Authority[] }>('GET', '/v1/authorities', { signal }),
  );
  const [status, setStatus] = useState('');
  return (
    <Page
      title="Authorities"
      lead="Only registered, active authorities can file orders; their packages are encrypted to the key registered here."
    >
      <StatusLine>{status}</StatusLine>
      {list.loading && !list.data ? (
        <Loading />
      ) : list.error ? (
        <ErrorBox messages={[describeError(list.error)]} />
      ) : (
        <ul className="cards">
          {list.data?.authorities.map((a) => (
            <li key={a.id}>
              <AuthorityCard
                authority={a}
                onChange={(m) => {
                  setStatus(m);
                  list.reload();
                }}
              />
            </li>
          ))}
        </ul>
      )}
      <RegisterForm
        onDone={(a) => {
          setStatus(`${a.name} registered.`);
          list.reload();
        }}
      />
    </Page>
  );
}

function AuthorityCard({ authority: a, onChange }: { authority: Authority; onChange: (message: string) => void }) {
  const [mode, setMode] = useState<'' | 'status' | 'token'>('');
  const [reason, setReason] = useState('');
  const [name, setName] = useState('');
  const [expires, setExpires] = useState('');
  const [token, setToken] = useState('');
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [error, setError] = useState('');
  const form = `auth-${a.id}`;
  const suspend = a.status === 'active';

  const run = async (event: FormEvent, call: () => Promise<void>, fields: string[]) => {
    event.preventDefault();
    setProblems({});
    setError('');
    try {
      await call();
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, fields);
        setProblems(placed.byField);
        setError([e.message, ...placed.unplaced.map((u) => u.message)].join(' '));
      } else setError(describeError(e));
    }
  };

  return (
    <article className="card" aria-labelledby={`${form}-title`}>
      <h2 id={`${form}-title`}>
        {a.name} <span className={`badge ${a.status === 'active' ? 'ok' : 'danger'}`}>{a.status}</span>
      </h2>
      <p className="meta">
        {a.kind} · {a.country} · {a.contactEmail} · registered {formatTime(a.createdAt)} · key {String(a.publicJwk.kty)}{' '}
        {String(a.publicJwk.crv ?? '')}
      </p>
      <div className="button-row">
        <button
          type="button"
          onClick={() => setMode(mode === 'status' ? '' : 'status')}
          aria-expanded={mode === 'status'}
        >
          {suspend ? 'Suspend…' : 'Reinstate…'}
        </button>
        <button type="button" onClick={() => setMode(mode === 'token' ? '' : 'token')} aria-expanded={mode === 'token'}>
          Issue a token…
        </button>
      </div>
      <ErrorBox messages={error ? [error] : []} />
      {mode === 'status' ? (
        <form
          className="form"
          noValidate
          onSubmit={(e) =>
            run(e, async () => {
              await api('POST', `/v1/authorities/${encodeURIComponent(a.id)}/${suspend ? 'suspend' : 'reinstate'}`, {
                body: { reason: reason.trim() },
              });
              setMode('');
              onChange(`${a.name} ${suspend ? 'suspended: its tokens stopped working' : 'reinstated'}.`);
            }, ['/reason'])
          }
        >
          <TextField
            pointer="/reason"
            form={form}
            label={suspend ? 'Why suspend it' : 'Why reinstate it'}
            hint="Kept in the audit log."
            value={reason}
            onValue={setReason}
            errors={problems['/reason']}
          />
          <div className="form-actions">
            <button type="submit" className={suspend ? 'danger' : 'primary'}>
              {suspend ? 'Suspend' : 'Reinstate'}
            </button>
          </div>
        </form>
      ) : null}
      {mode === 'token' ? (
        <form
          className="form"
          noValidate
          onSubmit={(e) =>
            run(e, async () => {
              const r = await api<{ id: string; token: string }>(
                'POST',
                `/v1/authorities/${encodeURIComponent(a.id)}/tokens`,
                { body: { name: name.trim(), ...(expires ? { expiresAt: localInputToIso(expires) } : {}) } },
              );
              setToken(r.token);
            }, ['/name', '/expiresAt'])
          }
        >
          <TextField
            pointer="/name"
            form={`${form}-token`}
            label="Who holds it"
            value={name}
            onValue={setName}
            errors={problems['/name']}
          />
          <TextField
            pointer="/expiresAt"
            form={`${form}-token`}
            label="Expires (optional)"
            type="datetime-local"
            value={expires}
            onValue={setExpires}
            errors={problems['/expiresAt']}
          />
          <div className="form-actions">
            <button type="submit" className="primary">
              Issue token
            </button>
          </div>
          {token ? (
            <Secret label="The new token" value={token} note="Shown once: give it to the authority now." />
          ) : null}
        </form>
      ) : null}
    </article>
  );
}

const REGISTER_FIELDS = ['/name', '/country', '/kind', '/contactEmail', '/publicJwk'];

function RegisterForm({ onDone }: { onDone: (a: Authority) => void }) {
  const [name, setName] = useState('');
  const [country, setCountry] = useState('');
  const [kind, setKind] = useState<string>('police');
  const [email, setEmail] = useState('');
  const [jwk, setJwk] = useState('');
  const [problems, setProblems] = useState<Record<string, string[]>>({});
  const [general, setGeneral] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setProblems({});
    setGeneral([]);
    let publicJwk: unknown;
    try {
      publicJwk = JSON.parse(jwk);
      if (!publicJwk || typeof publicJwk !== 'object' || Array.isArray(publicJwk)) throw new Error('not an object');
    } catch {
      setProblems({ '/publicJwk': ['Paste the public key as a JSON Web Key: one JSON object.'] });
      setGeneral(['The public key is not a JSON object.']);
      return;
    }
    setBusy(true);
    try {
      const a = await api<Authority>('POST', '/v1/authorities', {
        body: { name: name.trim(), country: country.trim().toUpperCase(), kind, contactEmail: email.trim(), publicJwk },
      });
      onDone(a);
      setName('');
      setCountry('');
      setEmail('');
      setJwk('');
    } catch (e) {
      if (e instanceof ApiError && e.details) {
        const placed = placeProblems(e.details, REGISTER_FIELDS);
        setProblems(placed.byField);
        setGeneral([e.message, ...placed.unplaced.map((u) => u.message)]);
      } else setGeneral([describeError(e)]);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="card" aria-labelledby="register-title">
      <h2 id="register-title">Register an authority</h2>
      <form className="form" onSubmit={submit} noValidate>
        <ErrorBox messages={general} />
        <TextField pointer="/name" form="reg" label="Name" value={name} onValue={setName} errors={problems['/name']} />
        <div className="row-fields">
          <TextField
            pointer="/country"
            form="reg"
            label="Country"
            hint="Two letters, e.g. DE"
            value={country}
            onValue={setCountry}
            maxLength={2}
            size={3}
            errors={problems['/country']}
          />
          <SelectField
            pointer="/kind"
            form="reg"
            label="Kind"
            value={kind}
            onValue={setKind}
            options={AUTHORITY_KINDS.map((k) => ({ value: k, label: k }))}
            errors={problems['/kind']}
          />
        </div>
        <TextField
          pointer="/contactEmail"
          form="reg"
          label="Contact e-mail"
          type="email"
          value={email}
          onValue={setEmail}
          errors={problems['/contactEmail']}
        />
        <TextArea
          pointer="/publicJwk"
          form="reg"
          label="Public encryption key (JWK)"
          hint='EC P-256/384/521 or X25519, e.g. {"kty":"EC","crv":"P-256","x":"…","y":"…"}. Paste it or choose the file below.'
          value={jwk}
          onValue={setJwk}
          rows={5}
          spellCheck={false}
          className="mono"
          errors={problems['/publicJwk']}
        />
        <div className="field">
          <label htmlFor="reg-jwk-file">Or load the key from a file</label>
          <input
            id="reg-jwk-file"
            type="file"
            accept=".json,.jwk,application/json"
            onChange={async (e) => {
              const file = e.target.files?.[0];
              if (file) setJwk(await readAsText(file));
            }}
          />
        </div>
        <div className="form-actions">
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Registering…' : 'Register'}
          </button>
        </div>
      </form>
    </section>
  );
}
