import crypto from 'node:crypto';
import { type CryptoKey, type JWK, calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK } from 'jose';
import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Db } from '../db/database.js';

/** Disclosure packages are signed with Ed25519 (JWS `alg: EdDSA`, RFC 8037). */
export const SIGNING_ALG = 'EdDSA';
export const PRIVATE_FIELD = 'signing_keys.private';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

/** The key per store, as a promise: concurrent first callers in one process share one load (or creation). */
const cache = new WeakMap<Db, Promise<SigningKey>>();

/**
 * The platform's current signing key: the oldest one not retired, created on first use.
 * The private half is stored encrypted under the master key (never in clear, never
 * logged). Callers in one process share one load, so concurrent first requests create one
 * key; two processes creating one at once each insert theirs, and both then pick the
 * oldest, so every package is signed with the same key.
 */
export function currentSigningKey(db: Db, cipher: PersonalDataCipher, now = Date.now()): Promise<SigningKey> {
  let pending = cache.get(db);
  if (!pending) {
    pending = loadOrCreate(db, cipher, now);
    cache.set(db, pending);
    // A failed load (the store unreachable) is not remembered: the next caller tries again.
    pending.catch(() => cache.delete(db));
  }
  return pending;
}

async function loadOrCreate(db: Db, cipher: PersonalDataCipher, now: number): Promise<SigningKey> {
  let row = await oldestActive(db);
  if (!row) {
    const { publicKey, privateKey } = await generateKeyPair(SIGNING_ALG, { crv: 'Ed25519', extractable: true });
    const publicJwk = await exportJWK(publicKey);
    const kid = await calculateJwkThumbprint(publicJwk);
    const privateJwk = await exportJWK(privateKey);
    await db
      .insertInto('signing_keys')
      .values({
        kid,
        alg: SIGNING_ALG,
        public_jwk: JSON.stringify({ ...publicJwk, kid, alg: SIGNING_ALG, use: 'sig' }),
        private_enc: cipher.encrypt(PRIVATE_FIELD, kid, JSON.stringify(privateJwk)),
        created_at: now,
        retired_at: null,
      })
      .execute();
    row = await oldestActive(db);
    if (!row) throw new Error('signing key vanished after insert');
  }
  const privateJwk = JSON.parse(cipher.decrypt(PRIVATE_FIELD, row.kid, row.private_enc)) as JWK;
  return {
    kid: row.kid,
    privateKey: (await importJWK(privateJwk, SIGNING_ALG)) as CryptoKey,
    publicJwk: JSON.parse(row.public_jwk) as JWK,
  };
}

async function oldestActive(db: Db) {
  return db
    .selectFrom('signing_keys')
    .selectAll()
    .where('retired_at', 'is', null)
    .orderBy('created_at')
    .orderBy('kid')
    .limit(1)
    .executeTakeFirst();
}

/**
 * The JWKS published at `/.well-known/custos-signing-keys.json`: every key that ever
 * signed a package (retired ones too, so old packages stay verifiable). Public halves only.
 */
export async function publishedSigningKeys(db: Db): Promise<{ keys: JWK[] }> {
  const rows = await db.selectFrom('signing_keys').select(['public_jwk']).orderBy('created_at').execute();
  return { keys: rows.map((r) => JSON.parse(r.public_jwk) as JWK) };
}

/** SHA-256 (hex) of a string, for recording what was handed out. */
export function sha256Hex(text: string | Buffer): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}
