import { SYSTEM_ACTOR } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { Context } from '../context.js';
import type { Db } from '../db/database.js';
import type { FieldProblem } from '../errors.js';
import { newId } from '../ids.js';
import { backoffMs } from '../webhooks/delivery.js';
import { validateStatement } from './dsa-rules.js';

/** The Transparency Database's multiple-statements endpoint takes at most 100 statements per call. */
export const DSA_BATCH_LIMIT = 100;
/** How long one submission may take before it counts as failed (and is retried). */
export const DSA_TIMEOUT_MS = 30_000;

const ACTOR = SYSTEM_ACTOR('dsa-sender');

export interface SubmitOptions {
  /** The clock (tests move it forward instead of waiting for backoffs). */
  now?: number;
  /** Statements per batch, at most DSA_BATCH_LIMIT. */
  batch?: number;
  timeoutMs?: number;
  /** Cuts the request in flight (shutdown): its statements are retried later. */
  signal?: AbortSignal;
}

export interface SubmitRound {
  /** The batch sent this round, or null when nothing was due. */
  batchId: string | null;
  /** Statements this round took (leased). */
  taken: number;
  /** Statements in the request sent. */
  sent: number;
  /** Created by the database now, or found there already (duplicate puid): never sent again. */
  accepted: number;
  duplicates: number;
  /** Refused by the database's rules (422 for that statement): marked failed. */
  rejected: number;
  /** Refused by our own check before sending (a defect): marked failed, never sent. */
  withheld: number;
  /** Sent but not created (the request failed, or another statement of the batch was refused): tried again. */
  retried: number;
  /** The HTTP status, or the network error, of the request. */
  outcome: string | null;
}

/** What the answer to a batch says about each of its statements. */
type Verdict =
  | { kind: 'created'; status: number }
  | { kind: 'per_statement'; status: number; duplicates: Set<string>; rejected: Map<number, string> }
  | { kind: 'failed'; error: string };

/**
 * Sends one batch of due statements of reasons to the DSA Transparency Database
 * (`config.dsaEndpoint`, `{"statements":[…]}` with `Authorization: Bearer`).
 *
 * Leasing: the batch is taken with one conditional update (pending, due, lease
 * free or expired) that sets a lease and the batch id; a row one process holds
 * matches no other process's update, so no two processes send a statement at the
 * same time. A process that dies mid-send leaves a lease that expires, and the
 * statements are sent again: at-least-once, with the puid (the decision id) as
 * the idempotency key — the database refuses a puid it already holds, and that
 * answer marks the statement accepted. An accepted statement is never taken again.
 *
 * The answer, read as the database's batch endpoint gives it:
 * - 2xx: every statement of the batch was created.
 * - 422 (or 409) listing `existing_puids` (under `errors`, as the database does,
 *   or at the top level): those are already in the database, so accepted; the
 *   others were not created (the database creates all of a batch or none) and
 *   are due again at once.
 * - 422 with `errors.statement_<i>`: statement i breaks the database's rules;
 *   sending it again cannot help, so it is marked failed with the fields named;
 *   the others were not created and are due again at once.
 * - anything else (5xx, 429, 401, a 422 naming no statement), a timeout or a
 *   dropped connection: the whole batch is tried again after an exponential
 *   backoff (doubling from `dsaSubmitIntervalMs`, capped at an hour, jittered).
 * Each statement is checked against the rules before it is sent; one that fails
 * is withheld (failed, logged), as publishing personal data cannot be undone.
 * Every batch sent is audited (counts, status, puids; no statement content).
 */
