import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { countryName } from '../geo/countries.js';

/**
 * Request figures per country and quarter, like the platform's transparency bot:
 * orders received, fulfilled (by what was disclosed), rejected (by reason code),
 * withdrawn, preserved, and distinct accounts whose data was disclosed.
 *
 * Everything is counted from the legal event log (`legal_events`): an order is
 * counted in the quarter of the event, in the country of the authority that filed it.
 * Each event carries that country and what it is counted by (legal/events.ts), so a
 * quarter is one grouped pass over the covering `legal_events_figures` index, plus
 * one over the accounts each disclosure disclosed; a report never loads the orders.
 */

/** Reasons that mean "refused for human-rights reasons": published on their own. */
export const HUMAN_RIGHTS_REASONS = ['country_refused', 'refused_offence_category'] as const;
/** A reviewer's rejection (the automatic checks passed, the legal team said no). */
export const REVIEWER_REJECTED = 'reviewer_rejected';

export interface RequestFiguresQuery {
  /** ISO country of the authorities; all countries when absent. */
  country?: string;
  /** Start of the first day, epoch ms (inclusive). */
  from: number;
  /** End of the last day, epoch ms (exclusive). */
  to: number;
}

export interface CountryQuarter {
  country: string;
  quarter: string;
  received: number;
  receivedByType: Record<string, number>;
  fulfilled: number;
  /** Fulfilled orders by what they disclosed: IP addresses only, phone number only, both. */
  fulfilledByData: { ip_addresses: number; phone_number: number; both: number };
  rejected: number;
  /** Rejected orders per reason code; an order rejected for two reasons counts under both. */
  rejectedByReason: Record<string, number>;
  /** Orders their authority withdrew, preserved ones included. */
  withdrawn: number;
  /** Preservation orders that began holding data, counted there even if later consumed or withdrawn. */
  preserved: number;
  /** Orders rejected for human-rights reasons (a refused country or a refused offence). */
  refusedHumanRights: number;
  /** Distinct accounts whose data was disclosed to this country's authorities in the quarter. */
  accountsAffected: number;
}

export interface RequestFigures {
  from: string;
  to: string;
  country: string | null;
  rows: CountryQuarter[];
  /** Orders refused for human-rights reasons (country refused, offence refused), per country. */
  humanRightsRefusals: { total: number; byCountry: Record<string, number> };
}

/** The quarters [from, to) touches, each clipped to the range: `2026-Q3` and its bounds. */
export function quartersOf(from: number, to: number): Array<{ quarter: string; from: number; to: number }> {
  const out: Array<{ quarter: string; from: number; to: number }> = [];
  const start = new Date(from);
  let year = start.getUTCFullYear();
  let q = Math.floor(start.getUTCMonth() / 3);
  for (;;) {
    const qFrom = Date.UTC(year, q * 3, 1);
    if (qFrom >= to) break;
    const qTo = Date.UTC(year, q * 3 + 3, 1);
    out.push({ quarter: `${year}-Q${q + 1}`, from: Math.max(qFrom, from), to: Math.min(qTo, to) });
    q += 1;
    if (q === 4) {
      q = 0;
      year += 1;
    }
  }
  return out;
}

function emptyRow(country: string, quarter: string): CountryQuarter {
  return {
    country,
    quarter,
    received: 0,
    receivedByType: {},
    fulfilled: 0,
    fulfilledByData: { ip_addresses: 0, phone_number: 0, both: 0 },
    rejected: 0,
    rejectedByReason: {},
    withdrawn: 0,
    preserved: 0,
    refusedHumanRights: 0,
    accountsAffected: 0,
  };
}

/** The event types the figures count; each carries its country and label (legal/events.ts). */
const COUNTED = ['received', 'withdrawn', 'preserved', 'disclosed', 'checks.rejected', 'review.reject'];

/** Exact figures (nothing suppressed): for the operator, the CLI, and the published view's input. */
export async function computeRequestFigures(db: Db, query: RequestFiguresQuery): Promise<RequestFigures> {
  const rows = new Map<string, CountryQuarter>();
  const row = (country: string, quarter: string) => {
    const key = `${country}|${quarter}`;
    let r = rows.get(key);
    if (!r) {
      r = emptyRow(country, quarter);
      rows.set(key, r);
    }
    return r;
  };
  const add = (o: Record<string, number>, key: string, n: number) => {
    o[key] = (o[key] ?? 0) + n;
  };
  const humanRights: Record<string, number> = {};
  const hrCodes = new Set<string>(HUMAN_RIGHTS_REASONS);
  for (const q of quartersOf(query.from, query.to)) {
    // One pass over the quarter's counted events, grouped by what each was labelled with
    // when it happened: a few hundred groups, however many orders.
    let events = db
      .selectFrom('legal_events')
      .select(['type', 'country', 'status', 'label', sql<number>`count(*)`.as('n')])
      .where('type', 'in', COUNTED)
      .where('at', '>=', q.from)
      .where('at', '<', q.to)
      .groupBy(['type', 'country', 'status', 'label']);
    let accounts = db
      .selectFrom('legal_disclosed_accounts')
      .select(['country', sql<number>`count(distinct account_id)`.as('n')])
      .where('at', '>=', q.from)
      .where('at', '<', q.to)
      .groupBy('country');
    if (query.country) {
      events = events.where('country', '=', query.country);
      accounts = accounts.where('country', '=', query.country);
    }
    const [groups, affected] = await Promise.all([events.execute(), accounts.execute()]);
    for (const g of groups) {
      if (g.country === null) continue;
      const r = row(g.country, q.quarter);
      const n = Number(g.n);
      switch (g.type) {
        case 'received':
          r.received += n;
          add(r.receivedByType, g.label ?? 'unknown', n);
          break;
        case 'withdrawn':
          r.withdrawn += n;
          break;
        case 'preserved':
          r.preserved += n;
          break;
        case 'disclosed':
          r.fulfilled += n;
          r.fulfilledByData[(g.label ?? 'ip_addresses') as keyof CountryQuarter['fulfilledByData']] += n;
          break;
        case 'checks.rejected': {
          // The label lists the order's failed reason codes once each: an order rejected
          // for two reasons counts under both, and once as a human-rights refusal.
          r.rejected += n;
          const codes = g.label ? g.label.split(',') : [];
          for (const code of codes) add(r.rejectedByReason, code, n);
          if (codes.some((c) => hrCodes.has(c))) {
            r.refusedHumanRights += n;
            add(humanRights, g.country, n);
          }
          break;
        }
        case 'review.reject':
          if (g.status !== 'rejected') break;
          r.rejected += n;
          add(r.rejectedByReason, REVIEWER_REJECTED, n);
          break;
      }
    }
    for (const x of affected) row(x.country, q.quarter).accountsAffected += Number(x.n);
  }
  const sorted = [...rows.values()].sort(
    (a, b) => a.quarter.localeCompare(b.quarter) || a.country.localeCompare(b.country),
  );
  return {
    from: new Date(query.from).toISOString().slice(0, 10),
    to: new Date(query.to - 1).toISOString().slice(0, 10),
    country: query.country ?? null,
    rows: sorted,
    humanRightsRefusals: { total: Object.values(humanRights).reduce((a, b) => a + b, 0), byCountry: humanRights },
  };
}

