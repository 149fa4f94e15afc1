import type { Selectable } from 'kysely';
import type { DecisionTable } from '../db/schema.js';
import type { Context } from '../context.js';
import { LOCAL_CONFIRMED_BANK, addHash } from '../hashes/banks.js';
import { assertMaySee } from '../cases/restricted.js';
import type { Tx } from '../db/database.js';
import { AppError, ConflictError, type FieldProblem, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { recordEvent } from '../moderation/events.js';
import { enqueueWebhook } from '../webhooks/outbox.js';
import { countActiveStrikes } from '../violations/service.js';
import { rank } from '../cases/priority.js';
import { type ActionType, type DsaStatement, buildStatement } from './statement.js';
import { recomputeAccountStatus, recomputeContentState } from './enforcement.js';
import { enqueueStatement } from '../transparency/dsa-submissions.js';
import { findOpenCase, insertOpenCase, lockedCase } from '../cases/open-case.js';
import type { CategoryCode } from '../policy/policy.js';

export interface DecisionInput {
  actions: Array<{ type: ActionType; until?: string }>;
  category: string;
  ground: 'illegal' | 'terms';
  explanation: string;
  /** The statute relied on, for decisions on the `illegal` ground. */
  legalGround?: string;
  /** A removed image's hash joins the `local-confirmed` bank (default true; people only). */
  addToLocalBank?: boolean;
}

export interface DecisionView {
  id: string;
  caseId: string;
  subject: { type: 'content' | 'account'; id: string };
  accountId: string;
  actions: Array<{ type: ActionType; until?: string }>;
  category: string;
  ground: 'illegal' | 'terms';
  explanation: string;
  decidedBy: string;
  automation: string;
  policyVersion: string;
  status: string;
  createdAt: string;
  reversedAt: string | null;
}

const CONTENT_ACTIONS = new Set<ActionType>(['remove_content', 'restrict_content']);

/** Checks an action list on its own: 422 with one detail per problem. */
export function validateDecision(input: DecisionInput, subjectType: 'content' | 'account', now: number): void {
  const problems: FieldProblem[] = [];
  const types = input.actions.map((a) => a.type);
  if (types.includes('dismiss') && types.length > 1) {
    problems.push({
      path: '/actions',
      code: 'dismiss_with_actions',
      message: 'dismiss cannot be combined with other actions',
    });
  }
  if (new Set(types).size !== types.length) {
    problems.push({ path: '/actions', code: 'duplicate_action', message: 'each action type may appear once' });
  }
  if (types.includes('ban_account') && types.includes('suspend_account')) {
    problems.push({ path: '/actions', code: 'conflicting_actions', message: 'ban and suspend exclude each other' });
  }
  input.actions.forEach((a, i) => {
    if (CONTENT_ACTIONS.has(a.type) && subjectType !== 'content') {
      problems.push({
        path: `/actions/${i}/type`,
        code: 'not_applicable',
        message: `${a.type} needs a content subject`,
      });
    }
    if (a.until !== undefined) {
      if (a.type !== 'suspend_account') {
        problems.push({ path: `/actions/${i}/until`, code: 'not_allowed', message: 'only a suspension has an end' });
      } else if (Date.parse(a.until) <= now) {
        problems.push({
          path: `/actions/${i}/until`,
          code: 'in_the_past',
          message: 'the suspension must end in the future',
        });
      }
    }
  });
  if (problems.length > 0) throw new ValidationError(problems);
}

export interface DecideOptions {
  /** 'full' for an automated removal, 'partial' when a human confirms machine signals. */
  automation?: 'none' | 'partial' | 'full';
  automatedDetection?: boolean;
  now?: number;
}

/**
 * Decides a case: records the decision, enforces it (content and account state,
 * webhooks to the platform through the outbox), records a confirmed violation
 * and strike unless it is a dismissal, resolves the case's reports (and adjusts
 * each reporter's weight), and closes the case — all in one transaction.
 */
export async function decideCase(
  ctx: Context,
  actor: Actor,
  caseId: string,
  input: DecisionInput,
  options: DecideOptions = {},
): Promise<DecisionView> {
  const now = options.now ?? Date.now();
  if (!ctx.policy.category(input.category)) {
    throw new ValidationError([{ path: '/category', code: 'unknown_category', message: 'not in the taxonomy' }]);
  }
  return ctx.store.db.transaction().execute(async (tx) => {
    const c = await lockedCase(tx, caseId);
    assertMaySee(actor, c.queue);
    if (c.status !== 'open') throw new ConflictError('The case is already closed.', { reason: 'case_closed' });
    if (c.claimed_by && c.claimed_by !== actor.id && Number(c.claim_expires_at) > now) {
      throw new ConflictError('Another moderator has claimed this case.', { reason: 'already_claimed' });
    }
    validateDecision(input, c.subject_type, now);
    const content =
      c.subject_type === 'content'
        ? await tx
            .selectFrom('content')
            .select(['kind', 'language', 'created_at', 'image_pdq', 'image_sha256'])
            .where('id', '=', c.subject_id)
            .executeTakeFirst()
        : undefined;
    const account = await tx
      .selectFrom('accounts')
      .select(['created_at', 'first_seen_at'])
      .where('id', '=', c.account_id)
      .executeTakeFirst();
    const reports = await tx
      .selectFrom('reports')
      .select(['id', 'source', 'reporter_key', 'reporter_account_id'])
      .where('case_id', '=', caseId)
      .where('status', '=', 'open')
      .execute();
    const dismiss = input.actions.some((a) => a.type === 'dismiss');
    const decisionId = newId('dec');
    // A person deciding a case that machines flagged: partly automated (DSA: automated detection, human decision).
    const scanned =
      c.subject_type === 'content'
        ? await tx.selectFrom('scan_results').select('action').where('content_id', '=', c.subject_id).executeTakeFirst()
        : undefined;
    const flagged = scanned !== undefined && scanned.action !== 'allow';
    const automation = options.automation ?? (flagged ? 'partial' : 'none');
    const statement = buildStatement(ctx.policy, {
      decisionId,
      actions: input.actions,
      category: input.category,
      ground: input.ground,
      explanation: input.explanation,
      legalGround: input.legalGround,
      subjectType: c.subject_type,
      contentKind: content?.kind ?? null,
      contentLanguage: content?.language ?? c.language,
      contentDate: Number(content?.created_at ?? account?.created_at ?? account?.first_seen_at ?? now),
      decidedAt: now,
      reportSources: reports.map((r) => r.source),
      automatedDetection: options.automatedDetection ?? (flagged || automation !== 'none'),
      automation,
    });
    await tx
      .insertInto('decisions')
      .values({
        id: decisionId,
        case_id: caseId,
        subject_type: c.subject_type,
        subject_id: c.subject_id,
        account_id: c.account_id,
        actions: JSON.stringify(input.actions),
        category: input.category,
        ground: input.ground,
        explanation: input.explanation,
        decided_by: actor.id,
        automation,
        policy_version: ctx.policy.version,
        statement: statement ? JSON.stringify(statement) : null,
        status: 'in_effect',
        created_at: now,
        reversed_at: null,
        opened_by: c.opened_by,
        restricts: statement ? 1 : 0,
        removes_content: input.actions.some((a) => a.type === 'remove_content') ? 1 : 0,
      })
      .execute();
    // The statement joins the DSA submission outbox in the same transaction (transparency/dsa-sender.ts sends it).
    if (statement) await enqueueStatement(tx, decisionId, now);

    if (c.subject_type === 'content') await recomputeContentState(tx, c.subject_id);
    if (
      content?.kind === 'image' &&
      automation !== 'full' &&
      input.addToLocalBank !== false &&
      input.actions.some((a) => a.type === 'remove_content')
    ) {
      // A person confirmed it: the same picture uploaded again is caught by its hash.
      const hash = content.image_pdq
        ? { kind: 'pdq' as const, value: content.image_pdq }
        : content.image_sha256
          ? { kind: 'sha256' as const, value: content.image_sha256 }
          : null;
      if (hash) {
        await addHash(
          tx,
          actor,
          LOCAL_CONFIRMED_BANK,
          { category: input.category, action: 'remove' },
          { ...hash, source: `decision:${decisionId}`, category: input.category as CategoryCode },
          now,
        );
      }
    }
    await recomputeAccountStatus(tx, c.account_id, now);
    await announceEnforcement(tx, c.subject_type, c.subject_id, c.account_id, decisionId, input, statement, now);

    if (!dismiss) {
      const strikes = ctx.policy.document.moderation.strikes;
      await tx
        .insertInto('violations')
        .values({
          id: newId('vio'),
          account_id: c.account_id,
          decision_id: decisionId,
          category: input.category,
          ground: input.ground,
          status: 'confirmed',
          created_at: now,
          strike_expires_at: now + strikes.expiryDays * 86_400_000,
          overturned_at: null,
        })
        .execute();
      await proposeOnStrikes(ctx, tx, actor, c.account_id, c.id, input, now);
    }

    const outcome = dismiss ? 'no_action' : 'action_taken';
    for (const r of reports) {
      await enqueueWebhook(
        tx,
        'report.resolved',
        { reportId: r.id, outcome, reporterAccountId: r.reporter_account_id, source: r.source },
        now,
      );
    }
    await tx
      .updateTable('reports')
      .set({ status: 'resolved', outcome, resolved_at: now, ground: dismiss ? null : input.ground })
      .where('case_id', '=', caseId)
      .where('status', '=', 'open')
      .execute();
    for (const key of new Set(reports.map((r) => r.reporter_key))) {
      await tx
        .insertInto('reporter_stats')
        .values({ reporter_key: key, actioned: dismiss ? 0 : 1, dismissed: dismiss ? 1 : 0, updated_at: now })
        .onConflict((oc) =>
          oc.column('reporter_key').doUpdateSet((eb) => ({
            actioned: eb('reporter_stats.actioned', '+', dismiss ? 0 : 1),
            dismissed: eb('reporter_stats.dismissed', '+', dismiss ? 1 : 0),
            updated_at: now,
          })),
        )
        .execute();
    }
    await tx
      .updateTable('cases')
      .set({
        status: 'closed',
        closed_at: now,
        updated_at: now,
        decision_id: decisionId,
        claimed_by: null,
        claim_expires_at: null,
      })
      .where('id', '=', caseId)
      .execute();
    await recordEvent(
      tx,
      actor,
      {
        type: 'decision.made',
        caseId,
        subjectType: c.subject_type,
        subjectId: c.subject_id,
        accountId: c.account_id,
        payload: {
          decisionId,
          actions: input.actions,
          category: input.category,
          ground: input.ground,
          automation,
          policyVersion: ctx.policy.version,
        },
      },
      now,
    );
    await appendAudit(
      tx,
      actor,
      {
        action: 'case.decide',
        subjectType: 'case',
        subjectId: caseId,
        details: {
          decisionId,
          actions: input.actions.map((a) => a.type),
          category: input.category,
          ground: input.ground,
        },
      },
      now,
    );
    const row = await tx.selectFrom('decisions').selectAll().where('id', '=', decisionId).executeTakeFirstOrThrow();
    return toDecisionView(row);
  });
}

const ENFORCEMENT_EVENTS: Partial<
  Record<
    ActionType,
    'content.removed' | 'content.restricted' | 'account.suspended' | 'account.banned' | 'account.warned'
  >
> = {
  remove_content: 'content.removed',
  restrict_content: 'content.restricted',
  suspend_account: 'account.suspended',
  ban_account: 'account.banned',
  warn: 'account.warned',
};

async function announceEnforcement(
  tx: Tx,
  subjectType: 'content' | 'account',
  subjectId: string,
  accountId: string,
  decisionId: string,
  input: DecisionInput,
  statement: DsaStatement | null,
  now: number,
): Promise<void> {
  for (const action of input.actions) {
    const type = ENFORCEMENT_EVENTS[action.type];
    if (!type) continue;
    await enqueueWebhook(
      tx,
      type,
      {
        decisionId,
        accountId,
        ...(subjectType === 'content' ? { contentId: subjectId } : {}),
        ...(action.until ? { until: action.until } : {}),
        category: input.category,
        ground: input.ground,
        // The statement of reasons goes to the affected account through the platform.
        statement,
      },
      now,
    );
  }
}

/** At the policy's strike thresholds, a suspension or ban is proposed to a moderator as a case on the account. */
async function proposeOnStrikes(
  ctx: Context,
  tx: Tx,
  actor: Actor,
  accountId: string,
  fromCaseId: string,
  input: DecisionInput,
  now: number,
): Promise<void> {
  const thresholds = ctx.policy.document.moderation.strikes;
  const types = new Set(input.actions.map((a) => a.type));
  if (types.has('ban_account')) return;
  const strikes = await countActiveStrikes(tx, accountId, now);
  const proposal =
    strikes >= thresholds.proposeBanAt
      ? 'ban_account'
      : strikes >= thresholds.proposeSuspensionAt && !types.has('suspend_account')
        ? 'suspend_account'
        : null;
  if (!proposal) return;
  const category = { code: input.category as CategoryCode, definition: ctx.policy.category(input.category)! };
  const payload = { strikes, proposal, fromCase: fromCaseId };
  let open = await findOpenCase(tx, 'account', accountId);
  if (!open) {
    const subject = { type: 'account' as const, id: accountId, accountId, isPublic: false, language: null };
    const nc = { subject, category, reportCount: 0, reporterWeight: 0, trustedCount: 0, proposedAction: proposal };
    const caseId = await insertOpenCase(tx, actor, nc, 'strikes', payload, now);
    if (caseId) {
      const event = { caseId, subjectType: 'account', subjectId: accountId, accountId, payload };
      await recordEvent(tx, actor, { type: 'strikes.threshold', ...event }, now);
      return;
    }
    // A report opened the account's case meanwhile: add the proposal to it.
    open = await findOpenCase(tx, 'account', accountId);
    if (!open) return;
  }
  const severity = Math.max(open.severity, category.definition.severity);
  const inputs = {
    severity,
    reporterWeight: Number(open.reporter_weight),
    trustedCount: open.trusted_count,
    isPublic: false,
    proposed: true,
  };
  await tx
    .updateTable('cases')
    .set({ proposed_action: proposal, severity, rank: rank(inputs, Number(open.created_at)), updated_at: now })
    .where('id', '=', open.id)
    .execute();
  const event = { caseId: open.id, subjectType: 'account', subjectId: accountId, accountId, payload };
  await recordEvent(tx, actor, { type: 'strikes.threshold', ...event }, now);
}

export interface BulkResult {
  caseId: string;
  status: number;
  decisionId?: string;
  error?: { code: string; message: string };
}

/** Decides many cases alike; each case is its own transaction, so one conflict does not undo the others. */
export async function decideCases(
  ctx: Context,
  actor: Actor,
  caseIds: string[],
  input: DecisionInput,
): Promise<BulkResult[]> {
  const results: BulkResult[] = [];
  for (const caseId of caseIds) {
    try {
      const decision = await decideCase(ctx, actor, caseId, input);
      results.push({ caseId, status: 201, decisionId: decision.id });
    } catch (error) {
      if (!(error instanceof AppError) || error.status >= 500) throw error;
      results.push({ caseId, status: error.status, error: { code: error.code, message: error.message } });
    }
  }
  return results;
}

export async function getDecision(ctx: Context, id: string): Promise<DecisionView> {
  const row = await ctx.store.db.selectFrom('decisions').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError('Decision');
  return toDecisionView(row);
}

/** The DSA statement of reasons of a decision; a dismissal restricts nothing and has none. */
export async function getStatement(
  ctx: Context,
  id: string,
): Promise<{ decisionId: string; policyVersion: string; statement: DsaStatement }> {
  const row = await ctx.store.db
    .selectFrom('decisions')
    .select(['id', 'statement', 'policy_version'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError('Decision');
  if (!row.statement)
    throw new AppError('not_found', 'A dismissal restricts nothing and has no statement of reasons.', {
      reason: 'no_statement',
    });
  return {
    decisionId: row.id,
    policyVersion: row.policy_version,
    statement: JSON.parse(row.statement) as DsaStatement,
  };
}

export function toDecisionView(row: Selectable<DecisionTable>): DecisionView {
  return {
    id: row.id,
    caseId: row.case_id,
    subject: { type: row.subject_type, id: row.subject_id },
    accountId: row.account_id,
    actions: JSON.parse(row.actions) as DecisionView['actions'],
    category: row.category,
    ground: row.ground,
    explanation: row.explanation,
    decidedBy: row.decided_by,
    automation: row.automation,
    policyVersion: row.policy_version,
    status: row.status,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    reversedAt: row.reversed_at === null ? null : new Date(Number(row.reversed_at)).toISOString(),
  };
}
