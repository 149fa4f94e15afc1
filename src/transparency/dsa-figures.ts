import { type SelectQueryBuilder, sql } from 'kysely';
import type { Context } from '../context.js';
import type { Db, Dialect } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { CATEGORY_CODES } from '../policy/policy.js';
import { type PublishedCount, sumOfPublished } from './requests.js';

/**
 * The yearly figures of a DSA transparency report (Art. 15 and 24): orders from
 * authorities, notices, own-initiative moderation, appeals and the accuracy of
 * the automated tools, for one calendar year in UTC. Everything is counted in the
 * store; medians too (see `mediansBy`). Nothing here names an account, a phone
 * number, an address, an order's case reference or an authority: only category
 * codes, country codes, counts, durations and shares leave this module.
 */

export type NoticeSource = 'users' | 'trusted_flaggers';

/**
 * Counts are published as in the request figures (requests.ts): exact from the
 * minimum published count N (CUSTOS_TRANSPARENCY_MIN_COUNT) up, and zero; from 1
 * to N − 1 the range "1–(N−1)".
 */
export interface DsaFigures {
  year: number;
  /** Start (inclusive) and end (exclusive) of the year, UTC. */
  from: string;
  to: string;
  /** False while the year is still running: the figures are those up to `generatedAt`. */
  complete: boolean;
  generatedAt: string;
  /** Counts from 1 to this minus 1 are shown as a range; 1 shows every count exactly. */
  minimumPublishedCount: number;
  /** The member states orders are broken down by: the policy's territorial scope (EU and EEA). */
  territorialScope: string[];
  /** Art. 9 orders to act against illegal content: Custos has no intake for them. */
  ordersToAct: { received: PublishedCount };
  /** Art. 10 orders to provide information: the legal orders (production, preservation, emergency). */
  ordersToProvideInformation: {
    received: PublishedCount;
    byMemberState: Array<{ memberState: string; received: PublishedCount }>;
    byCategory: Array<{ category: string; dsaCategory: string | null; received: PublishedCount }>;
    /** Only the pairs with at least one order. */
    byMemberStateAndCategory: Array<{
      memberState: string;
      category: string;
      dsaCategory: string | null;
      received: PublishedCount;
    }>;
    receivedFromOutsideScope: PublishedCount;
    /** Orders disclosed or preserved: the count behind the median time to give effect. */
    givenEffect: PublishedCount;
    medianTimeToAcknowledgeSeconds: number | null;
    medianTimeToGiveEffectSeconds: number | null;
  };
  notices: {
    received: PublishedCount;
    decided: PublishedCount;
    actionTaken: PublishedCount;
    actionTakenOnLegalGround: PublishedCount;
    actionTakenOnTermsGround: PublishedCount;
    noAction: PublishedCount;
    pending: PublishedCount;
    medianHandlingSeconds: number | null;
    bySource: Array<{
      source: NoticeSource;
      received: PublishedCount;
      decided: PublishedCount;
      actionTaken: PublishedCount;
      medianHandlingSeconds: number | null;
    }>;
    byCategory: Array<{
      category: string;
      dsaCategory: string | null;
      received: PublishedCount;
      fromTrustedFlaggers: PublishedCount;
      actionTaken: PublishedCount;
      noAction: PublishedCount;
      pending: PublishedCount;
    }>;
  };
  ownInitiativeActions: {
    total: PublishedCount;
    automated: PublishedCount;
    human: PublishedCount;
    byCategory: Array<{
      category: string;
      dsaCategory: string | null;
      total: PublishedCount;
      automated: PublishedCount;
      human: PublishedCount;
    }>;
  };
  appeals: {
    received: PublishedCount;
    decided: PublishedCount;
    upheld: PublishedCount;
    overturned: PublishedCount;
    pending: PublishedCount;
    medianTimeToDecisionSeconds: number | null;
    /** Overturned of the appeals decided. */
    shareOverturned: number | null;
    byCategory: Array<{
      category: string;
      dsaCategory: string | null;
      received: PublishedCount;
      upheld: PublishedCount;
      overturned: PublishedCount;
      pending: PublishedCount;
    }>;
  };
  /** Accuracy of the automated tools: removals decided by a scanner alone. */
  automatedRemovals: {
    total: PublishedCount;
    appealed: PublishedCount;
    overturned: PublishedCount;
    /** Overturned on appeal, of all automated removals. */
    shareOverturned: number | null;
    /** Overturned, of the automated removals appealed. */
    shareOfAppealedOverturned: number | null;
  };
  /** What a figure means where it is not obvious; `about` is the figure's path in this object. */
  notes: Array<{ about: string; text: string }>;
}

