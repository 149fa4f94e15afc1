import { CompiledQuery } from 'kysely';
import type { Db, Tx } from './database.js';

export interface GroupCommitOptions {
  /** Most units of work in one transaction. */
  maxBatch?: number;
}

const SAVEPOINT = CompiledQuery.raw('savepoint group_unit');
const RELEASE = CompiledQuery.raw('release savepoint group_unit');
const ROLLBACK_TO = CompiledQuery.raw('rollback to savepoint group_unit');

interface Pending<I, O> {
  input: I;
  resolve(output: O): void;
  reject(error: unknown): void;
}

/**
 * Group commit: units of work that arrive while a transaction is running wait,
 * then run together in the next one, so a burst of small writes pays for one
 * `BEGIN … COMMIT` (and, on SQLite, one WAL write) instead of one each. A unit
 * runs inside its own savepoint: when it throws, only its own writes are undone
 * and only its caller sees the error. If the shared transaction itself fails
 * (a store error, the commit), every unit of it runs again alone, so one bad unit
 * never fails the others. Nobody's promise settles before the commit that holds
 * their work, so an answer still means "stored".
 *
 * The technique is the one database servers use for their own log flushes
 * (DeWitt et al., "Implementation techniques for main memory database
 * systems", SIGMOD 1984), applied one level up.
 */
export class GroupCommit<I, O> {
  readonly #queue: Pending<I, O>[] = [];
  #running = false;
  readonly #maxBatch: number;

  constructor(
    private readonly db: Db,
    private readonly work: (tx: Tx, input: I) => Promise<O>,
    options: GroupCommitOptions = {},
  ) {
    this.#maxBatch = options.maxBatch ?? 64;
  }

  submit(input: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.#queue.push({ input, resolve, reject });
      if (!this.#running) void this.#drain();
    });
  }

  async #drain(): Promise<void> {
    this.#running = true;
    try {
      while (this.#queue.length > 0) {
        const batch = this.#queue.splice(0, this.#maxBatch);
        if (batch.length === 1) await this.#runAlone(batch[0]!);
        else await this.#runTogether(batch);
      }
    } finally {
      this.#running = false;
    }
  }

  async #runAlone(unit: Pending<I, O>): Promise<void> {
    try {
      unit.resolve(await this.db.transaction().execute((tx) => this.work(tx, unit.input)));
    } catch (error) {
      unit.reject(error);
    }
  }

  async #runTogether(batch: Pending<I, O>[]): Promise<void> {
    const outcomes: ({ ok: true; value: O } | { ok: false; error: unknown })[] = [];
    try {
      await this.db.transaction().execute(async (tx) => {
        for (const unit of batch) {
          await tx.executeQuery(SAVEPOINT);
          try {
            const value = await this.work(tx, unit.input);
            await tx.executeQuery(RELEASE);
            outcomes.push({ ok: true, value });
          } catch (error) {
            await tx.executeQuery(ROLLBACK_TO);
            await tx.executeQuery(RELEASE);
            outcomes.push({ ok: false, error });
          }
        }
      });
    } catch {
      // The transaction as a whole failed, so nothing of it was stored: each unit again, on its own.
      for (const unit of batch) await this.#runAlone(unit);
      return;
    }
    batch.forEach((unit, i) => {
      const outcome = outcomes[i]!;
      if (outcome.ok) unit.resolve(outcome.value);
      else unit.reject(outcome.error);
    });
  }
}
