import { type Static, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject } from 'ajv';
import { LineCounter, isNode, parseDocument } from 'yaml';
import { AhoCorasick, type AutomatonStats, type KeywordPattern } from './aho-corasick.js';
import { DomainIndex, exactDomain, findHosts, parseDomainEntry } from './domains.js';
import {
  type NormalisedText,
  TextLevels,
  foldCharacter,
  isSpacedWordUnit,
  normalise,
  toSourceSpan,
} from './normalise.js';
import {
  type PhoneCandidate,
  type PhoneNumberFound,
  findPhoneCandidates,
  isPhoneRegion,
  validatePhone,
} from './phones.js';
import { UnsafePatternError, checkPattern } from './safe-regex.js';
import { WALLET_NETWORKS, type WalletNetwork, findWallets } from './wallets.js';

/**
 * Declarative rules from the policy's `scanning.rules` list (with the allow list
 * `scanning.allow`): keyword lists,
 * regexes, domain lists, phone numbers and crypto wallets, each naming its
 * category. `compileRules` validates the section and compiles it once:
 *
 * - every keyword of every rule, and every allow-listed term, into ONE
 *   Aho–Corasick automaton over `full`-normalised text (aho-corasick.ts,
 *   normalise.ts) — one pass per message, whatever the number of keywords;
 * - every regex into one combined pattern per text level (at most two: `basic`
 *   and `compat`), after a ReDoS check (safe-regex.ts);
 * - every listed domain into one suffix index (domains.ts);
 * - phone and wallet rules share one extraction pass each (phones.ts, wallets.ts).
 *
 * Bounded work: a message is scanned up to `limits.maxChars` (default 1 MiB;
 * the rest is not scanned and the result says `truncated`), and regexes run on
 * the first `limits.maxRegexChars` of it (default 64 KiB) — see safe-regex.ts
 * for why that bound, together with the pattern checks, keeps regexes safe.
 *
 * Allow list: `allow.terms` are phrases in whose span a keyword or regex hit
 * does not count ("cocaine anonymous", "Scunthorpe"); `allow.domains` are
 * domains (with their subdomains) that domain rules never flag, unless a more
 * specific subdomain is itself listed.
 */

export const RULE_KINDS = ['keywords', 'regex', 'domains', 'phone', 'crypto_wallet'] as const;
export type RuleKind = (typeof RULE_KINDS)[number];
export type RuleAction = 'review' | 'remove';
export type Surface = 'public' | 'private';

const literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v)));

const RuleSchema = Type.Object(
  {
    /** Stable name, shown to moderators and recorded with every signal. */
    id: Type.String({ pattern: '^[a-z0-9][a-z0-9_.-]{0,79}$' }),
    /** A category code of the policy's `categories`. */
    category: Type.String({ minLength: 1 }),
    kind: literals(RULE_KINDS),
    description: Type.Optional(Type.String()),
    /** keywords: words and phrases; a leading or trailing `*` drops the word boundary on that side. */
    terms: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** keywords: whole words only (default true). */
    wholeWord: Type.Optional(Type.Boolean()),
    /** regex: JavaScript regular expressions (checked against ReDoS, see safe-regex.ts). */
    patterns: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** regex: the text the patterns see — `basic` (default: lower case, no accents, homoglyphs folded) or `compat` (case kept). */
    normalise: Type.Optional(literals(['basic', 'compat'] as const)),
    /** domains: bare domain names; each covers its subdomains. */
    domains: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    /** phone: flag only numbers of these regions (ISO 3166-1 alpha-2, or 001 for non-geographic); default any. */
    regions: Type.Optional(Type.Array(Type.String({ pattern: '^([A-Z]{2}|001)$' }), { minItems: 1 })),
    /** phone: also read numbers written without a country code as numbers of this region. */
    localRegion: Type.Optional(Type.String({ pattern: '^[A-Z]{2}$' })),
    /** crypto_wallet: networks to flag (default all). */
    networks: Type.Optional(Type.Array(literals(WALLET_NETWORKS), { minItems: 1 })),
    /** crypto_wallet: require a valid checksum (default true). */
    checksum: Type.Optional(Type.Boolean()),
    /** What the rule asks for when it matches (default review). */
    action: Type.Optional(literals(['review', 'remove'] as const)),
    /** Confidence given to a match, 0–1 (default 1). */
    score: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** Record the match but take no action (default false). */
    shadow: Type.Optional(Type.Boolean()),
    /** Apply only to messages in these languages (ISO 639 codes); default all. A message of unknown language gets every rule. */
    languages: Type.Optional(Type.Array(Type.String({ pattern: '^[a-z]{2,3}$' }), { minItems: 1 })),
    /** Apply only on these surfaces (default both). */
    surfaces: Type.Optional(Type.Array(literals(['public', 'private'] as const), { minItems: 1 })),
  },
  { additionalProperties: false },
);

