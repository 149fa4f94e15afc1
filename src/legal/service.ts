import crypto from 'node:crypto';
import type { Actor } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import type { Context } from '../context.js';
import type { Db, Tx } from '../db/database.js';
import { needsRowLocks } from '../db/locking.js';
import { AppError, type FieldProblem, NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { normalisePhone } from '../accounts/phone.js';
import { type AuthorityRecord, type OrderTarget, type TargetKind, evaluateOrder } from './checks.js';
import { DISCLOSABLE_DATA, type DisclosurePolicy, type OrderType } from './disclosure-policy.js';
import { preserveOrder } from './disclosure.js';
import { recordEvent } from './events.js';

/** The body of `POST /v1/legal-requests` (SPEC.md), after schema validation. */
export interface LegalOrderInput {
  type: OrderType;
  caseReference: string;
  issuingAuthority: { name: string; country: string };
  legalBasis: string;
  courtOrder: { reference: string; issuedBy: string; issuedAt: string; documentBase64?: string };
  offence: { category: string; description: string; provisions: string };
  targets: Array<{ accountId?: string; username?: string; phone?: string }>;
  data: string[];
  period: { from: string; to: string };
  nonDisclosureUntil?: string;
  emergencyJustification?: string;
  /** A preserved order of the same authority whose held data this production order consumes. */
  preservationRequestId?: string;
}

export const LEGAL_STATUSES = [
  'received',
  'in_review',
  'approved',
  'disclosed',
  'preserved',
  'rejected',
  'withdrawn',
] as const;
export type LegalStatus = (typeof LEGAL_STATUSES)[number];
/** Statuses the legal team still has to act on. */
export const OPEN_STATUSES: readonly LegalStatus[] = ['received', 'in_review', 'approved'];

/** Court orders are PDFs of at most 10 MB. */
export const MAX_DOCUMENT_BYTES = 10 * 1024 * 1024;
const TARGET_FIELD = 'legal_targets.given';
export const DOCUMENT_FIELD = 'legal_documents.content';

/**
 * Receives a legal order from an authority token: validates every field (each problem
 * a 422 detail with its path, nothing stored), stores the order, its document
 * (encrypted) and its targets, runs the disclosure policy's automatic checks and
 * records them with the policy version, and answers with the order as the authority
 * sees it. A hard check failing rejects the order at once with its reasons; a target
 * failing is dropped with its reason and the order goes on for the others.
 */
export async function submitLegalRequest(
  ctx: Context,
  actor: Actor,
  input: LegalOrderInput,
  now = Date.now(),
): Promise<string> {
  const policy = ctx.disclosure;
  const authorityId = actor.authorityId;
  if (!authorityId) throw new AppError('forbidden', 'Only a token bound to an authority can file an order.');
  const { targets, document, periodFrom, periodTo, nonDisclosureUntil } = validateOrder(input, policy);
  const id = newId('lr');
  await ctx.store.db.transaction().execute(async (tx) => {
    const authority = await tx
      .selectFrom('authorities')
      .select(['id', 'name', 'country', 'kind', 'status'])
      .where('id', '=', authorityId)
      .executeTakeFirst();
    if (!authority) throw new AppError('forbidden', 'The token names no registered authority.');
    const preservedSince = await preservationToConsume(tx, authority.id, input, now);
    const evaluation = await evaluateOrder(
      tx,
      ctx.cipher,
      policy,
      ctx.config.sessionRetentionDays,
      authority as AuthorityRecord,
      {
        type: input.type,
        issuingCountry: input.issuingAuthority.country,
        offenceCategory: input.offence.category,
        targets,
        data: input.data,
        periodFrom,
        periodTo,
        preservedSince,
      },
      now,
    );
    // A preservation that passes the checks is preserved at once (see preserveOrder); others go to review.
    const status: LegalStatus = evaluation.rejected ? 'rejected' : 'in_review';
    const { documentBase64: _doc, ...courtOrder } = input.courtOrder;
    await tx
      .insertInto('legal_requests')
      .values({
        id,
        authority_id: authority.id,
        type: input.type,
        status,
        case_reference: input.caseReference,
        legal_basis: input.legalBasis,
        issuing_authority: JSON.stringify(input.issuingAuthority),
        court_order: JSON.stringify(courtOrder),
        document_sha256: document ? crypto.createHash('sha256').update(document).digest('hex') : null,
        document_size: document ? document.length : null,
        offence_category: input.offence.category,
        offence: JSON.stringify({ description: input.offence.description, provisions: input.offence.provisions }),
        data_categories: JSON.stringify(input.data),
        period_from: periodFrom,
        period_to: periodTo,
        requested: JSON.stringify({ data: input.data, period: input.period, targets: targets.length }),
        non_disclosure_until: nonDisclosureUntil,
        emergency_justification: input.emergencyJustification ?? null,
        preservation_request_id: input.preservationRequestId ?? null,
        extra_review: evaluation.extraReview ? 1 : 0,
        policy_version: policy.version,
        round: 1,
        received_at: now,
        due_at: now + policy.deadlines[input.type].hoursMs,
        decided_at: evaluation.rejected ? now : null,
        disclosed_at: null,
        second_approval_owed: 0,
        preserved_until: null,
        preservation_extended: 0,
        consumed_by: null,
        deadline_warned_at: null,
        overdue_warned_at: null,
        updated_at: now,
      })
      .execute();
    if (document) {
      await tx
        .insertInto('legal_documents')
        .values({ request_id: id, content_enc: ctx.cipher.encryptBytes(DOCUMENT_FIELD, id, document), created_at: now })
        .execute();
    }
    const targetIds: string[] = [];
    for (let i = 0; i < targets.length; i++) {
      const t = targets[i]!;
      const outcome = evaluation.targets[i]!;
      const targetId = newId('lrt');
      targetIds.push(targetId);
      await tx
        .insertInto('legal_targets')
        .values({
          id: targetId,
          request_id: id,
          position: i,
          kind: t.kind,
          given_enc: ctx.cipher.encrypt(TARGET_FIELD, targetId, t.value),
          account_id: outcome.accountId,
          status: outcome.status,
          reasons: JSON.stringify(outcome.reasons),
          notice_due_at: null,
          notified_at: null,
        })
        .execute();
    }
    for (const check of evaluation.checks) {
      await tx
        .insertInto('legal_checks')
        .values({
          id: newId('lrc'),
          request_id: id,
          target_id: check.target === null ? null : targetIds[check.target]!,
          name: check.name,
          result: check.result,
          code: check.code,
          detail: check.detail,
          policy_version: policy.version,
          at: now,
        })
        .execute();
    }
    await recordEvent(tx, actor, id, 'received', 'received', { type: input.type, targets: targets.length }, now);
    await recordEvent(
      tx,
      { id: 'system:disclosure-policy', role: 'system' },
      id,
      evaluation.rejected ? 'checks.rejected' : 'checks.passed',
      status,
      { reasons: evaluation.reasons, extraReview: evaluation.extraReview, policyVersion: policy.version },
      now,
    );
    await appendAudit(
      tx,
      actor,
      {
        action: 'legal_request.receive',
        subjectType: 'legal_request',
        subjectId: id,
        details: {
          type: input.type,
          authorityId: authority.id,
          offence: input.offence.category,
          targets: targets.length,
          included: evaluation.targets.filter((t) => t.status === 'included').length,
          status,
          reasons: evaluation.reasons,
          policyVersion: policy.version,
          documentSha256: document ? crypto.createHash('sha256').update(document).digest('hex') : null,
        },
      },
      now,
    );
    if (input.type === 'preservation' && !evaluation.rejected) await preserveOrder(ctx, tx, id, now);
  });
  return id;
}

/**
 * Field-level checks beyond the schema, all reported together: known data categories
 * (only the two disclosable ones), a known offence code, target identifiers, RFC 3339
 * dates in order, the emergency justification, the target bound and the document.
 */
function validateOrder(input: LegalOrderInput, policy: DisclosurePolicy) {
  const problems: FieldProblem[] = [];
  const problem = (path: string, code: string, message: string) => problems.push({ path, code, message });
  input.data.forEach((d, i) => {
    if (!(DISCLOSABLE_DATA as readonly string[]).includes(d)) {
      problem(
        `/data/${i}`,
        'data_category_not_allowed',
        `"${d}" cannot be disclosed: only ${DISCLOSABLE_DATA.join(' and ')}`,
      );
    }
  });
  if (new Set(input.data).size !== input.data.length) problem('/data', 'duplicate', 'lists a data category twice');
  if (!policy.isOffenceCode(input.offence.category)) {
    problem('/offence/category', 'unknown_category', `"${input.offence.category}" is not an offence category code`);
  }
  if (input.targets.length > policy.maxTargets) {
    problem('/targets', 'too_many_targets', `an order names at most ${policy.maxTargets} targets`);
  }
  const targets: OrderTarget[] = [];
  // Past the bound the order is refused anyway: look at no more targets than the policy allows.
  input.targets.slice(0, policy.maxTargets).forEach((t, i) => {
    const keys = Object.keys(t) as TargetKind[];
    if (keys.length !== 1) {
      problem(`/targets/${i}`, 'invalid_target', 'name exactly one of accountId, username or phone');
      return;
    }
    const kind = keys[0]!;
    const value = String(t[kind]);
    if (kind === 'phone') {
      const phone = normalisePhone(value);
      if (!phone) problem(`/targets/${i}/phone`, 'invalid_phone', 'not a valid international phone number');
      targets.push({ kind, value: phone?.e164 ?? value });
    } else {
      targets.push({ kind, value });
    }
  });
  if (problems.length === 0 && input.targets.length <= 1000) {
    const seen = new Set(targets.map((t) => `${t.kind}:${t.value}`));
    if (seen.size !== targets.length) problem('/targets', 'duplicate', 'names the same target twice');
  }
  const time = (path: string, value: string | undefined) => {
    if (value === undefined) return null;
    const t = Date.parse(value);
    if (!Number.isFinite(t)) problem(path, 'invalid_format', 'is not an RFC 3339 date-time');
    return t;
  };
  const periodFrom = time('/period/from', input.period.from) ?? 0;
  const periodTo = time('/period/to', input.period.to) ?? 0;
  time('/courtOrder/issuedAt', input.courtOrder.issuedAt);
  const nonDisclosureUntil = time('/nonDisclosureUntil', input.nonDisclosureUntil);
  if (Number.isFinite(periodFrom) && Number.isFinite(periodTo) && periodTo <= periodFrom) {
    problem('/period/to', 'invalid_period', 'must be after period.from');
  }
  if (input.type === 'emergency' && !input.emergencyJustification?.trim()) {
    problem('/emergencyJustification', 'missing_field', 'an emergency order must say why life is at imminent risk');
  }
  if (input.type !== 'emergency' && input.emergencyJustification !== undefined) {
    problem('/emergencyJustification', 'not_allowed', 'only emergency orders carry an emergency justification');
  }
  if (input.preservationRequestId !== undefined && input.type === 'preservation') {
    problem('/preservationRequestId', 'not_allowed', 'a preservation order cannot consume another');
  }
  let document: Buffer | null = null;
  const encoded = input.courtOrder.documentBase64;
  if (encoded !== undefined) {
    if (encoded.length > Math.ceil(MAX_DOCUMENT_BYTES / 3) * 4 + 4) {
      throw new AppError('payload_too_large', 'The court-order document is larger than 10 MB.', [
        { path: '/courtOrder/documentBase64', code: 'too_large', message: 'at most 10 MB' },
      ]);
    }
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded)) {
      problem('/courtOrder/documentBase64', 'invalid_format', 'is not base64');
    } else {
      document = Buffer.from(encoded, 'base64');
      if (document.length > MAX_DOCUMENT_BYTES) {
        throw new AppError('payload_too_large', 'The court-order document is larger than 10 MB.', [
          { path: '/courtOrder/documentBase64', code: 'too_large', message: 'at most 10 MB' },
        ]);
      }
      if (document.subarray(0, 5).toString('latin1') !== '%PDF-') {
        problem('/courtOrder/documentBase64', 'not_a_pdf', 'the court-order document must be a PDF');
      }
    }
  }
  if (problems.length > 0) throw new ValidationError(problems, 'The legal order is incomplete or invalid.');
  return { targets, document, periodFrom, periodTo, nonDisclosureUntil };
}

