/**
 * A small client-side router (history API): enough for the console's few pages
 * without a dependency. Links are real `<a href>`s, so opening in a new tab,
 * copying and middle-clicking work as on any page.
 */
import { type AnchorHTMLAttributes, type MouseEvent, useSyncExternalStore } from 'react';

const listeners = new Set<() => void>();

function notify(): void {
  for (const l of listeners) l();
}

window.addEventListener('popstate', notify);

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Whether the app has navigated since it loaded (pages then move focus to their heading). */
export let hasNavigated = false;

/** Goes to `to` (a path with an optional query and hash) without reloading. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  hasNavigated = true;
  if (options.replace) window.history.replaceState(null, '', to);
  else window.history.pushState(null, '', to);
  window.scrollTo(0, 0);
  notify();
}

export interface Location {
  pathname: string;
  search: URLSearchParams;
  hash: string;
}

let cachedHref = '';
let cachedLocation: Location = { pathname: '/', search: new URLSearchParams(), hash: '' };

function snapshot(): string {
  return window.location.href;
}

/** The current location; re-renders on navigation. */
export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot);
  if (href !== cachedHref) {
    const url = new URL(href);
    cachedHref = href;
    cachedLocation = { pathname: url.pathname.replace(/\/+$/, '') || '/', search: url.searchParams, hash: url.hash };
  }
  return cachedLocation;
}

/** Replaces the query string (filters), keeping the path; no new history entry. */
export function setSearch(params: Record<string, string | undefined>): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  window.history.replaceState(null, '', `${window.location.pathname}${s ? `?${s}` : ''}`);
  notify();
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & { to: string };

/** An `<a>` that navigates inside the app on a plain click. */
export function Link({ to, onClick, ...rest }: LinkProps) {
  const pathname = useLocation().pathname;
  const current = rest['aria-current'] ?? (pathname === to ? 'page' : undefined);
  const click = (event: MouseEvent<HTMLAnchorElement>) => {
    onClick?.(event);
    if (
      event.defaultPrevented ||
      event.button !== 0 ||
      event.metaKey ||
      event.ctrlKey ||
      event.shiftKey ||
      event.altKey
    ) {
      return;
    }
    if (rest.target && rest.target !== '_self') return;
    event.preventDefault();
    navigate(to);
  };
  return <a href={to} onClick={click} aria-current={current} {...rest} />;
}
