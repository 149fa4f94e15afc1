/**
 * The API's 422 (and 400) answers name each problem by the JSON pointer of the
 * field (`/targets/0/phone`, `/courtOrder/issuedAt`). Forms name their inputs by
 * the same pointer, so a message lands next to the field it is about; problems
 * about a field the form does not show go to the nearest shown ancestor, and the
 * rest to the top of the form.
 */

export interface FieldProblem {
  path: string;
  code: string;
  message: string;
}

export interface PlacedProblems {
  /** Messages per field pointer, in the order the API gave them. */
  byField: Record<string, string[]>;
  /** Problems no field of the form is about, with a readable message. */
  unplaced: { path: string; message: string }[];
}

/** The pointer's tokens, unescaped (`~1` is `/`, `~0` is `~`). */
export function pointerTokens(pointer: string): string[] {
  if (pointer === '' || pointer === '/') return [];
  return pointer
    .replace(/^\//, '')
    .split('/')
    .map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

/** A pointer from tokens, escaped. */
export function toPointer(tokens: readonly (string | number)[]): string {
  return tokens.map((t) => `/${String(t).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');
}

/** Problems from an error's `details`, whatever its shape (only well-formed entries are kept). */
export function problemsOf(details: unknown): FieldProblem[] {
  if (!Array.isArray(details)) return [];
  return details.flatMap((d) => {
    if (!d || typeof d !== 'object') return [];
    const { path, code, message } = d as Record<string, unknown>;
    if (typeof path !== 'string') return [];
    return [
      {
        path,
        code: typeof code === 'string' ? code : 'invalid',
        message: typeof message === 'string' ? message : 'is invalid',
      },
    ];
  });
}

/** The API's terse messages ("is required") as a sentence shown under a field. */
export function fieldSentence(message: string): string {
  const m = message.trim().replace(/\.$/, '');
  if (m === 'is required' || /^must NOT have fewer than 1 characters?$/.test(m)) return 'Required.';
  if (/^must NOT have fewer than 1 items?$/.test(m)) return 'Add at least one.';
  if (/^(is|must|should|names|lists|changes|keep|only)\b/.test(m)) return `This field ${m}.`;
  return `${m.charAt(0).toUpperCase()}${m.slice(1)}.`;
}

/**
 * Places each problem on the field its pointer names, or on its nearest ancestor
 * the form shows (`/targets/0/phone` on `/targets/0` when there is no phone input).
 * Request parts other than the body (`/querystring/…`) are never fields.
 */
export function placeProblems(details: unknown, fields: readonly string[]): PlacedProblems {
  const known = new Set(fields);
  const byField: Record<string, string[]> = {};
  const unplaced: PlacedProblems['unplaced'] = [];
  for (const problem of problemsOf(details)) {
    const tokens = pointerTokens(problem.path);
    let placed = false;
    for (let n = tokens.length; n > 0 && !placed; n--) {
      const candidate = toPointer(tokens.slice(0, n));
      if (known.has(candidate)) {
        const message =
          n === tokens.length
            ? fieldSentence(problem.message)
            : `${partName(tokens.slice(n))}: ${fieldSentence(problem.message)}`;
        const list = byField[candidate] ?? [];
        list.push(message);
        byField[candidate] = list;
        placed = true;
      }
    }
    if (!placed) {
      const where = tokens.length === 0 ? '' : `${tokens.join('.')}: `;
      unplaced.push({ path: problem.path, message: `${where}${fieldSentence(problem.message)}` });
    }
  }
  return { byField, unplaced };
}

/** The part of a field a problem is about, in words: `["1"]` → "Item 2", `["0","phone"]` → "Item 1 phone". */
function partName(tokens: readonly string[]): string {
  const words = tokens.map((t) => (/^\d+$/.test(t) ? `item ${Number(t) + 1}` : t)).join(' ');
  return `${words.charAt(0).toUpperCase()}${words.slice(1)}`;
}

/** The id of the input for a pointer (`/targets/0/phone` → `f-targets-0-phone`), stable and valid in HTML. */
export function fieldId(pointer: string, prefix = 'f'): string {
  const tokens = pointerTokens(pointer).map((t) => t.replace(/[^A-Za-z0-9_-]/g, '_'));
  return [prefix, ...tokens].join('-');
}
