import { type FormEvent, useEffect, useRef, useState } from 'react';
import { ApiError, describeError } from '../api/client.ts';
import { signIn } from '../session.tsx';
import { TextField } from './Field.tsx';
import { ErrorBox, StatusLine } from './Messages.tsx';
import { Page } from './Page.tsx';

interface SignInProps {
  /** "Staff console" or "Authority portal". */
  title: string;
  lead: string;
  notice?: string;
  /** The server has no sign-in route: say so instead of a form that cannot work. */
  unavailable?: boolean;
}

/**
 * Username and password; the one-time code field appears when the server asks
 * for it (`totp_required`) and takes focus.
 */
export function SignIn({ title, lead, notice, unavailable }: SignInProps) {
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [totp, setTotp] = useState('');
  const [needsTotp, setNeedsTotp] = useState(false);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const totpRef = useRef<HTMLInputElement>(null);

  useEffect(() => {
    if (needsTotp) totpRef.current?.focus();
  }, [needsTotp]);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setError('');
    if (!username || !password) {
      setError('Enter your username and password.');
      return;
    }
    setBusy(true);
    try {
      await signIn({ username, password, ...(needsTotp && totp ? { totp: totp.replace(/\s/g, '') } : {}) });
    } catch (e) {
      if (e instanceof ApiError && e.code === 'totp_required') {
        if (needsTotp && totp)
          setError('That code was not accepted. Enter the current code from your authenticator app.');
        setNeedsTotp(true);
      } else if (e instanceof ApiError && e.code === 'invalid_credentials') {
        setError(needsTotp ? 'The username, password or code is wrong.' : 'The username or password is wrong.');
      } else if (e instanceof ApiError && e.code === 'account_locked') {
        setError(`This account is locked after too many failed attempts. ${e.message}`);
      } else if (e instanceof ApiError && e.status === 404) {
        setError('This server does not offer sign-in yet.');
      } else {
        setError(describeError(e));
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="narrow">
      <Page title={title} lead={lead}>
        {notice ? <StatusLine>{notice}</StatusLine> : null}
        {unavailable ? (
          <div className="error-box" role="alert">
            <p className="error-title">Sign-in is not available</p>
            <p>This Custos server does not offer staff sign-in yet (GET /v1/session answered 404).</p>
          </div>
        ) : null}
        <form className="card form" onSubmit={submit} noValidate>
          <ErrorBox messages={error ? [error] : []} />
          <TextField
            pointer="/username"
            label="Username"
            autoComplete="username"
            autoCapitalize="none"
            spellCheck={false}
            value={username}
            onValue={setUsername}
            required
          />
          <TextField
            pointer="/password"
            label="Password"
            type="password"
            autoComplete="current-password"
            value={password}
            onValue={setPassword}
            required
          />
          {needsTotp ? (
            <TextField
              ref={totpRef}
              pointer="/totp"
              label="One-time code"
              hint="The 6-digit code your authenticator app shows now."
              inputMode="numeric"
              autoComplete="one-time-code"
              pattern="[0-9 ]*"
              maxLength={8}
              value={totp}
              onValue={setTotp}
              required
            />
          ) : null}
          <div className="form-actions">
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Signing in…' : 'Sign in'}
            </button>
          </div>
        </form>
      </Page>
    </div>
  );
}
