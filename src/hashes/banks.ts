import { sql } from 'kysely';
import type { Actor } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { Db, Tx } from '../db/database.js';
import { chunks } from '../db/chunks.js';
import { ConflictError, type FieldProblem, NotFoundError, ValidationError } from '../errors.js';
import { newSortableId } from '../ids.js';
import { CATEGORY_CODES, type CategoryCode } from '../policy/policy.js';

/**
 * Hash banks: named lists of known images (NCMEC- or GIFCT-style shared lists,
 * and `local-confirmed`, the images our own moderators removed). Each bank has
 * a category, an action (review or remove) and a PDQ distance threshold. Banks
 * and hashes live in the store; running matchers follow their changes through
 * `hash_head.seq` (see matcher.ts).
 */

export const HASH_KINDS = ['pdq', 'md5', 'sha256'] as const;
export type HashKind = (typeof HASH_KINDS)[number];
const HEX_LENGTH: Record<HashKind, number> = { pdq: 64, md5: 32, sha256: 64 };

export const BANK_ACTIONS = ['review', 'remove'] as const;
export type BankAction = (typeof BANK_ACTIONS)[number];

/** The usual PDQ match threshold (Meta's recommendation for PDQ: 31 of 256 bits). */
export const DEFAULT_PDQ_THRESHOLD = 31;
/** Largest threshold a bank may set: the matcher is exact up to here. */
export const MAX_PDQ_THRESHOLD = 63;
/** The bank a moderator's removal of an image feeds. */
export const LOCAL_CONFIRMED_BANK = 'local-confirmed';

/** A bank's name: lower-case letters, digits, dot, dash and underscore, at most 64 (the API's schema uses it too). */
export const BANK_NAME_PATTERN = '^[a-z0-9][a-z0-9._-]{0,63}$';
const BANK_NAME = new RegExp(BANK_NAME_PATTERN);

export interface Bank {
  id: string;
  name: string;
  category: CategoryCode;
  action: BankAction;
  threshold: number;
  enabled: boolean;
  seq: number;
}

export interface BankOptions {
  category?: string;
  action?: string;
  threshold?: number;
}

export interface ParsedHash {
  kind: HashKind;
  value: string;
  /** 1-based line of the file. */
  line: number;
}

export interface LineProblem {
  line: number;
  problem: string;
}

export interface ParsedList {
  hashes: ParsedHash[];
  problems: LineProblem[];
  /** Lines that repeat a hash already given earlier in the file. */
  duplicates: number;
  /** Non-blank, non-comment lines read (a header included). */
  lines: number;
}

const HEADER_KIND: Record<string, HashKind | 'default'> = {
  pdq: 'pdq',
  md5: 'md5',
  sha256: 'sha256',
  'sha-256': 'sha256',
  hash: 'default',
  signal: 'default',
  signal_value: 'default',
};

/**
 * Reads a hash list: one hash per line, plain hex or the first field of a CSV
 * line (`hash,quality,file` as the PDQ reference tool prints), or a CSV whose
 * header names its columns (`pdq`, `md5`, `sha256`; `hash` or `signal` take
 * `kind`). Blank lines and `#` comments are skipped. Every bad line is reported
 * with its number; nothing is thrown here.
 */
export function parseHashList(text: string, kind: HashKind = 'pdq'): ParsedList {
  const hashes: ParsedHash[] = [];
  const problems: LineProblem[] = [];
  const seen = new Set<string>();
  let duplicates = 0;
  let lines = 0;
  let columns: Array<{ index: number; kind: HashKind }> | null = null;
  const rows = text.split(/\r?\n/);
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i]!.replace(/^\uFEFF/, '').trim();
    if (raw === '' || raw.startsWith('#')) continue;
    lines++;
    const fields = raw.split(/[,;\t]|\s+/).map((f) => f.trim().replace(/^"|"$/g, ''));
    if (columns === null && lines === 1 && fields.some((f) => f.toLowerCase() in HEADER_KIND)) {
      columns = fields.flatMap((f, index) => {
        const k = HEADER_KIND[f.toLowerCase()];
        return k ? [{ index, kind: k === 'default' ? kind : k }] : [];
      });
      continue;
    }
    const wanted = columns ?? [{ index: 0, kind }];
    for (const column of wanted) {
      const field = fields[column.index] ?? '';
      if (columns && field === '') continue; // an empty cell of an optional column
      const value = normaliseHex(field);
      const problem = hexProblem(value, column.kind);
      if (problem) {
        problems.push({ line: i + 1, problem });
        continue;
      }
      const key = `${column.kind}:${value}`;
      if (seen.has(key)) {
        duplicates++;
        continue;
      }
      seen.add(key);
      hashes.push({ kind: column.kind, value, line: i + 1 });
    }
  }
  return { hashes, problems, duplicates, lines };
}

