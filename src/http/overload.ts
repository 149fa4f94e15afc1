import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import v8 from 'node:v8';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { AppError, OVERLOAD_RETRY_AFTER_SECONDS } from '../errors.js';
import { errorBody } from './error-handler.js';

/** Why a request was shed; named in the 503's `details.reason`. */
export type OverloadReason = 'in_flight' | 'event_loop_delay' | 'heap_used';

export type OverloadLimits = Pick<
  Config,
  'overloadMaxInFlight' | 'overloadMaxEventLoopDelayMs' | 'overloadMaxHeapUsedBytes' | 'overloadSampleMs'
>;

/** Liveness and readiness answer even when everything else is shed, so an overloaded process is not restarted. */
const NEVER_SHED = new Set(['/healthz', '/readyz']);

/** The event-loop delay histogram's timer period. */
const RESOLUTION_MS = 10;

/**
 * Load shedding. Each request is admitted or refused in the first `onRequest`
 * hook, before authentication, body parsing or any store work, so a refused
 * request costs little and changes nothing. It is refused with 503 `overloaded`
 * and `Retry-After` when
 * - `overloadMaxInFlight` requests are already being handled (admitted, not yet answered);
 * - the event loop's mean delay exceeded `overloadMaxEventLoopDelayMs` over each of the last two samples;
 * - V8's used heap at the last sample exceeded `overloadMaxHeapUsedBytes`.
 * The last two are sampled every `overloadSampleMs` (0 turns a signal off). The
 * in-flight count bounds what the process holds at once (bodies, pending store
 * calls), which is what keeps memory bounded when clients send more than it can serve.
 */
export function installOverloadProtection(app: FastifyInstance, limits: OverloadLimits): void {
  let inFlight = 0;
  let loopDelayMs = 0;
  let loopLagging = false;
  let heapUsed = 0;
  let shedSinceWarning = 0;
  let lastWarning = 0;

  const histogram: IntervalHistogram | undefined =
    limits.overloadMaxEventLoopDelayMs > 0 ? monitorEventLoopDelay({ resolution: RESOLUTION_MS }) : undefined;
  histogram?.enable();
  // The histogram is read as running totals, not reset at each sample: a reset also drops the
  // time of its next record, so with iterations longer than the sample interval it would record nothing.
  let seenCount = 0;
  let seenSum = 0;
  const sample = () => {
    if (histogram) {
      const count = histogram.count;
      const sum = count > 0 ? histogram.mean * count : 0;
      // Each record is the time between the histogram's timer firings; beyond the resolution it is delay.
      // No new record: no news (the sample ran ahead of the timer in the same iteration).
      if (count > seenCount) {
        const delay = Math.max(0, (sum - seenSum) / (count - seenCount) / 1e6 - RESOLUTION_MS);
        // Two samples in a row: one long synchronous stretch (start-up, a large GC) is not overload.
        loopLagging = delay > limits.overloadMaxEventLoopDelayMs && loopDelayMs > limits.overloadMaxEventLoopDelayMs;
        loopDelayMs = delay;
      }
      seenCount = count;
      seenSum = sum;
      if (count > 100_000) {
        histogram.reset();
        seenCount = 0;
        seenSum = 0;
      }
    }
    if (limits.overloadMaxHeapUsedBytes > 0) heapUsed = v8.getHeapStatistics().used_heap_size;
  };
  sample();
  const timer = setInterval(sample, limits.overloadSampleMs);
  timer.unref();
  app.addHook('onClose', async () => {
    clearInterval(timer);
    histogram?.disable();
  });

  const overloaded = (): OverloadReason | undefined => {
    if (limits.overloadMaxInFlight > 0 && inFlight >= limits.overloadMaxInFlight) return 'in_flight';
    if (loopLagging) return 'event_loop_delay';
    if (limits.overloadMaxHeapUsedBytes > 0 && heapUsed > limits.overloadMaxHeapUsedBytes) return 'heap_used';
    return undefined;
  };

  app.addHook('onRequest', async (request, reply) => {
    if (NEVER_SHED.has(request.routeOptions.url ?? '')) return;
    const reason = overloaded();
    if (reason === undefined) {
      inFlight++;
      let done = false;
      const release = () => {
        if (done) return;
        done = true;
        inFlight--;
      };
      // 'close' comes after the answer is sent and also when the client goes away first.
      reply.raw.once('close', release);
      reply.raw.once('finish', release);
      return;
    }
    shedSinceWarning++;
    const now = Date.now();
    if (now - lastWarning >= 1000) {
      request.log.warn(
        {
          reason,
          inFlight,
          loopDelayMs: Math.round(loopDelayMs),
          heapUsedMiB: Math.round(heapUsed / 2 ** 20),
          shed: shedSinceWarning,
        },
        'overloaded: shedding requests',
      );
      lastWarning = now;
      shedSinceWarning = 0;
    }
    // The connection stays open: a reconnect would cost the busy process more than the refusal did.
    reply.header('retry-after', String(OVERLOAD_RETRY_AFTER_SECONDS));
    return reply.code(503).send(
      errorBody(
        new AppError('overloaded', 'The server is overloaded; nothing was done. Retry after the delay given.', {
          reason,
        }),
      ),
    );
  });
}
