/**
 * What the queue page last showed, for the case page: the previous and next
 * case (j/k there too), the way back with the same filters, and a line saying
 * what just happened ("Case … decided").
 */
let ids: readonly string[] = [];
let search = '';
let flash = '';

export function rememberQueue(caseIds: readonly string[], query: string): void {
  ids = caseIds;
  search = query;
}

export function queueHref(): string {
  return `/console/cases${search}`;
}

/** The case `delta` places from `id` in the last queue shown, or null. */
export function neighbour(id: string, delta: number): string | null {
  const i = ids.indexOf(id);
  if (i < 0) return null;
  return ids[i + delta] ?? null;
}

/** Takes the case out of the remembered queue (once decided). */
export function forget(caseIds: readonly string[]): void {
  const gone = new Set(caseIds);
  ids = ids.filter((id) => !gone.has(id));
}

export function setFlash(message: string): void {
  flash = message;
}

/** The message left by the previous page, once. */
export function takeFlash(): string {
  const m = flash;
  flash = '';
  return m;
}