/** `scanning.allow`: what rules never flag. */
export const RuleAllowSchema = Type.Object(
  {
    /** Domains (and their subdomains) that domain rules never flag, unless a more specific subdomain is listed. */
    domains: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /** Phrases in whose span keyword and regex hits do not count ("cocaine anonymous", "Scunthorpe"). */
    terms: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  },
  { additionalProperties: false },
);

/** The parts of the policy's `scanning` section this module owns: `scanning.rules` and `scanning.allow`. */
export const RulesSectionSchema = Type.Object(
  {
    rules: Type.Array(RuleSchema),
    allow: Type.Optional(RuleAllowSchema),
  },
  { additionalProperties: false },
);

export { RuleSchema };
export type RulesSection = Static<typeof RulesSectionSchema>;
export type RuleDefinition = Static<typeof RuleSchema>;

export const DEFAULT_MAX_CHARS = 1_048_576;
export const DEFAULT_MAX_REGEX_CHARS = 65_536;
/** Regex matches examined per message at most; past it the regex pass stops. */
export const MAX_REGEX_MATCHES = 10_000;

/** Where a problem is, as a path inside the `scanning` section, e.g. ['rules', 3, 'patterns', 0]. */
export type SectionPath = readonly (string | number)[];
/** Maps a path inside the `scanning` section to its line in the policy file (1-based), when known. */
export type Locator = (path: SectionPath) => number | undefined;

export interface RuleProblem {
  readonly path: SectionPath;
  readonly ruleId: string | undefined;
  readonly line: number | undefined;
  readonly message: string;
}

/** The rules section is invalid; `problems` lists every problem found, each with its rule and line. */
export class RuleCompileError extends Error {
  constructor(readonly problems: readonly RuleProblem[]) {
    const first = problems[0]!;
    const more =
      problems.length > 1 ? ` (and ${problems.length - 1} more problem${problems.length > 2 ? 's' : ''})` : '';
    super(`${formatProblem(first)}${more}`);
    this.name = 'RuleCompileError';
  }

  /** The rule id of the first problem, if it is inside a rule. */
  get ruleId(): string | undefined {
    return this.problems[0]?.ruleId;
  }

  /** The line of the first problem, if known. */
  get line(): number | undefined {
    return this.problems[0]?.line;
  }
}

function formatProblem(p: RuleProblem): string {
  const where = p.ruleId !== undefined ? `rule '${p.ruleId}'` : `scanning${pathText(p.path)}`;
  return `${where}${p.line !== undefined ? ` (line ${p.line})` : ''}: ${p.message}`;
}

const pathText = (path: SectionPath) => path.map((s) => (typeof s === 'number' ? `[${s}]` : `.${s}`)).join('');

export interface CompileOptions {
  /** The category codes of the policy. */
  readonly categories: Iterable<string>;
  /** Line numbers for error messages (see `yamlLocator`). */
  readonly locate?: Locator;
  readonly limits?: {
    /** Characters of a message scanned at most (default 1,048,576); the pipeline's own cut may be lower. */
    readonly maxChars?: number;
    /** Characters of a message regexes run on at most (default 65,536). */
    readonly maxRegexChars?: number;
  };
}

export interface ScanContext {
  readonly surface?: Surface;
  /** ISO 639 code of the message's language, when known. */
  readonly language?: string;
}

export interface RuleHit {
  readonly ruleId: string;
  readonly category: string;
  readonly kind: RuleKind;
  /**
   * What matched, as the policy wrote it: the keyword, the regex, the listed
   * domain. For wallets the address form (`btc-p2pkh`, `eth`, `xmr`…); for phones
   * `phone:<region>` — never the number itself, which is personal data.
   */
  readonly term: string;
  readonly score: number;
  readonly action: RuleAction;
  readonly shadow: boolean;
  /** The first occurrence, as UTF-16 offsets [start, end) into the scanned text. */
  readonly start: number;
  readonly end: number;
  /** Non-overlapping occurrences found. */
  readonly count: number;
}

