/**
 * The arithmetic of a windowed list: which rows of a long, fixed-row-height list
 * are on screen, and where to scroll so a row becomes visible. No DOM here, so
 * it is tested on its own (test/web-windowing.test.ts).
 */

export interface WindowInput {
  /** Rows in the whole list. */
  count: number;
  /** Height of one row in CSS pixels (every row has the same). */
  rowHeight: number;
  /** Height of the scrolling viewport. */
  viewportHeight: number;
  /** The viewport's scrollTop. */
  scrollTop: number;
  /** Extra rows rendered above and below, so a quick scroll does not show blank space. */
  overscan?: number;
}

export interface WindowRange {
  /** First rendered row. */
  start: number;
  /** One past the last rendered row. */
  end: number;
  /** Offset of row `start` from the top of the list. */
  offsetTop: number;
  /** Height of the whole list, so the scrollbar is right. */
  totalHeight: number;
}

/** The rows to render for a viewport. */
export function visibleRange(input: WindowInput): WindowRange {
  const count = Math.max(0, Math.floor(input.count));
  const rowHeight = input.rowHeight;
  const overscan = Math.max(0, Math.floor(input.overscan ?? 4));
  if (count === 0 || !(rowHeight > 0)) return { start: 0, end: 0, offsetTop: 0, totalHeight: 0 };
  const totalHeight = count * rowHeight;
  const viewport = Math.max(0, input.viewportHeight);
  // A rubber-band overscroll (negative, or past the end) must not leave the window empty.
  const top = Math.min(Math.max(0, input.scrollTop), Math.max(0, totalHeight - viewport));
  const first = Math.min(count - 1, Math.floor(top / rowHeight));
  const last = Math.max(first + 1, Math.ceil((top + viewport) / rowHeight));
  const start = Math.max(0, first - overscan);
  const end = Math.min(count, last + overscan);
  return { start, end, offsetTop: start * rowHeight, totalHeight };
}

/**
 * The scrollTop that shows row `index` whole, moving as little as possible:
 * unchanged when it is already visible, else aligned to the nearer edge.
 */
export function scrollToShow(index: number, rowHeight: number, viewportHeight: number, scrollTop: number): number {
  const top = index * rowHeight;
  const bottom = top + rowHeight;
  if (top < scrollTop) return top;
  if (bottom > scrollTop + viewportHeight) return Math.max(0, bottom - viewportHeight);
  return scrollTop;
}

/** The index `delta` rows away from `current`, kept inside the list; -1 for an empty list. */
export function moveIndex(current: number, delta: number, count: number): number {
  if (count <= 0) return -1;
  if (current < 0) return delta >= 0 ? 0 : count - 1;
  return Math.min(count - 1, Math.max(0, current + delta));
}
