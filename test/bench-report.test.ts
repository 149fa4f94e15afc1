import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import {
  RESULTS_DIR,
  type ResultsFile,
  latestResultsFile,
  renderBenchmarksDoc,
  saveResults,
  today,
  writeBenchmarksDoc,
} from '../bench/report.js';

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

  it('writes the page from the latest full-size file, then the quick suite from the latest quick file', () => {
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-doc-'));
    try {
      const recorded = latestResultsFile(RESULTS_DIR);
      assert.ok(recorded, 'the repository holds a full-size results file');
      const results = JSON.parse(fs.readFileSync(recorded, 'utf8')) as ResultsFile;
      const fullDir = path.join(tmp, 'results');
      const quickDir = path.join(fullDir, 'quick');
      const doc = path.join(tmp, 'BENCHMARKS.md');
      fs.mkdirSync(quickDir, { recursive: true });
      const quick: ResultsFile = { ...results, date: '2001-02-03', run: { ...results.run, code: 'quick01' } };
      fs.writeFileSync(path.join(quickDir, '2001-02-03.json'), JSON.stringify(quick));

      // Only a quick run so far: the page says so, and shows the quick figures.
      writeBenchmarksDoc(fullDir, doc, quickDir);
      let text = fs.readFileSync(doc, 'utf8');
      assert.match(text, /No full-size run recorded yet: `npm run bench -- --full`/);
      assert.match(text, /## The quick suite/);
      assert.match(text, /code `quick01`/);

      fs.writeFileSync(path.join(fullDir, '2001-02-02.json'), JSON.stringify({ ...results, date: '2001-02-02' }));
      writeBenchmarksDoc(fullDir, doc, quickDir);
      text = fs.readFileSync(doc, 'utf8');
      assert.ok(text.startsWith('# Benchmarks'));
      assert.doesNotMatch(text, /No full-size run/);
      assert.ok(text.indexOf('- **Date:** 2001-02-02') < text.indexOf('## The quick suite'), 'full size first');
      // Every benchmark the quick file holds is printed as the run printed it.
      const blocks = text.slice(text.indexOf('## The quick suite')).match(/^```text$/gm) ?? [];
      assert.equal(blocks.length, Object.keys(results.benchmarks).length);
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
