import http from 'node:http';
import { getLIDModel } from 'fasttext.wasm.js';
import { toConfig } from '../src/config.js';
import { closeContext, createContext } from '../src/context.js';
import type { Dialect } from '../src/db/database.js';
import { createLogger } from '../src/logging.js';
import { type Policy, loadPolicy } from '../src/policy/policy.js';
import { buildScanning } from '../src/scanning/build.js';
import { loadCorpus } from '../src/scanning/classifier/corpus.js';
import { obscenityPredictor } from '../src/scanning/classifier/obscenity-baseline.js';
import { loadTextModel } from '../src/scanning/classifier/text-model.js';
import { LanguageScanner } from '../src/scanning/language.js';
import type { ScanPipeline, VerdictAction } from '../src/scanning/pipeline.js';
import { compileRules, yamlLocator } from '../src/scanning/rules/rules.js';
import type { ScanItem } from '../src/scanning/scanner.js';
import { SCAN_NATS_DEFAULTS, type ScanNatsOptions, runScanNats } from './scan-nats.js';
import type { ScanningPolicy } from '../src/scanning/scanning-policy.js';
import { ClassifierScanner, RulesScanner } from '../src/scanning/text-scanners.js';
import { createPlatformToken, freePort, log, post, serverEnv, startServer, stopServer } from './server.js';
import { type Latency, latency, median, nowMs, percentile, rng } from './stats.js';
import { createBenchDatabase, makeTempDir, removeTempDir, storeSettings, storeVersion } from './store.js';

/**
 * Content scanning: what the default pipeline (language identification, the
 * policy's rules, our linear classifier: `buildScanning(loadPolicy())`) costs
 * per message, against the npm profanity filter `obscenity` on the same
 * messages in the same run.
 *
 * - In-process, one core: a fixed, seeded mix built from the shipped corpus
 *   (mostly chat lines, a tenth posts of up to 4,096 characters, the corpus's
 *   languages, a few harmful) goes through `ScanPipeline.scan`, through each of
 *   its scanners alone, and through obscenity (`obscenityPredictor`, the
 *   baseline of `custos model eval`), in interleaved rounds after an untimed
 *   pass. Messages per CPU-second of this process (process.cpuUsage) and per
 *   wall second, median of the rounds; the time of every single call (hrtime).
 * - HTTP: the real server (bench/server.ts) with a fresh store, one client,
 *   one request at a time, so a response's time is the service time:
 *   `POST /v1/ingest/content` with one item per request (stored, scanned, the
 *   verdict acted on, answered) alternating with `GET /healthz`, the floor of
 *   any request on the same server and machine.
 *
 * Scaling over NATS scan workers (1, 2, …) belongs in `ScanResult.nats`: a
 * measurement of it takes the same messages (`buildScanMix`) and reports
 * `ScanNatsResult` rows, which the table and the docs show when present.
 */

export interface ScanOptions {
  /** Messages in the mix (each timed round scans all of them). */
  messages: number;
  /** Share of posts (500 to `maxChars` characters); the rest are chat lines from the corpus. */
  postShare: number;
  /** Share of messages carrying a harmful corpus example (labelled with a category). */
  harmfulShare: number;
  /** Share of messages posted in public channels (the policy's public thresholds apply). */
  publicShare: number;
  /** Longest post, in characters. */
  maxChars: number;
  /** Seed of the mix. */
  seed: number;
  /** Timed rounds; each runs every method once over the whole mix, in a rotating order. */
  rounds: number;
  /** HTTP: untimed requests of each kind first, then timed ones, one at a time. */
  httpWarmup: number;
  httpRequests: number;
  /** HTTP: accounts the content items are spread over. */
  accounts: number;
}

export const SCAN_DEFAULTS: ScanOptions = {
  messages: 5_000,
  postShare: 0.1,
  harmfulShare: 0.05,
  publicShare: 0.2,
  maxChars: 4096,
  seed: 20261128,
  rounds: 3,
  httpWarmup: 200,
  httpRequests: 2000,
  accounts: 100,
};

