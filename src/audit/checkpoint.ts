import { CompactSign, type JWK, compactVerify, createLocalJWKSet } from 'jose';
import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Db } from '../db/database.js';
import { SIGNING_ALG, currentSigningKey, publishedSigningKeys } from '../legal/signing-keys.js';
import { GENESIS_HASH } from './chain.js';
import { type VerifyResult, verifyAuditSettled } from './service.js';

/**
 * Signed checkpoints of the audit chain: anchoring the chain outside the store.
 *
 * The chain (src/audit/chain.ts) proves that no entry was altered, removed or reordered
 * relative to the stored head; someone who can write to the store could still rewrite the
 * whole history and recompute every hash. A checkpoint is the platform's signature (its
 * Ed25519 signing key, the one published at /.well-known/custos-signing-keys.json) over an
 * entry's number and hash at a moment. Anyone can fetch one from the public route and keep
 * it; later, `custos audit verify --checkpoint` (or the same route asked for that entry)
 * shows whether the chain still holds that entry with that hash. A rewrite before the
 * checkpoint changes the hash; a removed tail loses the entry; either is then proven by a
 * statement the platform signed. The idea is that of Certificate Transparency's signed
 * tree heads (RFC 6962, section 3.5), on a linear hash chain.
 */

/** The JWS content type of a checkpoint. */
export const CHECKPOINT_CTY = 'custos-audit-checkpoint+json';

export interface AuditCheckpointPayload {
  /** The entry the checkpoint is about (the head when not asked for another). */
  seq: number;
  /** That entry's chain hash (hex SHA-256). */
  hash: string;
  /** The chain's head when it was signed. */
  head: { seq: number; hash: string };
  /** When it was signed (ISO 8601). */
  at: string;
}

export interface AuditCheckpoint extends AuditCheckpointPayload {
  /** Compact JWS (EdDSA) over the payload, with the key id in its header. */
  jws: string;
}

/** The entry asked for does not exist (yet). */
export class CheckpointRangeError extends Error {}

/**
 * Signs a checkpoint of entry `seq` (default: the head) as the chain stands now. The
 * signing key is the platform's current one, created on first use like the packages'.
 */
export async function signAuditCheckpoint(
  db: Db,
  cipher: PersonalDataCipher,
  options: { seq?: number; now?: number } = {},
): Promise<AuditCheckpoint> {
  const now = options.now ?? Date.now();
  const headRow = await db.selectFrom('audit_head').select(['seq', 'hash']).where('id', '=', 1).executeTakeFirst();
  const head = { seq: headRow ? Number(headRow.seq) : 0, hash: headRow?.hash ?? GENESIS_HASH };
  const seq = options.seq ?? head.seq;
  let hash = head.hash;
  if (seq !== head.seq) {
    if (!Number.isInteger(seq) || seq < 1 || seq > head.seq) {
      throw new CheckpointRangeError(`the chain has entries 1 to ${head.seq}; there is no entry ${seq}`);
    }
    const row = await db.selectFrom('audit_log').select('hash').where('seq', '=', seq).executeTakeFirst();
    if (!row) throw new CheckpointRangeError(`entry ${seq} is missing from the chain`);
    hash = row.hash;
  }
  const payload: AuditCheckpointPayload = { seq, hash, head, at: new Date(now).toISOString() };
  const key = await currentSigningKey(db, cipher, now);
  const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
    .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'JWS', cty: CHECKPOINT_CTY })
    .sign(key.privateKey);
  return { ...payload, jws };
}

/** Which keys checked the signature: the store's published ones, or keys the caller kept; and the key's id. */
export interface CheckpointSigner {
  keys: 'store' | 'given';
  kid: string | null;
}

