import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import sharp, { type Metadata } from 'sharp';
import { AppError } from '../errors.js';
import { DEFAULT_DECODE_LIMITS, type DecodeLimits } from '../images/decode.js';
import type { CategoryCode } from '../policy/policy.js';
import type { ScanItem, Scanner, Signal } from './scanner.js';

/**
 * An image classifier for sexual content: NSFWJS (`nsfwjs`) on TensorFlow.js with its
 * WebAssembly backend (`@tensorflow/tfjs`, `@tensorflow/tfjs-backend-wasm`). The three
 * packages are optional dependencies: they are loaded only when a model is configured
 * (CUSTOS_NSFW_MODEL), and then only in a worker thread of their own, never in the
 * thread that serves requests. nsfwjs ships its models' weights inside the package,
 * so nothing is downloaded, at install or at run time.
 *
 * Why a thread: the wasm backend runs every kernel synchronously on the thread that
 * calls it, 50-200 ms per picture for the MobileNet models on a 2-core machine and
 * 500-900 ms for InceptionV3; on the event loop that would stall every request for as
 * long. The thread classifies one picture at a time; pictures wait in a bounded queue.
 * Decoding and resizing (sharp) run on libuv's pool, also off the event loop.
 */

/** The models bundled with nsfwjs: folder under its dist/models, input side, graph (vs layers) model. */
export const NSFW_MODELS = {
  /** 2.6 MB of weights, about 90 % accurate by nsfwjs's figures. */
  MobileNetV2: { dir: 'mobilenet_v2', size: 224, graph: false },
  /** 4.3 MB, about 93 %; a graph model, and the fastest of the three on the wasm backend. */
  MobileNetV2Mid: { dir: 'mobilenet_v2_mid', size: 224, graph: true },
  /** 22 MB, 299 × 299 input; several times slower, and about 300 MB more memory. */
  InceptionV3: { dir: 'inception_v3', size: 299, graph: false },
} as const;

export type NsfwModelName = keyof typeof NSFW_MODELS;

/** The model's five classes. Hentai is drawn or animated pornography; Sexy is suggestive but not explicit. */
export interface NsfwScores {
  Drawing: number;
  Hentai: number;
  Neutral: number;
  Porn: number;
  Sexy: number;
}

export type NsfwModelErrorCode = 'runtime_missing' | 'model_unknown' | 'model_corrupt' | 'model_failed';

/** The classifier cannot start or stopped working; the message says which package or model, and why. */
export class NsfwModelError extends Error {
  constructor(
    readonly code: NsfwModelErrorCode,
    /** The model name, or the package name for `runtime_missing`. */
    readonly subject: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(
      code === 'runtime_missing' ? `NSFW image model: ${problem}` : `NSFW image model ${subject}: ${problem}`,
      options,
    );
    this.name = 'NsfwModelError';
  }
}

/** More pictures wait for the classifier than it may queue: 503, try again (the scan job does, with backoff). */
export class NsfwBusyError extends AppError {
  constructor(waiting: number) {
    super('not_ready', `The image classifier has ${waiting} pictures waiting; try again later.`);
    this.name = 'NsfwBusyError';
  }
}

export interface NsfwScannerOptions {
  /** Scanner name in signals and verdict versions. Default `nsfw`. */
  name?: string;
  /** Default 30: an image model costs more than the hashes (1) and an ONNX text model (20). */
  cost?: number;
  /**
   * Category of the signal. Default `sexual_solicitation`: the taxonomy has no code for
   * adult sexual content as such. `csam` and `ncii` are wrong for a model that can tell
   * neither age nor consent (and would send adult pictures to the restricted queue or
   * file them as cyber violence); `other_illegal` is wrong because adult pornography
   * is legal. `sexual_solicitation` is the closest: sexual content, a terms-of-service
   * matter (DSA `STATEMENT_CATEGORY_OTHER_VIOLATION_TC`), the same DSA category an
   * "adult content" code would have.
   */
  category?: CategoryCode;
  /** Pictures that may wait for the classifier; one more is refused with {@link NsfwBusyError}. Default 64. */
  maxWaiting?: number;
  /** Longest one classification may take before the thread counts as stuck and is replaced. Default 30 s. */
  timeoutMs?: number;
  /** Refuse larger pictures, and abort slow decodes, as the hash scanner does. */
  decodeLimits?: Readonly<DecodeLimits>;
  /** Where the optional packages are resolved from (a file path). Default: this file, so Custos's node_modules. */
  resolveFrom?: string;
}