/** Issue 4: the default pipeline on one core; per-message latency in-process. */
export const SCAN_TARGET = { perCoreMessagesPerSecond: 20_000, p99Ms: 5 };

/** What is timed in-process. `pipeline` is the default pipeline; the three parts are its scanners alone. */
export const SCAN_METHODS = ['pipeline', 'language', 'languageWasm', 'rules', 'classifier', 'obscenity'] as const;
export type ScanMethod = (typeof SCAN_METHODS)[number];

export interface ScanMixStats {
  messages: number;
  chatLines: number;
  posts: number;
  harmful: number;
  public: number;
  /** Characters per message. */
  chars: { mean: number; p50: number; p90: number; p99: number; max: number };
  /** Messages per corpus language (of the chat line, or of a post's sentences). */
  languages: Record<string, number>;
  /** The corpus the messages come from: examples, and its data hash. */
  corpus: { examples: number; dataHash: string };
}

export interface ScanMethodResult {
  /** Messages per CPU-second of the process (user + system), median of the rounds. */
  perCpuSecond: number;
  /** Messages per wall-clock second, median of the rounds. */
  perSecond: number;
  /** Per CPU-second, each round. */
  samples: number[];
  /** Every call of every timed round, in milliseconds. */
  latencyMs: Latency;
}

export interface ScanInProcess {
  /** The pipeline's scanners, cheapest first, and their versions. */
  scanners: string[];
  versions: Record<string, string>;
  /** Results written before the WebAssembly row was measured lack `languageWasm`. */
  methods: Record<ScanMethod, ScanMethodResult>;
  /** The pipeline's latencies split: chat lines (up to 200 characters) and posts. */
  pipelineBySize: { chatLines: Latency; posts: Latency };
  /** Pipeline per CPU-second as a share of obscenity per CPU-second. */
  ratio: number;
  /** The pipeline's verdicts over the mix, and the messages obscenity flagged (hate speech or sexual terms). */
  verdicts: Record<VerdictAction, number>;
  obscenityFlagged: number;
}

/** One route through HTTP: sequential requests, one client. */
export interface ScanHttpRoute {
  /** Requests per second of one client waiting for each answer (1 / mean latency). */
  perSecond: number;
  latencyMs: Latency;
}

export interface ScanHttpResult {
  store: Dialect;
  storeVersion: string;
  storeSettings: string;
  /** `POST /v1/ingest/content`, one item per request. */
  ingest: ScanHttpRoute;
  /** `GET /healthz`, alternating with the above. */
  healthz: ScanHttpRoute;
  /** Ingest latency over healthz latency, at p50 and at p99. */
  ratio: { p50: number; p99: number };
  /** Verdicts the timed requests answered. */
  verdicts: Record<VerdictAction, number>;
  /** Scan results in the store afterwards against items answered 200 (warm-up included); complete when equal. */
  stored: { scanResults: number; answered: number; complete: boolean };
}

/** Scan workers on NATS (`custos worker`), messages per second for a number of workers. */
export interface ScanNatsResult {
  workers: number;
  perSecond: number;
  /** Relative to one worker. */
  scaling: number;
  latencyMs?: Latency;
}

export interface ScanResult {
  options: ScanOptions;
  mix: ScanMixStats;
  inProcess: ScanInProcess;
  /** One per store; empty when no store was run. */
  http: ScanHttpResult[];
  /** Scaling over NATS scan workers, when measured. */
  nats?: ScanNatsResult[];
  targetMet: { perCore: boolean; p99: boolean };
}

// ---------------------------------------------------------------- the mix

/** Longest corpus text taken as a chat line. */
const CHAT_MAX_CHARS = 200;
const POST_MIN_CHARS = 500;

export interface ScanMix {
  items: ScanItem[];
  stats: ScanMixStats;
}

const accountId = (n: number) => `a${String(n).padStart(7, '0')}`;

/**
 * The messages, the same on every run: chat lines are corpus texts of up to
 * 200 characters; a post joins benign corpus texts of one language until it is
 * 500 to `maxChars` characters long. A harmful chat line is a labelled
 * example; a harmful post carries one among its sentences. No declared
 * language (language identification decides), one in five public.
 */
