import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  DEFAULT_PDQ_THRESHOLD,
  MAX_PDQ_THRESHOLD,
  type PdqEntries,
  PdqHashFormatError,
  PdqIndex,
  type PdqIndexOptions,
  type PdqMatch,
  PdqThresholdError,
  chunkRadius,
  linearScan,
  linearScanAll,
  pdqHexFromWords,
  pdqWordsFromHex,
} from '../src/images/pdq-index.js';
import { mulberry32 } from '../src/random.js';

interface Entry {
  id: number;
  bank: number;
  hash: Uint32Array;
}

/**
 * How a search may read a segment: its tables only (Infinity), the default (tables,
 * or the whole segment when the tables would cost more), or always whole (0).
 */
const linearScanProbesArb = fc.constantFrom(Number.POSITIVE_INFINITY, undefined, 0);

/** Bank settings as the tests model them: threshold, and enabled or not. */
type Banks = Map<number, { threshold: number; enabled: boolean }>;

const THRESHOLDS = [0, 1, DEFAULT_PDQ_THRESHOLD, MAX_PDQ_THRESHOLD];

function entriesOf(model: Entry[]): PdqEntries {
  const out: PdqEntries = {
    count: model.length,
    hashes: new Uint32Array(model.length * 8),
    ids: new Uint32Array(model.length),
    banks: new Uint16Array(model.length),
  };
  model.forEach((e, i) => {
    out.hashes.set(e.hash, i * 8);
    out.ids[i] = e.id;
    out.banks[i] = e.bank;
  });
  return out;
}

/** The threshold function of `linearScan` for modelled banks (unset banks: default, enabled). */
function thresholdsOf(banks: Banks, override?: number): (bank: number) => number {
  return (bank) => {
    const b = banks.get(bank) ?? { threshold: DEFAULT_PDQ_THRESHOLD, enabled: true };
    return b.enabled ? (override ?? b.threshold) : -1;
  };
}

/** Bit-by-bit distance: the oracle's oracle, sharing no code with the index. */
function naiveDistance(a: Uint32Array, b: Uint32Array): number {
  let d = 0;
  for (let bit = 0; bit < 256; bit++) d += ((a[bit >>> 5]! ^ b[bit >>> 5]!) >>> (bit & 31)) & 1;
  return d;
}

/** `count` distinct bit positions of a 16-bit chunk, at random (a partial Fisher–Yates shuffle). */
function someBits(count: number, rnd: () => number): number[] {
  const places = Array.from({ length: 16 }, (_, b) => b);
  for (let i = 0; i < count; i++) {
    const j = i + Math.floor(rnd() * (16 - i));
    [places[i], places[j]] = [places[j]!, places[i]!];
  }
  return places.slice(0, count);
}

/** Bits that differ in chunk j (the high half of word j / 2 for even j, the low half for odd). */
function chunkDistance(a: Uint32Array, b: Uint32Array, j: number): number {
  const x = ((a[j >>> 1]! ^ b[j >>> 1]!) >>> (j & 1 ? 0 : 16)) & 0xffff;
  let d = 0;
  for (let bit = 0; bit < 16; bit++) d += (x >>> bit) & 1;
  return d;
}

function naiveAll(model: Entry[], q: Uint32Array, thresholdOf: (bank: number) => number): PdqMatch[] {
  return model
    .map((e) => ({ id: e.id, bank: e.bank, distance: naiveDistance(e.hash, q) }))
    .filter((m) => m.distance <= thresholdOf(m.bank))
    .sort((a, b) => a.distance - b.distance || a.id - b.id || a.bank - b.bank);
}

/** A copy of `hash` with the given bits (0..255) flipped; a bit named twice flips back. */
function flip(hash: Uint32Array, bits: readonly number[]): Uint32Array {
  const out = Uint32Array.from(hash);
  for (const bit of bits) out[bit >>> 5]! ^= 1 << (bit & 31);
  return out;
}

function randomHash(rnd: () => number): Uint32Array {
  return Uint32Array.from({ length: 8 }, () => Math.floor(rnd() * 2 ** 32));
}