export interface RuleScan {
  /** One hit per rule and term, in order of first occurrence. */
  readonly hits: RuleHit[];
  /** The text was longer than `limits.maxChars` and only its start was scanned. */
  readonly truncated: boolean;
  /** Characters scanned (the whole text unless truncated). */
  readonly scannedChars: number;
}

export interface RuleInfo {
  readonly id: string;
  readonly category: string;
  readonly kind: RuleKind;
  readonly action: RuleAction;
  readonly score: number;
  readonly shadow: boolean;
}

export interface RulesStats {
  readonly rules: number;
  readonly keywordPatterns: number;
  readonly automaton: AutomatonStats | null;
  /** Combined regexes run per message (one per text level in use, at most 2) — not one per rule. */
  readonly regexPasses: number;
  readonly regexPatterns: number;
  readonly listedDomains: number;
}

interface Rule extends RuleInfo {
  readonly languages: ReadonlySet<string> | null;
  readonly surfaces: ReadonlySet<Surface> | null;
  readonly networks: ReadonlySet<WalletNetwork>;
  readonly checksum: boolean;
  readonly regions: ReadonlySet<string> | null;
  readonly localRegion: string | undefined;
}

interface RegexAlternative {
  readonly rule: number;
  /** As the policy wrote it. */
  readonly pattern: string;
  /** As rewritten by checkPattern. */
  readonly source: string;
  readonly sticky: RegExp;
}

interface CombinedRegex {
  readonly level: 'basic' | 'compat';
  readonly regex: RegExp;
  readonly alternatives: readonly RegexAlternative[];
}

const validateSection = new Ajv({ allErrors: true, strict: false }).compile(RulesSectionSchema);

/** Fields that only some kinds take. */
const FIELDS_OF_KIND: Record<string, readonly RuleKind[]> = {
  terms: ['keywords'],
  wholeWord: ['keywords'],
  patterns: ['regex'],
  normalise: ['regex'],
  domains: ['domains'],
  regions: ['phone'],
  localRegion: ['phone'],
  networks: ['crypto_wallet'],
  checksum: ['crypto_wallet'],
};
const REQUIRED_OF_KIND: Partial<Record<RuleKind, string>> = {
  keywords: 'terms',
  regex: 'patterns',
  domains: 'domains',
};

class Problems {
  readonly list: RuleProblem[] = [];
  constructor(
    private readonly section: unknown,
    private readonly locate: Locator | undefined,
  ) {}

  add(path: SectionPath, message: string): void {
    let ruleId: string | undefined;
    if (path[0] === 'rules' && typeof path[1] === 'number') {
      const rule = (this.section as { rules?: Array<{ id?: unknown }> }).rules?.[path[1]];
      ruleId = typeof rule?.id === 'string' ? rule.id : `#${path[1] + 1}`;
    }
    this.list.push({ path, ruleId, line: this.locate?.(path), message });
  }
}

/**
 * Validates and compiles the rules of the policy's `scanning` section (its
 * `rules` and `allow`; other fields are ignored). Throws a `RuleCompileError`
 * naming every bad rule (unknown category, malformed or unsafe regex, duplicate
 * id, bad domain…) with its line when `locate` is given.
 */