/** DSA reports begin with the DSA (Regulation (EU) 2022/2065); an earlier year is a mistake. */
export const FIRST_YEAR = 2022;

/**
 * Reads the `year` asked for: four digits, from FIRST_YEAR to the current UTC year
 * (the current year gives the figures so far). Anything else is a 422.
 */
export function parseYear(raw: string, now = Date.now()): number {
  const path = '/querystring/year';
  if (!/^[0-9]{4}$/.test(raw)) {
    throw new ValidationError([{ path, code: 'invalid_format', message: 'a year is four digits, e.g. 2025' }]);
  }
  const year = Number(raw);
  const current = new Date(now).getUTCFullYear();
  if (year > current) {
    throw new ValidationError([
      { path, code: 'in_the_future', message: `${year} has not begun; ${current} is running` },
    ]);
  }
  if (year < FIRST_YEAR) {
    throw new ValidationError([
      { path, code: 'out_of_range', message: `there are no DSA figures before ${FIRST_YEAR}` },
    ]);
  }
  return year;
}

export type FiguresContext = Pick<Context, 'store' | 'policy' | 'config'>;

/** Computes the figures of one calendar year (UTC) from the store. */
export async function computeDsaFigures(ctx: FiguresContext, year: number, now = Date.now()): Promise<DsaFigures> {
  const from = Date.UTC(year, 0, 1);
  const to = Date.UTC(year + 1, 0, 1);
  // A report over a year of rows: the read replica, when there is one.
  const db = ctx.store.reads;
  const dialect = ctx.store.dialect;
  const range: Range = { from, to };
  const scope = [...ctx.policy.document.moderation.territorialScope].sort();
  const [orders, notices, own, appeals, automated] = await Promise.all([
    orderFigures(db, dialect, range, scope),
    noticeFigures(db, dialect, range),
    ownInitiativeFigures(db, range),
    appealFigures(db, dialect, range),
    automatedRemovalFigures(db, range),
  ]);

  const min = ctx.config.transparencyMinCount;
  const band = (n: number): PublishedCount => (n === 0 || n >= min ? n : `1–${min - 1}`);
  /**
   * Every count is published as the sum of the published finest cells it is made of
   * (requests.ts's `sumOfPublished`: "1–9" + 12 = "13–21"), never exactly when one
   * of them is a range: every published figure is then a function of the published
   * cells alone, and no subtraction of one figure from another can recover a count
   * hidden in a range.
   */
  const pub = <T>(cells: T[], n: (c: T) => number): PublishedCount => sumOfPublished(cells.map((c) => band(n(c))));
  /** A share only where both counts are published exactly: otherwise it would give a hidden count away. */
  const exactShare = (part: PublishedCount, whole: PublishedCount, p: number, w: number) =>
    typeof part === 'number' && typeof whole === 'number' ? share(p, w) : null;
  const dsa = (code: string) => ctx.policy.category(code)?.dsa ?? null;
  const categories = (present: Iterable<string>) => categoryList(ctx, present);

  const inScope = new Set(scope);
  const scoped = orders.counts.filter((r) => inScope.has(r.country));
  const orderCells = (pick: (r: OrderCount) => boolean) => pub(scoped.filter(pick), (r) => r.n);
  const orderCategories = categories(scoped.map((r) => r.category));

  const noticeCells = fineNoticeCells(notices.counts);
  const notice = (pick: (c: NoticeCell) => boolean, statuses: NoticeStatus[]) =>
    pub(
      noticeCells.filter((c) => pick(c) && statuses.includes(c.status)),
      (c) => c.n,
    );
  const ALL_STATUSES: NoticeStatus[] = ['action_illegal', 'action_terms', 'no_action', 'pending'];
  const DECIDED: NoticeStatus[] = ['action_illegal', 'action_terms', 'no_action'];
  const ACTION: NoticeStatus[] = ['action_illegal', 'action_terms'];
  const any = () => true;

  const appeal = (statuses: string[], category?: string) =>
    pub(
      appeals.counts.filter((r) => statuses.includes(r.status) && (category === undefined || r.category === category)),
      (r) => r.n,
    );
  const appealsDecidedExact = appeals.counts
    .filter((r) => r.status === 'upheld' || r.status === 'overturned')
    .reduce((n, r) => n + r.n, 0);
  const appealsOverturnedExact = appeals.counts.filter((r) => r.status === 'overturned').reduce((n, r) => n + r.n, 0);

  // Own-initiative cells: category × automated (automation 'full') or human ('none' and 'partial' together).
  const ownCells = new Map<string, { category: string; automated: boolean; n: number }>();
  for (const r of own) {
    const automated = r.automation === 'full';
    const key = `${r.category}\u0000${automated}`;
    const cell = ownCells.get(key) ?? { category: r.category, automated, n: 0 };
    cell.n += r.n;
    ownCells.set(key, cell);
  }
  const ownBy = (automatedOnly: boolean | null, category?: string) =>
    pub(
      [...ownCells.values()].filter(
        (c) =>
          (category === undefined || c.category === category) &&
          (automatedOnly === null || c.automated === automatedOnly),
      ),
      (c) => c.n,
    );

  // Automated removals fall in three cells: not appealed, appealed and kept, overturned.
  const removalCells = [automated.total - automated.appealed, automated.appealed - automated.overturned];
  const removalsTotal = pub([...removalCells, automated.overturned], (n) => n);
  const removalsAppealed = pub([removalCells[1]!, automated.overturned], (n) => n);
  const removalsOverturned = band(automated.overturned);
  const appealsDecided = appeal(['upheld', 'overturned']);
  const appealsOverturned = appeal(['overturned']);

  const complete = now >= to;
  const figures: DsaFigures = {
    year,
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    complete,
    generatedAt: new Date(now).toISOString(),
    minimumPublishedCount: min,
    territorialScope: scope,
    ordersToAct: { received: 0 },
    ordersToProvideInformation: {
      received: orderCells(any),
      byMemberState: scope.map((memberState) => ({
        memberState,
        received: orderCells((r) => r.country === memberState),
      })),
      byCategory: orderCategories.map((category) => ({
        category,
        dsaCategory: dsa(category),
        received: orderCells((r) => r.category === category),
      })),
      byMemberStateAndCategory: scoped
        .filter((r) => r.n > 0)
        .sort(
          (x, y) =>
            x.country.localeCompare(y.country) ||
            orderCategories.indexOf(x.category) - orderCategories.indexOf(y.category),
        )
        .map((r) => ({
          memberState: r.country,
          category: r.category,
          dsaCategory: dsa(r.category),
          received: band(r.n),
        })),
      receivedFromOutsideScope: pub(
        orders.counts.filter((r) => !inScope.has(r.country)),
        (r) => r.n,
      ),
      givenEffect: band(orders.effect?.n ?? 0),
      medianTimeToAcknowledgeSeconds: seconds(orders.acknowledge?.median),
      medianTimeToGiveEffectSeconds: seconds(orders.effect?.median),
    },
    notices: {
      received: notice(any, ALL_STATUSES),
      decided: notice(any, DECIDED),
      actionTaken: notice(any, ACTION),
      actionTakenOnLegalGround: notice(any, ['action_illegal']),
      actionTakenOnTermsGround: notice(any, ['action_terms']),
      noAction: notice(any, ['no_action']),
      pending: notice(any, ['pending']),
      medianHandlingSeconds: seconds(notices.handling.get(ALL)?.median),
      bySource: (['users', 'trusted_flaggers'] as const).map((source) => {
        const of = (c: NoticeCell) => c.source === source;
        return {
          source,
          received: notice(of, ALL_STATUSES),
          decided: notice(of, DECIDED),
          actionTaken: notice(of, ACTION),
          medianHandlingSeconds: seconds(notices.handling.get(source)?.median),
        };
      }),
      byCategory: categories(notices.counts.map((r) => r.category)).map((category) => {
        const of = (c: NoticeCell) => c.category === category;
        return {
          category,
          dsaCategory: dsa(category),
          received: notice(of, ALL_STATUSES),
          fromTrustedFlaggers: notice((c) => of(c) && c.source === 'trusted_flaggers', ALL_STATUSES),
          actionTaken: notice(of, ACTION),
          noAction: notice(of, ['no_action']),
          pending: notice(of, ['pending']),
        };
      }),
    },
    ownInitiativeActions: {
      total: ownBy(null),
      automated: ownBy(true),
      human: ownBy(false),
      byCategory: categories(own.map((r) => r.category)).map((category) => ({
        category,
        dsaCategory: dsa(category),
        total: ownBy(null, category),
        automated: ownBy(true, category),
        human: ownBy(false, category),
      })),
    },
    appeals: {
      received: appeal(['upheld', 'overturned', 'open']),
      decided: appealsDecided,
      upheld: appeal(['upheld']),
      overturned: appealsOverturned,
      pending: appeal(['open']),
      medianTimeToDecisionSeconds: seconds(appeals.decision?.median),
      shareOverturned: exactShare(appealsOverturned, appealsDecided, appealsOverturnedExact, appealsDecidedExact),
      byCategory: categories(appeals.counts.map((r) => r.category)).map((category) => ({
        category,
        dsaCategory: dsa(category),
        received: appeal(['upheld', 'overturned', 'open'], category),
        upheld: appeal(['upheld'], category),
        overturned: appeal(['overturned'], category),
        pending: appeal(['open'], category),
      })),
    },
    automatedRemovals: {
      total: removalsTotal,
      appealed: removalsAppealed,
      overturned: removalsOverturned,
      shareOverturned: exactShare(removalsOverturned, removalsTotal, automated.overturned, automated.total),
      shareOfAppealedOverturned: exactShare(
        removalsOverturned,
        removalsAppealed,
        automated.overturned,
        automated.appealed,
      ),
    },
    notes: notes(min, complete),
  };
  return figures;
}

