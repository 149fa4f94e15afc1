/**
 * Calls to the Custos API from the browser. Staff and authorities are signed in
 * with an HttpOnly cookie; every request that changes something also sends the
 * session's CSRF token (`x-csrf-token`), which only this page can read.
 * Public calls (the report form) send no cookie at all.
 */

/** An error answer of the API (`{"error":{"code","message","details"}}`), or a network failure (status 0). */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

let csrfToken: string | null = null;
let sessionLost: (() => void) | null = null;

/** The CSRF token of the current session (from `POST`/`GET /v1/session`), or null when signed out. */
export function setCsrfToken(token: string | null): void {
  csrfToken = token;
}

/** Called when a signed-in call answers 401: the session expired or was ended elsewhere. */
export function onSessionLost(fn: (() => void) | null): void {
  sessionLost = fn;
}

/** fetch's `credentials`, spelled out so this file type-checks without the DOM library (the tests import it). */
export type Credentials = 'omit' | 'same-origin' | 'include';

export interface CallOptions {
  body?: unknown;
  /** `omit` for public calls: no cookie, so no CSRF token is needed either. */
  credentials?: Credentials;
  signal?: AbortSignal;
}

/** One API call; resolves to the parsed JSON (undefined for 204), rejects with `ApiError`. */
export async function api<T>(method: string, path: string, options: CallOptions = {}): Promise<T> {
  const credentials = options.credentials ?? 'same-origin';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD' && credentials !== 'omit' && csrfToken) headers['x-csrf-token'] = csrfToken;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      // No cache option: the API answers `cache-control: no-store` itself.
      signal: options.signal,
    });
  } catch (error) {
    if ((error as Error).name === 'AbortError') throw error;
    throw new ApiError(0, 'network_error', 'Custos could not be reached. Check the connection and try again.');
  }
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : undefined;
  } catch {
    data = undefined;
  }
  if (!response.ok) {
    const e = (data as { error?: { code?: string; message?: string; details?: unknown } } | undefined)?.error;
    const error = new ApiError(
      response.status,
      e?.code ?? `http_${response.status}`,
      e?.message ?? `The server answered ${response.status}.`,
      e?.details,
    );
    if (response.status === 401 && credentials !== 'omit' && !path.startsWith('/v1/session')) sessionLost?.();
    throw error;
  }
  return data as T;
}

/** The query string of the defined, non-empty values. */
export function query(params: Record<string, string | number | boolean | null | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** A message for people: the API's own for known answers, plainer words for the rest. */
export function describeError(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 403) return 'Your role may not do this.';
    if (error.status === 429) return 'Too many requests. Wait a minute and try again.';
    if (error.status >= 500) return `${error.message} (${error.code})`;
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}