/** The index and the oracle agree on `query` and `queryAll`, under the banks' thresholds and under overrides. */
function assertAgrees(index: PdqIndex, model: Entry[], banks: Banks, q: Uint32Array): void {
  const entries = entriesOf(model);
  for (const override of [undefined, ...THRESHOLDS]) {
    const thresholds = thresholdsOf(banks, override);
    const options = override === undefined ? undefined : { threshold: override };
    const expected = linearScan(entries, q, thresholds);
    const all = linearScanAll(entries, q, thresholds);
    const label = `query ${pdqHexFromWords(q)}, threshold ${override ?? 'per bank'}`;
    assert.deepEqual(index.query(q, options), expected, label);
    assert.deepEqual(index.queryAll(q, options), all, label);
    // The oracle itself against a bit-by-bit count.
    assert.deepEqual(all, naiveAll(model, q, thresholds), label);
    assert.deepEqual(expected, all[0] ?? null, label);
  }
}

const hashArb = fc.uint32Array({ minLength: 8, maxLength: 8 });
// size 'max': fast-check otherwise keeps arrays to about ten items, and so the
// flips to about ten bits and the banks to about ten entries.
const flipsArb = (max: number) => fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: max, size: 'max' });
const bankSettingsArb = fc.record({
  threshold: fc.oneof(fc.constantFrom(...THRESHOLDS), fc.integer({ min: 0, max: MAX_PDQ_THRESHOLD })),
  enabled: fc.oneof({ weight: 3, arbitrary: fc.constant(true) }, { weight: 1, arbitrary: fc.constant(false) }),
});
const banksArb = fc.array(bankSettingsArb, { minLength: 3, maxLength: 3 }).map((list) => {
  const banks: Banks = new Map();
  for (const [bank, settings] of list.entries()) banks.set(bank, settings);
  return banks;
});

function indexOf(model: Entry[], banks: Banks, options: PdqIndexOptions = {}): PdqIndex {
  const index = new PdqIndex(options);
  for (const [bank, settings] of banks) index.configureBank(bank, settings);
  for (const e of model) index.add(e.id, e.bank, e.hash);
  index.rebuild();
  return index;
}

describe('hashes in hex', () => {
  it('parses 64 hex digits in either case and prints them back', () => {
    const hex = 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22';
    const words = pdqWordsFromHex(hex);
    assert.equal(words[0], 0xf8f8f0ce);
    assert.equal(words[7], 0x4e9c9b22);
    assert.equal(pdqHexFromWords(words), hex);
    assert.deepEqual(pdqWordsFromHex(hex.toUpperCase()), words);
  });

  it('refuses anything else', () => {
    const good = 'a'.repeat(64);
    for (const bad of ['', good.slice(1), `${good}0`, `0x${good.slice(2)}`, `${good.slice(1)}g`, ` ${good.slice(1)}`]) {
      assert.throws(() => pdqWordsFromHex(bad), PdqHashFormatError, JSON.stringify(bad));
      assert.throws(() => new PdqIndex().query(bad), PdqHashFormatError);
    }
    assert.throws(() => new PdqIndex().query(new Uint32Array(7)), PdqHashFormatError);
    assert.throws(() => new PdqIndex().add(1, 0, new Uint8Array(31)), PdqHashFormatError);
  });

  it('takes a hash as hex, as 32 bytes (the hasher’s form) or as words, alike', () => {
    const hex = '0123456789abcdef00112233445566778899aabbccddeeff0f1e2d3c4b5a6978';
    const index = new PdqIndex();
    index.add(7, 0, new Uint8Array(Buffer.from(hex, 'hex')));
    const expected = { id: 7, bank: 0, distance: 0 };
    assert.deepEqual(index.query(hex), expected);
    assert.deepEqual(index.query(pdqWordsFromHex(hex)), expected);
    assert.deepEqual(index.query(new Uint8Array(Buffer.from(hex, 'hex'))), expected);
  });
});