function notes(min: number, complete: boolean): DsaFigures['notes'] {
  const out: DsaFigures['notes'] = [];
  if (!complete)
    out.push({ about: 'complete', text: 'The year is not over: these are the figures up to generatedAt.' });
  if (min > 1) {
    out.push({
      about: 'minimumPublishedCount',
      text: `Counts from 1 to ${min - 1} are shown as the range "1–${min - 1}", so that a small number cannot single out a person or an investigation. A total is the sum of its published parts ("1–${min - 1}" + ${min} = "${min + 1}–${2 * min - 1}"), so that no hidden count can be recovered by subtracting one figure from another. Medians are computed from the exact counts; a share is given only where both counts it divides are published exactly, and is null otherwise.`,
    });
  }
  out.push(
    {
      about: 'ordersToAct.received',
      text: 'Custos has no intake for orders to act against illegal content (DSA Art. 9): none can have been received, so the count is 0.',
    },
    {
      about: 'ordersToProvideInformation.received',
      text: 'Legal orders for account data (production, preservation and emergency orders; DSA Art. 10) received in the year from authorities of the member states in the territorial scope, by the country the authority is registered in and the offence category, whatever became of them.',
    },
    {
      about: 'ordersToProvideInformation.receivedFromOutsideScope',
      text: 'Orders from authorities of countries outside the EU and EEA: not DSA orders, counted only here.',
    },
    {
      about: 'ordersToProvideInformation.medianTimeToAcknowledgeSeconds',
      text: 'From receipt to the first automatic check of the disclosure policy. Custos runs the checks in the transaction that receives an order, so an order is acknowledged at the moment it is received.',
    },
    {
      about: 'ordersToProvideInformation.medianTimeToGiveEffectSeconds',
      text: 'From receipt to the disclosure package being produced or, for a preservation order, the data being preserved, over the orders given effect (givenEffect), also after the year ended; orders rejected, withdrawn or still open are not in it.',
    },
    {
      about: 'notices.received',
      text: 'Reports of content or accounts received in the year. Users: the public report form and reports sent from the app by the platform; trusted flaggers: holders of a trusted-flagger token. Action taken: the case the notice joined was decided with a restriction; no action: it was dismissed; pending: not decided yet.',
    },
    {
      about: 'notices.medianHandlingSeconds',
      text: 'From the notice to the decision on its case, over the notices decided (also those decided after the year ended).',
    },
    {
      about: 'ownInitiativeActions.total',
      text: 'Restrictions decided in the year on cases Custos opened itself (its scanners, or the strike rules proposing a suspension or ban), not on a notice. Automated: decided by a scanner alone (automated_decision FULLY); human: decided by a moderator, also when a scanner flagged the content. Dismissals are not actions.',
    },
    {
      about: 'appeals.received',
      text: 'Appeals against moderation decisions (internal complaints, DSA Art. 20) filed in the year, by the category of the decision appealed; the median time and the share overturned are over the appeals decided, also after the year ended.',
    },
    {
      about: 'automatedRemovals.total',
      text: 'Removals decided by a scanner alone in the year, how many were appealed and how many were overturned on appeal (whenever the appeal was decided): an indicator of the accuracy of the automated tools (DSA Art. 15(1)(e)).',
    },
  );
  return out;
}

