import type { Db } from '../db/database.js';
import { type FieldProblem, ValidationError } from '../errors.js';
import { isCalendarDay, validateStatement } from './dsa-rules.js';

const DAY_MS = 86_400_000;
/** The longest range one export may cover. */
export const MAX_EXPORT_YEARS = 5;
/** Decisions read per query: the export holds one page in memory, whatever the range. */
export const EXPORT_PAGE = 500;

/** Decided times from `from` (inclusive) to `to` (exclusive), epoch milliseconds. */
export interface DecidedRange {
  from: number;
  to: number;
}

/**
 * The range of `?from=YYYY-MM-DD&to=YYYY-MM-DD`: whole UTC days, both included.
 * 422 when a date is not a calendar day, `to` is before `from`, or the range is
 * longer than five years.
 */
export function decidedRange(from: string, to: string): DecidedRange {
  const problems: FieldProblem[] = [];
  for (const [name, value] of [
    ['from', from],
    ['to', to],
  ] as const) {
    if (!isCalendarDay(value)) {
      problems.push({ path: `/querystring/${name}`, code: 'invalid_format', message: 'must be a date YYYY-MM-DD' });
    }
  }
  if (problems.length > 0) throw new ValidationError(problems);
  const start = Date.parse(`${from}T00:00:00Z`);
  const lastDay = Date.parse(`${to}T00:00:00Z`);
  if (lastDay < start) {
    throw new ValidationError([{ path: '/querystring/to', code: 'before_from', message: 'must not be before from' }]);
  }
  const [y, m, d] = from.split('-').map(Number) as [number, number, number];
  const limit = Date.UTC(y + MAX_EXPORT_YEARS, m - 1, d);
  if (lastDay >= limit) {
    throw new ValidationError([
      {
        path: '/querystring/to',
        code: 'range_too_long',
        message: `a range covers at most ${MAX_EXPORT_YEARS} years; export longer periods in parts`,
      },
    ]);
  }
  return { from: start, to: lastDay + DAY_MS };
}

/** Called for a stored statement that breaks the database's rules: it is left out. */
export type InvalidStatement = (decisionId: string, problems: FieldProblem[]) => void;

/**
 * The stored statements of reasons of the decisions made in `range`, oldest
 * first, as JSON lines (one chunk of lines per page). Pages are read by keyset
 * (decided time, id), so each query is an index range scan, no connection is
 * held while the client reads, and memory stays at one page for any range.
 * Each statement is checked against the Transparency Database's rules first:
 * one that fails is a defect to report, never something to publish.
 */
export async function* statementLines(
  db: Db,
  range: DecidedRange,
  onInvalid: InvalidStatement,
  pageSize = EXPORT_PAGE,
): AsyncGenerator<string> {
  let after: { at: number; id: string } | null = null;
  for (;;) {
    const cursor: { at: number; id: string } | null = after;
    let query = db
      .selectFrom('decisions')
      .select(['id', 'created_at', 'statement'])
      .where('statement', 'is not', null)
      .where('created_at', '>=', range.from)
      .where('created_at', '<', range.to);
    if (cursor) {
      query = query.where((eb) =>
        eb.or([eb('created_at', '>', cursor.at), eb.and([eb('created_at', '=', cursor.at), eb('id', '>', cursor.id)])]),
      );
    }
    const rows = await query.orderBy('created_at').orderBy('id').limit(pageSize).execute();
    let chunk = '';
    for (const row of rows) {
      let statement: unknown;
      try {
        statement = JSON.parse(row.statement as string);
      } catch {
        onInvalid(row.id, [{ path: '/', code: 'malformed_json', message: 'the stored statement is not JSON' }]);
        continue;
      }
      const problems = validateStatement(statement);
      if (problems.length > 0) {
        onInvalid(row.id, problems);
        continue;
      }
      chunk += `${JSON.stringify(statement)}\n`;
    }
    if (chunk) yield chunk;
    const last = rows.at(-1);
    if (rows.length < pageSize || !last) return;
    after = { at: Number(last.created_at), id: last.id };
  }
}