export function buildScanMix(options: ScanOptions = SCAN_DEFAULTS): ScanMix {
  const corpus = loadCorpus({ spamAssassin: true });
  const benignChat: { text: string; lang: string }[] = [];
  const harmfulChat: { text: string; lang: string }[] = [];
  const benignByLang = new Map<string, string[]>();
  const harmfulByLang = new Map<string, string[]>();
  const add = (map: Map<string, string[]>, lang: string, text: string) => {
    const list = map.get(lang) ?? [];
    list.push(text);
    map.set(lang, list);
  };
  for (const e of corpus.examples) {
    const harmful = e.labels.length > 0;
    const lang = e.lang.split('-')[0]!;
    if (e.text.length <= CHAT_MAX_CHARS) {
      (harmful ? harmfulChat : benignChat).push({ text: e.text, lang });
      if (harmful) add(harmfulByLang, lang, e.text);
    }
    if (!harmful) add(benignByLang, lang, e.text);
  }
  const r = rng(options.seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(r() * list.length)]!;
  const items: ScanItem[] = [];
  const languages: Record<string, number> = {};
  let posts = 0;
  let harmfulCount = 0;
  let publicCount = 0;
  for (let i = 0; i < options.messages; i++) {
    const harmful = r() < options.harmfulShare;
    const isPost = r() < options.postShare;
    const isPublic = r() < options.publicShare;
    let text: string;
    let lang: string;
    if (isPost) {
      lang = pick(benignChat).lang; // languages in the corpus's proportions
      const sentences = benignByLang.get(lang)!;
      const target = POST_MIN_CHARS + Math.floor(r() * (options.maxChars - POST_MIN_CHARS + 1));
      const parts: string[] = [];
      let size = 0;
      while (size < target) {
        const s = pick(sentences);
        parts.push(s);
        size += s.length + 1;
      }
      const bad = harmfulByLang.get(lang);
      if (harmful && bad) parts.splice(Math.floor(r() * parts.length), 0, pick(bad));
      text = parts.join(r() < 0.5 ? '\n' : ' ').slice(0, options.maxChars);
      posts++;
    } else {
      const e = pick(harmful ? harmfulChat : benignChat);
      text = e.text;
      lang = e.lang;
    }
    if (harmful) harmfulCount++;
    if (isPublic) publicCount++;
    languages[lang] = (languages[lang] ?? 0) + 1;
    items.push({
      id: `m${String(i).padStart(7, '0')}`,
      accountId: accountId(i % options.accounts),
      kind: 'text',
      text,
      image: null,
      public: isPublic,
      language: null,
    });
  }
  // Through JSON, as messages arrive over HTTP: flat strings, not the ropes that joining builds.
  const texts = JSON.parse(JSON.stringify(items.map((m) => m.text))) as string[];
  items.forEach((m, i) => {
    m.text = texts[i]!;
  });
  const lengths = texts.map((t) => t.length);
  const sortedLanguages = Object.fromEntries(Object.entries(languages).sort((a, b) => b[1] - a[1]));
  return {
    items,
    stats: {
      messages: items.length,
      chatLines: items.length - posts,
      posts,
      harmful: harmfulCount,
      public: publicCount,
      chars: {
        mean: Math.round(lengths.reduce((a, b) => a + b, 0) / lengths.length),
        p50: percentile(lengths, 50),
        p90: percentile(lengths, 90),
        p99: percentile(lengths, 99),
        max: Math.max(...lengths),
      },
      languages: sortedLanguages,
      corpus: { examples: corpus.examples.length, dataHash: corpus.dataHash },
    },
  };
}

// ---------------------------------------------------------------- in-process

interface Pass {
  cpuSeconds: number;
  wallSeconds: number;
}

/** One pass over the mix, timing every call; `times` receives the milliseconds of each. */
async function timedPass(
  items: readonly ScanItem[],
  run: (item: ScanItem) => unknown,
  isAsync: boolean,
  times: number[] | undefined,
): Promise<Pass> {
  const cpu0 = process.cpuUsage();
  const wall0 = nowMs();
  for (const item of items) {
    const t0 = nowMs();
    if (isAsync) await run(item);
    else run(item);
    times?.push(nowMs() - t0);
  }
  const wall = nowMs() - wall0;
  const cpu = process.cpuUsage(cpu0);
  return { cpuSeconds: (cpu.user + cpu.system) / 1e6, wallSeconds: wall / 1000 };
}

