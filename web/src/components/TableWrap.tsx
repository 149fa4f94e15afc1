import { type ReactNode, useLayoutEffect, useRef, useState } from 'react';

/**
 * The box of a table that may be wider than the screen (a phone). When the table
 * does not fit, the box scrolls sideways and becomes a named tab stop, so a
 * keyboard can scroll it too (WCAG 2.1.1); when it fits, it is no tab stop.
 */
export function TableWrap({ label, children }: { label: string; children: ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const [scrolls, setScrolls] = useState(false);
  useLayoutEffect(() => {
    const el = box.current;
    if (!el) return;
    const check = () => setScrolls(el.scrollWidth > el.clientWidth + 1);
    check();
    const observer = new ResizeObserver(check);
    observer.observe(el);
    if (el.firstElementChild) observer.observe(el.firstElementChild);
    return () => observer.disconnect();
  }, []);
  return scrolls ? (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: the region scrolls
    <div ref={box} className="table-wrap" role="region" aria-label={label} tabIndex={0}>
      {children}
    </div>
  ) : (
    <div ref={box} className="table-wrap">
      {children}
    </div>
  );
}
