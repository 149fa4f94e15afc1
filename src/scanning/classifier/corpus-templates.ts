import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { CATEGORY_CODES, type CategoryCode } from '../../policy/policy.js';
import { CorpusError } from './corpus.js';
import { mulberry32 } from '../../random.js';

/**
 * Expands the template files of `models/corpus/templates/<lang>.txt` into labelled JSONL
 * (`models/corpus/generated/<lang>.jsonl`). The format, one directive per line:
 *
 * ```
 * # a comment
 * @drug = weed | coke | MDMA          a slot and its fillers (`+=` adds more)
 * ## illegal_drugs                    the labels of the templates that follow
 * ## scam_fraud, spam                 several labels
 * ## none ~ illegal_drugs             benign; `~` names what it is a hard negative for
 * selling {drug}, DM {handle}         a template: {slot} or inline {a|b|c}
 * a line with no braces               one hand-written example, used as is
 * * {d_open} {drug} {d_contact}        a recombination line (leading `*`): yields
 *                                     {@link VARIANTS_PER_RECOMBINATION} examples marked
 *                                     `augmented` (training only, never test or calibration)
 * ```
 *
 * Slot values may themselves contain placeholders. Each template yields up to
 * {@link VARIANTS_PER_TEMPLATE} distinct fillings, drawn with a
 * PRNG seeded by the template's own text, so the output depends only on the files. All
 * fillings of a template share a `group`, so a template lands wholly in one split.
 */

export const VARIANTS_PER_TEMPLATE = 5;
export const VARIANTS_PER_RECOMBINATION = 30;

interface Section {
  labels: CategoryCode[];
  hint: string;
}

export interface GeneratedExample {
  text: string;
  labels: CategoryCode[];
  lang: string;
  source: string;
  group?: string;
  augmented?: boolean;
}

const PLACEHOLDER = /\{([^{}]+)\}/g;

function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Replaces every `{slot}` and inline `{a|b}` with a random choice; a chosen value may hold
 * placeholders of its own (at most four levels deep).
 */
function fill(
  text: string,
  slots: ReadonlyMap<string, readonly string[]>,
  random: () => number,
  where: string,
  depth = 0,
): string {
  if (depth > 4) throw new CorpusError(where, 'slots nest too deeply (a slot refers to itself?)');
  return text.replace(PLACEHOLDER, (_, inner: string) => {
    const values = inner.includes('|') ? inner.split('|').map((v) => v.trim()) : slots.get(inner.trim());
    if (!values) throw new CorpusError(where, `unknown slot {${inner}}`);
    const chosen = values[Math.floor(random() * values.length)]!;
    return chosen.includes('{') ? fill(chosen, slots, random, where, depth + 1) : chosen;
  });
}

/** Expands one template file's content. `lang` comes from the file name. */
export function expandTemplates(fileName: string, lang: string, content: string): GeneratedExample[] {
  const slots = new Map<string, string[]>();
  let section: Section | undefined;
  const out: GeneratedExample[] = [];
  const lines = content.split('\n');
  lines.forEach((rawLine, index) => {
    const where = `${fileName}:${index + 1}`;
    let line = rawLine.trim();
    if (line === '' || (line.startsWith('#') && !line.startsWith('##'))) return;
    const slot = /^@([a-z_0-9]+)\s*(\+?=)\s*(.*)$/.exec(line);
    if (slot) {
      const values = slot[3]!
        .split('|')
        .map((v) => v.trim())
        .filter((v) => v !== '');
      if (values.length === 0) throw new CorpusError(where, `slot @${slot[1]} has no values`);
      if (slot[2] === '+=') slots.set(slot[1]!, [...(slots.get(slot[1]!) ?? []), ...values]);
      else slots.set(slot[1]!, values);
      return;
    }
    if (line.startsWith('##')) {
      const [labelPart, hint = ''] = line.slice(2).split('~');
      const names = labelPart!
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');
      const labels: CategoryCode[] = [];
      for (const name of names) {
        if (name === 'none') continue;
        if (!(CATEGORY_CODES as readonly string[]).includes(name))
          throw new CorpusError(where, `unknown label ${name}`);
        labels.push(name as CategoryCode);
      }
      section = { labels: labels.sort(), hint: hint.trim() };
      return;
    }
    if (!section) throw new CorpusError(where, 'template before any ## section');
    const augmented = line.startsWith('* ');
    if (augmented) line = line.slice(2).trim();
    const source = `template:${fileName}#${section.labels.length > 0 ? section.labels.join('+') : 'none'}${
      section.hint ? `~${section.hint}` : ''
    }`;
    const placeholders = [...line.matchAll(PLACEHOLDER)];
    if (placeholders.length === 0 && !augmented) {
      out.push({ text: line, labels: section.labels, lang, source: source.replace(/^template:/, 'handwritten:') });
      return;
    }
    const group = `${lang}:${crypto.createHash('sha256').update(line).digest('hex').slice(0, 16)}`;
    const random = mulberry32(fnv1a(line));
    const want = augmented ? VARIANTS_PER_RECOMBINATION : VARIANTS_PER_TEMPLATE;
    const seen = new Set<string>();
    for (let attempt = 0; attempt < want * 8 && seen.size < want; attempt++) {
      const text = fill(line, slots, random, where)
        .replace(/\s+/g, ' ')
        .replace(/\s+([,.!?،])/g, '$1')
        .trim();
      if (seen.has(text)) continue;
      seen.add(text);
      out.push(
        augmented
          ? { text, labels: section.labels, lang, source: `${source}*`, group, augmented: true }
          : { text, labels: section.labels, lang, source, group },
      );
    }
  });
  return out;
}

/** Regenerates `generated/<lang>.jsonl` from every `templates/<lang>.txt`; returns counts per file. */
export function generateCorpus(corpusDir: string): Record<string, number> {
  const templatesDir = path.join(corpusDir, 'templates');
  const outDir = path.join(corpusDir, 'generated');
  fs.mkdirSync(outDir, { recursive: true });
  const counts: Record<string, number> = {};
  for (const name of fs.readdirSync(templatesDir).sort()) {
    if (!name.endsWith('.txt')) continue;
    const lang = name.replace(/\.txt$/, '').split('-')[0]!;
    const examples = expandTemplates(name, lang, fs.readFileSync(path.join(templatesDir, name), 'utf8'));
    const lines = examples.map((e) => JSON.stringify(e));
    fs.writeFileSync(path.join(outDir, name.replace(/\.txt$/, '.jsonl')), lines.length ? `${lines.join('\n')}\n` : '');
    counts[name] = examples.length;
  }
  return counts;
}