interface Range {
  from: number;
  to: number;
}

const ALL = 'all';

/** Milliseconds (as the store averaged them) to seconds; null when there was nothing to measure. */
function seconds(ms: number | undefined): number | null {
  return ms === undefined ? null : ms / 1000;
}

function share(part: number, whole: number): number | null {
  return whole === 0 ? null : part / whole;
}

/** The taxonomy's codes in its order, then any other code the rows hold (refused offence codes), sorted. */
function categoryList(ctx: FiguresContext, present: Iterable<string>): string[] {
  const known = [...CATEGORY_CODES, ...Object.keys(ctx.policy.document.categories)];
  const out = [...new Set(known)];
  const extra = [...new Set(present)].filter((c) => !out.includes(c)).sort();
  return [...out, ...extra];
}

type Durations = SelectQueryBuilder<Database, any, { g: string; v: number | null }>;

/**
 * The median of `v` per group `g`, computed in the store with one query for both
 * groups and median. PostgreSQL: `percentile_cont(0.5)`, one sort. SQLite has no
 * percentile function: rows are numbered in order within their group and the middle
 * one (odd count) or the mean of the middle two (even count) kept, which is what
 * percentile_cont(0.5) gives. Rows with a null `v` (not finished) are left out; `n`
 * is how many rows the median is over.
 */