describe('chunk radii', () => {
  it('add up to exactly t + 1 over the 16 chunks, for every threshold', () => {
    for (let t = 0; t <= MAX_PDQ_THRESHOLD; t++) {
      let sum = 0;
      for (let k = 0; k < 16; k++) {
        const r = chunkRadius(t, k);
        assert.ok(r >= -1 && r <= 3, `t=${t} k=${k}: ${r}`);
        if (t > 0) assert.ok(r >= chunkRadius(t - 1, k), `radius of chunk ${k} shrinks from t=${t - 1} to t=${t}`);
        sum += r + 1;
      }
      assert.equal(sum, t + 1, `t=${t}`);
    }
  });

  /**
   * The worst case of the pigeonhole bound: a hash exactly t from the query whose
   * only chunk within its radius is chunk k, at exactly that radius (`mask`, bits of
   * the chunk); every other chunk differs in one bit more than its radius, at random
   * places. A search that probes chunk k with a bit less, skips it, or leaves out
   * that mask misses this entry.
   */
  function worstPlaced(q: Uint32Array, t: number, k: number, mask: number, rnd: () => number): Uint32Array {
    const bits: number[] = [];
    for (let j = 0; j < 16; j++) {
      // Chunk j is the high half of word j / 2 for even j, the low half for odd j.
      const low = (j >>> 1) * 32 + (j & 1 ? 0 : 16);
      if (j === k) {
        for (let b = 0; b < 16; b++) if ((mask >>> b) & 1) bits.push(low + b);
        continue;
      }
      for (const b of someBits(chunkRadius(t, j) + 1, rnd)) bits.push(low + b);
    }
    const stored = flip(q, bits);
    assert.equal(naiveDistance(q, stored), t);
    for (let j = 0; j < 16; j++) {
      if (j === k) assert.equal(chunkDistance(q, stored, j), chunkRadius(t, j));
      else assert.ok(chunkDistance(q, stored, j) > chunkRadius(t, j));
    }
    return stored;
  }

  /**
   * Indexes the entries (among filler) and checks each query finds its own at exactly
   * t, and nothing below t: through the tables alone, and as the index chooses.
   */
  function assertFound(
    t: number,
    cases: Array<{ q: Uint32Array; stored: Uint32Array; label: string }>,
    rnd: () => number,
  ) {
    const model: Entry[] = cases.map((c, i) => ({ id: 1000 + i, bank: 0, hash: c.stored }));
    for (let i = 0; i < 200; i++) model.push({ id: i, bank: 0, hash: randomHash(rnd) });
    for (const linearScanProbes of [Number.POSITIVE_INFINITY, undefined]) {
      const index = indexOf(model, new Map([[0, { threshold: t, enabled: true }]]), { linearScanProbes });
      cases.forEach(({ q, label }, i) => {
        const expected = { id: 1000 + i, bank: 0, distance: t };
        const how = `t=${t}, ${label}, linearScanProbes ${linearScanProbes}`;
        assert.deepEqual(index.query(q), expected, how);
        assert.deepEqual(index.queryAll(q), [expected], how);
        if (t > 0) assert.equal(index.query(q, { threshold: t - 1 }), null, how);
      });
    }
  }

  it('find the worst-placed entry at exactly the threshold, for every threshold and chunk', () => {
    const rnd = mulberry32(7);
    for (let t = 0; t <= MAX_PDQ_THRESHOLD; t++) {
      const cases = [];
      for (let k = 0; k < 16; k++) {
        const r = chunkRadius(t, k);
        if (r < 0) continue;
        const mask = someBits(r, rnd).reduce((m, b) => m | (1 << b), 0);
        const q = randomHash(rnd);
        cases.push({ q, stored: worstPlaced(q, t, k, mask, rnd), label: `only chunk ${k} within radius ${r}` });
      }
      assertFound(t, cases, rnd);
    }
  });

  it('probe every mask of up to three bits, in every chunk position', () => {
    const rnd = mulberry32(8);
    for (let r = 0; r <= 3; r++) {
      // At t = 16r + 15 every chunk has radius r.
      const t = 16 * r + 15;
      const cases = [];
      let k = 0;
      for (let mask = 0; mask < 1 << 16; mask++) {
        if (naiveDistance(new Uint32Array([mask, 0, 0, 0, 0, 0, 0, 0]), new Uint32Array(8)) !== r) continue;
        const q = randomHash(rnd);
        cases.push({ q, stored: worstPlaced(q, t, k, mask, rnd), label: `mask ${mask.toString(16)} in chunk ${k}` });
        k = (k + 1) % 16;
      }
      assertFound(t, cases, rnd);
    }
  });
});