export function compileRules(
  scanning: { readonly rules?: unknown; readonly allow?: unknown } | undefined,
  options: CompileOptions,
): CompiledRules {
  const section: Record<string, unknown> = { rules: scanning?.rules ?? [] };
  if (scanning?.allow !== undefined) section.allow = scanning.allow;
  const problems = new Problems(section, options.locate);
  if (!validateSection(section)) {
    for (const [path, message] of schemaProblems(validateSection.errors ?? [])) problems.add(path, message);
    throw new RuleCompileError(problems.list);
  }
  const doc = section as RulesSection;
  const categories = new Set(options.categories);
  const builder = new Builder();
  const ids = new Map<string, number>();

  doc.rules.forEach((def, index) => {
    const at = (...rest: (string | number)[]) => ['rules', index, ...rest];
    const previous = ids.get(def.id);
    if (previous !== undefined) problems.add(at('id'), `duplicate rule id (also rule #${previous + 1})`);
    ids.set(def.id, index);
    if (!categories.has(def.category)) {
      problems.add(at('category'), `unknown category '${def.category}' (known: ${[...categories].join(', ')})`);
    }
    for (const [field, kinds] of Object.entries(FIELDS_OF_KIND)) {
      if ((def as Record<string, unknown>)[field] !== undefined && !kinds.includes(def.kind)) {
        problems.add(at(field), `'${field}' does not apply to a ${def.kind} rule`);
      }
    }
    const required = REQUIRED_OF_KIND[def.kind];
    if (required && (def as Record<string, unknown>)[required] === undefined) {
      problems.add(at(), `a ${def.kind} rule needs '${required}'`);
      return;
    }
    if (def.localRegion !== undefined && !isPhoneRegion(def.localRegion)) {
      problems.add(at('localRegion'), `'${def.localRegion}' is not a region with a phone numbering plan`);
    }
    const rule = builder.addRule(def);
    switch (def.kind) {
      case 'keywords':
        def.terms!.forEach((term, k) => {
          const error = builder.addKeyword(rule, term, def.wholeWord ?? true);
          if (error) problems.add(at('terms', k), error);
        });
        break;
      case 'regex':
        def.patterns!.forEach((pattern, k) => {
          const error = builder.addRegex(rule, pattern, def.normalise ?? 'basic');
          if (error) problems.add(at('patterns', k), error);
        });
        break;
      case 'domains':
        def.domains!.forEach((domain, k) => {
          const parsed = parseDomainEntry(domain);
          if ('error' in parsed) problems.add(at('domains', k), parsed.error);
          else builder.domains.addBlocked(parsed.domain, { rule, listed: domain });
        });
        break;
      case 'phone':
        builder.phoneRules.push(rule);
        break;
      case 'crypto_wallet':
        builder.walletRules.push(rule);
        break;
    }
  });
  doc.allow?.domains?.forEach((domain, k) => {
    const parsed = parseDomainEntry(domain);
    if ('error' in parsed) problems.add(['allow', 'domains', k], parsed.error);
    else builder.domains.addAllowed(parsed.domain);
  });
  doc.allow?.terms?.forEach((term, k) => {
    const error = builder.addKeyword(-1, term, true);
    if (error) problems.add(['allow', 'terms', k], error);
  });
  if (problems.list.length > 0) throw new RuleCompileError(problems.list);
  return new CompiledRules(builder, {
    maxChars: options.limits?.maxChars ?? DEFAULT_MAX_CHARS,
    maxRegexChars: options.limits?.maxRegexChars ?? DEFAULT_MAX_REGEX_CHARS,
  });
}

/**
 * Ajv's errors as one message per path. A failed union of literals reports every
 * branch ("must be equal to constant" ×5, then "must match a schema in anyOf");
 * those become one "must be one of …".
 */
function schemaProblems(errors: readonly ErrorObject[]): Array<[SectionPath, string]> {
  const byPath = new Map<string, { path: SectionPath; messages: string[]; allowed: unknown[] }>();
  for (const e of errors) {
    const path = e.instancePath
      .split('/')
      .slice(1)
      .map((s) => (/^\d+$/.test(s) ? Number(s) : s.replaceAll('~1', '/').replaceAll('~0', '~')));
    const key = e.instancePath;
    let entry = byPath.get(key);
    if (!entry) {
      entry = { path, messages: [], allowed: [] };
      byPath.set(key, entry);
    }
    if (e.keyword === 'const') entry.allowed.push((e.params as { allowedValue: unknown }).allowedValue);
    else if (e.keyword === 'additionalProperties') {
      // Named at the field itself, so its line is the field's.
      const field = (e.params as { additionalProperty: string }).additionalProperty;
      byPath.set(`${key}/${field}`, { path: [...path, field], messages: [`unknown field '${field}'`], allowed: [] });
    } else if (e.keyword !== 'anyOf') entry.messages.push(e.message ?? 'is invalid');
  }
  return [...byPath.values()]
    .filter(({ messages, allowed }) => messages.length > 0 || allowed.length > 0)
    .map(({ path, messages, allowed }) => [
      path,
      allowed.length > 0 ? `must be one of ${allowed.map((a) => `'${String(a)}'`).join(', ')}` : messages.join('; '),
    ]);
}