async function mediansBy(
  db: Db,
  dialect: Dialect,
  durations: Durations,
): Promise<Map<string, { median: number; n: number }>> {
  const rows =
    dialect === 'postgres'
      ? await db
          .with('d', () => durations)
          .selectFrom('d')
          .where('d.v', 'is not', null)
          .select([
            'd.g',
            sql<number | string>`percentile_cont(0.5) within group (order by ${sql.ref('d.v')})`.as('median'),
            (eb) => eb.fn.countAll<number>().as('n'),
          ])
          .groupBy('d.g')
          .execute()
      : await db
          .with('d', () => durations)
          .with('r', (qc) =>
            qc
              .selectFrom('d')
              .where('d.v', 'is not', null)
              .select([
                'd.g',
                'd.v',
                sql<number>`row_number() over (partition by ${sql.ref('d.g')} order by ${sql.ref('d.v')})`.as('rn'),
                sql<number>`count(*) over (partition by ${sql.ref('d.g')})`.as('n'),
              ]),
          )
          .selectFrom('r')
          .select([
            'r.g',
            sql<number | string>`avg(${sql.ref('r.v')})`.as('median'),
            sql<number>`max(${sql.ref('r.n')})`.as('n'),
          ])
          // Integer division: n = 4 keeps rows 2 and 3, n = 5 keeps row 3.
          .where(sql<boolean>`${sql.ref('r.rn')} in ((${sql.ref('r.n')} + 1) / 2, (${sql.ref('r.n')} + 2) / 2)`)
          .groupBy('r.g')
          .execute();
  return new Map(rows.map((r) => [String(r.g), { median: Number(r.median), n: Number(r.n) }]));
}

interface OrderCount {
  country: string;
  category: string;
  n: number;
}

