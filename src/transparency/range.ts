import { type FieldProblem, ValidationError } from '../errors.js';
import { isCountryCode } from '../geo/countries.js';

const DAY = 86_400_000;
/** The longest period one report may cover. */
export const MAX_RANGE_YEARS = 5;

/** A calendar day `YYYY-MM-DD` that exists (2026-02-30 does not), as epoch ms of its start (UTC). */
export function parseDay(value: string): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return null;
  const t = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(t).toISOString().slice(0, 10) === value ? t : null;
}

export interface ReportRange {
  country?: string;
  /** Start of `from`, inclusive. */
  from: number;
  /** End of `to` (the start of the next day), exclusive. */
  to: number;
}

/**
 * Checks a report's country and days (each problem a 422 detail): days as
 * YYYY-MM-DD, `from` not after `to`, at most five years, a known ISO country.
 * Without `from` and `to`: the last four quarters, the current one included.
 */
export function parseReportRange(
  input: { country?: string; from?: string; to?: string },
  now = Date.now(),
): ReportRange {
  const problems: FieldProblem[] = [];
  const today = new Date(now);
  const defaultFrom = Date.UTC(today.getUTCFullYear(), Math.floor(today.getUTCMonth() / 3) * 3 - 9, 1);
  const day = (name: 'from' | 'to', fallback: number) => {
    const value = input[name];
    if (value === undefined) return fallback;
    const t = parseDay(value);
    if (t === null) problems.push({ path: `/${name}`, code: 'invalid_format', message: 'must be a date YYYY-MM-DD' });
    return t ?? fallback;
  };
  const from = day('from', defaultFrom);
  const to = day('to', Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate())) + DAY;
  if (problems.length === 0 && from >= to) {
    problems.push({ path: '/from', code: 'invalid_range', message: 'must not be after to' });
  }
  // Calendar years, not 366-day ones: from 2021-03-01 the last day allowed is 2026-02-28.
  const start = new Date(from);
  const latest = Date.UTC(start.getUTCFullYear() + MAX_RANGE_YEARS, start.getUTCMonth(), start.getUTCDate());
  if (problems.length === 0 && to > latest) {
    problems.push({ path: '/to', code: 'range_too_long', message: `a report covers at most ${MAX_RANGE_YEARS} years` });
  }
  if (input.country !== undefined && !isCountryCode(input.country)) {
    problems.push({ path: '/country', code: 'unknown_country', message: 'not an ISO 3166-1 alpha-2 country code' });
  }
  if (problems.length > 0) throw new ValidationError(problems);
  return { ...(input.country ? { country: input.country } : {}), from, to };
}