/** Collects what compileRules has validated. */
class Builder {
  readonly rules: Rule[] = [];
  readonly keywords: KeywordPattern[] = [];
  /** Per keyword pattern: its rule (-1: an allow-listed term), the term as written, the run lengths to require. */
  readonly keywordRule: number[] = [];
  readonly keywordTerm: string[] = [];
  readonly keywordRuns: Array<Uint16Array | null> = [];
  readonly regexes: { basic: RegexAlternative[]; compat: RegexAlternative[] } = { basic: [], compat: [] };
  readonly domains = new DomainIndex<{ rule: number; listed: string }>();
  readonly phoneRules: number[] = [];
  readonly walletRules: number[] = [];

  addRule(def: RuleDefinition): number {
    this.rules.push({
      id: def.id,
      category: def.category,
      kind: def.kind,
      action: def.action ?? 'review',
      score: def.score ?? 1,
      shadow: def.shadow ?? false,
      languages: def.languages ? new Set(def.languages) : null,
      surfaces: def.surfaces ? new Set(def.surfaces) : null,
      networks: new Set(def.networks ?? WALLET_NETWORKS),
      checksum: def.checksum ?? true,
      regions: def.regions ? new Set(def.regions) : null,
      localRegion: def.localRegion,
    });
    return this.rules.length - 1;
  }

  addKeyword(rule: number, term: string, wholeWord: boolean): string | null {
    let body = term.trim();
    const open = body.startsWith('*');
    const close = body.endsWith('*') && body.length > 1;
    if (open) body = body.slice(1);
    if (close) body = body.slice(0, -1);
    const n = normalise(body, 'full');
    const runs = n.runs!;
    let weight = 0;
    for (const r of runs) weight += r;
    if (n.text.length === 0 || weight < 2) return `the term '${term}' is empty or a single character once normalised`;
    this.keywords.push({
      text: n.text,
      wordStart: wholeWord && !open && isSpacedWordUnit(n.text.charCodeAt(0)),
      wordEnd: wholeWord && !close && isSpacedWordUnit(n.text.charCodeAt(n.text.length - 1)),
    });
    this.keywordRule.push(rule);
    this.keywordTerm.push(term);
    this.keywordRuns.push(runs.some((r) => r > 1) ? runs : null);
    return null;
  }

  addRegex(rule: number, pattern: string, level: 'basic' | 'compat'): string | null {
    try {
      const checked = checkPattern(pattern, level === 'basic' ? foldCharacter : null);
      this.regexes[level].push({ rule, pattern, source: checked.source, sticky: new RegExp(checked.source, 'uy') });
      return null;
    } catch (error) {
      if (error instanceof SyntaxError)
        return `malformed regex /${pattern}/: ${error.message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '')}`;
      if (error instanceof UnsafePatternError) return `unsafe regex /${pattern}/: ${error.message}`;
      throw error;
    }
  }
}

/** Per-scan accumulator: one hit per (rule, term), first occurrence and count. */
class HitCollector {
  private readonly byKey = new Map<string, { hit: MutableHit; lastEnd: number }>();

  constructor(
    private readonly rules: readonly Rule[],
    private readonly context: ScanContext,
  ) {}

  applies(index: number): boolean {
    const rule = this.rules[index]!;
    if (rule.surfaces && this.context.surface && !rule.surfaces.has(this.context.surface)) return false;
    if (rule.languages && this.context.language && this.context.language !== 'und') {
      return rule.languages.has(this.context.language);
    }
    return true;
  }

  add(index: number, term: string, start: number, end: number): void {
    const key = `${index}\u0000${term}`;
    const seen = this.byKey.get(key);
    if (seen) {
      if (start >= seen.lastEnd) {
        seen.hit.count++;
        seen.lastEnd = end;
      }
      if (start < seen.hit.start) {
        seen.hit.start = start;
        seen.hit.end = end;
      }
      return;
    }
    const rule = this.rules[index]!;
    this.byKey.set(key, {
      hit: {
        ruleId: rule.id,
        category: rule.category,
        kind: rule.kind,
        term,
        score: rule.score,
        action: rule.action,
        shadow: rule.shadow,
        start,
        end,
        count: 1,
        order: index,
      },
      lastEnd: end,
    });
  }

