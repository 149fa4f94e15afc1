import assert from 'node:assert/strict';
import { it } from 'node:test';
import { newId, newSortableId } from '../src/ids.js';

it('ids are distinct, 128 random bits in base32, across many pool refills', () => {
  const seen = new Set<string>();
  const counts = new Map<string, number>();
  for (let i = 0; i < 50_000; i++) {
    const id = newId('x');
    assert.match(id, /^x_[a-z2-7]{26}$/);
    assert.equal(seen.has(id), false, 'no repeat');
    seen.add(id);
    for (const c of id.slice(2, 25)) counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  // 23 full 5-bit symbols per id: every symbol of the alphabet about equally often.
  const expected = (50_000 * 23) / 32;
  assert.equal(counts.size, 32);
  for (const [c, n] of counts) assert.ok(Math.abs(n - expected) < expected * 0.05, `${c}: ${n}`);
});

it('sortable ids sort by creation within a process', () => {
  const ids = Array.from({ length: 5000 }, () => newSortableId('evt'));
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});