/** A hash as people write it (any case, a `0x` prefix) as it is stored: lower-case hex. */
export function normaliseHex(value: string): string {
  return value.trim().toLowerCase().replace(/^0x/, '');
}

/** Why `value` is not a hash of `kind`, or null when it is one. */
export function hexProblem(value: string, kind: HashKind): string | null {
  if (!/^[0-9a-f]*$/.test(value)) return `not hexadecimal: '${value.slice(0, 80)}'`;
  if (value.length !== HEX_LENGTH[kind]) {
    return `a ${kind} hash has ${HEX_LENGTH[kind]} hex digits, this has ${value.length}`;
  }
  return null;
}

export interface ImportOptions extends BankOptions {
  bank: string;
  kind?: HashKind;
  /** Import the valid lines and report the bad ones, instead of refusing the whole file. */
  skipInvalid?: boolean;
  /** Where the hashes come from (the file name), kept with each hash. */
  source?: string;
  /** Called after each statement of the import's one transaction: hashes written so far (not yet committed), of all. */
  onProgress?: (written: number, total: number) => void;
}

export interface ImportResult {
  bank: Bank;
  bankCreated: boolean;
  lines: number;
  valid: number;
  inserted: number;
  /** Already in the bank (an import run twice inserts nothing the second time). */
  alreadyPresent: number;
  duplicatesInFile: number;
  invalid: LineProblem[];
}

/**
 * Imports a hash list into a bank, creating the bank when new. One transaction:
 * an import that fails or is killed half-way leaves nothing behind, and a
 * matcher never sees half a file. Idempotent: a hash already in the bank is
 * left as it is (a disabled one stays disabled). With bad lines the whole file
 * is refused (422 listing them by line) unless `skipInvalid`.
 */
export async function importHashes(db: Db, actor: Actor, text: string, options: ImportOptions): Promise<ImportResult> {
  validBankOptions(options.bank, options); // a bad bank name or setting first: the list need not be fixed for nothing
  const parsed = parseHashList(text, options.kind ?? 'pdq');
  if (parsed.problems.length > 0 && !options.skipInvalid) {
    throw new ValidationError(
      parsed.problems.slice(0, 100).map((p) => ({ path: `/line/${p.line}`, code: 'invalid_hash', message: p.problem })),
      `${parsed.problems.length} line(s) of the list are not valid hashes; nothing was imported.`,
    );
  }
  const now = Date.now();
  return db.transaction().execute(async (tx) => {
    const { bank, created } = await ensureBank(tx, actor, options.bank, options, now);
    const inserted = await insertHashes(tx, bank.id, parsed.hashes, options.source ?? null, now, options.onProgress);
    const result: ImportResult = {
      bank,
      bankCreated: created,
      lines: parsed.lines,
      valid: parsed.hashes.length,
      inserted,
      alreadyPresent: parsed.hashes.length - inserted,
      duplicatesInFile: parsed.duplicates,
      invalid: parsed.problems,
    };
    await appendAudit(
      tx,
      actor,
      {
        action: 'hash_bank.imported',
        subjectType: 'hash_bank',
        subjectId: bank.id,
        details: {
          bank: bank.name,
          source: options.source ?? null,
          lines: result.lines,
          inserted,
          alreadyPresent: result.alreadyPresent,
          duplicatesInFile: result.duplicatesInFile,
          invalidLines: parsed.problems.length,
        },
      },
      now,
    );
    return result;
  });
}

/**
 * Inserts hashes into a bank inside the caller's transaction, 500 rows a
 * statement, each with its change number; a hash the bank already holds is
 * left as it is. Returns how many were new.
 */
async function insertHashes(
  tx: Tx,
  bankId: string,
  hashes: ReadonlyArray<{ kind: HashKind; value: string }>,
  source: string | null,
  now: number,
  onProgress?: (written: number, total: number) => void,
): Promise<number> {
  let inserted = 0;
  let written = 0;
  for (const part of chunks([...hashes], 500)) {
    const first = await takeSeqs(tx, part.length);
    const rows = part.map((h, k) => ({
      id: newSortableId('hsh'),
      bank_id: bankId,
      kind: h.kind,
      value: h.value,
      enabled: 1,
      source,
      category: null,
      added_at: now,
      seq: first + k,
    }));
    const result = await tx
      .insertInto('bank_hashes')
      .values(rows)
      .onConflict((oc) => oc.columns(['bank_id', 'kind', 'value']).doNothing())
      .executeTakeFirst();
    inserted += Number(result.numInsertedOrUpdatedRows ?? 0);
    written += part.length;
    onProgress?.(written, hashes.length);
  }
  return inserted;
}