/**
 * Language identification as the package fasttext.wasm.js does it (fastText's C++ in
 * WebAssembly, the same lid.176.ftz), prepared and judged as `LanguageScanner.identify`
 * does: the baseline of our TypeScript predictor.
 */
async function wasmLanguage(): Promise<(item: ScanItem) => string | null> {
  type Vector = { size(): number; get(i: number): [number, string]; delete(): void };
  const model = (await (await getLIDModel()).load()) as unknown as {
    predict(text: string, k: number, threshold: number): Vector;
  };
  return (item) => {
    const line = item.text!.slice(0, 160).replace(/\s+/g, ' ').trim();
    if (!/\p{L}/u.test(line)) return null;
    const vector = model.predict(line, 1, 0);
    try {
      if (vector.size() === 0) return null;
      const [confidence, label] = vector.get(0);
      return confidence < 0.3 ? null : label.replace('__label__', '');
    } finally {
      vector.delete();
    }
  };
}

/** Messages each part alone scans untimed before the rounds (the pipeline and obscenity scan the whole mix). */
const WARMUP_MESSAGES = 2000;

interface Method {
  name: ScanMethod;
  run: (item: ScanItem) => unknown;
  isAsync: boolean;
  /** The items it scans (the rules see the language found first, as in the pipeline). */
  items: readonly ScanItem[];
}

async function measureInProcess(
  policy: Policy,
  built: { scanner: ScanPipeline; scanning: ScanningPolicy },
  mix: ScanMix,
  options: ScanOptions,
): Promise<ScanInProcess> {
  const { scanner: pipeline, scanning } = built;
  // The pipeline's scanners again, built as buildScanning builds them, to time each alone.
  const language = await LanguageScanner.load();
  const rules = new RulesScanner(
    compileRules(scanning.section, {
      categories: Object.keys(policy.document.categories),
      locate: yamlLocator(policy.source),
      limits: { maxChars: scanning.maxTextChars },
    }),
  );
  const classifier = new ClassifierScanner(loadTextModel());
  const expected = ['language', 'rules', 'classifier'];
  if (pipeline.scannerNames.join() !== expected.join()) {
    throw new Error(`the default pipeline runs ${pipeline.scannerNames.join(', ')}, not ${expected.join(', ')}`);
  }
  const obscenity = obscenityPredictor();
  const languageWasm = await wasmLanguage();

  // Untimed, over the whole mix: the pipeline's verdicts and the language its rules saw (the one it reports),
  // obscenity's flags. Then the parts alone on the first messages: every method is warm before the rounds.
  const verdicts: Record<VerdictAction, number> = { allow: 0, review: 0, remove: 0 };
  const versions: Record<string, string> = {};
  let obscenityFlagged = 0;
  const withLanguage: ScanItem[] = [];
  for (const item of mix.items) {
    const verdict = await pipeline.scan(item);
    verdicts[verdict.action]++;
    Object.assign(versions, verdict.versions);
    withLanguage.push({ ...item, language: verdict.language });
    if ([...obscenity(item.text!)].length > 0) obscenityFlagged++;
    // The package's own build of fastText must find what ours finds (test/fasttext.test.ts checks the corpus too).
    const ours = language.identify(item.text!)?.language ?? null;
    if (languageWasm(item) !== ours) throw new Error(`fastText builds disagree on ${JSON.stringify(item.text)}`);
  }
  for (const item of withLanguage.slice(0, WARMUP_MESSAGES)) {
    language.scan(item);
    languageWasm(item);
    rules.scan(item);
    classifier.scan(item);
  }

  const methods: Method[] = [
    { name: 'pipeline', run: (item) => pipeline.scan(item), isAsync: true, items: mix.items },
    { name: 'language', run: (item) => language.scan(item), isAsync: false, items: mix.items },
    { name: 'languageWasm', run: languageWasm, isAsync: false, items: mix.items },
    { name: 'rules', run: (item) => rules.scan(item), isAsync: false, items: withLanguage },
    { name: 'classifier', run: (item) => classifier.scan(item), isAsync: false, items: mix.items },
    { name: 'obscenity', run: (item) => obscenity(item.text!), isAsync: false, items: mix.items },
  ];
  const passes = new Map<ScanMethod, Pass[]>(methods.map((m) => [m.name, []]));
  const times = new Map<ScanMethod, number[]>(methods.map((m) => [m.name, []]));
  for (let round = 0; round < options.rounds; round++) {
    // A rotating order, so that no method always runs right after the same other one.
    for (let k = 0; k < methods.length; k++) {
      const m = methods[(round + k) % methods.length]!;
      passes.get(m.name)!.push(await timedPass(m.items, m.run, m.isAsync, times.get(m.name)));
    }
    log(`scan: in-process round ${round + 1} of ${options.rounds}`);
  }

  const results = {} as Record<ScanMethod, ScanMethodResult>;
  for (const m of methods) {
    const ps = passes.get(m.name)!;
    const perCpu = ps.map((p) => Math.round(m.items.length / p.cpuSeconds));
    results[m.name] = {
      perCpuSecond: Math.round(median(perCpu)),
      perSecond: Math.round(median(ps.map((p) => m.items.length / p.wallSeconds))),
      samples: perCpu,
      latencyMs: latency(times.get(m.name)!),
    };
  }
  // Every pass runs over the mix in order, so the n-th time is that of message n modulo the mix's size.
  const pipelineTimes = times.get('pipeline')!;
  const ofPosts = (post: boolean) =>
    latency(pipelineTimes.filter((_, i) => mix.items[i % mix.items.length]!.text!.length > CHAT_MAX_CHARS === post));
  return {
    scanners: pipeline.scannerNames,
    versions,
    methods: results,
    pipelineBySize: { chatLines: ofPosts(false), posts: ofPosts(true) },
    ratio: Math.round((results.pipeline.perCpuSecond / results.obscenity.perCpuSecond) * 1000) / 1000,
    verdicts,
    obscenityFlagged,
  };
}

