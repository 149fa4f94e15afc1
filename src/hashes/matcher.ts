import type { Logger } from 'pino';
import type { Db } from '../db/database.js';
import { PdqIndex, pdqWordsFromHex } from '../images/pdq-index.js';
import type { CategoryCode } from '../policy/policy.js';
import type { Bank, BankAction, HashKind } from './banks.js';

/** A bank as the matcher holds it (its change number stays in the store). */
export type MatcherBank = Omit<Bank, 'seq'>;

/** The nearest known hash an image matched. */
export interface HashMatch {
  bank: MatcherBank;
  /** The hash's own category, or its bank's. */
  category: CategoryCode;
  kind: HashKind;
  /** PDQ bits apart (0 for an exact hash). */
  distance: number;
  /** The bank entry (bank_hashes.id). */
  hashId: string;
  /** Which rotation or flip of the image matched (PDQ only). */
  variant?: string;
}

export interface ImageHashSet {
  md5: string;
  sha256: string;
  /** PDQ of the image, and of its rotations and flips when known (name → hex). */
  pdq: Record<string, string>;
}

interface ExactEntry {
  entry: number;
  bank: number;
}

/** Rows read per page while catching up with the store. */
const PAGE = 50_000;

/**
 * The hash banks in memory, kept in step with the store: PDQ hashes in a
 * multi-index (src/images/pdq-index.ts), MD5 and SHA-256 in maps. `refresh`
 * reads every bank and every hash changed since the last change it saw
 * (`seq`), so an import, a disabled hash or a disabled bank reaches every
 * process within one poll interval, whichever process made the change.
 */
export class HashMatcher {
  private readonly index = new PdqIndex();
  private readonly exact = new Map<string, ExactEntry[]>();
  /** Bank number → bank; bank id → number. */
  private readonly banks: MatcherBank[] = [];
  private readonly bankNumbers = new Map<string, number>();
  /** Entry number → bank_hashes.id, kind and value; row id → entry number. */
  private readonly entryRows: string[] = [];
  private readonly entryKeys: string[] = [];
  /** A hash's own category (local-confirmed), else null: its bank's. */
  private readonly entryCategories: Array<CategoryCode | null> = [];
  private readonly entryNumbers = new Map<string, number>();
  private readonly live = new Set<number>();
  /** PDQ entries disabled in the page being applied. */
  private removals: number[] = [];
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private loaded = false;

  constructor(private readonly db: Db) {}

  /** Hashes in force (enabled, in any bank). */
  get size(): number {
    return this.live.size;
  }

  /** The last change applied. */
  get version(): number {
    return this.seq;
  }

  /** Loads the banks on first use (one-shot commands never pay for it). */
  async ready(): Promise<void> {
    if (!this.loaded) await this.refresh();
  }

  /**
   * Catches up at once when already loaded, so a change made through this
   * process's API is matched without waiting for the next poll; a matcher
   * nobody has used yet stays unloaded.
   */
  async nudge(): Promise<void> {
    if (this.loaded) await this.refresh();
  }