/**
 * Creates a bank (the admin API); a name already taken is a conflict, where an
 * import would change the existing bank's settings instead.
 */
export async function createBank(db: Db, actor: Actor, name: string, options: BankOptions): Promise<Bank> {
  validBankOptions(name, options, '/name');
  return db.transaction().execute(async (tx) => {
    // Taking no change number still locks the head row: two creations of one name queue here,
    // and the second sees the first's bank instead of failing on the unique name.
    await takeSeqs(tx, 0);
    const taken = await tx.selectFrom('hash_banks').select('id').where('name', '=', name).executeTakeFirst();
    if (taken) throw new ConflictError(`A hash bank called ${name} exists already.`);
    return (await ensureBank(tx, actor, name, options)).bank;
  });
}

export interface AddHashesResult {
  bank: Bank;
  /** Hashes given, repeats included. */
  given: number;
  inserted: number;
  /** Already in the bank (a disabled one stays disabled). */
  alreadyPresent: number;
  /** Given more than once in the list. */
  repeated: number;
}

/**
 * Adds a list of hashes to an existing bank (the admin API), in one
 * transaction audited as one entry. Any bad hash refuses the whole list: a
 * 422 names each by its index (`/hashes/3/value`), and nothing is stored.
 */
export async function addHashes(
  db: Db,
  actor: Actor,
  bankName: string,
  hashes: ReadonlyArray<{ kind: string; value: string }>,
  source: string | null = null,
): Promise<AddHashesResult> {
  const problems: FieldProblem[] = [];
  const valid: Array<{ kind: HashKind; value: string }> = [];
  const seen = new Set<string>();
  for (const [i, h] of hashes.entries()) {
    if (!(HASH_KINDS as readonly string[]).includes(h.kind)) {
      problems.push({ path: `/hashes/${i}/kind`, code: 'invalid_kind', message: `one of ${HASH_KINDS.join(', ')}` });
      continue;
    }
    const kind = h.kind as HashKind;
    const value = normaliseHex(h.value);
    const problem = hexProblem(value, kind);
    if (problem) {
      problems.push({ path: `/hashes/${i}/value`, code: 'invalid_hash', message: problem });
      continue;
    }
    if (seen.has(`${kind}:${value}`)) continue;
    seen.add(`${kind}:${value}`);
    valid.push({ kind, value });
  }
  if (problems.length > 0) {
    throw new ValidationError(
      problems.slice(0, 100),
      `${problems.length} of the ${hashes.length} hashes are not valid; nothing was added.`,
    );
  }
  const now = Date.now();
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('hash_banks').selectAll().where('name', '=', bankName).executeTakeFirst();
    if (!row) throw new NotFoundError('Hash bank');
    const bank = toBank(row);
    const inserted = await insertHashes(tx, bank.id, valid, source, now);
    const result: AddHashesResult = {
      bank,
      given: hashes.length,
      inserted,
      alreadyPresent: valid.length - inserted,
      repeated: hashes.length - valid.length,
    };
    await appendAudit(
      tx,
      actor,
      {
        action: 'hash_bank.hashes_added',
        subjectType: 'hash_bank',
        subjectId: bank.id,
        details: {
          bank: bank.name,
          source,
          given: result.given,
          inserted,
          alreadyPresent: result.alreadyPresent,
          repeated: result.repeated,
        },
      },
      now,
    );
    return result;
  });
}

