import type { DsaFigures } from './dsa-figures.js';

/**
 * The DSA figures as one long table, one figure per row, so that a spreadsheet
 * opens it as it is and a pivot table or a filter on `section` gives any view:
 *
 *   year,section,metric,member_state,category,dsa_category,source,value,unit,note
 *   2025,notices,received,,,,,1234,count,"Reports of content …"
 *   2025,notices,received,,spam,STATEMENT_CATEGORY_OTHER_VIOLATION_TC,,56,count,
 *
 * `section` and `metric` are the JSON's keys in snake_case (`notices.byCategory[].received`
 * is section `notices`, metric `received` with its `category`); the breakdown a row
 * belongs to is in the dimension columns, empty for a total. Units: `count` (exact, or
 * a range such as "1–9" below the minimum published count), `seconds`, `ratio`
 * (0 to 1); an empty value is a median or share with nothing to measure. The first
 * rows (section `report`) say which year and when. Notes sit on the total they
 * explain. UTF-8 with a byte-order mark, which spreadsheet programs need to read the
 * range's dash; lines end in CRLF (RFC 4180).
 */
export const CSV_COLUMNS = [
  'year',
  'section',
  'metric',
  'member_state',
  'category',
  'dsa_category',
  'source',
  'value',
  'unit',
  'note',
] as const;

/** The sections of the figures, in the order of the report. */
const SECTIONS = [
  'ordersToAct',
  'ordersToProvideInformation',
  'notices',
  'ownInitiativeActions',
  'appeals',
  'automatedRemovals',
] as const satisfies readonly (keyof DsaFigures)[];

/** Fields of a breakdown's rows that say which part a row is; every other field is a figure. */
const DIMENSIONS: Record<string, (typeof CSV_COLUMNS)[number]> = {
  memberState: 'member_state',
  category: 'category',
  dsaCategory: 'dsa_category',
  source: 'source',
};

type Row = Partial<Record<(typeof CSV_COLUMNS)[number], string>>;

export function dsaFiguresCsv(f: DsaFigures): string {
  const note = (about: string) => f.notes.find((n) => n.about === about)?.text;
  const rows: Row[] = [
    { section: 'report', metric: 'from', value: f.from, unit: 'date-time' },
    {
      section: 'report',
      metric: 'to',
      value: f.to,
      unit: 'date-time',
      note: 'Exclusive: the first instant after the year.',
    },
    { section: 'report', metric: 'complete', value: String(f.complete), unit: 'boolean', note: note('complete') },
    { section: 'report', metric: 'generated_at', value: f.generatedAt, unit: 'date-time' },
    {
      section: 'report',
      metric: 'minimum_published_count',
      value: String(f.minimumPublishedCount),
      unit: 'count',
      note: note('minimumPublishedCount'),
    },
  ];
  for (const key of SECTIONS) {
    const section = snake(key);
    for (const [field, value] of Object.entries(f[key])) {
      if (!Array.isArray(value)) {
        rows.push({ section, metric: snake(field), ...figure(field, value), note: note(`${key}.${field}`) });
        continue;
      }
      for (const part of value as Record<string, unknown>[]) {
        const dims: Row = {};
        for (const [k, column] of Object.entries(DIMENSIONS)) if (k in part) dims[column] = String(part[k] ?? '');
        for (const [k, v] of Object.entries(part)) {
          if (!(k in DIMENSIONS)) rows.push({ section, metric: snake(k), ...dims, ...figure(k, v) });
        }
      }
    }
  }
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of rows)
    lines.push(CSV_COLUMNS.map((c) => cell(c === 'year' ? String(f.year) : (r[c] ?? ''))).join(','));
  return `\uFEFF${lines.join('\r\n')}\r\n`;
}

function figure(field: string, value: unknown): Row {
  const unit = field.endsWith('Seconds') ? 'seconds' : field.startsWith('share') ? 'ratio' : 'count';
  return { value: value === null || value === undefined ? '' : String(value), unit };
}

function snake(key: string): string {
  return key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
}

/** RFC 4180 quoting; a text that a spreadsheet would run as a formula is prefixed with '. */
function cell(value: string): string {
  const safe = /^[=+\-@\t\r]/.test(value) && !/^-?[0-9.]+$/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}