/** Input formats classified; SVG and the rest are not pictures we decode (see images/decode.ts). */
const FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif', 'avif']);
/** A crashed or stuck thread is started again at most this often; in between, scans fail fast. */
const RESTART_INTERVAL_MS = 5000;
const THREAD_FILE = fileURLToPath(new URL('./nsfw-thread.cjs', import.meta.url));

interface ThreadReady {
  version: string;
  packageVersion: string;
  backend: string;
  loadMs: number;
}

interface Job {
  pixels: Uint8Array;
  resolve: (scores: NsfwScores) => void;
  reject: (error: unknown) => void;
}

/** One worker thread holding one loaded model; classifies one picture at a time. */
class NsfwThread {
  private nextId = 1;
  private current: { id: number; job: Job; timer: NodeJS.Timeout } | undefined;
  private stopped = false;

  private constructor(
    private readonly worker: Worker,
    private readonly model: NsfwModelName,
    readonly ready: ThreadReady,
  ) {
    worker.on('message', (message: { id: number; scores?: NsfwScores; error?: string }) => {
      const current = this.current;
      if (!current || current.id !== message.id) return;
      this.settle();
      if (message.scores) current.job.resolve(message.scores);
      else current.job.reject(new NsfwModelError('model_failed', model, `cannot classify (${message.error})`));
    });
    worker.on('error', (error) => this.fail(`crashed (${error.message})`));
    worker.on('exit', (code) => this.fail(`stopped (exit code ${code})`));
    // An idle thread does not keep the process alive; one at work does (see classify).
    worker.unref();
  }

  /** Starts a thread and waits until its model is loaded and has run once. */
  static start(model: NsfwModelName, resolveFrom: string): Promise<NsfwThread> {
    const worker = new Worker(THREAD_FILE, {
      workerData: { resolveFrom, model: { name: model, ...NSFW_MODELS[model] } },
      // Plain CommonJS: without the parent's flags, no TypeScript loader in the thread.
      execArgv: [],
    });
    return new Promise((resolve, reject) => {
      const onExit = (code: number) =>
        reject(new NsfwModelError('model_failed', model, `its thread stopped while loading (exit code ${code})`));
      const onError = (error: Error) =>
        reject(new NsfwModelError('model_failed', model, `its thread crashed while loading (${error.message})`));
      worker.once('exit', onExit);
      worker.once('error', onError);
      worker.once(
        'message',
        (
          message: ThreadReady & {
            type: 'ready' | 'failed';
            code: NsfwModelErrorCode;
            subject: string;
            problem: string;
          },
        ) => {
          worker.off('exit', onExit);
          worker.off('error', onError);
          if (message.type === 'ready') {
            resolve(new NsfwThread(worker, model, message));
            return;
          }
          void worker.terminate();
          reject(
            new NsfwModelError(
              message.code,
              message.subject,
              message.problem === 'not_installed'
                ? `the optional package ${message.subject} is not installed (install without --omit=optional, or unset CUSTOS_NSFW_MODEL)`
                : message.code === 'runtime_missing'
                  ? `the optional package ${message.subject} ${message.problem}`
                  : message.problem,
            ),
          );
        },
      );
    });
  }

  get alive(): boolean {
    return !this.stopped;
  }

