import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Dialect } from '../src/db/database.js';
import {
  type BenchmarkName,
  type ResultsFile,
  type RunInfo,
  describeCode,
  describeMachine,
  formatGrowth,
  formatIngest,
  formatIntake,
  formatLegal,
  formatLookup,
  formatMachine,
  formatQueue,
  formatScan,
  formatTransparency,
  loadAverage,
  QUICK_RESULTS_DIR,
  RESULTS_DIR,
  saveResults,
  writeBenchmarksDoc,
} from './report.js';
import { INGEST_DEFAULTS, type IngestOptions, type IngestResult, runIngest } from './session-ingest.js';
import { LOOKUP_DEFAULTS, type LookupOptions, type LookupResult, runLookup } from './session-lookup.js';
import { INTAKE_DEFAULTS, type IntakeOptions, type IntakeResult, runIntake } from './report-intake.js';
import { QUEUE_DEFAULTS, type QueueOptions, type QueueResult, runQueue } from './queue-listing.js';
import { SCAN_DEFAULTS, type ScanOptions, runScanBench } from './content-scanning.js';
import { formatImages, runImagesBench } from './images.js';
import { LEGAL_DEFAULTS, type LegalOptions, type LegalResult, runLegal } from './legal.js';
import {
  TRANSPARENCY_DEFAULTS,
  type TransparencyOptions,
  type TransparencyResult,
  runTransparency,
} from './transparency.js';
import { GROWTH_SIZES, runGrowth } from './growth.js';
import { killChildrenNow } from './server.js';
import { removeLeftovers, removeTempFoldersNow } from './store.js';

const USAGE = `Usage: npm run bench -- [ingest|lookup|intake|queue|scan|images|legal|transparency|growth ...] [options]

Runs the benchmarks (all of them when none is named) against SQLite and PostgreSQL,
prints the figures, writes the results file and regenerates docs/BENCHMARKS.md.

By default the tables are small enough for the whole suite to finish in under ten
minutes on two cores, and the results go to bench/results/quick/<date>.json. With
--full every benchmark runs at the sizes of the issues' targets (10 million
sessions, accounts, hashes and decisions: about an hour and a half, and tens of
GiB of disk) and the results go to bench/results/<date>.json, which the targets
on docs/BENCHMARKS.md are judged by.

  --full                    the issues' sizes (see above); the options below still override

growth (named, or part of --full) times the disclosure lookup, the queue, report
intake, the transparency reports, hash matching and content scanning at three sizes
each (quick: ${GROWTH_SIZES.quick.store.map((n) => n.toLocaleString('en')).join(', ')} rows; --full: ${GROWTH_SIZES.full.store.map((n) => n.toLocaleString('en')).join(', ')}; hashes and policy
keywords likewise) and draws a chart of each on docs/BENCHMARKS.md.

  --store sqlite|postgres   one store only (default: both)
  --sessions N              rows in the lookup table (default ${LOOKUP_DEFAULTS.sessions.toLocaleString('en')})
  --lookups N               timed lookups per method, sessions and legal's phone numbers (default ${LOOKUP_DEFAULTS.lookups})
  --batch-size N            sessions per ingest batch, at most 10,000 (default ${INGEST_DEFAULTS.batchSize})
  --samples N               ingest samples per method, median reported (default ${INGEST_DEFAULTS.samples})
  --connections N           intake: concurrent connections of the load generator (default ${INTAKE_DEFAULTS.connections})
  --duration S              intake: timed seconds of reports after the warm-up (default ${INTAKE_DEFAULTS.durationSeconds})
  --cpu-prof DIR            intake: run the server with --cpu-prof, profiles written to DIR (not saved unless --save)
  --cases N                 queue: open cases in the table (default ${QUEUE_DEFAULTS.cases.toLocaleString('en')})
  --calls N                 queue: timed calls per query, at most (default ${QUEUE_DEFAULTS.calls})
  --messages N              scan: messages in the in-process mix, at most 30,000 (default ${SCAN_DEFAULTS.messages.toLocaleString('en')})
  --requests N              scan: timed HTTP requests per route (default ${SCAN_DEFAULTS.httpRequests.toLocaleString('en')})
  --accounts N              legal: accounts in the phone lookup table (default ${LEGAL_DEFAULTS.accounts.toLocaleString('en')})
  --package-sessions N      legal: sessions in the period per package, one target's or shared (default ${LEGAL_DEFAULTS.packageSessions.toLocaleString('en')})
  --targets N               legal: targets of the many-target order, at most 100 (default ${LEGAL_DEFAULTS.targets})
  --repetitions N           legal: timed packages per order shape, median reported (default ${LEGAL_DEFAULTS.repetitions});
                            transparency: timed calls per report after the first (default ${TRANSPARENCY_DEFAULTS.repetitions})
  --orders N                transparency: legal orders over ${TRANSPARENCY_DEFAULTS.years} years (default ${TRANSPARENCY_DEFAULTS.orders.toLocaleString('en')})
  --decisions N             transparency: moderation decisions over the same years (default ${TRANSPARENCY_DEFAULTS.decisions.toLocaleString('en')})
  --save                    write results even though sizes differ from the defaults
  --no-save                 print only; write no results file and leave the docs alone

A run with non-default sizes (say --sessions 1000000 or --cases 100000 for a quick look) prints its
figures but writes nothing unless --save is given, so it cannot replace the
recorded figures by accident. PostgreSQL: CUSTOS_BENCH_PG_URL (default
postgres://postgres@127.0.0.1:5432/test).`;