/**
 * Legal orders received in the year, by the registered country of the authority
 * (verified, unlike the country the order states) and offence category; medians
 * over the orders of member states only.
 */
async function orderFigures(db: Db, dialect: Dialect, range: Range, scope: string[]) {
  const counts = await db
    .selectFrom('legal_requests as lr')
    .innerJoin('authorities as a', 'a.id', 'lr.authority_id')
    .select(['a.country as country', 'lr.offence_category as category', (eb) => eb.fn.countAll<number>().as('n')])
    .where('lr.received_at', '>=', range.from)
    .where('lr.received_at', '<', range.to)
    .groupBy(['a.country', 'lr.offence_category'])
    .execute();
  const scoped = () =>
    db
      .selectFrom('legal_requests as lr')
      .innerJoin('authorities as a', 'a.id', 'lr.authority_id')
      .where('lr.received_at', '>=', range.from)
      .where('lr.received_at', '<', range.to)
      .where('a.country', 'in', scope);
  const acknowledged = await mediansBy(
    db,
    dialect,
    scoped().select((eb) => [
      sql.lit(ALL).as('g'),
      eb(
        eb
          .selectFrom('legal_checks as c')
          .select((c) => c.fn.min('c.at').as('at'))
          .whereRef('c.request_id', '=', 'lr.id'),
        '-',
        eb.ref('lr.received_at'),
      )
        .$castTo<number | null>()
        .as('v'),
    ]),
  );
  const effected = await mediansBy(
    db,
    dialect,
    scoped().select((eb) => [
      sql.lit(ALL).as('g'),
      eb(
        eb
          .selectFrom('legal_events as e')
          .select((e) => e.fn.min('e.at').as('at'))
          .whereRef('e.request_id', '=', 'lr.id')
          .where('e.type', 'in', ['disclosed', 'preserved']),
        '-',
        eb.ref('lr.received_at'),
      )
        .$castTo<number | null>()
        .as('v'),
    ]),
  );
  return {
    counts: counts.map((r) => ({ country: r.country, category: r.category, n: Number(r.n) })),
    acknowledge: acknowledged.get(ALL),
    effect: effected.get(ALL),
  };
}

type NoticeStatus = 'action_illegal' | 'action_terms' | 'no_action' | 'pending';

/** A finest published cell of the notices: category × source bucket × what became of them. */
interface NoticeCell {
  category: string;
  source: NoticeSource;
  status: NoticeStatus;
  n: number;
}

/** Splits the store's rows (category × reporting source) into the cells every notice figure is a sum of. */
function fineNoticeCells(rows: NoticeCount[]): NoticeCell[] {
  const cells = new Map<string, NoticeCell>();
  const add = (category: string, source: NoticeSource, status: NoticeStatus, n: number) => {
    const key = `${category}\u0000${source}\u0000${status}`;
    const cell = cells.get(key) ?? { category, source, status, n: 0 };
    cell.n += n;
    cells.set(key, cell);
  };
  for (const r of rows) {
    const source: NoticeSource = r.source === 'trusted_flagger' ? 'trusted_flaggers' : 'users';
    add(r.category, source, 'action_illegal', r.actionIllegal);
    add(r.category, source, 'action_terms', r.actionTaken - r.actionIllegal);
    add(r.category, source, 'no_action', r.decided - r.actionTaken);
    add(r.category, source, 'pending', r.received - r.decided);
  }
  return [...cells.values()];
}

interface NoticeCount {
  category: string;
  source: string;
  received: number;
  decided: number;
  actionTaken: number;
  actionIllegal: number;
}

/**
 * Notices (reports) received in the year, by category and source, with what became
 * of the case each joined: decided with a restriction, dismissed, or not decided
 * yet. The decision writes its outcome, ground and time on the case's reports
 * (decisions/service.ts), so the year is one range of the `reports_figures` index.
 */
