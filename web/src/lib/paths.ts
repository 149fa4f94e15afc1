/** Client-side routes: `/console/cases/:id` against a location's pathname. */

/** The parameters of `pattern` in `pathname`, or null when it does not match. Trailing slashes are ignored. */
export function matchPath(pattern: string, pathname: string): Record<string, string> | null {
  const want = split(pattern);
  const got = split(pathname);
  const params: Record<string, string> = {};
  const rest = want.at(-1) === '*';
  if (rest ? got.length < want.length - 1 : got.length !== want.length) return null;
  for (let i = 0; i < want.length; i++) {
    const w = want[i] as string;
    if (w === '*') {
      params['*'] = got.slice(i).join('/');
      return params;
    }
    const g = got[i];
    if (g === undefined) return null;
    if (w.startsWith(':')) {
      try {
        params[w.slice(1)] = decodeURIComponent(g);
      } catch {
        return null;
      }
    } else if (w !== g) return null;
  }
  return params;
}

function split(path: string): string[] {
  return path
    .split('?')[0]!
    .split('/')
    .filter((s) => s !== '');
}

/** A path with its parameters filled in and encoded. */
export function pathTo(pattern: string, params: Record<string, string>): string {
  return pattern.replace(/:([A-Za-z]+)/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
}