  classify(job: Job, timeoutMs: number): void {
    if (this.stopped) {
      job.reject(new NsfwModelError('model_failed', this.model, 'its thread has stopped'));
      return;
    }
    const id = this.nextId++;
    const timer = setTimeout(() => {
      this.fail(`did not answer within ${timeoutMs} ms`);
      void this.worker.terminate();
    }, timeoutMs);
    this.current = { id, job, timer };
    this.worker.ref();
    // The pixels are transferred, not copied: the caller made them for this job alone.
    this.worker.postMessage({ id, pixels: job.pixels, size: NSFW_MODELS[this.model].size }, [
      job.pixels.buffer as ArrayBuffer,
    ]);
  }

  async stop(): Promise<void> {
    this.fail('was stopped');
    await this.worker.terminate();
  }

  private settle(): void {
    if (!this.current) return;
    clearTimeout(this.current.timer);
    this.current = undefined;
    this.worker.unref();
  }

  private fail(problem: string): void {
    if (this.stopped) return;
    this.stopped = true;
    const current = this.current;
    this.settle();
    current?.job.reject(new NsfwModelError('model_failed', this.model, problem));
  }
}

/**
 * A {@link Scanner} over an NSFWJS model. One signal per picture that decodes, scored
 * with P(Porn) + P(Hentai): explicit sexual content, photographed or drawn. `Sexy`
 * (swimwear, underwear, suggestive poses) is not counted: it is not sexual content,
 * and counting it would queue every beach photo; its probability is kept in the
 * signal's detail with the others. The signal's ceiling is review: a picture
 * classifier alone never removes anything. Bytes that do not decode as a picture
 * give no signal (the hash scanner's `image` signal says why).
 */
export class NsfwImageScanner implements Scanner {
  private readonly queue: Job[] = [];
  private working = false;
  private lastStart = 0;
  private lastStartError: unknown;
  private disposed = false;

  constructor(
    private thread: NsfwThread,
    private readonly resolveFrom: string,
    readonly model: NsfwModelName,
    readonly name: string,
    readonly cost: number,
    /** `sha256:<hex>` over the model's files as nsfwjs ships them. */
    readonly version: string,
    readonly category: CategoryCode,
    private readonly maxWaiting: number,
    private readonly timeoutMs: number,
    private readonly limits: Readonly<DecodeLimits>,
  ) {}

  /** nsfwjs's version, the TensorFlow.js backend and how long the model took to load, for logs. */
  get loaded(): { packageVersion: string; backend: string; loadMs: number } {
    const { packageVersion, backend, loadMs } = this.thread.ready;
    return { packageVersion, backend, loadMs };
  }

  accepts(item: ScanItem): boolean {
    return item.image !== null && item.image.length > 0;
  }

  async scan(item: ScanItem): Promise<Signal[]> {
    if (item.image === null) return [];
    const scores = await this.score(item.image);
    if (scores === null) return [];
    return [
      {
        scanner: this.name,
        category: this.category,
        score: Math.min(1, scores.Porn + scores.Hentai),
        ceiling: 'review',
        detail: { model: this.model, version: this.version, scores },
      },
    ];
  }

  /** The model's probabilities for a picture, or null when the bytes do not decode as one. */
  async score(bytes: Uint8Array): Promise<NsfwScores | null> {
    // Refused before decoding, so a flood costs no decoding either.
    this.checkRoom();
    const pixels = await decodePixels(bytes, NSFW_MODELS[this.model].size, this.limits);
    if (pixels === null) return null;
    this.checkRoom();
    return new Promise<NsfwScores>((resolve, reject) => {
      this.queue.push({ pixels, resolve, reject });
      void this.work();
    });
  }

  /** Stops the thread; pictures still waiting fail. */
  async dispose(): Promise<void> {
    this.disposed = true;
    for (const job of this.queue.splice(0)) {
      job.reject(new NsfwModelError('model_failed', this.model, 'the scanner was disposed'));
    }
    await this.thread.stop();
  }

