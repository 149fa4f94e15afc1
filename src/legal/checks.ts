import { PHONE_FIELD } from '../accounts/service.js';
import { normalisePhone } from '../accounts/phone.js';
import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Tx } from '../db/database.js';
import type { DisclosurePolicy, OrderType } from './disclosure-policy.js';

/** The reason codes of SPEC.md: stable, shown to the legal team and, as codes, to the authority. */
export const REASON_CODES = [
  'missing_field',
  'authority_not_verified',
  'authority_country_mismatch',
  'country_refused',
  'country_extra_review',
  'offence_out_of_scope',
  'refused_offence_category',
  'target_not_found',
  'no_confirmed_violation',
  'target_outside_jurisdiction',
  'period_outside_retention',
  'period_too_long',
  'data_category_not_allowed',
] as const;
export type ReasonCode = (typeof REASON_CODES)[number];

/** `fail` on an order-level check rejects the order; on a target check it drops the target. `review` flags it. */
export type CheckResult = 'pass' | 'fail' | 'review';

export interface CheckOutcome {
  name: string;
  result: CheckResult;
  code: ReasonCode | null;
  /** For the legal team only; the authority sees name, result and code. */
  detail: string;
  /** Position of the target in the order, for target checks. */
  target: number | null;
}

export type TargetKind = 'accountId' | 'username' | 'phone';

export interface OrderTarget {
  kind: TargetKind;
  /** As the authority gave it (a phone number is normalised to E.164 when it parses). */
  value: string;
}

export interface AuthorityRecord {
  id: string;
  name: string;
  country: string;
  kind: string;
  status: string;
}

/** What the checks need of an order, already well-formed (field-level validation is done). */
export interface OrderFacts {
  type: OrderType;
  issuingCountry: string;
  offenceCategory: string;
  targets: OrderTarget[];
  data: string[];
  periodFrom: number;
  periodTo: number;
  /** When the order consumes a preservation, the time that preservation began holding data. */
  preservedSince: number | null;
}

export interface TargetOutcome {
  accountId: string | null;
  /** `included` goes on to review; `dropped` failed a target check. */
  status: 'included' | 'dropped';
  reasons: ReasonCode[];
  /** Kept but flagged for the reviewers (target outside jurisdiction under `extra_review`). */
  flagged: boolean;
}

export interface Evaluation {
  checks: CheckOutcome[];
  targets: TargetOutcome[];
  /** The order is rejected at once: a hard check failed, or every target was dropped. */
  rejected: boolean;
  reasons: ReasonCode[];
  /** Needs the extra human-rights review (a senior approver). */
  extraReview: boolean;
}

const DAY = 86_400_000;

/**
 * Runs the automatic checks of the disclosure policy on one order, in the order of
 * SPEC.md. Order-level checks decide whether the order goes on at all; target checks
 * decide, per target, whether it stays: the order goes on for the targets that pass.
 * Reads only the store (accounts and the violations record); writes nothing.
 */
export async function evaluateOrder(
  tx: Tx,
  cipher: PersonalDataCipher,
  policy: DisclosurePolicy,
  retentionDays: number,
  authority: AuthorityRecord,
  order: OrderFacts,
  now: number,
): Promise<Evaluation> {
  const checks: CheckOutcome[] = [];
  const add = (
    name: string,
    result: CheckResult,
    code: ReasonCode | null,
    detail: string,
    target: number | null = null,
  ) => checks.push({ name, result, code, detail, target });

  // Field presence and shape were checked before (422 otherwise): record it as passed.
  add('required_fields', 'pass', null, 'every mandatory field is present and well-formed');

  if (authority.status !== 'active') {
    add('authority_verified', 'fail', 'authority_not_verified', `authority ${authority.id} is ${authority.status}`);
  } else if (!policy.authorityKinds.includes(authority.kind)) {
    add(
      'authority_verified',
      'fail',
      'authority_not_verified',
      `the policy accepts orders from ${policy.authorityKinds.join(', ')}, not from a ${authority.kind}`,
    );
  } else {
    add(
      'authority_verified',
      'pass',
      null,
      `${authority.name} (${authority.kind}, ${authority.country}), token bound to it`,
    );
  }

  if (order.issuingCountry !== authority.country) {
    add(
      'authority_country',
      'fail',
      'authority_country_mismatch',
      `the order says ${order.issuingCountry}; the authority is registered in ${authority.country}`,
    );
  } else {
    add('authority_country', 'pass', null, `issued in ${authority.country}, where the authority is registered`);
  }

  let extraReview = false;
  if (policy.refusedCountries.has(authority.country)) {
    add('country_policy', 'fail', 'country_refused', `the policy refuses orders from ${authority.country}`);
  } else if (policy.extraReviewCountries.has(authority.country)) {
    extraReview = true;
    add(
      'country_policy',
      'review',
      'country_extra_review',
      `orders from ${authority.country} need the extra human-rights review (a senior legal approver)`,
    );
  } else {
    add('country_policy', 'pass', null, `orders from ${authority.country} are accepted`);
  }

  const offence = order.offenceCategory;
  if (policy.refusedOffences.has(offence)) {
    add('offence_not_refused', 'fail', 'refused_offence_category', `the policy never discloses for ${offence}`);
  } else {
    add('offence_not_refused', 'pass', null, `${offence} is not a refused offence category`);
  }
  const related = policy.inScope.get(offence);
  if (!related) {
    add(
      'offence_in_scope',
      'fail',
      'offence_out_of_scope',
      `policy "${policy.name}" discloses only for ${[...policy.inScope.keys()].join(', ')}`,
    );
  } else {
    add('offence_in_scope', 'pass', null, `${offence} is in scope; related violations: ${related.join(', ')}`);
  }

  const reachesBackTo = (order.preservedSince ?? now) - retentionDays * DAY;
  if (order.periodFrom < reachesBackTo) {
    add(
      'period_retention',
      'fail',
      'period_outside_retention',
      `the period starts ${new Date(order.periodFrom).toISOString()}, before the retention window (${retentionDays} days${
        order.preservedSince ? ' before the preservation' : ''
      }) begins at ${new Date(reachesBackTo).toISOString()}`,
    );
  } else {
    add('period_retention', 'pass', null, `inside the ${retentionDays}-day retention window`);
  }
  const days = (order.periodTo - order.periodFrom) / DAY;
  if (days > policy.maxPeriodDays) {
    add(
      'period_length',
      'fail',
      'period_too_long',
      `${Math.ceil(days)} days requested; the policy allows at most ${policy.maxPeriodDays}`,
    );
  } else {
    add('period_length', 'pass', null, `${Math.ceil(days)} days, within the policy's ${policy.maxPeriodDays}`);
  }
  // Anything else was refused with 422 before the checks; recorded for the file.
  add('data_categories', 'pass', null, `${order.data.join(', ')} only`);

  const hardReasons = checks.filter((c) => c.result === 'fail').map((c) => c.code as ReasonCode);
  const targets: TargetOutcome[] = [];
  for (let i = 0; i < order.targets.length; i++) {
    targets.push(await checkTarget(tx, cipher, policy, authority, order.targets[i]!, related ?? [], i, add));
  }
  const included = targets.filter((t) => t.status === 'included');
  if (included.some((t) => t.flagged)) extraReview = true;
  const reasons = [...new Set(hardReasons)];
  if (hardReasons.length === 0 && included.length === 0) {
    for (const t of targets) for (const r of t.reasons) if (!reasons.includes(r)) reasons.push(r);
  }
  return { checks, targets, rejected: reasons.length > 0, reasons, extraReview };
}

