import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { type ResultsFile, renderBenchmarksDoc, saveResults, today } from '../bench/report.js';

const run = { code: 'abc1234', loadAverage: { start: 0.5, end: 0.7 }, seconds: 12 };

describe('benchmark results files', () => {
  it('carries a benchmark not run today over from the latest earlier file, marked with its date', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-results-'));
    try {
      const older = (date: string, benchmarks: object) =>
        fs.writeFileSync(
          path.join(dir, `${date}.json`),
          JSON.stringify({ date, updatedAt: `${date}T00:00:00Z`, machine: {}, run, benchmarks }),
        );
      older('2000-01-01', { images: { stale: true }, legal: [{ store: 'sqlite', old: true }] });
      older('2000-01-02', { images: { kept: true } });
      const fresh = [{ store: 'sqlite', fresh: true }] as unknown as NonNullable<ResultsFile['benchmarks']['legal']>;
      const file = saveResults({ legal: fresh }, run, dir);
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile;
      assert.equal(path.basename(file), `${today()}.json`);
      assert.deepEqual(saved.benchmarks.images, { kept: true }, 'the latest earlier figures, not older ones');
      assert.deepEqual(saved.benchmarks.legal, fresh, 'what ran today replaces what was carried');
      assert.deepEqual(saved.carried, { images: '2000-01-02' });

      // A second run today keeps the carried entry and its date.
      saveResults({ legal: fresh }, run, dir);
      const again = JSON.parse(fs.readFileSync(file, 'utf8')) as ResultsFile;
      assert.deepEqual(again.carried, { images: '2000-01-02' });
      const doc = renderBenchmarksDoc({ ...again, benchmarks: {} }, 'x.json');
      assert.match(doc, /Carried over:\*\* images \(measured 2000-01-02\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
