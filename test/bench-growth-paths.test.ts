import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intakeGrowthPoint, scanningGrowthPoint } from '../bench/growth-paths.js';
import { TEST_STORES } from './helpers/harness.js';

// The two growth paths of bench/growth-paths.ts at tiny sizes: the fill stores exactly
// the reports asked for through the real intake (the point throws otherwise), and
// the scanning path's generated keywords never match a message of the mix.
describe('growth paths of the benchmark suite', () => {
  for (const dialect of TEST_STORES) {
    it(`report intake fills ${dialect} through fileReport and times single reports`, async () => {
      const point = await intakeGrowthPoint(dialect, 300, 10);
      assert.equal(point.size, 300);
      assert.ok(point.ms > 0 && Number.isFinite(point.ms), `report p50 ${point.ms}`);
      assert.ok(point.baselineMs > 0 && Number.isFinite(point.baselineMs), `select 1 p50 ${point.baselineMs}`);
    });
  }

  it('content scanning times the pipeline beside the naive matcher, which grows with the keywords', async () => {
    const small = await scanningGrowthPoint(200);
    const large = await scanningGrowthPoint(20_000);
    assert.equal(large.size, 20_000);
    assert.ok(small.ms > 0 && large.ms > 0);
    // A hundred times the keywords: the naive matcher does a hundred times the work.
    assert.ok(large.baselineMs > small.baselineMs * 5, `naive ${small.baselineMs} → ${large.baselineMs} ms`);
  });
});
