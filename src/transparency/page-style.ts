/**
 * The public pages' style sheet, served as a file (`/transparency/page.css`) so the
 * content security policy can forbid inline styles altogether.
 */
export const PAGE_CSS = `
:root { color-scheme: light; --ink: #1a1a1a; --muted: #555; --line: #d0d0d0; --accent: #1f5fa8; --warn: #8a1c12; }
* { box-sizing: border-box; }
html { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #fff; line-height: 1.5; }
body { margin: 0 auto; max-width: 60rem; padding: 0 1rem 3rem; }
a { color: var(--accent); }
a:focus, button:focus, select:focus, summary:focus { outline: 3px solid #f5a623; outline-offset: 2px; }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; }
header { border-bottom: 1px solid var(--line); margin-bottom: 1.5rem; }
.site { font-weight: 700; letter-spacing: .05em; text-transform: uppercase; color: var(--muted); margin: 1rem 0 0; }
h1 { margin: .25rem 0 .5rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--line); padding-bottom: .25rem; }
form.filters { display: flex; flex-wrap: wrap; gap: 1rem; align-items: flex-end; padding: 1rem; background: #f4f6f8; border: 1px solid var(--line); border-radius: 6px; }
form.filters div { display: flex; flex-direction: column; }
form.filters label { font-weight: 600; font-size: .9rem; }
select, button { font: inherit; padding: .35rem .5rem; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 4px; padding: .45rem 1rem; cursor: pointer; }
.error { border: 2px solid var(--warn); background: #fdf1ef; padding: 1rem; border-radius: 6px; margin: 1.5rem 0; }
.error h2 { margin-top: 0; border: 0; color: var(--warn); }
.refusals { border-left: 6px solid var(--warn); background: #fdf6f4; padding: 1rem 1.25rem; font-size: 1.15rem; margin: 1.5rem 0; }
.refusals h2 { margin: 0 0 .5rem; border: 0; padding: 0; font-size: 1.2rem; }
.refusals p { margin: .25rem 0; }
.note { color: var(--muted); font-size: .95rem; }
figure { margin: 1.5rem 0 2rem; }
figcaption { font-weight: 600; margin-bottom: .5rem; }
svg.chart { display: block; max-width: 100%; height: auto; border: 1px solid #eee; }
ul.legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: .25rem 1.25rem; font-size: .9rem; }
ul.legend svg { vertical-align: -2px; }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; margin: .75rem 0; font-size: .95rem; }
caption { text-align: left; font-weight: 600; padding-bottom: .25rem; }
th, td { border: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
thead th { background: #f4f6f8; }
.range-value { font-style: italic; }
code, pre { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .9rem; }
code.version { word-break: break-all; }
pre { background: #f6f6f6; border: 1px solid var(--line); padding: .75rem; overflow-x: auto; white-space: pre-wrap; word-break: break-word; }
details { margin: .75rem 0; }
summary { cursor: pointer; font-weight: 600; }
footer { margin-top: 3rem; border-top: 1px solid var(--line); color: var(--muted); font-size: .9rem; }
`;

/** A small icon, so a browser asking for one gets it from here rather than a 404. */
export const PAGE_ICON = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1f5fa8"/><rect x="3" y="8" width="2" height="5" fill="#fff"/><rect x="7" y="5" width="2" height="8" fill="#fff"/><rect x="11" y="3" width="2" height="10" fill="#fff"/></svg>`;
