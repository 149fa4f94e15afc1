import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { RegExpMatcher, englishDataset, englishRecommendedTransformers, parseRawPattern } from 'obscenity';
import { CATEGORY_CODES } from '../src/policy/policy.js';
import YAML from 'yaml';
import { type CompiledRules, compileRules, compileRulesFromYaml } from '../src/scanning/rules/rules.js';
import { pseudoKeywords } from './keywords.js';
import { describeMachine } from './report.js';
import { rng } from './stats.js';

/**
 * Throughput of the text rules (src/scanning/rules) on one core, beside the npm
 * profanity filter `obscenity` on the same messages, in messages per second of
 * CPU time. Standalone:
 *
 *   node --import tsx bench/rules-throughput.ts [--seconds 2] [--messages 5000]
 *
 * The messages are a fixed, seeded mix like a messaging platform's: 70 % short
 * chat lines (20–120 characters), 25 % posts of 200–1,000 and 5 % long posts of
 * 1,000–4,096; several languages; some carry a URL, a number or a wallet, and
 * about 3 % a listed keyword, some of them disguised (leetspeak, spacing,
 * Cyrillic look-alikes).
 *
 * Rule sets: the shipped example (policy/current.yaml: all five kinds),
 * then that example plus 1,000 and 10,000 generated keywords in one keyword
 * rule — the automaton's cost should not depend on the count.
 * obscenity: its English preset (about 70 words, each a RegExp run over the
 * text), then the same 1,000 generated keywords — one RegExp per keyword, so
 * its cost grows with the list. 10,000 are not run through obscenity: at its
 * 1,000-keyword rate it would take minutes for a few thousand messages.
 */

const here = path.dirname(fileURLToPath(import.meta.url));
const EXAMPLE = path.resolve(here, '../policy/current.yaml');

const WORDS: Record<string, string[]> = {
  en: 'the a to and of you i it is that in for on this we have be with are not was but at can my your so what just will do they me if all get like about out one time up now know good when people think see there how go day new make would more today going back really thanks great love meeting tomorrow tonight photo video channel group link message call friend family work school game music price free week month year'.split(
    ' ',
  ),
  ru: 'и в не на я что он с это как а то все она так его но да ты к у же вы за бы по только ее мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть был него до вас нибудь опять уж вам сегодня завтра привет спасибо канал группа фото видео'.split(
    ' ',
  ),
  es: 'de la que el en y a los se del las un por con no una su para es al lo como más o pero sus le ha me si sin sobre este ya entre cuando todo esta ser son dos también fue había era muy hoy mañana gracias hola canal grupo foto video amigo familia trabajo'.split(
    ' ',
  ),
  pt: 'de a o que e do da em um para é com não uma os no se na por mais as dos como mas foi ao ele das tem à seu sua ou ser quando muito há nos já está eu também só pelo hoje amanhã obrigado olá canal grupo foto vídeo amigo família trabalho'.split(
    ' ',
  ),
  ar: 'في من على إلى أن هذا التي الذي مع كان عن لا ما هو هي قد كل بعد ذلك عند اليوم غدا شكرا مرحبا قناة مجموعة صورة فيديو صديق عائلة عمل'.split(
    ' ',
  ),
  fa: 'و در به از که این را با است برای آن یک خود تا کرد بر هم نیز شد وی ما امروز فردا ممنون سلام کانال گروه عکس ویدیو دوست خانواده کار'.split(
    ' ',
  ),
  hi: 'के है में की और को से एक यह पर भी नहीं था कि हैं लिए तो ही या हो जो कर आज कल धन्यवाद नमस्ते चैनल समूह फोटो वीडियो दोस्त परिवार काम'.split(
    ' ',
  ),
};
const LANGUAGES = Object.keys(WORDS);
const HITS = [
  'cocaine for sale',
  'c0c@ine for sale',
  'b.u.y c.o.c.a.i.n.e',
  'соcaine for sale', // Cyrillic с and о
  'купить мефедрон',
  'закладки',
  'vendo maconha',
  'double your bitcoin',
  'guaranteed returns',
  'glock switch',
  'free followers',
];
const EXTRAS = [
  'https://example.org/some/path?x=1',
  'see telegram.org/faq',
  'visit wallet-validate.example now',
  'call +49 151 23456789',
  '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
  '1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa',
  '3.5g = 40€',
  '😀👍',
];

function message(rnd: () => number): string {
  const r = rnd();
  const length = r < 0.7 ? 20 + rnd() * 100 : r < 0.95 ? 200 + rnd() * 800 : 1000 + rnd() * 3096;
  const words = WORDS[LANGUAGES[Math.floor(rnd() * LANGUAGES.length)]!]!;
  const parts: string[] = [];
  let size = 0;
  while (size < length) {
    const roll = rnd();
    const w =
      roll < 0.004
        ? HITS[Math.floor(rnd() * HITS.length)]!
        : roll < 0.02
          ? EXTRAS[Math.floor(rnd() * EXTRAS.length)]!
          : words[Math.floor(rnd() * words.length)]!;
    parts.push(w);
    size += w.length + 1;
  }
  let text = parts.join(' ');
  if (rnd() < 0.3) text = text[0]!.toUpperCase() + text.slice(1);
  return text.slice(0, 4096);
}

interface Result {
  name: string;
  perSecond: number;
  hits: number;
  messages: number;
}

