import type { Context } from '../context.js';
import { purgeExpiredSessions } from '../retention/purge.js';
import { deliverDue } from '../webhooks/delivery.js';
import { expireSuspensions } from '../decisions/enforcement.js';
import { runScanJobs } from '../scanning/jobs.js';
import { resumeApprovedOrders } from '../legal/disclosure.js';
import { raiseDeadlineWarnings, sendUserNotices } from '../legal/jobs.js';
import { RELAY_BATCH, relayScanJobs, startScanConsumer } from '../scanning/nats-jobs.js';
import { DSA_BATCH_LIMIT, submitDueStatements } from '../transparency/dsa-sender.js';

export interface Workers {
  stop(): Promise<void>;
}

export interface WorkerOptions {
  /** Scans run at once by the NATS consumer. */
  scanConcurrency?: number;
}

/**
 * Background jobs, in the server (embedded) or in `custos worker`. Each job runs
 * at an interval, never overlapping itself; a failure is logged and retried next
 * tick. Scanning takes its jobs from the scan_jobs table, or, when NATS is
 * configured, relays that table to JetStream and consumes the stream.
 */
export function startWorkers(ctx: Context, options: WorkerOptions = {}): Workers {
  // Aborted on stop: loops end after their current item and webhook requests in flight are cut
  // (their outbox rows stay pending and are sent again after the restart).
  const stopping = new AbortController();
  const signal = stopping.signal;
  const queue = ctx.scanQueue;
  const consumer = queue ? startScanConsumer(ctx, queue, { concurrency: options.scanConcurrency }) : undefined;
  const jobs = [
    {
      name: 'retention',
      intervalMs: ctx.config.retentionIntervalMs,
      run: async () => {
        const result = await purgeExpiredSessions(ctx.store.db, ctx.config.sessionRetentionDays);
        if (result.deleted > 0) ctx.logger.info({ job: 'retention', ...result }, 'purged expired sessions');
      },
    },
    queue
      ? {
          name: 'scan-relay',
          intervalMs: 200,
          run: async () => {
            for (let i = 0; i < 50 && !signal.aborted; i++) {
              const round = await relayScanJobs(ctx, queue);
              if (round.claimed < RELAY_BATCH) break;
            }
          },
        }
      : {
          name: 'scans',
          intervalMs: 200,
          run: async () => {
            for (let i = 0; i < 50 && !signal.aborted; i++) {
              const round = await runScanJobs(ctx, { signal });
              if (round.attempted < 100) break;
            }
          },
        },
    {
      name: 'suspensions',
      intervalMs: 60_000,
      run: async () => {
        const lifted = await expireSuspensions(ctx.store.db);
        if (lifted > 0) ctx.logger.info({ job: 'suspensions', lifted }, 'suspensions ended');
      },
    },
    {
      name: 'legal',
      intervalMs: ctx.config.legalJobsIntervalMs,
      run: async () => {
        const resumed = await resumeApprovedOrders(ctx);
        const warned = await raiseDeadlineWarnings(ctx);
        const notified = await sendUserNotices(ctx);
        if (resumed + warned.near + warned.overdue + notified > 0) {
          ctx.logger.info({ job: 'legal', resumed, ...warned, notified }, 'legal jobs');
        }
      },
    },
    {
      name: 'webhooks',
      intervalMs: ctx.config.webhookPollMs,
      run: async () => {
        // Keep going while full rounds come back, so a backlog drains quickly.
        for (let i = 0; i < 20 && !signal.aborted; i++) {
          const round = await deliverDue(ctx, { signal });
          if (round.attempted < 50) break;
        }
      },
    },
    // Statements of reasons go to the DSA Transparency Database only where one is configured.
    ...(ctx.config.dsaEndpoint
      ? [
          {
            name: 'dsa-statements',
            intervalMs: ctx.config.dsaSubmitIntervalMs,
            run: async () => {
              for (let i = 0; i < 50 && !signal.aborted; i++) {
                const round = await submitDueStatements(ctx, { signal });
                if (round.taken < DSA_BATCH_LIMIT) break;
              }
            },
          },
        ]
      : []),
  ];
  const timers: NodeJS.Timeout[] = [];
  const running = new Set<Promise<void>>();
  let stopped = false;
  for (const job of jobs) {
    let busy = false;
    const tick = () => {
      if (busy || stopped) return;
      busy = true;
      const p = job
        .run()
        .catch((err) => ctx.logger.error({ err, job: job.name }, 'background job failed'))
        .finally(() => {
          busy = false;
          running.delete(p);
        });
      running.add(p);
    };
    setImmediate(tick);
    timers.push(setInterval(tick, job.intervalMs));
  }
  return {
    async stop() {
      stopped = true;
      stopping.abort();
      for (const t of timers) clearInterval(t);
      await Promise.allSettled([consumer?.stop(), ...running]);
    },
  };
}