export type CheckpointVerdict =
  | { ok: true; checkpoint: AuditCheckpointPayload; entries: number; signer: CheckpointSigner }
  | {
      ok: false;
      signer?: CheckpointSigner;
      /**
       * `invalid_checkpoint`: not a checkpoint signed by the keys given; `chain_broken`: the chain itself
       * fails verification; `entry_missing`: the chain no longer reaches the entry (its end was cut);
       * `history_rewritten`: the entry is there with another hash.
       */
      code: 'invalid_checkpoint' | 'chain_broken' | 'entry_missing' | 'history_rewritten';
      problem: string;
      checkpoint?: AuditCheckpointPayload;
    };

const HEX64 = /^[0-9a-f]{64}$/;
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,3})?Z$/;

function isPayload(value: unknown): value is AuditCheckpointPayload {
  const p = value as AuditCheckpointPayload;
  return (
    typeof p === 'object' &&
    p !== null &&
    Number.isInteger(p.seq) &&
    p.seq >= 0 &&
    typeof p.hash === 'string' &&
    HEX64.test(p.hash) &&
    typeof p.at === 'string' &&
    ISO_TIME.test(p.at) &&
    Number.isFinite(Date.parse(p.at)) &&
    typeof p.head === 'object' &&
    p.head !== null &&
    Number.isInteger(p.head.seq) &&
    p.head.seq >= p.seq &&
    typeof p.head.hash === 'string' &&
    HEX64.test(p.head.hash)
  );
}

/**
 * Checks a checkpoint against the store: its signature (by the published keys, or by
 * `keys` kept when it was fetched, which a rewrite of the store cannot touch), the whole
 * chain, and that the chain still holds the checkpoint's entry with the checkpoint's hash.
 */
export async function verifyAuditCheckpoint(
  db: Db,
  jws: string,
  options: { keys?: { keys: JWK[] }; chain?: VerifyResult } = {},
): Promise<CheckpointVerdict> {
  const keys = options.keys ?? (await publishedSigningKeys(db));
  const source = options.keys ? 'given' : 'store';
  let checkpoint: AuditCheckpointPayload;
  let signer: CheckpointSigner;
  try {
    const verified = await compactVerify(jws.trim(), createLocalJWKSet(keys), { algorithms: [SIGNING_ALG] });
    if (verified.protectedHeader.cty !== CHECKPOINT_CTY)
      throw new Error(`content type ${verified.protectedHeader.cty}`);
    const payload: unknown = JSON.parse(new TextDecoder().decode(verified.payload));
    if (!isPayload(payload)) throw new Error('its payload is not a checkpoint');
    checkpoint = payload;
    signer = { keys: source, kid: verified.protectedHeader.kid ?? null };
  } catch (error) {
    const hint =
      source === 'store' ? "; if the store's keys may have been changed, check against the keys kept with it" : '';
    return {
      ok: false,
      code: 'invalid_checkpoint',
      problem: `not an audit checkpoint signed by ${source === 'store' ? "the store's published keys" : 'the keys given'} (${(error as Error).message})${hint}`,
    };
  }
  const chain = options.chain ?? (await verifyAuditSettled(db));
  if (!chain.ok) {
    return {
      ok: false,
      code: 'chain_broken',
      problem: `audit chain broken at entry ${chain.badSeq}: ${chain.problem}`,
      checkpoint,
      signer,
    };
  }
  if (checkpoint.seq > chain.entries) {
    return {
      ok: false,
      code: 'entry_missing',
      problem: `the checkpoint of ${checkpoint.at} names entry ${checkpoint.seq}, but the chain ends at entry ${chain.entries}: its end was removed`,
      checkpoint,
      signer,
    };
  }
  const stored =
    checkpoint.seq === 0
      ? GENESIS_HASH
      : (await db.selectFrom('audit_log').select('hash').where('seq', '=', checkpoint.seq).executeTakeFirst())?.hash;
  if (stored !== checkpoint.hash) {
    return {
      ok: false,
      code: 'history_rewritten',
      problem: `entry ${checkpoint.seq} hashes to ${stored} now, but the checkpoint of ${checkpoint.at} signed ${checkpoint.hash}: the history up to it was rewritten`,
      checkpoint,
      signer,
    };
  }
  return { ok: true, checkpoint, entries: chain.entries, signer };
}