async function noticeFigures(db: Db, dialect: Dialect, range: Range) {
  const year = () =>
    db.selectFrom('reports as r').where('r.created_at', '>=', range.from).where('r.created_at', '<', range.to);
  const rows = await year()
    .select((eb) => [
      'r.category',
      'r.source',
      eb.fn.countAll<number>().as('received'),
      eb.fn.count<number>('r.resolved_at').as('decided'),
      sql<number>`sum(case when ${sql.ref('r.outcome')} = 'action_taken' then 1 else 0 end)`.as('actionTaken'),
      sql<number>`sum(case when ${sql.ref('r.outcome')} = 'action_taken' and ${sql.ref('r.ground')} = 'illegal' then 1 else 0 end)`.as(
        'actionIllegal',
      ),
    ])
    .groupBy(['r.category', 'r.source'])
    .execute();
  const handlingTime = sql<number | null>`${sql.ref('r.resolved_at')} - ${sql.ref('r.created_at')}`.as('v');
  const bySource = await mediansBy(
    db,
    dialect,
    year().select([
      sql<string>`case when ${sql.ref('r.source')} = 'trusted_flagger' then 'trusted_flaggers' else 'users' end`.as(
        'g',
      ),
      handlingTime,
    ]),
  );
  const overall = await mediansBy(db, dialect, year().select([sql.lit(ALL).as('g'), handlingTime]));
  const handling = new Map([...bySource, ...overall]);
  return {
    counts: rows.map(
      (r): NoticeCount => ({
        category: r.category,
        source: r.source,
        received: Number(r.received),
        decided: Number(r.decided),
        actionTaken: Number(r.actionTaken ?? 0),
        actionIllegal: Number(r.actionIllegal ?? 0),
      }),
    ),
    handling,
  };
}

/**
 * Restricting decisions of the year on cases not opened by a report: each decision
 * carries what opened its case (`opened_by`, from `case.opened`).
 */
async function ownInitiativeFigures(db: Db, range: Range) {
  const rows = await db
    .selectFrom('decisions as d')
    .select(['d.category', 'd.automation', (eb) => eb.fn.countAll<number>().as('n')])
    .where('d.created_at', '>=', range.from)
    .where('d.created_at', '<', range.to)
    .where('d.restricts', '=', 1)
    .where('d.opened_by', 'in', ['scan', 'strikes'])
    .groupBy(['d.category', 'd.automation'])
    .execute();
  return rows.map((r) => ({ category: r.category, automation: r.automation, n: Number(r.n) }));
}

/** Appeals filed in the year, by the category of the decision appealed and their status. */
async function appealFigures(db: Db, dialect: Dialect, range: Range) {
  const counts = await db
    .selectFrom('appeals as ap')
    .innerJoin('decisions as d', 'd.id', 'ap.decision_id')
    .select(['d.category', 'ap.status', (eb) => eb.fn.countAll<number>().as('n')])
    .where('ap.filed_at', '>=', range.from)
    .where('ap.filed_at', '<', range.to)
    .groupBy(['d.category', 'ap.status'])
    .execute();
  const decision = await mediansBy(
    db,
    dialect,
    db
      .selectFrom('appeals as ap')
      .select([
        sql.lit(ALL).as('g'),
        sql<number | null>`${sql.ref('ap.resolved_at')} - ${sql.ref('ap.filed_at')}`.as('v'),
      ])
      .where('ap.filed_at', '>=', range.from)
      .where('ap.filed_at', '<', range.to),
  );
  return {
    counts: counts.map((r) => ({ category: r.category, status: r.status, n: Number(r.n) })),
    decision: decision.get(ALL),
  };
}

/** Removals decided by a scanner alone in the year, and what their appeals did to them. */
async function automatedRemovalFigures(db: Db, range: Range) {
  const row = await db
    .selectFrom('decisions as d')
    .leftJoin('appeals as ap', 'ap.decision_id', 'd.id')
    .select((eb) => [
      eb.fn.countAll<number>().as('total'),
      eb.fn.count<number>('ap.id').as('appealed'),
      sql<number>`sum(case when ${sql.ref('ap.status')} = 'overturned' then 1 else 0 end)`.as('overturned'),
    ])
    .where('d.created_at', '>=', range.from)
    .where('d.created_at', '<', range.to)
    .where('d.automation', '=', 'full')
    .where('d.removes_content', '=', 1)
    .executeTakeFirstOrThrow();
  return {
    total: Number(row.total),
    appealed: Number(row.appealed),
    overturned: Number(row.overturned ?? 0),
  };
}