/**
 * A production order may consume the authority's own preservation: the data held
 * since that preservation counts as inside the retention window. Answers when it
 * began holding, or null; an unknown or unusable preservation is a 422.
 */
async function preservationToConsume(tx: Tx, authorityId: string, input: LegalOrderInput, now: number) {
  if (input.preservationRequestId === undefined) return null;
  const row = await tx
    .selectFrom('legal_requests')
    .select(['status', 'decided_at', 'preserved_until', 'consumed_by'])
    .where('id', '=', input.preservationRequestId)
    .where('authority_id', '=', authorityId)
    .where('type', '=', 'preservation')
    .executeTakeFirst();
  const bad = (message: string) =>
    new ValidationError([{ path: '/preservationRequestId', code: 'invalid_preservation', message }]);
  if (!row) throw bad('no preservation order of this authority has this id');
  if (row.status !== 'preserved' || row.consumed_by !== null) throw bad('that order is not an active preservation');
  if (row.preserved_until !== null && Number(row.preserved_until) <= now) throw bad('that preservation has expired');
  return Number(row.decided_at);
}

/** Loads an order for a change, locking its row in PostgreSQL (SQLite transactions are serial). */
export async function lockRequest(tx: Tx, id: string) {
  let q = tx.selectFrom('legal_requests').selectAll().where('id', '=', id);
  if (needsRowLocks(tx)) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  if (!row) throw new NotFoundError('Legal request');
  return row;
}

/** The order as an authority may see it: only its own; any other id is 404, so ids do not leak. */
export async function requireOwnRequest(db: Db | Tx, actor: Actor, id: string) {
  const row = await db.selectFrom('legal_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row || (actor.role === 'authority' && row.authority_id !== actor.authorityId)) {
    throw new NotFoundError('Legal request');
  }
  return row;
}

export { TARGET_FIELD };