export async function submitDueStatements(ctx: Context, options: SubmitOptions = {}): Promise<SubmitRound> {
  const db = ctx.store.db;
  const endpoint = ctx.config.dsaEndpoint;
  const round: SubmitRound = {
    batchId: null,
    taken: 0,
    sent: 0,
    accepted: 0,
    duplicates: 0,
    rejected: 0,
    withheld: 0,
    retried: 0,
    outcome: null,
  };
  if (!endpoint) return round;
  const clock = () => options.now ?? Date.now();
  const now = clock();
  const timeout = options.timeoutMs ?? DSA_TIMEOUT_MS;
  const limit = Math.min(options.batch ?? DSA_BATCH_LIMIT, DSA_BATCH_LIMIT);
  const batchId = newId('dsab');
  const due = (eb: any) =>
    eb.and([
      eb('status', '=', 'pending'),
      eb('next_attempt_at', '<=', now),
      eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now)]),
    ]);
  const taken = await db
    .updateTable('dsa_submissions')
    .set({ lease_until: now + 2 * timeout, batch_id: batchId })
    .where('decision_id', 'in', (eb) =>
      eb.selectFrom('dsa_submissions').select('decision_id').where(due).orderBy('next_attempt_at').limit(limit),
    )
    // Checked again on the row itself: another process may have taken it since the subquery looked.
    .where(due)
    .returning(['decision_id', 'attempts'])
    .execute();
  if (taken.length === 0) return round;
  round.batchId = batchId;
  round.taken = taken.length;
  const attempts = new Map(taken.map((t) => [t.decision_id, Number(t.attempts)]));

  const stored = await db
    .selectFrom('decisions')
    .select(['id', 'statement'])
    .where(
      'id',
      'in',
      taken.map((t) => t.decision_id),
    )
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  const statements: Array<{ puid: string; statement: unknown }> = [];
  const withheld: Array<{ puid: string; problems: string }> = [];
  const texts = new Map(stored.map((row) => [row.id, row.statement]));
  for (const { decision_id: id } of taken) {
    if (!texts.has(id)) withheld.push({ puid: id, problems: '/ missing_statement' });
  }
  for (const row of stored) {
    const problems = checkStored(row.id, row.statement);
    if (problems.length === 0) statements.push({ puid: row.id, statement: JSON.parse(row.statement as string) });
    else withheld.push({ puid: row.id, problems: problems.map((p) => `${p.path} ${p.code}`).join(', ') });
  }
  for (const w of withheld) {
    ctx.logger.error(
      { job: 'dsa', decisionId: w.puid, problems: w.problems },
      'a statement of reasons breaks the DSA rules; withheld from the Transparency Database',
    );
  }
  round.withheld = withheld.length;

  let verdict: Verdict | null = null;
  if (statements.length > 0) {
    round.sent = statements.length;
    verdict = await post(endpoint, ctx.config.dsaToken, batchId, statements, timeout, options.signal);
  }
  const finished = clock();
  const puids = statements.map((s) => s.puid);
  const accepted: string[] = [];
  const duplicates: string[] = [];
  const rejected: Array<{ puid: string; error: string }> = [];
  const again: string[] = [];
  let retryError = '';
  if (verdict?.kind === 'created') accepted.push(...puids);
  else if (verdict?.kind === 'per_statement') {
    puids.forEach((puid, i) => {
      const refusal = verdict.rejected.get(i);
      if (verdict.duplicates.has(puid)) duplicates.push(puid);
      else if (refusal !== undefined) rejected.push({ puid, error: refusal });
      else again.push(puid);
    });
  } else if (verdict?.kind === 'failed') retryError = verdict.error;
  round.outcome = verdict === null ? null : verdict.kind === 'failed' ? verdict.error : `HTTP ${verdict.status}`;
  round.accepted = accepted.length + duplicates.length;
  round.duplicates = duplicates.length;
  round.rejected = rejected.length;

  await db.transaction().execute(async (tx) => {
    // Ours only while we hold them: after a lease ran out, another process's batch owns the row.
    const held = (ids: string[]) =>
      tx.updateTable('dsa_submissions').where('decision_id', 'in', ids).where('batch_id', '=', batchId);
    for (const w of withheld) {
      await held([w.puid])
        .set({ status: 'failed', lease_until: null, last_error: `withheld: ${w.problems}`.slice(0, 1000) })
        .execute();
    }
    const created = [...accepted, ...duplicates];
    if (created.length > 0) {
      // Accepted is a fact about the database, whoever holds the lease now.
      await tx
        .updateTable('dsa_submissions')
        .set((eb) => ({
          status: 'accepted',
          accepted_at: finished,
          attempts: eb('attempts', '+', 1),
          lease_until: null,
          last_error: null,
        }))
        .where('decision_id', 'in', created)
        .where('status', '=', 'pending')
        .execute();
    }
    for (const r of rejected) {
      await held([r.puid])
        .set((eb) => ({
          status: 'failed',
          attempts: eb('attempts', '+', 1),
          lease_until: null,
          last_error: `rejected by the database: ${r.error}`.slice(0, 1000),
        }))
        .execute();
    }
    if (again.length > 0) {
      await held(again)
        .set((eb) => ({
          attempts: eb('attempts', '+', 1),
          next_attempt_at: finished,
          lease_until: null,
          last_error: 'not created: another statement of the batch was refused',
        }))
        .execute();
    }
    if (verdict?.kind === 'failed') {
      // Each statement backs off by its own count of attempts.
      const byAttempts = new Map<number, string[]>();
      for (const puid of puids) {
        const n = (attempts.get(puid) ?? 0) + 1;
        byAttempts.set(n, [...(byAttempts.get(n) ?? []), puid]);
      }
      for (const [n, ids] of byAttempts) {
        await held(ids)
          .set({
            attempts: n,
            next_attempt_at: finished + backoffMs(n, ctx.config.dsaSubmitIntervalMs),
            lease_until: null,
            last_error: retryError.slice(0, 1000),
          })
          .execute();
      }
    }
    round.retried = again.length + (verdict?.kind === 'failed' ? puids.length : 0);
    if (statements.length > 0) {
      await appendAudit(
        tx,
        ACTOR,
        {
          action: 'dsa.batch_sent',
          subjectType: 'dsa_batch',
          subjectId: batchId,
          details: {
            outcome: round.outcome,
            statements: statements.length,
            accepted: accepted.length,
            duplicates: duplicates.length,
            rejected: rejected.map((r) => r.puid),
            retried: round.retried,
            puids,
          },
        },
        finished,
      );
    }
    if (withheld.length > 0) {
      await appendAudit(
        tx,
        ACTOR,
        {
          action: 'dsa.statements_withheld',
          subjectType: 'dsa_batch',
          subjectId: batchId,
          details: { puids: withheld.map((w) => w.puid), problems: withheld.map((w) => w.problems) },
        },
        finished,
      );
    }
  });

  const summary = { job: 'dsa', ...round };
  if (verdict?.kind === 'failed') ctx.logger.warn(summary, 'DSA statements not submitted; retried later');
  else if (rejected.length > 0) {
    ctx.logger.error(
      { ...summary, refusals: rejected },
      'the DSA Transparency Database refused statements of reasons; they need fixing',
    );
  } else if (statements.length > 0) ctx.logger.info(summary, 'DSA statements submitted');
  return round;
}