  /** Follows the store every `intervalMs` until `stop()`; errors are logged and retried next time. */
  start(intervalMs: number, logger?: Logger): void {
    if (this.timer) return;
    this.refresh().catch((error) => logger?.warn({ err: error }, 'hash banks: first load failed; retrying'));
    this.timer = setInterval(() => {
      this.refresh().catch((error) => logger?.warn({ err: error }, 'hash banks: refresh failed; retrying'));
    }, intervalMs);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Applies every change since the last one seen. Concurrent calls share one run. */
  refresh(): Promise<void> {
    this.refreshing ??= this.catchUp().finally(() => {
      this.refreshing = null;
    });
    return this.refreshing;
  }

  private async catchUp(): Promise<void> {
    const banks = await this.db.selectFrom('hash_banks').selectAll().execute();
    let maxSeq = this.seq;
    for (const b of banks) {
      let n = this.bankNumbers.get(b.id);
      if (n === undefined) {
        n = this.banks.length;
        this.bankNumbers.set(b.id, n);
      }
      const bank: MatcherBank = {
        id: b.id,
        name: b.name,
        category: b.category as CategoryCode,
        action: b.action as BankAction,
        threshold: Number(b.threshold),
        enabled: Number(b.enabled) === 1,
      };
      this.banks[n] = bank;
      this.index.configureBank(n, { threshold: bank.threshold, enabled: bank.enabled });
      maxSeq = Math.max(maxSeq, Number(b.seq));
    }
    let after = this.seq;
    let added = 0;
    for (;;) {
      const rows = await this.db
        .selectFrom('bank_hashes')
        .select(['id', 'bank_id', 'kind', 'value', 'enabled', 'category', 'seq'])
        .where('seq', '>', after)
        .orderBy('seq')
        .limit(PAGE)
        .execute();
      for (const r of rows) {
        after = Number(r.seq);
        const bank = this.bankNumbers.get(r.bank_id);
        if (bank === undefined) continue; // cannot happen: banks were read first and are never deleted
        added += this.apply(
          r.id,
          bank,
          r.kind as HashKind,
          r.value,
          Number(r.enabled) === 1,
          r.category as CategoryCode | null,
        );
      }
      this.applyRemovals();
      if (rows.length < PAGE) break;
    }
    this.seq = Math.max(maxSeq, after);
    this.loaded = true;
    // The first load is indexed in one go; later imports become a segment of their own
    // (work in proportion to the import), and maintain() merges segments over time.
    if (!this.loaded && added > 0) this.index.rebuild();
    else if (added > 16_384) this.index.flush();
    this.index.maintain();
  }

  private applyRemovals(): void {
    if (this.removals.length === 0) return;
    this.index.removeMany(this.removals);
    this.removals = [];
  }

  /** Applies one row; returns 1 when a PDQ entry was added. */
  private apply(
    rowId: string,
    bank: number,
    kind: HashKind,
    value: string,
    enabled: boolean,
    category: CategoryCode | null,
  ): number {
    const known = this.entryNumbers.get(rowId);
    if (known !== undefined) {
      if (enabled === this.live.has(known)) return 0;
      if (!enabled) {
        this.live.delete(known);
        // Removed together at the end of the page: one read of the index's ids for all of them.
        if (kind === 'pdq') this.removals.push(known);
        else this.dropExact(this.entryKeys[known]!, known);
        return 0;
      }
      this.live.add(known);
      if (kind === 'pdq') {
        this.applyRemovals(); // an entry disabled earlier in this page goes before it comes back
        this.index.add(known, bank, pdqWordsFromHex(value));
        return 1;
      }
      this.addExact(this.entryKeys[known]!, known, bank);
      return 0;
    }
    if (!enabled) return 0;
    const entry = this.entryRows.length;
    this.entryRows.push(rowId);
    const key = `${kind}:${value}`;
    this.entryKeys.push(key);
    this.entryCategories.push(category);
    this.entryNumbers.set(rowId, entry);
    this.live.add(entry);
    if (kind === 'pdq') {
      this.index.add(entry, bank, pdqWordsFromHex(value));
      return 1;
    }
    this.addExact(key, entry, bank);
    return 0;
  }

  private addExact(key: string, entry: number, bank: number): void {
    const list = this.exact.get(key);
    if (list) list.push({ entry, bank });
    else this.exact.set(key, [{ entry, bank }]);
  }

  private dropExact(key: string, entry: number): void {
    const list = this.exact.get(key)?.filter((e) => e.entry !== entry);
    if (!list || list.length === 0) this.exact.delete(key);
    else this.exact.set(key, list);
  }

  /**
   * The nearest match of an image in the enabled banks: an exact hash first
   * (distance 0), else the nearest PDQ hash within its bank's threshold over
   * every rotation and flip given. Between equals, a `remove` bank wins.
   */
  match(image: ImageHashSet): HashMatch | null {
    let best: HashMatch | null = null;
    const better = (m: HashMatch) =>
      !best ||
      m.distance < best.distance ||
      (m.distance === best.distance && m.bank.action === 'remove' && best.bank.action !== 'remove');
    for (const kind of ['sha256', 'md5'] as const) {
      for (const e of this.exact.get(`${kind}:${image[kind]}`) ?? []) {
        const bank = this.banks[e.bank]!;
        if (!bank.enabled) continue;
        const m: HashMatch = {
          bank,
          category: this.categoryOf(e.entry, bank),
          kind,
          distance: 0,
          hashId: this.entryRows[e.entry]!,
        };
        if (better(m)) best = m;
      }
    }
    for (const [variant, hex] of Object.entries(image.pdq)) {
      const found = this.index.query(pdqWordsFromHex(hex));
      if (!found) continue;
      const bank = this.banks[found.bank]!;
      const m: HashMatch = {
        bank,
        category: this.categoryOf(found.id, bank),
        kind: 'pdq',
        distance: found.distance,
        hashId: this.entryRows[found.id]!,
        variant,
      };
      if (better(m)) best = m;
    }
    return best;
  }

  private categoryOf(entry: number, bank: MatcherBank): CategoryCode {
    return this.entryCategories[entry] ?? bank.category;
  }
}