/** The bank called `name`, created with `options` when new; given options update an existing bank. */
export async function ensureBank(
  tx: Tx,
  actor: Actor,
  name: string,
  options: BankOptions,
  now = Date.now(),
  /** Apply `options` to an existing bank too (an import does; a single added hash does not). */
  update = true,
): Promise<{ bank: Bank; created: boolean }> {
  const spec = validBankOptions(name, options);
  const existing = await tx.selectFrom('hash_banks').selectAll().where('name', '=', name).executeTakeFirst();
  if (!existing) {
    if (!spec.category) {
      throw new ValidationError(
        [{ path: '/category', code: 'missing_field', message: 'a new bank needs a category' }],
        `The bank ${name} is new: give it a category.`,
      );
    }
    const row = {
      id: newSortableId('bank'),
      name,
      category: spec.category,
      action: spec.action ?? 'review',
      threshold: spec.threshold ?? DEFAULT_PDQ_THRESHOLD,
      enabled: 1,
      created_at: now,
      updated_at: now,
      seq: await takeSeqs(tx, 1),
    };
    await tx.insertInto('hash_banks').values(row).execute();
    await appendAudit(
      tx,
      actor,
      {
        action: 'hash_bank.created',
        subjectType: 'hash_bank',
        subjectId: row.id,
        details: { name, category: row.category, action: row.action, threshold: row.threshold },
      },
      now,
    );
    return { bank: toBank(row), created: true };
  }
  if (!update) return { bank: toBank(existing), created: false };
  const changes: Partial<{ category: string; action: string; threshold: number }> = {};
  if (spec.category && spec.category !== existing.category) changes.category = spec.category;
  if (spec.action && spec.action !== existing.action) changes.action = spec.action;
  if (spec.threshold !== undefined && spec.threshold !== Number(existing.threshold)) changes.threshold = spec.threshold;
  if (Object.keys(changes).length === 0) return { bank: toBank(existing), created: false };
  const seq = await takeSeqs(tx, 1);
  await tx
    .updateTable('hash_banks')
    .set({ ...changes, updated_at: now, seq })
    .where('id', '=', existing.id)
    .execute();
  await appendAudit(
    tx,
    actor,
    { action: 'hash_bank.updated', subjectType: 'hash_bank', subjectId: existing.id, details: { name, ...changes } },
    now,
  );
  return { bank: toBank({ ...existing, ...changes, seq }), created: false };
}

/** Turns a whole bank on or off (takes effect on running matchers within their poll interval). */
export async function setBankEnabled(db: Db, actor: Actor, name: string, enabled: boolean): Promise<Bank> {
  return db.transaction().execute(async (tx) => {
    const row = await tx.selectFrom('hash_banks').selectAll().where('name', '=', name).executeTakeFirst();
    if (!row) throw new NotFoundError('Hash bank');
    const seq = await takeSeqs(tx, 1);
    const now = Date.now();
    await tx
      .updateTable('hash_banks')
      .set({ enabled: enabled ? 1 : 0, updated_at: now, seq })
      .where('id', '=', row.id)
      .execute();
    await appendAudit(
      tx,
      actor,
      {
        action: enabled ? 'hash_bank.enabled' : 'hash_bank.disabled',
        subjectType: 'hash_bank',
        subjectId: row.id,
        details: { name },
      },
      now,
    );
    return toBank({ ...row, enabled: enabled ? 1 : 0, seq });
  });
}

/** Turns one hash of a bank on or off. */
export async function setHashEnabled(
  db: Db,
  actor: Actor,
  bankName: string,
  kind: HashKind,
  value: string,
  enabled: boolean,
): Promise<void> {
  const hex = value.toLowerCase();
  const problem = hexProblem(hex, kind);
  if (problem) throw new ValidationError([{ path: '/value', code: 'invalid_hash', message: problem }]);
  await db.transaction().execute(async (tx) => {
    const row = await tx
      .selectFrom('bank_hashes')
      .innerJoin('hash_banks', 'hash_banks.id', 'bank_hashes.bank_id')
      .select(['bank_hashes.id', 'bank_hashes.enabled'])
      .where('hash_banks.name', '=', bankName)
      .where('bank_hashes.kind', '=', kind)
      .where('bank_hashes.value', '=', hex)
      .executeTakeFirst();
    if (!row) throw new NotFoundError('Hash in that bank');
    if ((row.enabled === 1) === enabled) return;
    const now = Date.now();
    await tx
      .updateTable('bank_hashes')
      .set({ enabled: enabled ? 1 : 0, seq: await takeSeqs(tx, 1) })
      .where('id', '=', row.id)
      .execute();
    await appendAudit(
      tx,
      actor,
      {
        action: enabled ? 'hash.enabled' : 'hash.disabled',
        subjectType: 'bank_hash',
        subjectId: row.id,
        details: { bank: bankName, kind },
      },
      now,
    );
  });
}

/**
 * Adds one hash to a bank inside the caller's transaction (a moderator's removal
 * adding the image to `local-confirmed`). Creates the bank when new. Returns
 * false when the bank already held it.
 */
