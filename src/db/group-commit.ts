import { CompiledQuery } from 'kysely';
import type { Db, Tx } from './database.js';

export interface GroupCommitOptions<I> {
  /** Most units of work in one transaction. */
  maxBatch?: number;
  /**
   * Transactions in flight at once (default 1). SQLite has one writer anyway;
   * on PostgreSQL several batches overlap their round trips.
   */
  concurrency?: number;
  /**
   * Units of a batch run in the order of this key. Batches that run at the same
   * time then take their row locks in the same order, so they wait for each
   * other but never deadlock.
   */
  orderBy?: (input: I) => string;
}

/** What a unit of work may ask of the batch it runs in. */
export interface Unit {
  /**
   * Runs `step` after every unit of the batch, in the same transaction, in
   * order. For writes to a row every unit touches (the audit chain's head):
   * taken last, its lock is held for the shortest time, and always after the
   * batch's other locks.
   */
  defer(step: (tx: Tx) => Promise<unknown>): void;
}

const SAVEPOINT = CompiledQuery.raw('savepoint group_unit');
const RELEASE = CompiledQuery.raw('release savepoint group_unit');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint group_unit');

interface Pending<I, O> {
  input: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

type Step = (tx: Tx) => Promise<unknown>;

/**
 * Group commit: units of work that arrive while a transaction is running wait,
 * then run together in the next one, so a burst of small writes pays for one
 * `BEGIN … COMMIT` (and, on SQLite, one WAL write) instead of one each. A unit
 * runs inside its own savepoint: when it throws, only its own writes (and its
 * deferred steps) are undone and only its caller sees the error. If the shared
 * transaction itself fails (a store error, a deferred step, the commit), every
 * unit of it runs again alone, so one bad unit never fails the others. Nobody's
 * promise settles before the commit that holds their work, so an answer still
 * means "stored".
 *
 * The technique is the one database servers use for their own log flushes
 * (DeWitt et al., "Implementation techniques for main memory database
 * systems", SIGMOD 1984), applied one level up.
 */
export class GroupCommit<I, O> {
  readonly #queue: Pending<I, O>[] = [];
  #running = 0;
  readonly #maxBatch: number;
  readonly #concurrency: number;
  readonly #orderBy: ((input: I) => string) | undefined;
  #scheduled = false;

  constructor(
    private readonly db: Db,
    private readonly work: (tx: Tx, input: I, unit: Unit) => Promise<O>,
    options: GroupCommitOptions<I> = {},
  ) {
    this.#maxBatch = options.maxBatch ?? 64;
    this.#concurrency = Math.max(1, options.concurrency ?? 1);
    this.#orderBy = options.orderBy;
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      this.#schedule();
    });
  }

  /**
   * Starts the next batch once the event loop has taken in everything that is
   * ready now. Without this pause a synchronous store (better-sqlite3) finishes
   * each transaction before the next request is even read, so every batch holds
   * one unit; with it, the requests of one poll of the sockets commit together.
   * `setImmediate` runs right after that poll: no timer, no added wait.
   */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      this.#pump();
    });
  }

  #pump(): void {
    while (this.#running < this.#concurrency && this.#queue.length > 0) {
      const batch = this.#queue.splice(0, this.#maxBatch);
      this.#running += 1;
      const done = batch.length === 1 ? this.#runAlone(batch[0]!) : this.#runTogether(batch);
      void done.finally(() => {
        this.#running -= 1;
        this.#schedule();
      });
    }
  }

  async #runAlone(unit: Pending<I, O>): Promise<void> {
    try {
      const value = await this.db.transaction().execute(async (tx) => {
        const steps: Step[] = [];
        const value = await this.work(tx, unit.input, { defer: (step) => steps.push(step) });
        for (const step of steps) await step(tx);
        return value;
      });
      unit.resolve(value);
    } catch (error) {
      unit.reject(error);
    }
  }

  async #runTogether(batch: Pending<I, O>[]): Promise<void> {
    const order = this.#orderBy;
    const units = order ? [...batch].sort((a, b) => compare(order(a.input), order(b.input))) : batch;
    const outcomes = new Map<Pending<I, O>, { ok: true; value: O } | { ok: false; error: unknown }>();
    try {
      await this.db.transaction().execute(async (tx) => {
        const steps: Step[] = [];
        for (const unit of units) {
          const own: Step[] = [];
          await tx.executeQuery(SAVEPOINT);
          try {
            const value = await this.work(tx, unit.input, { defer: (step) => own.push(step) });
            await tx.executeQuery(RELEASE);
            steps.push(...own);
            outcomes.set(unit, { ok: true, value });
          } catch (error) {
            await tx.executeQuery(ROLLBACK_TO);
            await tx.executeQuery(RELEASE);
            outcomes.set(unit, { ok: false, error });
          }
        }
        for (const step of steps) await step(tx);
      });
    } catch {
      // The transaction as a whole failed, so nothing of it was stored: each unit again, on its own.
      for (const unit of units) await this.#runAlone(unit);
      return;
    }
    for (const unit of units) {
      const outcome = outcomes.get(unit)!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    }
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