  hits(): RuleHit[] {
    if (this.byKey.size === 0) return []; // most messages: nothing to sort or copy
    return [...this.byKey.values()]
      .map((v) => v.hit)
      .sort((a, b) => a.start - b.start || a.order - b.order)
      .map(({ order: _order, ...hit }) => hit);
  }
}

type MutableHit = { -readonly [K in keyof RuleHit]: RuleHit[K] } & { order: number };

/** A compiled, immutable rule set. Build it with `compileRules`. */
export class CompiledRules {
  private readonly rules: readonly Rule[];
  private readonly automaton: AhoCorasick | null;
  private readonly keywordRule: Int32Array;
  private readonly keywordTerm: readonly string[];
  private readonly keywordRuns: ReadonlyArray<Uint16Array | null>;
  private readonly combined: readonly CombinedRegex[];
  private readonly domains: DomainIndex<{ rule: number; listed: string }>;
  private readonly hasDomainRules: boolean;
  private readonly phoneRules: readonly number[];
  private readonly walletRules: readonly number[];
  private readonly maxChars: number;
  private readonly maxRegexChars: number;
  /** Normalisation buffers reused from scan to scan (a scan runs to completion before the next starts). */
  private readonly levels = new TextLevels();

  /** @internal use compileRules */
  constructor(b: Builder, limits: { maxChars: number; maxRegexChars: number }) {
    this.rules = b.rules;
    this.automaton = b.keywords.length > 0 ? new AhoCorasick(b.keywords, isSpacedWordUnit) : null;
    this.keywordRule = Int32Array.from(b.keywordRule);
    this.keywordTerm = b.keywordTerm;
    this.keywordRuns = b.keywordRuns;
    const combined: CombinedRegex[] = [];
    for (const level of ['basic', 'compat'] as const) {
      const alternatives = b.regexes[level];
      if (alternatives.length === 0) continue;
      const regex = new RegExp(alternatives.map((a) => `(${a.source})`).join('|'), 'gu');
      combined.push({ level, regex, alternatives });
    }
    this.combined = combined;
    this.domains = b.domains;
    this.hasDomainRules = b.domains.size > 0;
    this.phoneRules = b.phoneRules;
    this.walletRules = b.walletRules;
    this.maxChars = limits.maxChars;
    this.maxRegexChars = limits.maxRegexChars;
  }

  /** The rules, in policy order. */
  get list(): readonly RuleInfo[] {
    return this.rules.map(({ id, category, kind, action, score, shadow }) => ({
      id,
      category,
      kind,
      action,
      score,
      shadow,
    }));
  }

  get stats(): RulesStats {
    return {
      rules: this.rules.length,
      keywordPatterns: this.keywordTerm.length,
      automaton: this.automaton?.stats ?? null,
      regexPasses: this.combined.length,
      regexPatterns: this.combined.reduce((n, c) => n + c.alternatives.length, 0),
      listedDomains: this.domains.size,
    };
  }

  /** The hits of every rule that matches `text` (see `scan` for the details). */
  match(text: string, context: ScanContext = {}): RuleHit[] {
    return this.scan(text, context).hits;
  }

  /**
   * Scans a message: one automaton pass for all keywords, one combined regex per
   * text level, one host, wallet and phone extraction each. Rules limited to other
   * surfaces or languages than `context` gives are skipped.
   */
  scan(text: string, context: ScanContext = {}): RuleScan {
    let input = text;
    const truncated = text.length > this.maxChars;
    if (truncated) {
      let cut = this.maxChars;
      const c = text.charCodeAt(cut - 1);
      if (c >= 0xd800 && c <= 0xdbff) cut--;
      input = text.slice(0, cut);
    }
    const hits = new HitCollector(this.rules, context);
    const levels = this.levels.reset(input);
    /** Allow-listed term spans, in source offsets. */
    const allowed = this.automaton ? this.scanKeywords(levels.get('full'), hits) : NO_SPANS;
    if (this.hasDomainRules) this.scanDomains(levels.get('basic'), hits);
    for (const c of this.combined) this.scanRegex(c, levels.get(c.level), hits, allowed);
    if (this.walletRules.length > 0) this.scanWallets(levels.get('compat'), hits);
    if (this.phoneRules.length > 0) this.scanPhones(levels.get('compat'), hits);
    return { hits: hits.hits(), truncated, scannedChars: input.length };
  }

