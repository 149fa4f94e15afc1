import {
  AckPolicy,
  type Consumer,
  DeliverPolicy,
  Events,
  type JetStreamManager,
  type NatsConnection,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  connect,
  nanos,
} from 'nats';
import type { Logger } from 'pino';
import { MAX_SCAN_ATTEMPTS } from './jobs.js';

/** Subjects, streams and the consumer of one deployment, all derived from CUSTOS_NATS_PREFIX. */
export interface ScanQueueNames {
  /** Work-queue stream holding scan jobs until a worker acks them. */
  stream: string;
  subject: string;
  /** Stream keeping dead letters for people to inspect. */
  deadStream: string;
  deadSubject: string;
  /** The one durable pull consumer every worker shares. */
  consumer: string;
}

export function scanQueueNames(prefix: string): ScanQueueNames {
  const upper = prefix.toUpperCase().replaceAll('-', '_');
  return {
    stream: `${upper}_SCAN`,
    subject: `${prefix}.scan.jobs`,
    deadStream: `${upper}_SCAN_DEAD`,
    deadSubject: `${prefix}.scan.dead`,
    consumer: `${prefix}-scan-workers`,
  };
}

/** The body of a scan job message: which item, and which version of it was queued. */
export interface ScanJobMessage {
  contentId: string;
  version: string;
}

/** The body of a dead letter. */
export interface DeadLetter extends ScanJobMessage {
  error: string;
  /** Scans tried (counted in scan_jobs). */
  attempts: number;
  /** Deliveries of the message that gave up. */
  deliveries: number;
  at: string;
}

/**
 * JetStream's own bound on deliveries of one message. Attempts are counted in
 * scan_jobs (a job is dead after MAX_SCAN_ATTEMPTS, as in the embedded mode);
 * this backstop covers deliveries that counted nothing because the store was
 * down. A message on its last delivery that still fails is dead-lettered.
 */
export const MAX_DELIVERIES = 4 * MAX_SCAN_ATTEMPTS;

export class QueueUnavailableError extends Error {
  constructor() {
    super('NATS is not connected');
    this.name = 'QueueUnavailableError';
  }
}

export interface NatsScanQueueOptions {
  url: string;
  prefix: string;
  ackWaitMs: number;
  /** JetStream copies of each stream (num_replicas); at most the cluster's size. Default 1. */
  replicas?: number;
  logger: Logger;
}

/** A dead letter is kept this long (limits retention), long enough for someone to look. */
const DEAD_LETTER_MAX_AGE_MS = 30 * 86_400_000;
/**
 * A job message nobody finished in a week is dropped by NATS; the relay has long
 * since published it again from scan_jobs, which is the record, not the stream.
 */
const JOB_MAX_AGE_MS = 7 * 86_400_000;
/** Re-publishing the same content version inside this window is dropped by JetStream (Nats-Msg-Id). */
const DUPLICATE_WINDOW_MS = 2 * 60_000;
/** While NATS is unreachable, the outage is logged again this often. */
const OUTAGE_REMINDER_MS = 60_000;

/**
 * The scan stream on NATS JetStream. Connecting never blocks or fails the
 * process: while NATS is unreachable the queue reports `down`, ingest keeps
 * writing to the database outbox (scan_jobs), and the client reconnects on its
 * own. Streams and the consumer are declared on every (re)connect, so a NATS
 * server that lost its state is set up again.
 */
export class NatsScanQueue {
  readonly names: ScanQueueNames;
  private nc: NatsConnection | undefined;
  private connected = false;
  private closed = false;
  private declared: Promise<void> | undefined;
  /** Set from the first failed connect or disconnect until NATS is back. */
  private downSince: number | undefined;
  private reminder: NodeJS.Timeout | undefined;
  private readonly started: Promise<void>;
  private wakeConnectLoop: (() => void) | undefined;

  constructor(private readonly options: NatsScanQueueOptions) {
    this.names = scanQueueNames(options.prefix);
    this.started = this.connectLoop();
  }

  /** `ok` when connected to NATS, else `down`. */
  state(): 'ok' | 'down' {
    return this.connected ? 'ok' : 'down';
  }

  /** Where NATS is, for logs: hosts only, credentials left out. */
  get where(): string {
    return this.options.url
      .split(',')
      .map((s) => {
        try {
          return new URL(s.trim()).host;
        } catch {
          return '?';
        }
      })
      .join(',');
  }

  /**
   * Publishes jobs and resolves with one flag per job: true once JetStream has
   * stored it (or already had it: the message id is content id + version, so a
   * re-publish inside the duplicate window is dropped and still counts).
   */
  async publish(jobs: ScanJobMessage[]): Promise<boolean[]> {
    const nc = await this.ready();
    const js = nc.jetstream();
    const results = await Promise.allSettled(
      jobs.map((job) =>
        js.publish(this.names.subject, JSON.stringify(job), {
          msgID: `${job.contentId}:${job.version}`,
          expect: { streamName: this.names.stream },
        }),
      ),
    );
    const failed = results.find((r) => r.status === 'rejected');
    if (failed) this.options.logger.warn({ err: failed.reason, nats: this.where }, 'publishing scan jobs failed');
    return results.map((r) => r.status === 'fulfilled');
  }