/** Our own check of a stored statement: the rules, and its puid naming its decision (the idempotency key). */
function checkStored(decisionId: string, text: string | null): FieldProblem[] {
  if (text === null) return [{ path: '/', code: 'missing_statement', message: 'the decision has no statement' }];
  let statement: unknown;
  try {
    statement = JSON.parse(text);
  } catch {
    return [{ path: '/', code: 'malformed_json', message: 'the stored statement is not JSON' }];
  }
  const problems = validateStatement(statement);
  if ((statement as { puid?: unknown }).puid !== decisionId) {
    problems.push({ path: '/puid', code: 'puid_mismatch', message: 'must be the decision id' });
  }
  return problems;
}

async function post(
  endpoint: string,
  token: string | undefined,
  batchId: string,
  statements: Array<{ statement: unknown }>,
  timeout: number,
  signal: AbortSignal | undefined,
): Promise<Verdict> {
  let res: Response;
  let text: string;
  try {
    res = await fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        'user-agent': 'Custos-DSA/1',
        'custos-batch-id': batchId,
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: JSON.stringify({ statements: statements.map((s) => s.statement) }),
      signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeout)]) : AbortSignal.timeout(timeout),
      redirect: 'error',
    });
    text = await res.text();
  } catch (e) {
    const err = e as Error & { cause?: { code?: string; message?: string } };
    const error =
      err.name === 'TimeoutError'
        ? `timeout after ${timeout} ms`
        : [err.message, err.cause?.code ?? err.cause?.message].filter(Boolean).join(': ');
    return { kind: 'failed', error };
  }
  if (res.ok) return { kind: 'created', status: res.status };
  if (res.status === 409 || res.status === 422) {
    const answer = perStatement(text, statements.length);
    if (answer) return { kind: 'per_statement', status: res.status, ...answer };
  }
  return { kind: 'failed', error: `HTTP ${res.status}` };
}

/** Reads a 409/422 answer naming statements (by index or puid); null when it names none. */
function perStatement(text: string, count: number): { duplicates: Set<string>; rejected: Map<number, string> } | null {
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    return null;
  }
  if (body === null || typeof body !== 'object') return null;
  const errors = body.errors !== null && typeof body.errors === 'object' ? body.errors : {};
  const listed = Array.isArray(errors.existing_puids)
    ? errors.existing_puids
    : Array.isArray(body.existing_puids)
      ? body.existing_puids
      : [];
  const duplicates = new Set<string>(listed.filter((p: unknown): p is string => typeof p === 'string'));
  const rejected = new Map<number, string>();
  for (const [key, value] of Object.entries(errors)) {
    const m = /^statement_(\d+)$/.exec(key);
    if (!m) continue;
    const index = Number(m[1]);
    if (index >= count) continue;
    // Field names only: the database's messages are not ours to store.
    const fields = value !== null && typeof value === 'object' ? Object.keys(value).slice(0, 20) : [];
    rejected.set(index, fields.length > 0 ? fields.join(', ') : 'unspecified');
  }
  if (duplicates.size === 0 && rejected.size === 0) return null;
  return { duplicates, rejected };
}

/** Counts of the submission outbox by status (for health pages and tests). */
export async function submissionCounts(db: Db): Promise<Record<string, number>> {
  const rows = await db
    .selectFrom('dsa_submissions')
    .select((eb) => ['status', eb.fn.countAll<number>().as('n')])
    .groupBy('status')
    .execute();
  return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
}