  /** Runs the automaton; records keyword hits and returns the allow-listed spans (source offsets). */
  private scanKeywords(full: NormalisedText, hits: HitCollector): SpanSet {
    const found: number[] = [];
    const allowedHere: number[] = [];
    this.automaton!.scanUnits(full.units!, (pattern, start, end) => {
      const required = this.keywordRuns[pattern];
      if (required) {
        const runs = full.runs!;
        for (let k = 0; k < required.length; k++) if (runs[start + k]! < required[k]!) return;
      }
      const rule = this.keywordRule[pattern]!;
      if (rule < 0) allowedHere.push(start, end);
      else if (hits.applies(rule)) found.push(pattern, start, end);
    });
    if (allowedHere.length === 0) {
      for (let k = 0; k < found.length; k += 3) {
        const span = toSourceSpan(full, found[k + 1]!, found[k + 2]!);
        hits.add(this.keywordRule[found[k]!]!, this.keywordTerm[found[k]!]!, span.start, span.end);
      }
      return NO_SPANS;
    }
    const inSource: number[] = [];
    for (let k = 0; k < allowedHere.length; k += 2) {
      const span = toSourceSpan(full, allowedHere[k]!, allowedHere[k + 1]!);
      inSource.push(span.start, span.end);
    }
    const allowedSpans = new SpanSet(allowedHere);
    for (let k = 0; k < found.length; k += 3) {
      const start = found[k + 1]!;
      const end = found[k + 2]!;
      if (allowedSpans.covers(start, end)) continue;
      const pattern = found[k]!;
      const span = toSourceSpan(full, start, end);
      hits.add(this.keywordRule[pattern]!, this.keywordTerm[pattern]!, span.start, span.end);
    }
    return new SpanSet(inSource);
  }

  private scanDomains(basic: NormalisedText, hits: HitCollector): void {
    for (const mention of findHosts(basic.text)) {
      const span = toSourceSpan(basic, mention.start, mention.end);
      const exact = exactDomain(defang(basic.source.slice(span.start, span.end)));
      const match = this.domains.lookup(mention.host, exact);
      if (!match) continue;
      for (const entry of match.entries) {
        if (hits.applies(entry.rule)) hits.add(entry.rule, entry.listed, span.start, span.end);
      }
    }
  }

  private scanRegex(c: CombinedRegex, n: NormalisedText, hits: HitCollector, allowed: SpanSet): void {
    const text = n.text.length > this.maxRegexChars ? n.text.slice(0, this.maxRegexChars) : n.text;
    const { regex, alternatives } = c;
    let seen: Uint8Array | null = null;
    let examined = 0;
    regex.lastIndex = 0;
    for (let m = regex.exec(text); m !== null; m = regex.exec(text)) {
      seen ??= new Uint8Array(alternatives.length); // only once something matched (most messages: nothing)
      const at = m.index;
      let alt = 1;
      while (m[alt] === undefined) alt++;
      alt--;
      this.recordRegex(alternatives, alt, seen, n, hits, allowed, at, at + m[0].length);
      // Alternatives after the one that won may match at the same place: an
      // earlier shadow rule must not hide a later active one.
      for (let j = alt + 1; j < alternatives.length; j++) {
        if (seen[j]) continue;
        const sticky = alternatives[j]!.sticky;
        sticky.lastIndex = at;
        const s = sticky.exec(text);
        if (s) this.recordRegex(alternatives, j, seen, n, hits, allowed, at, at + s[0].length);
      }
      if (++examined >= MAX_REGEX_MATCHES) break;
      regex.lastIndex = at + 1;
    }
  }

  /** Records a match of alternative `alt` at [start, end) of the normalised text (a method, not a closure made per scan). */
  private recordRegex(
    alternatives: readonly RegexAlternative[],
    alt: number,
    seen: Uint8Array,
    n: NormalisedText,
    hits: HitCollector,
    allowed: SpanSet,
    start: number,
    end: number,
  ): void {
    seen[alt] = 1;
    const a = alternatives[alt]!;
    if (!hits.applies(a.rule)) return;
    const span = toSourceSpan(n, start, end);
    if (allowed.size > 0 && allowed.covers(span.start, span.end)) return;
    hits.add(a.rule, a.pattern, span.start, span.end);
  }