  /** Stores a dead letter; `key` makes a repeated dead-lettering of the same delivery a duplicate. */
  async deadLetter(letter: DeadLetter, key: string): Promise<void> {
    const nc = await this.ready();
    await nc.jetstream().publish(this.names.deadSubject, JSON.stringify(letter), {
      msgID: `dead:${key}`,
      expect: { streamName: this.names.deadStream },
    });
  }

  /** The shared pull consumer. */
  async consumer(): Promise<Consumer> {
    const nc = await this.ready();
    return nc.jetstream().consumers.get(this.names.stream, this.names.consumer);
  }

  /** Flushes acks and publishes in flight, then disconnects (bounded: NATS may be gone). */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.reminder);
    this.wakeConnectLoop?.();
    await this.started;
    const nc = this.nc;
    if (!nc || nc.isClosed()) return;
    const drained = nc.drain().catch(() => {});
    const cut = new Promise((resolve) => setTimeout(resolve, 2000).unref());
    await Promise.race([drained, cut]);
    if (!nc.isClosed()) await nc.close().catch(() => {});
  }

  /** The connection, with streams and consumer declared; QueueUnavailableError while disconnected. */
  private async ready(): Promise<NatsConnection> {
    const nc = this.nc;
    if (!nc || !this.connected) throw new QueueUnavailableError();
    // Assigned before any await, so concurrent callers share one declaration.
    this.declared ??= nc
      .jetstreamManager()
      .then((jsm) => declare(jsm, this.names, this.options.ackWaitMs, this.options.replicas ?? 1))
      .catch((error) => {
        this.declared = undefined;
        throw error;
      });
    await this.declared;
    return nc;
  }

  /**
   * The first connection is retried here (the client gives up on a first
   * connect that fails); after it, the client reconnects by itself, forever.
   */
  private async connectLoop(): Promise<void> {
    const log = this.options.logger;
    this.reminder = setInterval(() => {
      if (this.downSince !== undefined && !this.closed) this.logOutage();
    }, OUTAGE_REMINDER_MS);
    this.reminder.unref();
    let first = true;
    while (!this.closed) {
      try {
        this.nc = await connect({
          servers: this.options.url.split(',').map((s) => s.trim()),
          name: `custos-${process.pid}`,
          timeout: 5000,
          maxReconnectAttempts: -1,
          reconnectTimeWait: 1000,
        });
        break;
      } catch (error) {
        this.downSince ??= Date.now();
        if (first) this.logOutage(error);
        first = false;
        await new Promise<void>((resolve) => {
          this.wakeConnectLoop = resolve;
          setTimeout(resolve, 2000).unref();
        });
      }
    }
    const nc = this.nc;
    if (!nc) return;
    if (this.closed) {
      await nc.close().catch(() => {});
      return;
    }
    this.up();
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === Events.Disconnect) {
          this.connected = false;
          this.downSince ??= Date.now();
          if (!this.closed) this.logOutage();
        } else if (s.type === Events.Reconnect) {
          this.declared = undefined;
          this.up();
        }
      }
    })();
    void nc.closed().then(() => {
      this.connected = false;
    });
    log.debug({ nats: this.where }, 'connected to NATS');
  }

  private up(): void {
    const was = this.downSince;
    this.connected = true;
    this.downSince = undefined;
    if (was !== undefined) {
      this.options.logger.info(
        { nats: this.where, downMs: Date.now() - was },
        'NATS is reachable: scan jobs are published again',
      );
    }
  }

  private logOutage(error?: unknown): void {
    this.options.logger.error(
      { nats: this.where, downMs: Date.now() - (this.downSince ?? Date.now()), err: error },
      'NATS is unreachable: ingest continues into the scan_jobs outbox, but nothing is scanned until NATS is back',
    );
  }
}

/** Declares (or updates) both streams and the consumer; idempotent. */
async function declare(
  jsm: JetStreamManager,
  names: ScanQueueNames,
  ackWaitMs: number,
  replicas: number,
): Promise<void> {
  await upsertStream(jsm, {
    name: names.stream,
    subjects: [names.subject],
    // Work-queue retention: a message is deleted once acked, so the stream is a
    // queue shared by all workers, not a log (and allows one consumer, ours).
    retention: RetentionPolicy.Workqueue,
    // File storage: queued jobs survive a NATS restart.
    storage: StorageType.File,
    // In a cluster, each job is on this many servers: losing one loses nothing.
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    max_age: nanos(JOB_MAX_AGE_MS),
  });
  await upsertStream(jsm, {
    name: names.deadStream,
    subjects: [names.deadSubject],
    // Limits retention: dead letters are kept for inspection, not consumed away.
    retention: RetentionPolicy.Limits,
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    max_age: nanos(DEAD_LETTER_MAX_AGE_MS),
  });
  // Creating a durable consumer that exists updates it (ack wait may change between releases).
  await jsm.consumers.add(names.stream, {
    durable_name: names.consumer,
    // Explicit acks: a message leaves the queue only when a worker has recorded the verdict.
    ack_policy: AckPolicy.Explicit,
    // A worker that dies holds its messages this long; then they go to another worker.
    ack_wait: nanos(ackWaitMs),
    max_deliver: MAX_DELIVERIES,
    deliver_policy: DeliverPolicy.All,
  });
}

async function upsertStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }): Promise<void> {
  try {
    await jsm.streams.add(config);
  } catch (error) {
    // 10058: the stream exists with another configuration (an older release's): update it.
    if ((error as { api_error?: { err_code?: number } }).api_error?.err_code !== 10058) throw error;
    await jsm.streams.update(config.name, config);
  }
}
