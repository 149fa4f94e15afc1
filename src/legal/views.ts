import type { Selectable } from 'kysely';
import type { Actor } from '../audit/actor.js';
import type { Context } from '../context.js';
import type { Db } from '../db/database.js';
import type { LegalRequestTable } from '../db/schema.js';
import { type LegalStatus, OPEN_STATUSES, TARGET_FIELD, requireOwnRequest } from './service.js';

const iso = (t: number | string | null) => (t === null ? null : new Date(Number(t)).toISOString());

export interface CheckView {
  name: string;
  result: string;
  code: string | null;
  /** Position of the target the check is about, or null for the order. */
  target: number | null;
  detail?: string;
  policyVersion?: string;
  at?: string;
}

/** What every viewer sees of an order: its state, deadline and scope. */
function baseView(row: Selectable<LegalRequestTable>) {
  return {
    id: row.id,
    type: row.type,
    status: row.status as LegalStatus,
    caseReference: row.case_reference,
    data: JSON.parse(row.data_categories) as string[],
    period: { from: iso(row.period_from)!, to: iso(row.period_to)! },
    receivedAt: iso(row.received_at)!,
    dueAt: iso(row.due_at)!,
    decidedAt: iso(row.decided_at),
    disclosedAt: iso(row.disclosed_at),
    preservedUntil: iso(row.preserved_until),
    preservationExtended: row.preservation_extended === 1,
    preservationRequestId: row.preservation_request_id,
    consumedBy: row.consumed_by,
    nonDisclosureUntil: iso(row.non_disclosure_until),
    packageAvailable: row.status === 'disclosed',
  };
}

async function checksOf(db: Db, id: string, positions: Map<string, number>, full: boolean): Promise<CheckView[]> {
  const rows = await db.selectFrom('legal_checks').selectAll().where('request_id', '=', id).orderBy('id').execute();
  // Insertion order is the order the checks ran; ids are random, so sort on what was stored.
  return rows
    .map((r) => ({
      name: r.name,
      result: r.result,
      code: r.code,
      target: r.target_id === null ? null : (positions.get(r.target_id) ?? null),
      ...(full ? { detail: r.detail, policyVersion: r.policy_version, at: iso(r.at)! } : {}),
      _order: CHECK_ORDER.indexOf(r.name),
    }))
    .sort((a, b) => (a.target ?? -1) - (b.target ?? -1) || a._order - b._order)
    .map(({ _order, ...view }) => view);
}

const CHECK_ORDER = [
  'required_fields',
  'authority_verified',
  'authority_country',
  'country_policy',
  'offence_not_refused',
  'offence_in_scope',
  'period_retention',
  'period_length',
  'data_categories',
  'target_exists',
  'target_violation',
  'target_jurisdiction',
];

/**
 * The order for the authority that filed it: status, deadline, check results as
 * codes, which of its targets go on. No review notes, no reviewers, no check details.
 */
export async function authorityView(ctx: Context, actor: Actor, id: string) {
  const db = ctx.store.db;
  const row = await requireOwnRequest(db, actor, id);
  const targets = await db
    .selectFrom('legal_targets')
    .select(['id', 'position', 'kind', 'status', 'reasons'])
    .where('request_id', '=', id)
    .orderBy('position')
    .execute();
  const positions = new Map(targets.map((t) => [t.id, t.position]));
  const [events, rejection] = await Promise.all([
    db.selectFrom('legal_events').select(['at', 'type', 'status']).where('request_id', '=', id).orderBy('id').execute(),
    db
      .selectFrom('legal_reviews')
      .select(['reasons'])
      .where('request_id', '=', id)
      .where('decision', '=', 'reject')
      .orderBy('at', 'desc')
      .limit(1)
      .executeTakeFirst(),
  ]);
  const checks = await checksOf(db, id, positions, false);
  return {
    ...baseView(row),
    // Why it was rejected: the reviewer's reasons, or the codes of the checks that failed.
    reasons:
      row.status !== 'rejected'
        ? []
        : rejection
          ? (JSON.parse(rejection.reasons) as string[])
          : [...new Set(checks.filter((c) => c.result === 'fail' && c.code).map((c) => c.code as string))],
    // The steps and when, without who took them or their notes.
    history: events.map((e) => ({ at: iso(e.at)!, type: e.type, status: e.status })),
    checks,
    targets: targets.map((t) => ({
      position: t.position,
      kind: t.kind,
      status: t.status,
      reasons: JSON.parse(t.reasons) as string[],
    })),
  };
}