/** A published count: exact from the threshold up (and zero), a range below it. */
export type PublishedCount = number | string;

/**
 * The figures as published: every count from 1 to `minCount - 1` becomes the range
 * "1–9" (for a threshold of 10), so a cell never points at a handful of people while
 * still showing that there were requests. Zero stays zero. A total whose parts are
 * published is itself published as the sum of its published parts: were it exact, a
 * reader could subtract the exact parts from it and recover the one hidden in a range.
 */
export function publishFigures(figures: RequestFigures, minCount: number) {
  const cell = (n: number): PublishedCount => (n === 0 || n >= minCount ? n : `1–${minCount - 1}`);
  const cells = (o: Record<string, number>) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, cell(v)]));
  const total = (n: number, parts: number[]): PublishedCount => {
    if (parts.every((p) => p === 0 || p >= minCount)) return cell(n);
    return sumOfPublished(parts.map(cell));
  };
  return {
    from: figures.from,
    to: figures.to,
    country: figures.country,
    threshold: minCount,
    rows: figures.rows.map((r) => ({
      country: r.country,
      countryName: countryName(r.country),
      quarter: r.quarter,
      received: total(r.received, Object.values(r.receivedByType)),
      receivedByType: cells(r.receivedByType),
      fulfilled: total(r.fulfilled, Object.values(r.fulfilledByData)),
      fulfilledByData: cells(r.fulfilledByData),
      // Rejected = by the checks + by a reviewer: a partition, published like the other totals.
      rejected: total(r.rejected, [
        r.rejected - (r.rejectedByReason[REVIEWER_REJECTED] ?? 0),
        r.rejectedByReason[REVIEWER_REJECTED] ?? 0,
      ]),
      rejectedByReason: cells(r.rejectedByReason),
      withdrawn: cell(r.withdrawn),
      preserved: cell(r.preserved),
      refusedHumanRights: cell(r.refusedHumanRights),
      accountsAffected: cell(r.accountsAffected),
    })),
    humanRightsRefusals: {
      total: total(figures.humanRightsRefusals.total, Object.values(figures.humanRightsRefusals.byCountry)),
      byCountry: cells(figures.humanRightsRefusals.byCountry),
    },
  };
}

/** Adds published counts: exact ones exactly, ranges as ranges ("1–9" + 10 = "11–19"). */
export function sumOfPublished(values: PublishedCount[]): PublishedCount {
  let lo = 0;
  let hi = 0;
  for (const v of values) {
    if (typeof v === 'number') {
      lo += v;
      hi += v;
    } else {
      const [a, b] = v.split('–').map(Number);
      lo += a!;
      hi += b!;
    }
  }
  return lo === hi ? lo : `${lo}–${hi}`;
}

export type PublishedFigures = ReturnType<typeof publishFigures>;

const CSV_COLUMNS = [
  'quarter',
  'country',
  'received',
  'fulfilled',
  'fulfilled_ip_addresses',
  'fulfilled_phone_number',
  'fulfilled_both',
  'rejected',
  'withdrawn',
  'preserved',
  'refused_human_rights',
  'accounts_affected',
  'rejected_by_reason',
] as const;

/** One row per country and quarter; reasons as `code=n;code=n` in the last column. */
export function figuresCsv(published: PublishedFigures): string {
  const esc = (v: unknown) => {
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of published.rows) {
    lines.push(
      [
        r.quarter,
        r.country,
        r.received,
        r.fulfilled,
        r.fulfilledByData.ip_addresses,
        r.fulfilledByData.phone_number,
        r.fulfilledByData.both,
        r.rejected,
        r.withdrawn,
        r.preserved,
        r.refusedHumanRights,
        r.accountsAffected,
        Object.entries(r.rejectedByReason)
          .sort()
          .map(([k, v]) => `${k}=${v}`)
          .join(';'),
      ]
        .map(esc)
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}
