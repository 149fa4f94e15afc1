import crypto from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

/*
 * Argon2id (the library's default algorithm) with its default cost: 19 MiB, two
 * passes, one lane — OWASP's minimum for Argon2id. The parameters live in each
 * PHC string, so raising them later leaves existing hashes verifiable.
 */

/** Hashes a password for storage (a PHC string, `$argon2id$…`). */
export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

let dummy: Promise<string> | undefined;

/** Computes the dummy hash ahead of the first sign-in, so that one is not slower than the rest. */
export function prepareDummyHash(): void {
  if (dummy) return;
  dummy = hash(crypto.randomBytes(32).toString('base64url'));
  // Awaited (and its failure handled) where it is used.
  dummy.catch(() => {});
}

/**
 * Checks a password against a stored hash. Without a hash (no such user) it checks
 * against a hash of a random password instead, so an unknown username costs the
 * same time as a wrong password and the answer cannot tell them apart.
 */
export async function verifyPassword(stored: string | null, password: string): Promise<boolean> {
  if (stored === null) {
    prepareDummyHash();
    try {
      await verify(await (dummy as Promise<string>), password);
    } catch {
      // No dummy hash: the answer is the same, only the time differs.
    }
    return false;
  }
  try {
    return await verify(stored, password);
  } catch {
    // A corrupt stored hash refuses the sign-in rather than failing the request.
    return false;
  }
}

/** No 0/o, 1/l/i: generated passwords are read off a screen and typed. */
const ALPHABET = 'abcdefghjkmnpqrstuvwxyz23456789';

/**
 * A generated password: four groups of five from a 31-letter alphabet
 * (`k7mqa-…`), about 99 bits. Passwords are never chosen by people here.
 */
export function generatePassword(): string {
  const groups: string[] = [];
  for (let g = 0; g < 4; g++) {
    let group = '';
    for (let i = 0; i < 5; i++) group += ALPHABET[crypto.randomInt(ALPHABET.length)];
    groups.push(group);
  }
  return groups.join('-');
}