describe('the index returns what the linear scan returns', () => {
  it('on random hashes, with near copies and random queries', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ hash: hashArb, bank: fc.integer({ min: 0, max: 2 }) }), { maxLength: 150, size: 'max' }),
        banksArb,
        fc.array(fc.tuple(fc.nat(), flipsArb(70)), { minLength: 1, maxLength: 6 }),
        hashArb,
        linearScanProbesArb,
        (rows, banks, near, far, linearScanProbes) => {
          const model = rows.map((r, id) => ({ id, bank: r.bank, hash: r.hash }));
          const index = indexOf(model, banks, { linearScanProbes });
          for (const [pick, bits] of near) {
            if (model.length > 0) assertAgrees(index, model, banks, flip(model[pick % model.length]!.hash, bits));
          }
          assertAgrees(index, model, banks, far);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('on clustered hashes: near copies of a few centres, with duplicates and ties', () => {
    fc.assert(
      fc.property(
        fc.array(hashArb, { minLength: 1, maxLength: 4 }),
        fc.array(fc.record({ centre: fc.nat(), bits: flipsArb(40), bank: fc.integer({ min: 0, max: 2 }) }), {
          maxLength: 200,
          size: 'max',
        }),
        banksArb,
        fc.array(fc.tuple(fc.nat(), flipsArb(80)), { minLength: 1, maxLength: 6 }),
        // A few segments at most: each costs 4 MiB of offsets to build.
        fc.option(fc.integer({ min: 40, max: 120 })),
        linearScanProbesArb,
        (centres, rows, banks, queries, segmentEntries, linearScanProbes) => {
          // Ids in a shuffled order, so that the lowest id is not the first added.
          const model = rows.map((r, i) => ({
            id: (i * 7919) % 100_003,
            bank: r.bank,
            hash: flip(centres[r.centre % centres.length]!, r.bits),
          }));
          const index = indexOf(model, banks, { segmentEntries: segmentEntries ?? undefined, linearScanProbes });
          for (const [pick, bits] of queries) {
            assertAgrees(index, model, banks, flip(centres[pick % centres.length]!, bits));
          }
        },
      ),
      { numRuns: 80 },
    );
  });

  it('through adds, removals, bank changes, flushes, merges and rebuilds', () => {
    const op = fc.oneof(
      { weight: 5, arbitrary: fc.record({ kind: fc.constant('add' as const), bits: flipsArb(40), centre: fc.nat() }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeUnknown' as const) }) },
      {
        weight: 1,
        arbitrary: fc.record({
          kind: fc.constant('removeMany' as const),
          picks: fc.array(fc.nat(), { maxLength: 20, size: 'max' }),
        }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('removeBank' as const), bank: fc.nat(2) }) },
      {
        weight: 1,
        arbitrary: fc.record({ kind: fc.constant('configure' as const), bank: fc.nat(2), settings: bankSettingsArb }),
      },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('rebuild' as const) }) },
      { weight: 1, arbitrary: fc.record({ kind: fc.constant('flush' as const) }) },
      { weight: 2, arbitrary: fc.record({ kind: fc.constant('maintain' as const) }) },
    );
    fc.assert(
      fc.property(
        fc.array(hashArb, { minLength: 1, maxLength: 3 }),
        fc.array(op, { maxLength: 60, size: 'max' }),
        fc.array(fc.tuple(fc.nat(), flipsArb(50)), { minLength: 1, maxLength: 3 }),
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 6 }),
        fc.option(fc.integer({ min: 1, max: 20 })),
        linearScanProbesArb,
        (centres, ops, queries, segmentEntries, flushAt, maintainEntries, linearScanProbes) => {
          const index = new PdqIndex({
            segmentEntries,
            flushAt,
            maintainEntries: maintainEntries ?? undefined,
            linearScanProbes,
          });
          const banks: Banks = new Map();
          let model: Entry[] = [];
          const removed: number[] = [];
          let nextId = 0;
          const check = () => {
            assert.equal(index.size, model.length);
            for (const [pick, bits] of queries) {
              assertAgrees(index, model, banks, flip(centres[pick % centres.length]!, bits));
            }
          };
          for (const o of ops) {
            if (o.kind === 'add') {
              const e = { id: nextId++, bank: o.centre % 3, hash: flip(centres[o.centre % centres.length]!, o.bits) };
              index.add(e.id, e.bank, e.hash);
              model.push(e);
            } else if (o.kind === 'remove' && model.length > 0) {
              const id = model[o.pick % model.length]!.id;
              assert.equal(index.remove(id), 1);
              model = model.filter((e) => e.id !== id);
              removed.push(id);
            } else if (o.kind === 'removeMany') {
              // Some of them twice, one unknown, and ids removed before (not counted again).
              const ids = o.picks.map((p) => (model.length > 0 ? model[p % model.length]!.id : 0));
              const gone = new Set(ids.filter((id) => model.some((e) => e.id === id)));
              assert.equal(index.removeMany([...ids, nextId + 7, ...removed.slice(-9)]), gone.size);
              model = model.filter((e) => !gone.has(e.id));
              removed.push(...gone);
            } else if (o.kind === 'removeUnknown') {
              assert.equal(index.remove(nextId + 1), 0);
            } else if (o.kind === 'removeBank') {
              const gone = model.filter((e) => e.bank === o.bank).length;
              assert.equal(index.removeBank(o.bank), gone);
              model = model.filter((e) => e.bank !== o.bank);
            } else if (o.kind === 'configure') {
              index.configureBank(o.bank, o.settings);
              banks.set(o.bank, o.settings);
            } else if (o.kind === 'rebuild') {
              index.rebuild();
              assert.equal(index.pendingAdds, 0);
              assert.equal(index.pendingRemovals, 0);
            } else if (o.kind === 'flush') {
              index.flush();
              assert.equal(index.pendingAdds, 0);
            } else if (o.kind === 'maintain') {
              index.maintain();
              assert.ok(index.pendingAdds < flushAt);
            }
            check();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('nearest and ties', () => {
  const rnd = mulberry32(11);
  const base = randomHash(rnd);

  it('returns the nearest, not the first found, across banks and segments', () => {
    const index = new PdqIndex({ segmentEntries: 2 });
    index.add(1, 0, flip(base, [1, 2, 3, 4, 5]));
    index.add(2, 1, flip(base, [100, 101]));
    index.add(3, 0, flip(base, [200, 201, 202]));
    index.rebuild();
    index.add(4, 2, flip(base, [7, 8, 9, 10]));
    assert.deepEqual(index.query(base), { id: 2, bank: 1, distance: 2 });
    assert.deepEqual(
      index.queryAll(base).map((m) => m.id),
      [2, 3, 4, 1],
    );
  });

  it('breaks a tie by the lowest id, whatever the order of adding, built or not', () => {
    for (const built of [false, true]) {
      const index = new PdqIndex();
      index.add(9, 0, base);
      index.add(5, 1, base);
      index.add(7, 0, flip(base, [3]));
      if (built) index.rebuild();
      assert.deepEqual(index.query(base), { id: 5, bank: 1, distance: 0 });
      assert.deepEqual(index.queryAll(base), [
        { id: 5, bank: 1, distance: 0 },
        { id: 9, bank: 0, distance: 0 },
        { id: 7, bank: 0, distance: 1 },
      ]);
    }
  });

  it('keeps probing a chunk after the bound shrinks, for a tie met later in it', () => {
    // Both entries are 31 bits away: 1 in chunk 0, 2 in each other chunk. At a limit
    // of 40, A (mask 0x0001 of chunk 0, probed first of the one-bit masks) shrinks
    // the bound to 31; B has the lower id, and only chunk 0 (mask 0x8000, probed
    // last) brings it within reach.
    const twoPerOtherChunk: number[] = [];
    for (let j = 1; j < 16; j++) {
      const low = (j >>> 1) * 32 + (j & 1 ? 0 : 16);
      twoPerOtherChunk.push(low + 3, low + 9);
    }
    const chunk0 = 16; // bit 0 of chunk 0 is bit 16 of word 0
    const a = flip(base, [chunk0, ...twoPerOtherChunk]);
    const b = flip(base, [chunk0 + 15, ...twoPerOtherChunk]);
    for (const linearScanProbes of [Number.POSITIVE_INFINITY, undefined]) {
      const index = new PdqIndex({ linearScanProbes });
      index.configureBank(0, { threshold: 40 });
      index.add(2, 0, a);
      index.add(1, 0, b);
      index.rebuild();
      assert.deepEqual(index.query(base), { id: 1, bank: 0, distance: 31 });
    }
  });

  it('holds each entry to its own bank’s threshold', () => {
    const index = new PdqIndex();
    index.configureBank(0, { threshold: 10 });
    index.configureBank(1, { threshold: 40 });
    const far = Array.from({ length: 35 }, (_, i) => i * 7);
    index.add(1, 0, flip(base, far.slice(0, 20)));
    index.add(2, 1, flip(base, far));
    index.rebuild();
    // Bank 0's entry is nearer but beyond its bank's 10 bits.
    assert.deepEqual(index.query(base), { id: 2, bank: 1, distance: 35 });
    assert.deepEqual(index.query(base, { threshold: 20 }), { id: 1, bank: 0, distance: 20 });
    assert.deepEqual(index.query(base, { threshold: 19 }), null);
    assert.equal(index.bankSettings(1).threshold, 40);
    assert.equal(index.bankSettings(5).threshold, DEFAULT_PDQ_THRESHOLD);
  });
});

describe('edge cases', () => {
  const rnd = mulberry32(5);
  const h = randomHash(rnd);

  it('an empty index matches nothing, built or not', () => {
    const index = new PdqIndex();
    assert.equal(index.query(h), null);
    assert.deepEqual(index.queryAll(h), []);
    index.rebuild();
    assert.equal(index.size, 0);
    assert.equal(index.query(h, { threshold: MAX_PDQ_THRESHOLD }), null);
    index.add(1, 0, h);
    index.rebuild();
    index.remove(1);
    assert.equal(index.query(h), null);
    assert.equal(index.size, 0);
  });

  it('keeps the same hash under two ids apart, and removes one without the other', () => {
    const index = new PdqIndex();
    index.add(10, 0, h);
    index.add(20, 0, h);
    index.rebuild();
    assert.equal(index.size, 2);
    assert.deepEqual(
      index.queryAll(h).map((m) => m.id),
      [10, 20],
    );
    assert.equal(index.remove(10), 1);
    assert.deepEqual(index.query(h), { id: 20, bank: 0, distance: 0 });
    assert.equal(index.remove(10), 0, 'a second removal finds nothing');
  });

  it('removes every entry of an id, built and pending', () => {
    const index = new PdqIndex();
    index.add(3, 0, h);
    index.rebuild();
    index.add(3, 1, flip(h, [0]));
    assert.equal(index.remove(3), 2);
    assert.equal(index.query(h), null);
  });

  it('ignores the removal of an unknown id', () => {
    const index = new PdqIndex();
    index.add(1, 0, h);
    index.rebuild();
    assert.equal(index.remove(2), 0);
    assert.equal(index.size, 1);
    assert.deepEqual(index.query(h), { id: 1, bank: 0, distance: 0 });
  });

  it('refuses a threshold above the maximum, or not a whole number, wherever one is given', () => {
    const index = new PdqIndex();
    index.add(1, 0, h);
    for (const bad of [MAX_PDQ_THRESHOLD + 1, 256, -1, 1.5, Number.NaN]) {
      assert.throws(() => index.query(h, { threshold: bad }), PdqThresholdError);
      assert.throws(() => index.queryAll(h, { threshold: bad }), PdqThresholdError);
      assert.throws(() => index.configureBank(0, { threshold: bad }), PdqThresholdError);
      assert.throws(() => linearScan(index.entries(), h, bad), PdqThresholdError);
    }
    assert.throws(() => index.query(h, { threshold: 64 }), /from 0 to 63/);
  });

  it('refuses ids and banks out of range', () => {
    const index = new PdqIndex();
    assert.throws(() => index.add(-1, 0, h), RangeError);
    assert.throws(() => index.add(2 ** 32, 0, h), RangeError);
    assert.throws(() => index.add(1, 65536, h), RangeError);
    assert.throws(() => index.addMany([1, 2], [0], new Uint32Array(16)), RangeError);
    assert.throws(() => new PdqIndex({ segmentEntries: 2 ** 24 + 1 }), RangeError);
  });

  it('sees an add and a removal at once, before any rebuild', () => {
    const index = new PdqIndex();
    index.addMany([1, 2], [0, 0], new Uint32Array([...randomHash(rnd), ...randomHash(rnd)]));
    index.rebuild();
    index.add(3, 0, h);
    assert.equal(index.pendingAdds, 1);
    assert.deepEqual(index.query(h), { id: 3, bank: 0, distance: 0 });
    index.rebuild();
    index.remove(3);
    assert.equal(index.pendingRemovals, 1);
    assert.equal(index.query(h), null);
  });

  it('maintain() indexes the delta once it is large enough, and rewrites a segment a quarter removed', () => {
    const index = new PdqIndex({ flushAt: 4 });
    const hashes = Array.from({ length: 8 }, (_, i) => flip(h, [i * 3, i * 3 + 1]));
    for (let i = 0; i < 3; i++) index.add(i, 0, hashes[i]!);
    assert.equal(index.maintain(), false);
    index.add(3, 0, hashes[3]!);
    assert.equal(index.maintain(), true);
    assert.equal(index.pendingAdds, 0);
    index.remove(0);
    assert.equal(index.maintain(), false, 'one removal in four is not worth a rewrite');
    assert.equal(index.pendingRemovals, 1);
    index.remove(1);
    assert.equal(index.maintain(), true);
    assert.equal(index.pendingRemovals, 0);
    assert.equal(index.size, 2);
    assert.deepEqual(index.query(h), { id: 2, bank: 0, distance: 2 });
    // A second segment as large as the first is merged into it; the result is the same.
    for (let i = 4; i < 8; i++) index.add(i, 0, hashes[i]!);
    assert.equal(index.maintain(), true);
    assert.equal(index.segmentCount, 1);
    assert.deepEqual(
      index.queryAll(h).map((m) => m.id),
      [2, 3, 4, 5, 6, 7],
    );
  });

  it('maintain() leaves a merge larger than maintainEntries to rebuild()', () => {
    const index = new PdqIndex({ flushAt: 2, maintainEntries: 3 });
    for (let i = 0; i < 2; i++) index.add(i, 0, flip(h, [i]));
    assert.equal(index.maintain(), true, 'the first two are indexed');
    assert.equal(index.segmentCount, 1);
    for (let i = 2; i < 4; i++) index.add(i, 0, flip(h, [i]));
    assert.equal(index.maintain(), true);
    assert.equal(index.segmentCount, 2, 'indexed as a second segment, not merged: 4 > 3');
    assert.equal(index.maintain(), false, 'nothing left to do within the limit');
    index.remove(0);
    index.remove(1);
    assert.equal(index.maintain(), true);
    assert.equal(index.segmentCount, 1, 'a segment with no live entry left is dropped');
    assert.equal(index.pendingRemovals, 0);
    index.rebuild();
    assert.equal(index.segmentCount, 1);
    assert.deepEqual(
      index.queryAll(h).map((m) => m.id),
      [2, 3],
    );
  });

  it('stops matching a disabled bank at once and resumes when it is enabled', () => {
    const index = new PdqIndex();
    index.add(1, 4, h);
    index.add(2, 5, flip(h, [1, 2]));
    index.rebuild();
    index.configureBank(4, { enabled: false });
    assert.deepEqual(index.query(h), { id: 2, bank: 5, distance: 2 });
    assert.deepEqual(index.query(h, { threshold: 63 }), { id: 2, bank: 5, distance: 2 });
    index.configureBank(5, { enabled: false });
    assert.equal(index.query(h), null);
    index.configureBank(4, { enabled: true });
    assert.deepEqual(index.query(h), { id: 1, bank: 4, distance: 0 });
  });

  it('searches as far as the largest threshold of a bank holding entries, no further', () => {
    const index = new PdqIndex();
    index.configureBank(1, { threshold: 63 });
    index.add(
      1,
      0,
      flip(
        h,
        Array.from({ length: 40 }, (_, i) => i * 5),
      ),
    );
    index.rebuild();
    assert.equal(index.query(h), null, 'bank 0 keeps its 31 bits though bank 1 allows 63');
    index.add(
      2,
      1,
      flip(
        h,
        Array.from({ length: 50 }, (_, i) => i * 5),
      ),
    );
    assert.deepEqual(index.query(h), { id: 2, bank: 1, distance: 50 });
    index.removeBank(1);
    assert.equal(index.query(h), null);
  });

  it('never takes the complement of a hash, 256 bits away, for a match', () => {
    const index = new PdqIndex();
    const complement = h.map((w) => ~w >>> 0);
    index.add(1, 0, complement);
    assert.equal(index.query(h, { threshold: MAX_PDQ_THRESHOLD }), null);
    index.rebuild();
    assert.equal(index.query(h, { threshold: MAX_PDQ_THRESHOLD }), null);
    assert.deepEqual(index.queryAll(h, { threshold: MAX_PDQ_THRESHOLD }), []);
    assert.equal(linearScan(index.entries(), h, MAX_PDQ_THRESHOLD), null);
  });

  it('finds entries past slot 65,535 of a segment (posting lists hold 3-byte slots)', () => {
    const n = 70_000;
    const hashes = new Uint32Array(n * 8);
    for (let i = 0; i < hashes.length; i++) hashes[i] = Math.floor(rnd() * 2 ** 32);
    const index = new PdqIndex();
    index.addMany(
      Uint32Array.from({ length: n }, (_, i) => i),
      new Uint16Array(n),
      hashes,
    );
    index.rebuild();
    const entries = index.entries();
    for (let i = 0; i < 300; i++) {
      const pick = Math.floor(rnd() * n);
      const bits = Array.from({ length: Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 256));
      const q = flip(hashes.subarray(pick * 8, pick * 8 + 8), bits);
      for (const threshold of [1, 31]) {
        assert.deepEqual(index.query(q, { threshold }), linearScan(entries, q, threshold));
      }
    }
  });

  it('costs about 83 bytes an entry once built, plus 4 MiB of offsets a segment', () => {
    const index = new PdqIndex();
    const n = 20_000;
    const hashes = new Uint32Array(n * 8);
    for (let i = 0; i < hashes.length; i++) hashes[i] = Math.floor(rnd() * 2 ** 32);
    index.addMany(
      Uint32Array.from({ length: n }, (_, i) => i),
      new Uint16Array(n),
      hashes,
    );
    index.rebuild();
    const memory = index.memory();
    const offsets = 16 * 65537 * 4;
    assert.ok(Math.abs(memory.entries + memory.tables - offsets - n * 83) < n, JSON.stringify(memory));
    assert.equal(index.entries().count, n);
  });
});
