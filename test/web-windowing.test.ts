import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { moveIndex, scrollToShow, visibleRange } from '../web/src/lib/windowing.ts';

describe('windowed list arithmetic (web/src/lib/windowing.ts)', () => {
  it('renders only the rows in view, plus the overscan', () => {
    const r = visibleRange({ count: 500, rowHeight: 50, viewportHeight: 600, scrollTop: 1000, overscan: 3 });
    // Rows 20..31 are in view (1000/50 = 20; (1000+600)/50 = 32).
    assert.deepEqual(r, { start: 17, end: 35, offsetTop: 850, totalHeight: 25_000 });
  });

  it('starts at the top and stops at the end of the list', () => {
    assert.deepEqual(visibleRange({ count: 500, rowHeight: 50, viewportHeight: 600, scrollTop: 0, overscan: 3 }), {
      start: 0,
      end: 15,
      offsetTop: 0,
      totalHeight: 25_000,
    });
    const end = visibleRange({ count: 500, rowHeight: 50, viewportHeight: 600, scrollTop: 24_400, overscan: 3 });
    assert.equal(end.end, 500);
    assert.equal(end.start, 485);
  });

  it('keeps rows on screen when the browser overscrolls past either end', () => {
    const below = visibleRange({ count: 10, rowHeight: 40, viewportHeight: 200, scrollTop: 99_999, overscan: 0 });
    assert.deepEqual([below.start, below.end], [5, 10]);
    const above = visibleRange({ count: 10, rowHeight: 40, viewportHeight: 200, scrollTop: -300, overscan: 0 });
    assert.deepEqual([above.start, above.end], [0, 5]);
  });

  it('draws nothing for an empty list or a list shorter than the viewport draws it all', () => {
    assert.deepEqual(visibleRange({ count: 0, rowHeight: 40, viewportHeight: 200, scrollTop: 0 }), {
      start: 0,
      end: 0,
      offsetTop: 0,
      totalHeight: 0,
    });
    const short = visibleRange({ count: 3, rowHeight: 40, viewportHeight: 500, scrollTop: 0 });
    assert.deepEqual([short.start, short.end, short.totalHeight], [0, 3, 120]);
  });

  it('always covers the viewport with a bounded number of rows (any list, any scroll position)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5000 }),
        fc.integer({ min: 10, max: 200 }),
        fc.integer({ min: 0, max: 2000 }),
        fc.integer({ min: -500, max: 2_000_000 }),
        fc.integer({ min: 0, max: 10 }),
        (count, rowHeight, viewportHeight, scrollTop, overscan) => {
          const r = visibleRange({ count, rowHeight, viewportHeight, scrollTop, overscan });
          const total = count * rowHeight;
          const top = Math.min(Math.max(0, scrollTop), Math.max(0, total - viewportHeight));
          const firstVisible = Math.min(count - 1, Math.floor(top / rowHeight));
          const lastVisible = Math.min(count - 1, Math.ceil((top + viewportHeight) / rowHeight) - 1);
          assert.ok(r.start >= 0 && r.end <= count && r.start < r.end);
          assert.ok(r.start <= firstVisible && r.end > Math.max(firstVisible, lastVisible), JSON.stringify(r));
          assert.equal(r.offsetTop, r.start * rowHeight);
          assert.equal(r.totalHeight, total);
          assert.ok(r.end - r.start <= Math.ceil(viewportHeight / rowHeight) + 2 + 2 * overscan);
        },
      ),
    );
  });

  it('scrolls as little as needed to show a row whole', () => {
    // Visible already: unchanged.
    assert.equal(scrollToShow(12, 50, 600, 500), 500);
    // Above the viewport: its top edge becomes the viewport's.
    assert.equal(scrollToShow(3, 50, 600, 500), 150);
    // Below: its bottom edge becomes the viewport's.
    assert.equal(scrollToShow(30, 50, 600, 500), 31 * 50 - 600);
    // Half visible at the bottom counts as below.
    assert.equal(scrollToShow(21, 50, 600, 480), 22 * 50 - 600);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 999 }),
        fc.integer({ min: 20, max: 100 }),
        fc.integer({ min: 100, max: 1000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (index, rowHeight, viewport, scrollTop) => {
          const next = scrollToShow(index, rowHeight, viewport, scrollTop);
          assert.ok(index * rowHeight >= next && (index + 1) * rowHeight <= next + viewport);
        },
      ),
    );
  });

  it('moves the selection one row at a time and stops at the ends', () => {
    assert.equal(moveIndex(-1, 1, 5), 0);
    assert.equal(moveIndex(-1, -1, 5), 4);
    assert.equal(moveIndex(0, -1, 5), 0);
    assert.equal(moveIndex(3, 1, 5), 4);
    assert.equal(moveIndex(4, 1, 5), 4);
    assert.equal(moveIndex(2, 1, 0), -1);
  });
});
