import { type SelectQueryBuilder, sql } from 'kysely';
import type { Context } from '../context.js';
import type { Db } from '../db/database.js';
import type { Database } from '../db/schema.js';
import { ValidationError } from '../errors.js';
import { CATEGORY_CODES } from '../policy/policy.js';
import type { PublishedCount } from './requests.js';

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
  const db = ctx.store.db;
  const range: Range = { from, to };
  const scope = [...ctx.policy.document.moderation.territorialScope].sort();
  const [orders, notices, own, appeals, automated] = await Promise.all([
    orderFigures(db, range, scope),
    noticeFigures(db, range),
    ownInitiativeFigures(db, range, ctx.store.dialect),
    appealFigures(db, range),
    automatedRemovalFigures(db, range),
  ]);

  const min = ctx.config.transparencyMinCount;
  const band = (n: number): PublishedCount => (n === 0 || n >= min ? n : `1–${min - 1}`);
  const dsa = (code: string) => ctx.policy.category(code)?.dsa ?? null;
  const categories = (present: Iterable<string>) => categoryList(ctx, present);

  const inScope = new Set(scope);
  const scoped = orders.counts.filter((r) => inScope.has(r.country));
  const sumOf = <T>(rows: T[], f: (r: T) => number) => rows.reduce((n, r) => n + f(r), 0);
  const ordersBy = (pick: (r: OrderCount) => boolean) => sumOf(scoped.filter(pick), (r) => r.n);

  const noticeTotal = (f: (r: NoticeCount) => number) => sumOf(notices.counts, f);
  const noticeRows = (pick: (r: NoticeCount) => boolean) => notices.counts.filter(pick);
  const bucket = (source: string): NoticeSource => (source === 'trusted_flagger' ? 'trusted_flaggers' : 'users');

  const appealsBy = (status: string, category?: string) =>
    sumOf(
      appeals.counts.filter((r) => r.status === status && (category === undefined || r.category === category)),
      (r) => r.n,
    );
  const appealsDecided = appealsBy('upheld') + appealsBy('overturned');

  const ownBy = (automatedOnly: boolean | null, category?: string) =>
    sumOf(
      own.filter(
        (r) =>
          (category === undefined || r.category === category) &&
          (automatedOnly === null || (r.automation === 'full') === automatedOnly),
      ),
      (r) => r.n,
    );

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
      received: band(ordersBy(() => true)),
      byMemberState: scope.map((memberState) => ({
        memberState,
        received: band(ordersBy((r) => r.country === memberState)),
      })),
      byCategory: categories(scoped.map((r) => r.category)).map((category) => ({
        category,
        dsaCategory: dsa(category),
        received: band(ordersBy((r) => r.category === category)),
      })),
      byMemberStateAndCategory: scope.flatMap((memberState) =>
        categories(scoped.map((r) => r.category))
          .map((category) => ({
            memberState,
            category,
            dsaCategory: dsa(category),
            n: ordersBy((r) => r.country === memberState && r.category === category),
          }))
          .filter((r) => r.n > 0)
          .map(({ n, ...r }) => ({ ...r, received: band(n) })),
      ),
      receivedFromOutsideScope: band(sumOf(orders.counts, (r) => (inScope.has(r.country) ? 0 : r.n))),
      givenEffect: band(orders.effect?.n ?? 0),
      medianTimeToAcknowledgeSeconds: seconds(orders.acknowledge?.median),
      medianTimeToGiveEffectSeconds: seconds(orders.effect?.median),
    },
    notices: {
      received: band(noticeTotal((r) => r.received)),
      decided: band(noticeTotal((r) => r.decided)),
      actionTaken: band(noticeTotal((r) => r.actionTaken)),
      actionTakenOnLegalGround: band(noticeTotal((r) => r.actionIllegal)),
      actionTakenOnTermsGround: band(noticeTotal((r) => r.actionTaken - r.actionIllegal)),
      noAction: band(noticeTotal((r) => r.decided - r.actionTaken)),
      pending: band(noticeTotal((r) => r.received - r.decided)),
      medianHandlingSeconds: seconds(notices.handling.get(ALL)?.median),
      bySource: (['users', 'trusted_flaggers'] as const).map((source) => {
        const rows = noticeRows((r) => bucket(r.source) === source);
        return {
          source,
          received: band(sumOf(rows, (r) => r.received)),
          decided: band(sumOf(rows, (r) => r.decided)),
          actionTaken: band(sumOf(rows, (r) => r.actionTaken)),
          medianHandlingSeconds: seconds(notices.handling.get(source)?.median),
        };
      }),
      byCategory: categories(notices.counts.map((r) => r.category)).map((category) => {
        const rows = noticeRows((r) => r.category === category);
        return {
          category,
          dsaCategory: dsa(category),
          received: band(sumOf(rows, (r) => r.received)),
          fromTrustedFlaggers: band(sumOf(rows, (r) => (bucket(r.source) === 'trusted_flaggers' ? r.received : 0))),
          actionTaken: band(sumOf(rows, (r) => r.actionTaken)),
          noAction: band(sumOf(rows, (r) => r.decided - r.actionTaken)),
          pending: band(sumOf(rows, (r) => r.received - r.decided)),
        };
      }),
    },
    ownInitiativeActions: {
      total: band(ownBy(null)),
      automated: band(ownBy(true)),
      human: band(ownBy(false)),
      byCategory: categories(own.map((r) => r.category)).map((category) => ({
        category,
        dsaCategory: dsa(category),
        total: band(ownBy(null, category)),
        automated: band(ownBy(true, category)),
        human: band(ownBy(false, category)),
      })),
    },
    appeals: {
      received: band(sumOf(appeals.counts, (r) => r.n)),
      decided: band(appealsDecided),
      upheld: band(appealsBy('upheld')),
      overturned: band(appealsBy('overturned')),
      pending: band(appealsBy('open')),
      medianTimeToDecisionSeconds: seconds(appeals.decision?.median),
      shareOverturned: share(appealsBy('overturned'), appealsDecided),
      byCategory: categories(appeals.counts.map((r) => r.category)).map((category) => ({
        category,
        dsaCategory: dsa(category),
        received: band(sumOf(appeals.counts, (r) => (r.category === category ? r.n : 0))),
        upheld: band(appealsBy('upheld', category)),
        overturned: band(appealsBy('overturned', category)),
        pending: band(appealsBy('open', category)),
      })),
    },
    automatedRemovals: {
      total: band(automated.total),
      appealed: band(automated.appealed),
      overturned: band(automated.overturned),
      shareOverturned: share(automated.overturned, automated.total),
      shareOfAppealedOverturned: share(automated.overturned, automated.appealed),
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
      text: `Counts from 1 to ${min - 1} are shown as the range "1–${min - 1}", so that a small number cannot single out a person or an investigation; medians and shares are computed from the exact counts.`,
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
 * The median of `v` per group `g`, computed in the store with one query for both:
 * rows numbered in order within their group and the middle one (odd count) or the
 * mean of the middle two (even count) kept, as percentile_cont(0.5) would. SQLite
 * has no percentile_cont; both have window functions. Rows with a null `v` (not
 * finished) are left out; `n` is how many rows the median is over.
 */
async function mediansBy(db: Db, durations: Durations): Promise<Map<string, { median: number; n: number }>> {
  const rows = await db
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
    // Integer division in both stores: n = 4 keeps rows 2 and 3, n = 5 keeps row 3.
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
async function orderFigures(db: Db, range: Range, scope: string[]) {
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
 * of the case each joined: decided with a restriction (a decision with a statement of
 * reasons), dismissed, or not decided yet.
 */
async function noticeFigures(db: Db, range: Range) {
  const rows = await db
    .selectFrom('reports as r')
    .innerJoin('cases as c', 'c.id', 'r.case_id')
    .leftJoin('decisions as d', 'd.id', 'c.decision_id')
    .select((eb) => [
      'r.category',
      'r.source',
      eb.fn.countAll<number>().as('received'),
      eb.fn.count<number>('d.id').as('decided'),
      sql<number>`sum(case when ${sql.ref('d.statement')} is not null then 1 else 0 end)`.as('actionTaken'),
      sql<number>`sum(case when ${sql.ref('d.statement')} is not null and ${sql.ref('d.ground')} = 'illegal' then 1 else 0 end)`.as(
        'actionIllegal',
      ),
    ])
    .where('r.created_at', '>=', range.from)
    .where('r.created_at', '<', range.to)
    .groupBy(['r.category', 'r.source'])
    .execute();
  const decided = () =>
    db
      .selectFrom('reports as r')
      .innerJoin('cases as c', 'c.id', 'r.case_id')
      .innerJoin('decisions as d', 'd.id', 'c.decision_id')
      .where('r.created_at', '>=', range.from)
      .where('r.created_at', '<', range.to);
  const handlingTime = sql<number>`${sql.ref('d.created_at')} - ${sql.ref('r.created_at')}`.as('v');
  const bySource = await mediansBy(
    db,
    decided().select([
      sql<string>`case when ${sql.ref('r.source')} = 'trusted_flagger' then 'trusted_flaggers' else 'users' end`.as(
        'g',
      ),
      handlingTime,
    ]),
  );
  const overall = await mediansBy(db, decided().select([sql.lit(ALL).as('g'), handlingTime]));
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
 * Restricting decisions of the year on cases not opened by a report: the case's
 * `case.opened` event (the append-only log) names what opened it.
 */
async function ownInitiativeFigures(db: Db, range: Range, dialect: 'sqlite' | 'postgres') {
  // The one dialect difference: reading a field of the JSON payload.
  const openedBy =
    dialect === 'postgres'
      ? sql<string>`(${sql.ref('e.payload')}::jsonb ->> 'source')`
      : sql<string>`json_extract(${sql.ref('e.payload')}, '$.source')`;
  const rows = await db
    .selectFrom('decisions as d')
    .select(['d.category', 'd.automation', (eb) => eb.fn.countAll<number>().as('n')])
    .where('d.created_at', '>=', range.from)
    .where('d.created_at', '<', range.to)
    .where('d.statement', 'is not', null)
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('moderation_events as e')
          .select(sql.lit(1).as('one'))
          .whereRef('e.case_id', '=', 'd.case_id')
          .where('e.type', '=', 'case.opened')
          .where(openedBy, 'in', ['scan', 'strikes']),
      ),
    )
    .groupBy(['d.category', 'd.automation'])
    .execute();
  return rows.map((r) => ({ category: r.category, automation: r.automation, n: Number(r.n) }));
}

/** Appeals filed in the year, by the category of the decision appealed and their status. */
async function appealFigures(db: Db, range: Range) {
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
    // `actions` is the JSON list of {type, until?}; the type names are fixed codes.
    .where('d.actions', 'like', '%"remove_content"%')
    .executeTakeFirstOrThrow();
  return {
    total: Number(row.total),
    appealed: Number(row.appealed),
    overturned: Number(row.overturned ?? 0),
  };
}