/**
 * Messages per second of CPU time on this thread (process.cpuUsage), best of
 * three rounds: on a shared machine wall time measures the neighbours too.
 */
function measure(name: string, messages: string[], seconds: number, scan: (text: string) => number): Result {
  for (let k = 0; k < Math.min(1000, messages.length); k++) scan(messages[k]!); // warm-up (JIT, caches)
  let best = 0;
  let hits = 0;
  let done = 0;
  for (let round = 0; round < 3; round++) {
    const start = process.cpuUsage();
    let cpu = 0;
    let count = 0;
    hits = 0;
    while (cpu < (seconds * 1e6) / 3 || count < 100) {
      for (let k = 0; k < 50; k++) hits += scan(messages[(count + k) % messages.length]!);
      count += 50;
      const used = process.cpuUsage(start);
      cpu = used.user + used.system;
    }
    done += count;
    best = Math.max(best, count / (cpu / 1e6));
  }
  return { name, perSecond: best, hits, messages: done };
}

/** The example's rules plus one keyword rule holding `extra` (when not empty). */
function withKeywords(section: ExampleSection, extra: string[]): CompiledRules {
  const generated = { id: 'generated', category: 'spam', kind: 'keywords', terms: extra };
  const rules = extra.length > 0 ? [...section.rules, generated] : section.rules;
  return compileRules({ ...section, rules }, { categories: CATEGORY_CODES });
}

type ExampleSection = { rules: unknown[]; allow?: unknown };

interface Row {
  name: string;
  /** Builds the matcher (untimed) and returns the scan to time: text → number of hits. */
  build: () => (text: string) => number;
}

function main(): void {
  const { values } = parseArgs({
    options: {
      seconds: { type: 'string', default: '2' },
      messages: { type: 'string', default: '5000' },
      only: { type: 'string' },
      breakdown: { type: 'boolean', default: false },
    },
  });
  const seconds = Number(values.seconds);
  const rnd = rng(20261128);
  // Through JSON, as messages arrive over HTTP: flat strings, not the ropes that concatenation builds.
  const messages = JSON.parse(
    JSON.stringify(Array.from({ length: Number(values.messages) }, () => message(rnd))),
  ) as string[];
  const chars = messages.reduce((n, m) => n + m.length, 0);
  const machine = describeMachine();
  console.log(`Rules throughput, one core — ${machine.cpu}, Node ${machine.node}`);
  console.log(
    `${messages.length} messages, mean ${Math.round(chars / messages.length)} characters (70 % ≤120, 5 % 1–4 KB); ${seconds} s of CPU per row\n`,
  );

  const yaml = fs.readFileSync(EXAMPLE, 'utf8');
  compileRulesFromYaml(yaml, { categories: CATEGORY_CODES }); // the example must compile as shipped
  const section = (YAML.parse(yaml) as { scanning: ExampleSection }).scanning;
  const k1 = pseudoKeywords(1_000, 1);
  const k10 = pseudoKeywords(10_000, 2);
  const rulesScan = (rules: CompiledRules) => (t: string) => rules.match(t, { surface: 'public' }).length;
  const keywordsOnly = (list: string[]) =>
    compileRules(
      { rules: [{ id: 'k', category: 'spam', kind: 'keywords', terms: list }] },
      { categories: CATEGORY_CODES },
    );
  const ofKind = (kind: string) => {
    const rules = section.rules.filter((r) => (r as { kind: string }).kind === kind);
    return compileRules({ ...section, rules }, { categories: CATEGORY_CODES });
  };

  const rows: Row[] = [
    { name: 'custos rules: example (all five kinds)', build: () => rulesScan(withKeywords(section, [])) },
    { name: 'custos rules: example + 1,000 keywords', build: () => rulesScan(withKeywords(section, k1)) },
    { name: 'custos rules: example + 10,000 keywords', build: () => rulesScan(withKeywords(section, k10)) },
    { name: 'custos keywords only: 1,000', build: () => rulesScan(keywordsOnly(k1)) },
    { name: 'custos keywords only: 10,000', build: () => rulesScan(keywordsOnly(k10)) },
    {
      name: 'obscenity: English preset',
      build: () => {
        const m = new RegExpMatcher({ ...englishDataset.build(), ...englishRecommendedTransformers });
        return (t) => m.getAllMatches(t).length;
      },
    },
    {
      name: 'obscenity: 1,000 keywords',
      build: () => {
        const m = new RegExpMatcher({
          blacklistedTerms: k1.map((w, id) => ({ id, pattern: parseRawPattern(w) })),
          ...englishRecommendedTransformers,
        });
        return (t) => m.getAllMatches(t).length;
      },
    },
  ];
  if (values.breakdown) {
    for (const kind of ['keywords', 'regex', 'domains', 'phone', 'crypto_wallet']) {
      rows.push({ name: `custos example, ${kind} rules only`, build: () => rulesScan(ofKind(kind)) });
    }
  }
  const selected = rows.filter((r) => !values.only || r.name.includes(values.only));
  const width = Math.max(...selected.map((r) => r.name.length));
  for (const row of selected) {
    const r = measure(row.name, messages, seconds, row.build());
    const rate = Math.round(r.perSecond).toLocaleString('en');
    const mchars = ((r.perSecond * chars) / messages.length / 1e6).toFixed(1);
    console.log(`${r.name.padEnd(width)}  ${rate.padStart(9)} messages/s  ${mchars.padStart(5)} M chars/s`);
  }
}

main();
