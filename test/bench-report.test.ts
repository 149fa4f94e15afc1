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
  renderGrowthSection,
  writeBenchmarksDoc,
} from '../bench/report.js';
import { type GrowthResult, growthExponent } from '../bench/growth.js';
import { growthChartSvg } from '../bench/growth-chart.js';

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

  it('stamps each store entry with the run that measured it, and the page names entries of earlier code', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-bench-measured-'));
    try {
      const entry = (store: string, tag: string) => ({ store, tag });
      const both = [entry('sqlite', 'old'), entry('postgres', 'old')] as unknown as NonNullable<
        ResultsFile['benchmarks']['transparency']
      >;
      const first = saveResults({ transparency: both }, { ...run, code: 'old0001' }, dir);
      let saved = JSON.parse(fs.readFileSync(first, 'utf8')) as ResultsFile;
      assert.deepEqual(saved.measured?.transparency, {
        sqlite: { code: 'old0001', date: today() },
        postgres: { code: 'old0001', date: today() },
      });
      // A later run of one store replaces that store's entry and stamp only.
      const sqliteOnly = [entry('sqlite', 'new')] as unknown as typeof both;
      saveResults({ transparency: sqliteOnly }, { ...run, code: 'new0002' }, dir);
      saved = JSON.parse(fs.readFileSync(first, 'utf8')) as ResultsFile;
      assert.deepEqual(saved.measured?.transparency, {
        sqlite: { code: 'new0002', date: today() },
        postgres: { code: 'old0001', date: today() },
      });
      assert.deepEqual(
        saved.benchmarks.transparency?.map((t) => (t as unknown as { tag: string }).tag),
        ['new', 'old'],
      );
      const doc = renderBenchmarksDoc({ ...saved, benchmarks: {} }, 'x.json');
      assert.match(doc, /Measured by earlier code:\*\* transparency on PostgreSQL \(code `old0001`/);
      // All from one run: no such line.
      saveResults({ transparency: both }, { ...run, code: 'new0002' }, dir);
      saved = JSON.parse(fs.readFileSync(first, 'utf8')) as ResultsFile;
      assert.doesNotMatch(renderBenchmarksDoc({ ...saved, benchmarks: {} }, 'x.json'), /Measured by earlier code/);
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

  it('measures the growth order and draws each path on logarithmic axes, a line per store and its baseline', () => {
    const flat = [1e3, 1e4, 1e5].map((size) => ({ size, ms: 2, baselineMs: 0.1 }));
    const linear = [1e3, 1e4, 1e5].map((size) => ({ size, ms: size / 1000, baselineMs: 0.1 }));
    assert.equal(growthExponent(flat), 0);
    assert.ok(Math.abs((growthExponent(linear) as number) - 1) < 1e-9);
    assert.equal(growthExponent(flat.slice(0, 1)), null);
    const result: GrowthResult = {
      sizes: { store: [1e3, 1e4, 1e5], hashes: [1e4, 1e5, 1e6] },
      series: [
        { path: 'lookup', store: 'sqlite', points: flat },
        { path: 'lookup', store: 'postgres', points: linear },
        { path: 'matching', store: 'memory', points: linear.map((p) => ({ ...p, size: p.size * 10 })) },
      ],
      seconds: 1,
    };
    const svg = growthChartSvg('lookup', result.series);
    assert.match(svg, /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.equal(svg.match(/<polyline /g)?.length, 4, 'two stores, each with its baseline');
    assert.match(svg, /postgres \(k ≈ 1.00\)/);
    assert.match(svg, /sqlite \(k ≈ 0.00\)/);
    // The linear series rises two decades over two decades of size: its y falls by two decades' height.
    const pg = [...svg.matchAll(/<polyline points="([^"]+)"/g)][2]?.[1]
      ?.split(' ')
      .map((p) => p.split(',').map(Number));
    assert.ok(pg && pg.length === 3);
    assert.ok(Math.abs(pg[0]![1]! - pg[1]![1]! - (pg[1]![1]! - pg[2]![1]!)) < 0.2, 'even steps on a log axis');

    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-growth-'));
    try {
      const text = renderGrowthSection(result, 'bench/results/x.json', path.join(tmp, 'bench'), tmp);
      assert.match(text, /!\[Disclosure lookup[^\]]*\]\(bench\/growth-lookup.svg\)/);
      assert.match(text, /\(bench\/growth-matching.svg\)/);
      assert.doesNotMatch(text, /growth-queue/, 'no chart for a path not measured');
      assert.ok(fs.readFileSync(path.join(tmp, 'bench', 'growth-lookup.svg'), 'utf8').startsWith('<svg'));
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
