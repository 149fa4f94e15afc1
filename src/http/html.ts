/**
 * HTML for the server-rendered public pages. Every value put into a page goes
 * through `html`, which escapes it unless it is already `SafeHtml` (made by `html`
 * itself), so a country name, a policy text or a query value cannot become markup.
 * Values are safe in element content and in double-quoted attribute values, which
 * is all the pages use: never in unquoted attributes, `<script>` or `<style>`.
 */

/** Markup that is already escaped: only `html` makes it. */
export class SafeHtml {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Escapes text for element content and quoted attribute values. */
export function escapeHtml(value: string | number): string {
  return String(value).replace(/[&<>"']/g, (c) => ENTITIES[c] ?? c);
}

/** What `html` accepts: text and numbers (escaped), markup, lists of either; nothing for null, undefined, false. */
export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return '';
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  return escapeHtml(value as string | number);
}

/** Tagged template: `html`<p>${text}</p>`` escapes `text`; nested `html` results are kept as they are. */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? '';
  for (let i = 0; i < values.length; i++) out += render(values[i] as HtmlValue) + (strings[i + 1] ?? '');
  return new SafeHtml(out);
}