const NAMES: Record<string, BenchmarkName> = {
  ingest: 'ingest',
  'session-ingest': 'ingest',
  lookup: 'lookup',
  'session-lookup': 'lookup',
  intake: 'intake',
  'report-intake': 'intake',
  queue: 'queue',
  'queue-listing': 'queue',
  scan: 'scan',
  scanning: 'scan',
  'content-scanning': 'scan',
  images: 'images',
  hashes: 'images',
  pdq: 'images',
  legal: 'legal',
  disclosure: 'legal',
  'legal-requests': 'legal',
  transparency: 'transparency',
  reports: 'transparency',
  growth: 'growth',
};

/** Bytes a lookup table takes per session row, indexes and WAL included, with room to spare. */
const BYTES_PER_SESSION = 500;
/** Bytes the queue table takes per case, indexes and the sort's temporary files included, with room to spare. */
const BYTES_PER_CASE = 1000;
/** Bytes the phone lookup table takes per account, indexes included, with room to spare. */
const BYTES_PER_ACCOUNT = 500;
/** Bytes transparency's store takes per legal order and per decision (their rows and indexes), with room to spare. */
const BYTES_PER_ORDER = 4500;
const BYTES_PER_DECISION = 6000;

/**
 * The default run's sizes: every benchmark at a size that keeps the whole suite
 * under ten minutes on two cores. `--full` runs the issues' sizes (the *_DEFAULTS).
 */
export const QUICK_SIZES = {
  lookup: { sessions: 200_000, lookups: 1000 },
  intake: { durationSeconds: 10, warmupSeconds: 3, healthzSeconds: 4 },
  queue: { cases: 100_000, calls: 200, deepOffset: 5_000 },
  scan: { httpRequests: 1000 },
  legal: { accounts: 200_000, packageSessions: 20_000, repetitions: 3, lookups: 1000 },
  transparency: { orders: 20_000, decisions: 200_000, repetitions: 3, budgetSeconds: 30 },
  matcherSizes: [10_000, 100_000, 1_000_000],
};

/** A mistake on the command line: reported in one line, without a stack. */
class UsageError extends Error {}

function positiveInt(name: string, value: string | undefined, fallback: number, max = Number.MAX_SAFE_INTEGER) {
  if (value === undefined) return fallback;
  const n = Number(value.replaceAll('_', ''));
  if (!Number.isInteger(n) || n < 1 || n > max)
    throw new UsageError(`--${name} must be a whole number from 1 to ${max}`);
  return n;
}

function parseCommandLine() {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        store: { type: 'string' },
        sessions: { type: 'string' },
        lookups: { type: 'string' },
        'batch-size': { type: 'string' },
        samples: { type: 'string' },
        connections: { type: 'string' },
        duration: { type: 'string' },
        'cpu-prof': { type: 'string' },
        cases: { type: 'string' },
        calls: { type: 'string' },
        messages: { type: 'string' },
        requests: { type: 'string' },
        accounts: { type: 'string' },
        'package-sessions': { type: 'string' },
        targets: { type: 'string' },
        repetitions: { type: 'string' },
        orders: { type: 'string' },
        decisions: { type: 'string' },
        save: { type: 'boolean' },
        'no-save': { type: 'boolean' },
        full: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}