  private scanWallets(compat: NormalisedText, hits: HitCollector): void {
    for (const w of findWallets(compat.text)) {
      const span = toSourceSpan(compat, w.start, w.end);
      for (const r of this.walletRules) {
        const rule = this.rules[r]!;
        if (!rule.networks.has(w.network) || (rule.checksum && !w.valid) || !hits.applies(r)) continue;
        hits.add(r, w.form, span.start, span.end);
      }
    }
  }

  private scanPhones(compat: NormalisedText, hits: HitCollector): void {
    const candidates = findPhoneCandidates(compat.text);
    if (candidates.length === 0) return;
    const cache = new Map<string, PhoneNumberFound | null>();
    const validated = (c: PhoneCandidate, k: number, region: string | undefined) => {
      const key = c.international ? `${k}` : `${k}:${region}`;
      if (!cache.has(key)) cache.set(key, validatePhone(c, region));
      return cache.get(key)!;
    };
    for (const r of this.phoneRules) {
      if (!hits.applies(r)) continue;
      const rule = this.rules[r]!;
      candidates.forEach((c, k) => {
        const found = validated(c, k, rule.localRegion);
        if (!found || (rule.regions && !rule.regions.has(found.region))) return;
        const span = toSourceSpan(compat, c.start, c.end);
        hits.add(r, `phone:${found.region}`, span.start, span.end);
      });
    }
  }
}

/**
 * Spans that take hits back (allow-listed terms). `covers` asks whether one span
 * contains [start, end): a binary search over the spans by start and the
 * running maximum of their ends, so many spans and many hits stay n log n.
 */
class SpanSet {
  private readonly starts: number[] = [];
  private readonly maxEnds: number[] = [];

  /** `flat` is [s0, e0, s1, e1, …] in any order. */
  constructor(flat: readonly number[]) {
    const spans: Array<[number, number]> = [];
    for (let k = 0; k < flat.length; k += 2) spans.push([flat[k]!, flat[k + 1]!]);
    spans.sort((a, b) => a[0] - b[0]);
    let max = -1;
    for (const [s, e] of spans) {
      max = Math.max(max, e);
      this.starts.push(s);
      this.maxEnds.push(max);
    }
  }

  get size(): number {
    return this.starts.length;
  }

  covers(start: number, end: number): boolean {
    let lo = 0;
    let hi = this.starts.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.starts[mid]! <= start) lo = mid + 1;
      else hi = mid;
    }
    return lo > 0 && this.maxEnds[lo - 1]! >= end;
  }
}

const NO_SPANS = new SpanSet([]);

const defang = (host: string) => host.replace(/\[\.\]|\(\.\)|\{\.\}|\[dot\]|\(dot\)|[。．｡]/gi, '.');

/**
 * A `Locator` for a YAML policy file: the line of the node at `base` + path
 * (the nearest existing parent when the path itself is absent), using the `yaml`
 * package's node ranges and LineCounter.
 */
export function yamlLocator(source: string, base: SectionPath = ['scanning']): Locator {
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter });
  return (path) => {
    for (let len = path.length; len >= 0; len--) {
      const node = doc.getIn([...base, ...path.slice(0, len)], true);
      if (isNode(node) && node.range) return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
}

/**
 * Parses a YAML (or JSON) policy text and compiles the rules of the section at
 * `at` (default `scanning`), with line numbers in every error.
 */
export function compileRulesFromYaml(
  source: string,
  options: Omit<CompileOptions, 'locate'> & { at?: SectionPath },
): CompiledRules {
  const at = options.at ?? ['scanning'];
  const lineCounter = new LineCounter();
  const doc = parseDocument(source, { lineCounter });
  if (doc.errors.length > 0) {
    const e = doc.errors[0]!;
    throw new RuleCompileError([
      {
        path: [],
        ruleId: undefined,
        line: lineCounter.linePos(e.pos[0]).line,
        message: `not valid YAML: ${e.message}`,
      },
    ]);
  }
  let value: unknown = doc.toJS();
  for (const key of at) value = (value as Record<string | number, unknown> | undefined)?.[key];
  return compileRules(value as { rules?: unknown; allow?: unknown } | undefined, {
    ...options,
    locate: yamlLocator(source, at),
  });
}
