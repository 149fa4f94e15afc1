import { type ReactNode, useEffect, useLayoutEffect, useRef, useState } from 'react';
import { scrollToShow, visibleRange } from '../lib/windowing.ts';

interface VirtualListProps<T> {
  items: readonly T[];
  /** Every row has this height in CSS pixels (rows are laid out to fit it). */
  rowHeight: number;
  itemKey: (item: T) => string;
  renderRow: (item: T, index: number) => ReactNode;
  /** Row kept in view (keyboard navigation); -1 for none. */
  activeIndex?: number;
  label: string;
  overscan?: number;
  className?: string;
}

/**
 * A list that renders only the rows in view (plus a few), so hundreds of cases
 * scroll without jank. The list scrolls inside its own box; rows carry their
 * position in the whole list (aria-setsize, aria-posinset) for screen readers.
 */
export function VirtualList<T>({
  items,
  rowHeight,
  itemKey,
  renderRow,
  activeIndex = -1,
  label,
  overscan = 6,
  className,
}: VirtualListProps<T>) {
  const box = useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = useState(0);
  const [viewportHeight, setViewportHeight] = useState(600);
  const frame = useRef(0);

  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    setViewportHeight(el.clientHeight);
    const observer = new ResizeObserver(() => setViewportHeight(el.clientHeight));
    observer.observe(el);
    return () => observer.disconnect();
  }, []);

  useEffect(() => () => cancelAnimationFrame(frame.current), []);

  // Keep the active row whole in view when it changes (j/k).
  useEffect(() => {
    const el = box.current;
    if (!el || activeIndex < 0) return;
    const next = scrollToShow(activeIndex, rowHeight, el.clientHeight, el.scrollTop);
    if (next !== el.scrollTop) {
      el.scrollTop = next;
      setScrollTop(next);
    }
  }, [activeIndex, rowHeight]);

  const onScroll = () => {
    // One state update per frame however many scroll events arrive.
    if (frame.current) return;
    frame.current = requestAnimationFrame(() => {
      frame.current = 0;
      if (box.current) setScrollTop(box.current.scrollTop);
    });
  };

  const range = visibleRange({ count: items.length, rowHeight, viewportHeight, scrollTop, overscan });
  const rows: ReactNode[] = [];
  for (let i = range.start; i < range.end; i++) {
    const item = items[i] as T;
    rows.push(
      <li
        key={itemKey(item)}
        aria-setsize={items.length}
        aria-posinset={i + 1}
        className={`vrow${i === activeIndex ? ' active' : ''}`}
        style={{ height: rowHeight }}
      >
        {renderRow(item, i)}
      </li>,
    );
  }
  return (
    <div ref={box} className={`vlist ${className ?? ''}`} onScroll={onScroll}>
      <div className="vlist-sizer" style={{ height: range.totalHeight }}>
        <ul aria-label={label} className="vlist-window" style={{ transform: `translateY(${range.offsetTop}px)` }}>
          {rows}
        </ul>
      </div>
    </div>
  );
}