/** The order for the legal team: everything, including check details, reviews and internal notes. */
export async function legalView(ctx: Context, id: string) {
  const db = ctx.store.db;
  const row = await requireOwnRequest(db, { id: 'legal', role: 'legal' }, id);
  const [authority, targets, reviews, events, pkg] = await Promise.all([
    db
      .selectFrom('authorities')
      .select(['id', 'name', 'country', 'kind', 'status'])
      .where('id', '=', row.authority_id)
      .executeTakeFirstOrThrow(),
    db.selectFrom('legal_targets').selectAll().where('request_id', '=', id).orderBy('position').execute(),
    db.selectFrom('legal_reviews').selectAll().where('request_id', '=', id).orderBy('at').orderBy('id').execute(),
    db.selectFrom('legal_events').selectAll().where('request_id', '=', id).orderBy('id').execute(),
    db
      .selectFrom('disclosure_packages')
      .select(['sha256', 'kid', 'targets', 'records', 'produced_at', 'downloaded_at', 'policy_version'])
      .where('request_id', '=', id)
      .executeTakeFirst(),
  ]);
  const positions = new Map(targets.map((t) => [t.id, t.position]));
  const court = JSON.parse(row.court_order) as Record<string, string>;
  const offence = JSON.parse(row.offence) as { description: string; provisions: string };
  return {
    ...baseView(row),
    authority,
    issuingAuthority: JSON.parse(row.issuing_authority) as { name: string; country: string },
    legalBasis: row.legal_basis,
    courtOrder: { ...court, documentSha256: row.document_sha256, documentSize: row.document_size },
    offence: { category: row.offence_category, ...offence },
    emergencyJustification: row.emergency_justification,
    extraReview: row.extra_review === 1,
    secondApprovalOwed: row.second_approval_owed === 1,
    policyVersion: row.policy_version,
    round: row.round,
    requested: JSON.parse(row.requested) as Record<string, unknown>,
    targets: targets.map((t) => ({
      id: t.id,
      position: t.position,
      kind: t.kind,
      // A phone number given as the target stays sealed: the account it resolved to is what matters.
      identifier: t.kind === 'phone' ? null : ctx.cipher.decrypt(TARGET_FIELD, t.id, t.given_enc),
      accountId: t.account_id,
      status: t.status,
      reasons: JSON.parse(t.reasons) as string[],
      noticeDueAt: iso(t.notice_due_at),
      notifiedAt: iso(t.notified_at),
    })),
    checks: await checksOf(db, id, positions, true),
    reviews: reviews.map((r) => ({
      id: r.id,
      round: r.round,
      reviewerId: r.reviewer_id,
      reviewerRole: r.reviewer_role,
      decision: r.decision,
      reasons: JSON.parse(r.reasons) as string[],
      note: r.note,
      narrowed: r.narrowed === null ? null : (JSON.parse(r.narrowed) as Record<string, unknown>),
      policyVersion: r.policy_version,
      at: iso(r.at)!,
    })),
    history: events.map((e) => ({
      at: iso(e.at)!,
      type: e.type,
      status: e.status,
      actorId: e.actor_id,
      actorRole: e.actor_role,
      details: JSON.parse(e.details) as Record<string, unknown>,
    })),
    package: pkg
      ? {
          sha256: pkg.sha256,
          kid: pkg.kid,
          targets: pkg.targets,
          records: pkg.records,
          policyVersion: pkg.policy_version,
          producedAt: iso(pkg.produced_at)!,
          downloadedAt: iso(pkg.downloaded_at),
        }
      : null,
  };
}

export interface LegalQueueQuery {
  status?: LegalStatus | 'open';
  limit: number;
}

/** The legal queue: open orders (or one status), nearest deadline first. */
export async function listLegalQueue(ctx: Context, query: LegalQueueQuery) {
  const db = ctx.store.db;
  const statuses = !query.status || query.status === 'open' ? OPEN_STATUSES : [query.status];
  const rows = await db
    .selectFrom('legal_requests')
    .innerJoin('authorities', 'authorities.id', 'legal_requests.authority_id')
    .selectAll('legal_requests')
    .select(['authorities.name as authority_name', 'authorities.country as authority_country'])
    .where('legal_requests.status', 'in', [...statuses])
    .orderBy('legal_requests.due_at')
    .orderBy('legal_requests.id')
    .limit(query.limit)
    .execute();
  const now = Date.now();
  return rows.map((row) => ({
    ...baseView(row),
    authority: { id: row.authority_id, name: row.authority_name, country: row.authority_country },
    offence: row.offence_category,
    extraReview: row.extra_review === 1,
    secondApprovalOwed: row.second_approval_owed === 1,
    round: row.round,
    overdue: OPEN_STATUSES.includes(row.status as LegalStatus) && Number(row.due_at) < now,
  }));
}

/** An authority's own orders (all, open ones, or one status), newest first. */
export async function listOwnRequests(ctx: Context, actor: Actor, query: LegalQueueQuery) {
  let q = ctx.store.db
    .selectFrom('legal_requests')
    .selectAll()
    .where('authority_id', '=', actor.authorityId ?? '');
  if (query.status) q = q.where('status', 'in', query.status === 'open' ? [...OPEN_STATUSES] : [query.status]);
  const rows = await q.orderBy('received_at', 'desc').orderBy('id').limit(query.limit).execute();
  return rows.map(baseView);
}