export async function addHash(
  tx: Tx,
  actor: Actor,
  bankName: string,
  options: BankOptions,
  hash: { kind: HashKind; value: string; source: string; category?: CategoryCode },
  now = Date.now(),
): Promise<boolean> {
  const problem = hexProblem(hash.value, hash.kind);
  if (problem) throw new ValidationError([{ path: '/value', code: 'invalid_hash', message: problem }]);
  const { bank } = await ensureBank(tx, actor, bankName, options, now, false);
  const result = await tx
    .insertInto('bank_hashes')
    .values({
      id: newSortableId('hsh'),
      bank_id: bank.id,
      kind: hash.kind,
      value: hash.value,
      enabled: 1,
      source: hash.source,
      category: hash.category ?? null,
      added_at: now,
      seq: await takeSeqs(tx, 1),
    })
    .onConflict((oc) => oc.columns(['bank_id', 'kind', 'value']).doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

/**
 * Disables the hashes a source added (a decision overturned on appeal: the
 * picture was not what the moderator thought, so re-uploads must pass again).
 */
export async function disableHashesFrom(tx: Tx, actor: Actor, source: string, now = Date.now()): Promise<number> {
  const rows = await tx
    .selectFrom('bank_hashes')
    .select(['id'])
    .where('source', '=', source)
    .where('enabled', '=', 1)
    .execute();
  for (const r of rows) {
    await tx
      .updateTable('bank_hashes')
      .set({ enabled: 0, seq: await takeSeqs(tx, 1) })
      .where('id', '=', r.id)
      .execute();
    await appendAudit(
      tx,
      actor,
      { action: 'hash.disabled', subjectType: 'bank_hash', subjectId: r.id, details: { source } },
      now,
    );
  }
  return rows.length;
}

/** Every bank with its enabled hashes and when it was created (ms), by name. */
export async function listBanks(db: Db): Promise<Array<Bank & { hashes: number; createdAt: number }>> {
  const banks = await db.selectFrom('hash_banks').selectAll().orderBy('name').execute();
  const counts = await db
    .selectFrom('bank_hashes')
    .select(['bank_id', sql<number>`count(*)`.as('n')])
    .where('enabled', '=', 1)
    .groupBy('bank_id')
    .execute();
  const byBank = new Map(counts.map((c) => [c.bank_id, Number(c.n)]));
  return banks.map((b) => ({ ...toBank(b), hashes: byBank.get(b.id) ?? 0, createdAt: Number(b.created_at) }));
}

/**
 * Takes `n` consecutive change numbers and returns the first. The update locks
 * the head row until the transaction ends, so transactions that change banks
 * commit in the order of their numbers (see the migration).
 */
async function takeSeqs(tx: Tx, n: number): Promise<number> {
  const row = await tx
    .updateTable('hash_head')
    .set({ seq: sql`seq + ${n}` })
    .where('id', '=', 1)
    .returning('seq')
    .executeTakeFirstOrThrow();
  return Number(row.seq) - n + 1;
}

function validBankOptions(
  name: string,
  options: BankOptions,
  /** Where the name was given: `--bank` on the command line, `/name` in the API. */
  namePath = '/bank',
): { category?: CategoryCode; action?: BankAction; threshold?: number } {
  const problems = [];
  if (!BANK_NAME.test(name)) {
    problems.push({
      path: namePath,
      code: 'invalid_name',
      message: 'lower-case letters, digits, dot, dash and underscore; at most 64',
    });
  }
  if (options.category !== undefined && !(CATEGORY_CODES as readonly string[]).includes(options.category)) {
    problems.push({ path: '/category', code: 'unknown_category', message: `one of ${CATEGORY_CODES.join(', ')}` });
  }
  if (options.action !== undefined && !(BANK_ACTIONS as readonly string[]).includes(options.action)) {
    problems.push({ path: '/action', code: 'invalid_action', message: 'review or remove' });
  }
  if (
    options.threshold !== undefined &&
    !(Number.isInteger(options.threshold) && options.threshold >= 0 && options.threshold <= MAX_PDQ_THRESHOLD)
  ) {
    problems.push({
      path: '/threshold',
      code: 'out_of_range',
      message: `a whole number of bits from 0 to ${MAX_PDQ_THRESHOLD}`,
    });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return {
    ...(options.category !== undefined ? { category: options.category as CategoryCode } : {}),
    ...(options.action !== undefined ? { action: options.action as BankAction } : {}),
    ...(options.threshold !== undefined ? { threshold: options.threshold } : {}),
  };
}

function toBank(r: {
  id: string;
  name: string;
  category: string;
  action: string;
  threshold: number;
  enabled: number;
  seq: number;
}): Bank {
  return {
    id: r.id,
    name: r.name,
    category: r.category as CategoryCode,
    action: r.action as BankAction,
    threshold: Number(r.threshold),
    enabled: Number(r.enabled) === 1,
    seq: Number(r.seq),
  };
}
