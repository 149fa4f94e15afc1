import { generateSecret, generateURI, verify } from 'otplib';

/*
 * TOTP as authenticator apps speak it (RFC 6238): SHA-1, six digits, 30-second
 * steps, a 160-bit base32 secret. A code is accepted one step either side of now
 * (clock drift, a code typed as it turned over) and only once: the step of the
 * last accepted code is stored and older or equal steps are refused (replay).
 */

const ISSUER = 'Custos';
/** One step either side, in seconds. */
const TOLERANCE_S = 30;

export function newTotpSecret(): string {
  return generateSecret();
}

/** The `otpauth://totp/…` URI an authenticator app reads from a QR code. */
export function totpUri(username: string, secret: string): string {
  return generateURI({ issuer: ISSUER, label: username, secret });
}

/** Six digits; spaces (as apps show `123 456`) are ignored. Anything else is no code. */
export function normaliseTotpCode(code: string): string | null {
  const digits = code.replace(/\s+/g, '');
  return /^\d{6}$/.test(digits) ? digits : null;
}

/**
 * The time step of `code` when it is valid for `secret` at `now` and newer than
 * `lastStep`; otherwise null.
 */
export async function checkTotp(
  secret: string,
  code: string,
  lastStep: number | null,
  now = Date.now(),
): Promise<number | null> {
  const token = normaliseTotpCode(code);
  if (token === null) return null;
  const result = await verify({
    secret,
    token,
    epoch: Math.floor(now / 1000),
    epochTolerance: TOLERANCE_S,
    ...(lastStep === null ? {} : { afterTimeStep: lastStep }),
  });
  return result.valid && 'timeStep' in result ? result.timeStep : null;
}