  private checkRoom(): void {
    if (this.disposed) throw new NsfwModelError('model_failed', this.model, 'the scanner was disposed');
    if (this.queue.length >= this.maxWaiting) throw new NsfwBusyError(this.queue.length);
  }

  private async work(): Promise<void> {
    if (this.working) return;
    this.working = true;
    try {
      for (let job = this.queue.shift(); job; job = this.queue.shift()) {
        const current = job;
        try {
          const thread = await this.liveThread();
          current.resolve(
            await new Promise<NsfwScores>((resolve, reject) =>
              thread.classify({ pixels: current.pixels, resolve, reject }, this.timeoutMs),
            ),
          );
        } catch (error) {
          current.reject(error);
        }
      }
    } finally {
      this.working = false;
    }
  }

  /** The thread, started again if it crashed or got stuck (at most every few seconds). */
  private async liveThread(): Promise<NsfwThread> {
    if (this.thread.alive) return this.thread;
    if (Date.now() - this.lastStart < RESTART_INTERVAL_MS && this.lastStartError) throw this.lastStartError;
    this.lastStart = Date.now();
    try {
      this.thread = await NsfwThread.start(this.model, this.resolveFrom);
      this.lastStartError = undefined;
      return this.thread;
    } catch (error) {
      this.lastStartError = error;
      throw error;
    }
  }
}

/**
 * Loads one of the models bundled with nsfwjs in a worker thread, runs it once, and
 * wraps it as a scanner. Nothing is fetched: the weights are read from the package.
 * Throws {@link NsfwModelError} when the name is not a bundled model, a package is not
 * installed or does not start, or the model does not load.
 */
export async function loadNsfwScanner(model: string, options: NsfwScannerOptions = {}): Promise<NsfwImageScanner> {
  if (!Object.hasOwn(NSFW_MODELS, model)) {
    throw new NsfwModelError(
      'model_unknown',
      model,
      `is not a model bundled with nsfwjs (expected ${Object.keys(NSFW_MODELS).join(', ')})`,
    );
  }
  const name = model as NsfwModelName;
  const resolveFrom = options.resolveFrom ?? fileURLToPath(import.meta.url);
  const thread = await NsfwThread.start(name, resolveFrom);
  return new NsfwImageScanner(
    thread,
    resolveFrom,
    name,
    options.name ?? 'nsfw',
    options.cost ?? 30,
    thread.ready.version,
    options.category ?? 'sexual_solicitation',
    options.maxWaiting ?? 64,
    options.timeoutMs ?? 30_000,
    options.decodeLimits ?? DEFAULT_DECODE_LIMITS,
  );
}

/**
 * The picture as the model sees it: first frame, upright, alpha flattened on white,
 * stretched to size × size (as nsfwjs resizes, aspect not kept), 8-bit sRGB. Null when
 * the bytes are not a picture in an accepted format, are too large or do not decode.
 */
async function decodePixels(
  bytes: Uint8Array,
  size: number,
  limits: Readonly<DecodeLimits>,
): Promise<Uint8Array | null> {
  const input = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const image = sharp(input, {
    failOn: 'error',
    limitInputPixels: limits.maxInputPixels,
    sequentialRead: true,
  }).timeout({ seconds: limits.timeoutSeconds });
  let meta: Metadata;
  try {
    meta = await image.metadata();
  } catch {
    return null;
  }
  if (!meta.format || !FORMATS.has(meta.format)) return null;
  try {
    const { data, info } = await image
      .rotate()
      .flatten({ background: '#ffffff' })
      .resize(size, size, { fit: 'fill' })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.width !== size || info.height !== size || info.channels !== 3) return null;
    // A copy of its own, so that it can be transferred to the thread.
    return new Uint8Array(data);
  } catch {
    return null;
  }
}