async function main(): Promise<number> {
  const { values, positionals } = parseCommandLine();
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const unknown = positionals.filter((p) => !(p in NAMES));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown benchmark ${unknown.join(', ')} (known: ingest, lookup, intake, queue, scan, images, legal, transparency, growth)`,
    );
  }
  const selected: BenchmarkName[] = positionals.length
    ? [...new Set(positionals.map((p) => NAMES[p] as BenchmarkName))]
    : ['ingest', 'lookup', 'intake', 'queue', 'scan', 'images', 'legal', 'transparency'];
  // Growth runs every size-dependent path three times over: named, or in the full run.
  if (values.full && positionals.length === 0) selected.push('growth');
  if (values.store && values.store !== 'sqlite' && values.store !== 'postgres') {
    throw new UsageError('--store must be sqlite or postgres');
  }
  const stores: Dialect[] = values.store ? [values.store as Dialect] : ['sqlite', 'postgres'];

  const full = values.full === true;
  const sized = QUICK_SIZES;
  const base = {
    ingest: INGEST_DEFAULTS,
    lookup: full ? LOOKUP_DEFAULTS : { ...LOOKUP_DEFAULTS, ...sized.lookup },
    intake: full ? INTAKE_DEFAULTS : { ...INTAKE_DEFAULTS, ...sized.intake },
    queue: full ? QUEUE_DEFAULTS : { ...QUEUE_DEFAULTS, ...sized.queue },
    scan: full ? SCAN_DEFAULTS : { ...SCAN_DEFAULTS, ...sized.scan },
    legal: full ? LEGAL_DEFAULTS : { ...LEGAL_DEFAULTS, ...sized.legal },
    transparency: full ? TRANSPARENCY_DEFAULTS : { ...TRANSPARENCY_DEFAULTS, ...sized.transparency },
  };
  const imageSizes = full ? undefined : sized.matcherSizes;
  const ingestOptions: IngestOptions = {
    ...INGEST_DEFAULTS,
    batchSize: positiveInt('batch-size', values['batch-size'], INGEST_DEFAULTS.batchSize, 10_000),
    samples: positiveInt('samples', values.samples, INGEST_DEFAULTS.samples),
  };
  const lookupOptions: LookupOptions = {
    ...base.lookup,
    sessions: positiveInt('sessions', values.sessions, base.lookup.sessions),
    lookups: positiveInt('lookups', values.lookups, base.lookup.lookups),
  };
  const intakeOptions: IntakeOptions = {
    ...base.intake,
    connections: positiveInt('connections', values.connections, base.intake.connections, 1000),
    durationSeconds: positiveInt('duration', values.duration, base.intake.durationSeconds, 3600),
    ...(values['cpu-prof'] ? { cpuProfDir: values['cpu-prof'] } : {}),
  };
  const queueOptions: QueueOptions = {
    ...base.queue,
    cases: positiveInt('cases', values.cases, base.queue.cases),
    calls: positiveInt('calls', values.calls, base.queue.calls),
  };
  const scanOptions: ScanOptions = {
    ...base.scan,
    messages: positiveInt('messages', values.messages, base.scan.messages, 30_000),
    httpRequests: positiveInt('requests', values.requests, base.scan.httpRequests, 100_000),
  };
  const legalOptions: LegalOptions = {
    ...base.legal,
    accounts: positiveInt('accounts', values.accounts, base.legal.accounts, 100_000_000),
    packageSessions: positiveInt('package-sessions', values['package-sessions'], base.legal.packageSessions),
    targets: positiveInt('targets', values.targets, base.legal.targets, 100),
    repetitions: positiveInt('repetitions', values.repetitions, base.legal.repetitions, 100),
    lookups: positiveInt('lookups', values.lookups, base.legal.lookups),
  };
  const transparencyOptions: TransparencyOptions = {
    ...base.transparency,
    orders: positiveInt('orders', values.orders, base.transparency.orders, 100_000_000),
    decisions: positiveInt('decisions', values.decisions, base.transparency.decisions, 1_000_000_000),
    repetitions: positiveInt('repetitions', values.repetitions, base.transparency.repetitions, 100),
  };
  const defaults =
    JSON.stringify(transparencyOptions) === JSON.stringify(base.transparency) &&
    JSON.stringify(legalOptions) === JSON.stringify(base.legal) &&
    JSON.stringify(ingestOptions) === JSON.stringify(base.ingest) &&
    JSON.stringify(scanOptions) === JSON.stringify(base.scan) &&
    JSON.stringify(lookupOptions) === JSON.stringify(base.lookup) &&
    JSON.stringify(intakeOptions) === JSON.stringify(base.intake) &&
    JSON.stringify(queueOptions) === JSON.stringify(base.queue);
  const save = !values['no-save'] && (defaults || values.save === true);

  console.log(
    `Custos benchmarks${full ? ' at full size' : " (quick sizes; --full for the issues' sizes)"}: ${selected.join(', ')} on ${stores.join(', ')}`,
  );
  console.log(formatMachine(describeMachine()));
  console.log('');

  const removed = await removeLeftovers(stores);
  if (removed.length) console.error(`  removed leftovers of interrupted runs: ${removed.join(', ')}`);
  const need =
    (selected.includes('lookup') ? lookupOptions.sessions * BYTES_PER_SESSION : 0) +
    (selected.includes('queue') ? queueOptions.cases * BYTES_PER_CASE : 0) +
    (selected.includes('legal') ? legalOptions.accounts * BYTES_PER_ACCOUNT : 0) +
    (selected.includes('transparency')
      ? transparencyOptions.orders * BYTES_PER_ORDER + transparencyOptions.decisions * BYTES_PER_DECISION
      : 0);
  if (need > 0) checkDiskSpace(need);

  const started = Date.now();
  const loadAtStart = loadAverage();
  if (loadAtStart > os.cpus().length / 2) {
    console.error(`  note: load average is ${loadAtStart} on ${os.cpus().length} cores; figures will be noisy`);
  }
  const fresh: ResultsFile['benchmarks'] = {};
  if (selected.includes('ingest')) {
    const results: IngestResult[] = [];
    for (const store of stores) {
      console.error(`  ingest: ${store}…`);
      results.push(await runIngest(store, ingestOptions));
    }
    fresh.ingest = results;
    console.log(`${formatIngest(results)}\n`);
  }
  if (selected.includes('lookup')) {
    const results: LookupResult[] = [];
    for (const store of stores) {
      console.error(`  lookup: ${store}…`);
      results.push(await runLookup(store, lookupOptions));
    }
    fresh.lookup = results;
    console.log(`${formatLookup(results)}\n`);
  }
  if (selected.includes('intake')) {
    const results: IntakeResult[] = [];
    for (const store of stores) {
      console.error(`  intake: ${store}…`);
      results.push(await runIntake(store, intakeOptions));
    }
    fresh.intake = results;
    console.log(`${formatIntake(results)}\n`);
  }
  if (selected.includes('queue')) {
    const results: QueueResult[] = [];
    for (const store of stores) {
      console.error(`  queue: ${store}…`);
      results.push(await runQueue(store, queueOptions));
    }
    fresh.queue = results;
    console.log(`${formatQueue(results)}\n`);
  }
  if (selected.includes('scan')) {
    console.error(`  scan: in-process, then HTTP on ${stores.join(', ')}…`);
    fresh.scan = await runScanBench(stores, scanOptions);
    console.log(`${formatScan(fresh.scan)}\n`);
  }
  if (selected.includes('images')) {
    const sizes = (imageSizes ?? [100_000, 1_000_000, 10_000_000]).map((n) => n.toLocaleString('en')).join(', ');
    console.error(`  images: PDQ hashing, then the matcher at ${sizes} hashes…`);
    fresh.images = await runImagesBench(imageSizes ? { sizes: imageSizes } : {});
    console.log(`${formatImages(fresh.images)}\n`);
  }
  if (selected.includes('legal')) {
    const results: LegalResult[] = [];
    for (const store of stores) {
      console.error(`  legal: ${store}: disclosure packages, then phone lookup among accounts…`);
      results.push(await runLegal(store, legalOptions));
    }
    fresh.legal = results;
    console.log(`${formatLegal(results)}\n`);
  }
  if (selected.includes('transparency')) {
    const results: TransparencyResult[] = [];
    for (const store of stores) {
      console.error(`  transparency: ${store}: filling orders and decisions, then timing the reports…`);
      results.push(await runTransparency(store, transparencyOptions));
    }
    fresh.transparency = results;
    console.log(`${formatTransparency(results)}\n`);
  }
  if (selected.includes('growth')) {
    console.error('  growth: the hot paths at three sizes each…');
    fresh.growth = await runGrowth(stores, full ? GROWTH_SIZES.full : GROWTH_SIZES.quick);
    console.log(`${formatGrowth(fresh.growth)}\n`);
  }
  const seconds = Math.round((Date.now() - started) / 1000);
  const run: RunInfo = { code: describeCode(), loadAverage: { start: loadAtStart, end: loadAverage() }, seconds };
  console.log(
    `Done in ${seconds} s (load average ${run.loadAverage.start} → ${run.loadAverage.end}; code ${run.code}).`,
  );

  if (save) {
    const file = saveResults(fresh, run, full ? RESULTS_DIR : QUICK_RESULTS_DIR);
    const doc = writeBenchmarksDoc();
    console.log(
      `Wrote ${path.relative(process.cwd(), file)}${doc ? ` and ${path.relative(process.cwd(), doc)}` : ''}.`,
    );
  } else {
    console.log(
      values['no-save'] ? 'Not saved (--no-save).' : 'Not saved: sizes differ from the defaults (add --save to keep).',
    );
  }
  const missed = [
    ...(fresh.ingest ?? []).filter((r) => !r.targetMet).map((r) => `ingest on ${r.store}`),
    ...(fresh.lookup ?? [])
      .filter((r) => !r.targetMet.sessionsInPeriod || !r.targetMet.readPersonalData)
      .map((r) => `lookup on ${r.store}`),
    ...(fresh.intake ?? []).filter((r) => r.targetMet === false).map((r) => `intake on ${r.store}`),
    ...(fresh.queue ?? []).filter((r) => !r.targetMet).map((r) => `queue on ${r.store}`),
    ...(fresh.scan && !fresh.scan.targetMet.perCore ? ['scan throughput per core'] : []),
    ...(fresh.scan && !fresh.scan.targetMet.p99 ? ['scan p99 in-process'] : []),
    ...(fresh.images && !fresh.images.targetMet.hashing ? ['PDQ images per core'] : []),
    ...(fresh.images && fresh.images.targetMet.p50At1M === false ? ['matcher p50 at 1 million'] : []),
    ...(fresh.images && fresh.images.targetMet.p50At10M === false ? ['matcher p50 at 10 million'] : []),
    ...(fresh.images && fresh.images.targetMet.memory === false ? ['matcher memory per million'] : []),
    ...(fresh.legal ?? []).filter((r) => !r.targetMet.phoneLookupP99).map((r) => `phone lookup on ${r.store}`),
    ...(fresh.transparency ?? [])
      .filter((r) => r.targetMet.quarterPostgres === false)
      .map((r) => `quarter's report on ${r.store}`),
  ];
  const wrong = (fresh.transparency ?? []).filter((r) => r.checked.mismatches.length || r.checked.dsaMismatches.length);
  if (wrong.length)
    console.log(`Transparency figures differing from the data: ${wrong.map((r) => r.store).join(', ')}.`);
  const incomplete = (fresh.intake ?? []).filter((r) => !r.stored.complete).map((r) => r.store);
  if (incomplete.length) console.log(`Reports answered 201 but not stored: ${incomplete.join(', ')}.`);
  const unscanned = (fresh.scan?.http ?? []).filter((r) => !r.stored.complete).map((r) => r.store);
  if (unscanned.length) console.log(`Content answered 200 without a stored scan result: ${unscanned.join(', ')}.`);
  if (missed.length) console.log(`Targets not met: ${missed.join(', ')}.`);
  // Missing a target is a finding, not a failure of the run: exit 0 either way.
  return 0;
}

/** The lookup and queue tables are large; refuse to start rather than fill the disk halfway through. */
function checkDiskSpace(need: number): void {
  const stat = fs.statfsSync(os.tmpdir());
  const free = stat.bavail * stat.bsize;
  if (free < need) {
    throw new Error(
      `${os.tmpdir()} has ${Math.round(free / 2 ** 30)} GiB free; the tables of this run need about ${Math.ceil(need / 2 ** 30)} GiB`,
    );
  }
}

process.on('SIGINT', () => {
  killChildrenNow();
  removeTempFoldersNow();
  console.error('\ninterrupted: temp folders removed; a leftover PostgreSQL schema is dropped by the next run');
  process.exit(130);
});

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
    else console.error(error instanceof Error ? (error.stack ?? error.message) : error);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
