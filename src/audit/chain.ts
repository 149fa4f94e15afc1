import crypto from 'node:crypto';

/** The hash that precedes the first entry of the chain. */
export const GENESIS_HASH = '0'.repeat(64);

export interface ChainedFields {
  seq: number;
  at: number;
  actorId: string;
  actorRole: string;
  action: string;
  subjectType: string | null;
  subjectId: string | null;
  requestId: string | null;
  /** Canonical JSON text of the details, exactly as stored. */
  details: string;
}

/**
 * Hash of one audit entry: SHA-256 over the previous entry's hash and this
 * entry's fields, in a fixed order with explicit separators. Because every entry
 * commits to its predecessor, altering, deleting or reordering any row changes
 * every hash after it (the construction of Crosby & Wallach's history trees,
 * reduced to a linear chain).
 */
export function entryHash(prevHash: string, e: ChainedFields): string {
  const h = crypto.createHash('sha256');
  h.update(prevHash);
  for (const field of [
    String(e.seq),
    String(e.at),
    e.actorId,
    e.actorRole,
    e.action,
    e.subjectType ?? '',
    e.subjectId ?? '',
    e.requestId ?? '',
    e.details,
  ]) {
    h.update('\u001f');
    h.update(field);
  }
  return h.digest('hex');
}

/** JSON with object keys sorted, so the same details always hash the same. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return Object.fromEntries(
      Object.keys(value as object)
        .sort()
        .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
        .map((k) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}