async function checkTarget(
  tx: Tx,
  cipher: PersonalDataCipher,
  policy: DisclosurePolicy,
  authority: AuthorityRecord,
  target: OrderTarget,
  related: readonly string[],
  position: number,
  add: (name: string, result: CheckResult, code: ReasonCode | null, detail: string, target: number) => void,
): Promise<TargetOutcome> {
  const account = await resolveTarget(tx, cipher, target);
  if (!account) {
    add('target_exists', 'fail', 'target_not_found', `no account has this ${target.kind}`, position);
    return { accountId: null, status: 'dropped', reasons: ['target_not_found'], flagged: false };
  }
  add('target_exists', 'pass', null, `account ${account.id}`, position);
  const reasons: ReasonCode[] = [];
  let flagged = false;

  const violations =
    related.length === 0
      ? []
      : await tx
          .selectFrom('violations')
          .select(['id', 'category'])
          .where('account_id', '=', account.id)
          .where('status', '=', 'confirmed')
          .where('category', 'in', [...related])
          .execute();
  if (violations.length === 0) {
    add(
      'target_violation',
      'fail',
      'no_confirmed_violation',
      `account ${account.id} has no confirmed violation in ${related.join(', ') || 'a related category'}`,
      position,
    );
    reasons.push('no_confirmed_violation');
  } else {
    const categories = [...new Set(violations.map((v) => v.category))].join(', ');
    add('target_violation', 'pass', null, `${violations.length} confirmed violation(s): ${categories}`, position);
  }

  const inside = account.country === authority.country || account.phone_country === authority.country;
  if (inside) {
    add('target_jurisdiction', 'pass', null, `account or phone number in ${authority.country}`, position);
  } else {
    const where = `account country ${account.country ?? 'unknown'}, phone country ${account.phone_country ?? 'unknown'}`;
    if (policy.outsideJurisdiction === 'refuse') {
      add(
        'target_jurisdiction',
        'fail',
        'target_outside_jurisdiction',
        `${where}: outside ${authority.country}; use mutual legal assistance`,
        position,
      );
      reasons.push('target_outside_jurisdiction');
    } else {
      add(
        'target_jurisdiction',
        'review',
        'target_outside_jurisdiction',
        `${where}: outside ${authority.country}`,
        position,
      );
      flagged = true;
    }
  }
  return { accountId: account.id, status: reasons.length === 0 ? 'included' : 'dropped', reasons, flagged };
}

/** Finds the account a target names: by id, by username, or by phone number through the blind index. */
async function resolveTarget(tx: Tx, cipher: PersonalDataCipher, target: OrderTarget) {
  const base = tx.selectFrom('accounts').select(['id', 'country', 'phone_country']);
  if (target.kind === 'accountId') return base.where('id', '=', target.value).executeTakeFirst();
  if (target.kind === 'username') {
    return base.where('username', '=', target.value).orderBy('updated_at', 'desc').limit(1).executeTakeFirst();
  }
  const phone = normalisePhone(target.value);
  if (!phone) return undefined;
  // A recycled number can name several accounts over time: the one holding it most recently.
  return base
    .where('phone_bidx', '=', cipher.blindIndex(PHONE_FIELD, phone.e164))
    .orderBy('updated_at', 'desc')
    .limit(1)
    .executeTakeFirst();
}