// ---------------------------------------------------------------- HTTP

interface Answer {
  status: number;
  body: string;
  ms: number;
}

/** One request on the kept-alive connection; the time runs until the last byte of the answer. */
function request(
  agent: http.Agent,
  port: number,
  method: 'GET' | 'POST',
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const t0 = nowMs();
    const req = http.request({ host: '127.0.0.1', port, method, path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const ms = nowMs() - t0;
        resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8'), ms });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

export async function runScanHttp(
  dialect: Dialect,
  items: readonly ScanItem[],
  options: ScanOptions = SCAN_DEFAULTS,
): Promise<ScanHttpResult> {
  const dataDir = makeTempDir();
  const database = dialect === 'postgres' ? await createBenchDatabase() : undefined;
  try {
    return await measureHttp(dialect, dataDir, database?.url, items, options);
  } finally {
    removeTempDir(dataDir);
    await database?.drop();
  }
}

async function measureHttp(
  dialect: Dialect,
  dataDir: string,
  databaseUrl: string | undefined,
  items: readonly ScanItem[],
  options: ScanOptions,
): Promise<ScanHttpResult> {
  const { env, custos } = serverEnv(dataDir, databaseUrl);
  const token = await createPlatformToken(env);
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startServer(env, port);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  try {
    const accounts = Array.from({ length: options.accounts }, (_, n) => ({ id: accountId(n) }));
    await post(origin, token, '/v1/ingest/accounts', { accounts });
    log(
      `scan: ${dialect}: server on port ${port}; ${options.httpWarmup} + ${options.httpRequests} requests of each kind`,
    );

    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const createdAt = new Date(Date.now() - 60_000).toISOString();
    const ingestMs: number[] = [];
    const healthzMs: number[] = [];
    const verdicts: Record<VerdictAction, number> = { allow: 0, review: 0, remove: 0 };
    let answered = 0;
    const total = options.httpWarmup + options.httpRequests;
    for (let i = 0; i < total; i++) {
      const timed = i >= options.httpWarmup;
      const m = items[i % items.length]!;
      const body = JSON.stringify({
        items: [
          {
            id: `h${String(i).padStart(7, '0')}`,
            accountId: m.accountId,
            kind: 'text',
            text: m.text,
            createdAt,
            public: m.public,
          },
        ],
      });
      const ingest = await request(agent, port, 'POST', '/v1/ingest/content', headers, body);
      if (ingest.status !== 200)
        throw new Error(`POST /v1/ingest/content answered ${ingest.status}: ${ingest.body.slice(0, 300)}`);
      answered++;
      const health = await request(agent, port, 'GET', '/healthz', {});
      if (health.status !== 200) throw new Error(`GET /healthz answered ${health.status}`);
      if (!timed) continue;
      ingestMs.push(ingest.ms);
      healthzMs.push(health.ms);
      const action = (JSON.parse(ingest.body) as { results: { verdict?: { action: VerdictAction } }[] }).results[0]
        ?.verdict?.action;
      if (action) verdicts[action]++;
    }
    agent.destroy();
    if (server.child.exitCode !== null) throw new Error(`the server died:\n${server.output()}`);
    await stopServer(server);

    // What the store holds afterwards, through a store opened as Custos opens it.
    const config = toConfig(custos, { logLevel: 'silent' });
    const ctx = await createContext(config, { logger: createLogger('silent'), migrate: false });
    try {
      const db = ctx.store.db;
      const row = await db
        .selectFrom('scan_results')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .executeTakeFirstOrThrow();
      const scanResults = Number(row.n);
      const route = (ms: number[]): ScanHttpRoute => {
        const l = latency(ms);
        return { perSecond: Math.round(1000 / l.mean), latencyMs: l };
      };
      const ingest = route(ingestMs);
      const healthz = route(healthzMs);
      const ratio = (a: number, b: number) => Math.round((a / b) * 100) / 100;
      return {
        store: dialect,
        storeVersion: await storeVersion(db, dialect),
        storeSettings: await storeSettings(db, dialect),
        ingest,
        healthz,
        ratio: {
          p50: ratio(ingest.latencyMs.p50, healthz.latencyMs.p50),
          p99: ratio(ingest.latencyMs.p99, healthz.latencyMs.p99),
        },
        verdicts,
        stored: { scanResults, answered, complete: scanResults === answered },
      };
    } finally {
      await closeContext(ctx);
    }
  } finally {
    agent.destroy();
    await stopServer(server);
  }
}

// ---------------------------------------------------------------- the whole benchmark

export async function runScanBench(
  stores: readonly Dialect[],
  options: ScanOptions = SCAN_DEFAULTS,
  /** Workers on PostgreSQL and NATS (bench/scan-nats.ts); null to leave out. */
  nats: ScanNatsOptions | null = SCAN_NATS_DEFAULTS,
): Promise<ScanResult> {
  log('scan: building the mix from the corpus');
  const mix = buildScanMix(options);
  const policy = loadPolicy();
  const built = await buildScanning(policy);
  log(`scan: ${mix.stats.messages.toLocaleString('en')} messages, in-process, ${options.rounds} rounds`);
  const inProcess = await measureInProcess(policy, built, mix, options);
  const http: ScanHttpResult[] = [];
  for (const store of stores) {
    log(`scan: HTTP on ${store}`);
    http.push(await runScanHttp(store, mix.items, options));
  }
  const natsRows = nats && stores.includes('postgres') ? await runScanNats(mix.items, nats) : undefined;
  const pipeline = inProcess.methods.pipeline;
  return {
    options,
    mix: mix.stats,
    inProcess,
    http,
    ...(natsRows ? { nats: natsRows } : {}),
    targetMet: {
      perCore: pipeline.perCpuSecond >= SCAN_TARGET.perCoreMessagesPerSecond,
      p99: pipeline.latencyMs.p99 <= SCAN_TARGET.p99Ms,
    },
  };
}
