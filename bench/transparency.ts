import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RawBuilder,
  type RootOperationNode,
  type UnknownRow,
  sql,
} from 'kysely';
import pg from 'pg';
import type { Actor } from '../src/audit/actor.js';
import { createAuthority } from '../src/authorities/service.js';
import { rank } from '../src/cases/priority.js';
import { toConfig } from '../src/config.js';
import { type Context, closeContext, createContext } from '../src/context.js';
import type { PersonalDataCipher } from '../src/crypto/personal-data-cipher.js';
import type { Db, Dialect } from '../src/db/database.js';
import { type ActionType, buildStatement } from '../src/decisions/statement.js';
import type { DisclosurePolicy } from '../src/legal/disclosure-policy.js';
import { disclosedDataLabel, rejectionLabel } from '../src/legal/events.js';
import { TARGET_FIELD } from '../src/legal/service.js';
import { createLogger } from '../src/logging.js';
import type { CategoryCode, Policy } from '../src/policy/policy.js';
import { REPORTER_EMAIL_FIELD } from '../src/reports/service.js';
import type { ScanningPolicy } from '../src/scanning/scanning-policy.js';
import { type DsaFigures, computeDsaFigures } from '../src/transparency/dsa-figures.js';
import { parseReportRange } from '../src/transparency/range.js';
import {
  type CountryQuarter,
  HUMAN_RIGHTS_REASONS,
  REVIEWER_REJECTED,
  type RequestFigures,
  computeRequestFigures,
  publishFigures,
} from '../src/transparency/requests.js';
import { trackChild } from './server.js';
import { BENCH_PG_URL, type BenchStore, openBenchStore, storeSettings, storeVersion } from './store.js';
import { median, nowMs, percentile, rng } from './stats.js';

/**
 * Transparency reports over four years of history, on each store:
 *
 * 1. Fill: `orders` legal orders (1 million) received over the 16 quarters before
 *    the current one, from the authorities of 30 countries, with their targets, the
 *    automatic checks of the disclosure policy and the event log, and `decisions`
 *    moderation decisions (10 million) over the same years with their cases, the
 *    reports (notices) that opened them, the moderation events the services write
 *    for them and the appeals against them. Generated here with a fixed seed (both
 *    stores hold the same world), row by row as the services write them (the
 *    statements of reasons are built by `buildStatement`, check details and event
 *    payloads are the services' own), and inserted in bulk with the indexes
 *    dropped, then rebuilt; then the store is analysed (PostgreSQL: VACUUM
 *    ANALYZE; SQLite: `PRAGMA optimize`).
 * 2. Time, each report in a fresh process of its own (so its memory is its own), the
 *    first call apart, then `repetitions` calls alternating with `select 1`:
 *    (a) a quarter's request figures for every country, `computeRequestFigures` +
 *    `publishFigures` as `GET /v1/transparency/requests` runs them; (b) the same for
 *    one country; (c) four quarters; (d) the DSA yearly figures, `computeDsaFigures`.
 * 3. Check: (a)'s exact figures against what the generator wrote and against
 *    direct counts of the orders' own columns for the same quarter; the DSA totals
 *    against the generator's; every call of a report must answer the same figures.
 * 4. Profile: every query of (a) and (d) alone, timed, and the plans of the slowest.
 */

export interface TransparencyOptions {
  /** Legal orders, received over `years` years. */
  orders: number;
  /** Moderation decisions over the same years (plus the cases still open at the end). */
  decisions: number;
  years: number;
  /** Timed calls per report after the first, median and p95 reported. */
  repetitions: number;
  /** The timed calls of a report stop once they have taken this long, after two at least. */
  budgetSeconds: number;
  /** The country of report (b). */
  country: string;
}

export const TRANSPARENCY_DEFAULTS: TransparencyOptions = {
  orders: 1_000_000,
  decisions: 10_000_000,
  years: 4,
  repetitions: 5,
  budgetSeconds: 120,
  country: 'DE',
};

/** Issue 7: a quarter's report (all countries) within a second on PostgreSQL. */
export const TRANSPARENCY_TARGET = { quarterPostgresMs: 1000 };

export const REPORT_METHODS = ['quarter', 'quarterCountry', 'year', 'dsaYear'] as const;
export type ReportMethod = (typeof REPORT_METHODS)[number];

export interface ReportTiming {
  /** What was asked: the days (inclusive) and the country, or the DSA year. */
  period: string;
  /** The first call in the process, ms. */
  firstMs: number;
  /** The timed calls after it, ms, in order. */
  samples: number[];
  medianMs: number;
  p95Ms: number;
  /** `select 1` alternating with the report in the same process, ms. */
  select1: { medianMs: number; p95Ms: number };
  /** Report median / select 1 median. */
  ratio: number;
  memory: {
    /** RSS of the process with the store open, before the first call. */
    restMiB: number;
    /** Peak RSS over the report's calls (getrusage maxRSS) minus `restMiB`. */
    peakRssMiB: number;
    /** Largest heapUsed seen (every 5 ms and after each call, result alive) minus heapUsed at rest. */
    heapMiB: number;
  };
  /** Bytes of the report as JSON (published figures / DSA figures). */
  resultBytes: number;
  /** SHA-256 of the report's JSON, keys sorted (the same in every call and, with the same data, on both stores). */
  digest: string;
}

export interface SlowQuery {
  report: 'quarter' | 'dsaYear';
  /** The query's first words, to tell them apart. */
  query: string;
  ms: number;
  plan: string;
}

export interface TransparencyResult {
  store: Dialect;
  storeVersion: string;
  storeSettings: string;
  options: TransparencyOptions;
  data: {
    /** First and last day of the history (UTC). */
    from: string;
    to: string;
    countries: number;
    authorities: number;
    rows: Record<string, number>;
    fillSeconds: number;
    /** Index rebuild and VACUUM ANALYZE / PRAGMA optimize, included in fillSeconds. */
    indexAndAnalyzeSeconds: number;
    /** The database file (SQLite) or the schema's tables and indexes (PostgreSQL). */
    storeBytes: number;
    /** Orders received in the quarter of (a) and in the four quarters of (c); decisions and notices of the DSA year. */
    ordersInQuarter: number;
    ordersInYear: number;
    decisionsInDsaYear: number;
    noticesInDsaYear: number;
  };
  reports: Record<ReportMethod, ReportTiming>;
  /**
   * (a) once more on the same data without the indexes added for these reports
   * (migration 20261128T180300, PostgreSQL only), then rebuilt; null where there are none.
   */
  withoutNewIndexes: { indexes: string[]; quarter: ReportTiming } | null;
  checked: {
    quarter: string;
    /** Figures of (a) compared with the generator's tallies and with direct counts. */
    compared: number;
    mismatches: string[];
    /** DSA totals compared with the generator's tallies. */
    dsaCompared: number;
    dsaMismatches: string[];
  };
  slowest: SlowQuery[];
  /** 1-minute load average when this store's part began, when the timing began, and at its end. */
  loadAverage: { start: number; timing: number; end: number; cores: number };
  /** Null on SQLite: the target is PostgreSQL's. */
  targetMet: { quarterPostgres: boolean | null };
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const started = nowMs();
/** Progress on stderr, with seconds since the start, so stdout stays a clean report. */
function log(message: string): void {
  process.stderr.write(`  [${((nowMs() - started) / 1000).toFixed(1)} s] ${message}\n`);
}
const load = () => Math.round((os.loadavg()[0] ?? 0) * 100) / 100;
const iso = (t: number) => new Date(t).toISOString();
const isoDay = (t: number) => iso(t).slice(0, 10);
const round1 = (v: number) => Math.round(v * 10) / 10;

// ---------------------------------------------------------------- the periods

/** The history and the periods reported on: whole quarters, ending where the current quarter begins. */
export interface Periods {
  start: number;
  end: number;
  quarter: { label: string; from: number; to: number };
  /** The last four quarters. */
  year: { from: number; to: number };
  dsaYear: number;
}

export function periodsFor(now: number, years: number): Periods {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const qm = Math.floor(d.getUTCMonth() / 3) * 3;
  const end = Date.UTC(y, qm, 1);
  const start = Date.UTC(y - years, qm, 1);
  const qFrom = Date.UTC(y, qm - 3, 1);
  const qd = new Date(qFrom);
  return {
    start,
    end,
    quarter: { label: `${qd.getUTCFullYear()}-Q${Math.floor(qd.getUTCMonth() / 3) + 1}`, from: qFrom, to: end },
    year: { from: Date.UTC(y - 1, qm, 1), to: end },
    dsaYear: y - 1,
  };
}

// ---------------------------------------------------------------- tables filled

type ColumnType = 'text' | 'bigint' | 'integer' | 'double precision' | 'bytea';
type Row = unknown[];

/** The tables filled, their columns in the order the generator writes them, and their PostgreSQL types. */
const TABLES = {
  legal_requests: [
    ['id', 'text'],
    ['authority_id', 'text'],
    ['type', 'text'],
    ['status', 'text'],
    ['case_reference', 'text'],
    ['legal_basis', 'text'],
    ['issuing_authority', 'text'],
    ['court_order', 'text'],
    ['document_sha256', 'text'],
    ['document_size', 'integer'],
    ['offence_category', 'text'],
    ['offence', 'text'],
    ['data_categories', 'text'],
    ['period_from', 'bigint'],
    ['period_to', 'bigint'],
    ['requested', 'text'],
    ['non_disclosure_until', 'bigint'],
    ['emergency_justification', 'text'],
    ['preservation_request_id', 'text'],
    ['extra_review', 'integer'],
    ['policy_version', 'text'],
    ['round', 'integer'],
    ['received_at', 'bigint'],
    ['due_at', 'bigint'],
    ['decided_at', 'bigint'],
    ['disclosed_at', 'bigint'],
    ['second_approval_owed', 'integer'],
    ['preserved_until', 'bigint'],
    ['preservation_extended', 'integer'],
    ['consumed_by', 'text'],
    ['deadline_warned_at', 'bigint'],
    ['overdue_warned_at', 'bigint'],
    ['updated_at', 'bigint'],
  ],
  legal_targets: [
    ['id', 'text'],
    ['request_id', 'text'],
    ['position', 'integer'],
    ['kind', 'text'],
    ['given_enc', 'bytea'],
    ['account_id', 'text'],
    ['status', 'text'],
    ['reasons', 'text'],
    ['notice_due_at', 'bigint'],
    ['notified_at', 'bigint'],
  ],
  legal_checks: [
    ['id', 'text'],
    ['request_id', 'text'],
    ['target_id', 'text'],
    ['name', 'text'],
    ['result', 'text'],
    ['code', 'text'],
    ['detail', 'text'],
    ['policy_version', 'text'],
    ['at', 'bigint'],
  ],
  legal_events: [
    ['id', 'text'],
    ['request_id', 'text'],
    ['at', 'bigint'],
    ['actor_id', 'text'],
    ['actor_role', 'text'],
    ['type', 'text'],
    ['status', 'text'],
    ['details', 'text'],
    ['country', 'text'],
    ['label', 'text'],
  ],
  legal_disclosed_accounts: [
    ['request_id', 'text'],
    ['account_id', 'text'],
    ['country', 'text'],
    ['at', 'bigint'],
  ],
  cases: [
    ['id', 'text'],
    ['subject_type', 'text'],
    ['subject_id', 'text'],
    ['account_id', 'text'],
    ['status', 'text'],
    ['queue', 'text'],
    ['category', 'text'],
    ['severity', 'integer'],
    ['language', 'text'],
    ['is_public', 'integer'],
    ['report_count', 'integer'],
    ['reporter_count', 'integer'],
    ['reporter_weight', 'double precision'],
    ['trusted_count', 'integer'],
    ['proposed_action', 'text'],
    ['rank', 'double precision'],
    ['claimed_by', 'text'],
    ['claim_expires_at', 'bigint'],
    ['decision_id', 'text'],
    ['created_at', 'bigint'],
    ['updated_at', 'bigint'],
    ['closed_at', 'bigint'],
    ['opened_by', 'text'],
  ],
  reports: [
    ['id', 'text'],
    ['case_id', 'text'],
    ['subject_type', 'text'],
    ['subject_id', 'text'],
    ['category', 'text'],
    ['explanation', 'text'],
    ['source', 'text'],
    ['reporter_token_id', 'text'],
    ['reporter_account_id', 'text'],
    ['reporter_email_enc', 'bytea'],
    ['reporter_key', 'text'],
    ['client_key', 'text'],
    ['weight', 'double precision'],
    ['access_key_hash', 'text'],
    ['status', 'text'],
    ['outcome', 'text'],
    ['created_at', 'bigint'],
    ['resolved_at', 'bigint'],
    ['ground', 'text'],
  ],
  moderation_events: [
    ['id', 'text'],
    ['case_id', 'text'],
    ['subject_type', 'text'],
    ['subject_id', 'text'],
    ['account_id', 'text'],
    ['type', 'text'],
    ['actor_id', 'text'],
    ['actor_role', 'text'],
    ['payload', 'text'],
    ['created_at', 'bigint'],
  ],
  decisions: [
    ['id', 'text'],
    ['case_id', 'text'],
    ['subject_type', 'text'],
    ['subject_id', 'text'],
    ['account_id', 'text'],
    ['actions', 'text'],
    ['category', 'text'],
    ['ground', 'text'],
    ['explanation', 'text'],
    ['decided_by', 'text'],
    ['automation', 'text'],
    ['policy_version', 'text'],
    ['statement', 'text'],
    ['status', 'text'],
    ['created_at', 'bigint'],
    ['reversed_at', 'bigint'],
    ['opened_by', 'text'],
    ['restricts', 'integer'],
    ['removes_content', 'integer'],
  ],
  appeals: [
    ['id', 'text'],
    ['decision_id', 'text'],
    ['account_id', 'text'],
    ['text', 'text'],
    ['status', 'text'],
    ['decided_by', 'text'],
    ['filed_at', 'bigint'],
    ['resolved_by', 'text'],
    ['resolution', 'text'],
    ['resolved_at', 'bigint'],
  ],
} as const satisfies Record<string, ReadonlyArray<readonly [string, ColumnType]>>;

type FilledTable = keyof typeof TABLES;
const FILLED = Object.keys(TABLES) as FilledTable[];

interface Sink {
  add(table: FilledTable, row: Row): void;
}

// ---------------------------------------------------------------- the world

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** Seeded randomness with the shapes the generator needs. */
class Dice {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = rng(seed);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  weighted<T>(items: ReadonlyArray<readonly [T, number]>): T {
    const total = items.reduce((s, [, w]) => s + w, 0);
    let r = this.next() * total;
    for (const [item, w] of items) {
      r -= w;
      if (r < 0) return item;
    }
    return items.at(-1)![0];
  }
  /** Log-normal with the given median (ms) and spread, at most `max`. */
  duration(medianMs: number, sigma: number, max: number): number {
    const u = Math.max(1e-12, this.next());
    const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
    return Math.min(max, Math.max(1000, Math.round(medianMs * Math.exp(sigma * z))));
  }
  /** An id shaped like `newId(prefix)`: 128 bits in base32. */
  id(prefix: string): string {
    let out = `${prefix}_`;
    for (let i = 0; i < 25; i++) out += BASE32[Math.floor(this.next() * 32)];
    return out + BASE32[Math.floor(this.next() * 8) << 2];
  }
  /** An id shaped like `newSortableId(prefix)`: the time, a counter, 64 random bits. */
  sortableId(prefix: string, at: number, seq: number): string {
    return `${prefix}_${at.toString(16).padStart(12, '0')}${(seq & 0xffff).toString(16).padStart(4, '0')}${this.hex(16)}`;
  }
  hex(chars: number): string {
    let out = '';
    for (let i = 0; i < chars; i++) out += '0123456789abcdef'[Math.floor(this.next() * 16)];
    return out;
  }
}

/** Authorities by country: share of all orders, and the authority kinds filing them. */
const COUNTRIES: ReadonlyArray<readonly [string, number]> = [
  ['US', 18],
  ['DE', 12],
  ['FR', 8],
  ['GB', 8],
  ['BR', 6],
  ['IN', 5],
  ['PL', 4],
  ['NL', 4],
  ['ES', 4],
  ['IT', 4],
  ['TR', 3],
  ['RU', 2],
  ['BE', 2],
  ['AT', 2],
  ['SE', 2],
  ['CA', 2],
  ['AU', 2],
  ['CH', 1.5],
  ['CZ', 1.5],
  ['PT', 1.5],
  ['RO', 1.5],
  ['MX', 1.5],
  ['GR', 1],
  ['DK', 1],
  ['FI', 1],
  ['IE', 1],
  ['HU', 1],
  ['JP', 1],
  ['AE', 0.5],
  ['BY', 0.3],
];
const KINDS: ReadonlyArray<readonly ['police' | 'prosecutor' | 'court', number]> = [
  ['police', 5],
  ['prosecutor', 3],
  ['court', 2],
];

/** Offences named by orders: in scope, out of scope (taxonomy codes the policy does not disclose for), refused. */
const OFFENCES: ReadonlyArray<readonly [string, number]> = [
  ['scam_fraud', 24],
  ['illegal_drugs', 15],
  ['csam', 9],
  ['violent_threat', 10],
  ['hate_speech', 7],
  ['terrorism', 6],
  ['ncii', 5],
  ['weapons', 4],
  ['sexual_solicitation', 3],
  ['other_illegal', 8],
  ['intellectual_property', 2],
  ['self_harm', 0.7],
  ['spam', 0.8],
  ['political_speech', 0.6],
  ['insulting_officials', 0.4],
  ['journalism', 0.2],
  ['assembly', 0.2],
];
/** Countries whose orders more often name a refused offence. */
const OFTEN_REFUSED = new Set(['RU', 'BY', 'TR', 'AE', 'IN']);

interface Authority {
  id: string;
  name: string;
  country: string;
  kind: string;
  /** The token the authority files with: the `received` event's actor. */
  tokenId: string;
}

/** What the generator wrote, counted its own way, for the checks. */
type QuarterTally = Omit<CountryQuarter, 'country' | 'quarter' | 'accountsAffected'> & { accounts: Set<string> };

interface DsaTally {
  ordersInScope: number;
  ordersOutsideScope: number;
  noticesReceived: number;
  noticesDecided: number;
  noticesActionTaken: number;
  ownInitiative: number;
  ownInitiativeAutomated: number;
  appealsReceived: number;
  appealsUpheld: number;
  appealsOverturned: number;
  appealsOpen: number;
  automatedRemovals: number;
  automatedRemovalsAppealed: number;
  automatedRemovalsOverturned: number;
}

const emptyTally = (): QuarterTally => ({
  received: 0,
  receivedByType: {},
  fulfilled: 0,
  fulfilledByData: { ip_addresses: 0, phone_number: 0, both: 0 },
  rejected: 0,
  rejectedByReason: {},
  withdrawn: 0,
  preserved: 0,
  refusedHumanRights: 0,
  accounts: new Set(),
});

/** Categories of decisions by what opened the case. */
const REPORT_CATEGORIES: ReadonlyArray<readonly [CategoryCode, number]> = [
  ['spam', 20],
  ['scam_fraud', 15],
  ['hate_speech', 14],
  ['sexual_solicitation', 7],
  ['violent_threat', 8],
  ['illegal_drugs', 6],
  ['ncii', 3],
  ['self_harm', 4],
  ['intellectual_property', 7],
  ['other_illegal', 6],
  ['weapons', 3],
  ['terrorism', 2],
  ['csam', 1],
];
const SCAN_CATEGORIES: ReadonlyArray<readonly [CategoryCode, number]> = [
  ['spam', 45],
  ['scam_fraud', 20],
  ['hate_speech', 9],
  ['illegal_drugs', 8],
  ['csam', 5],
  ['sexual_solicitation', 5],
  ['weapons', 4],
  ['terrorism', 3],
  ['violent_threat', 1],
];
const LANGUAGES: ReadonlyArray<readonly [string | null, number]> = [
  ['en', 40],
  ['de', 12],
  ['fr', 9],
  ['es', 9],
  ['pl', 5],
  ['it', 5],
  ['nl', 4],
  ['pt', 4],
  ['tr', 3],
  [null, 9],
];
const EXPLANATIONS: Record<string, readonly string[]> = {
  spam: [
    'Repeated unsolicited promotional messages sent to many users who do not know the account.',
    'Mass-posted links to a pharmacy shop in public channels.',
    'Identical advertising message posted in dozens of groups within minutes.',
  ],
  scam_fraud: [
    'Offered a fake investment scheme promising guaranteed returns and asked for payment in cryptocurrency.',
    'Impersonated a bank and asked users to confirm their card details through a look-alike site.',
    'Advance-fee scam: asked for a transfer to release a non-existent parcel.',
  ],
  hate_speech: [
    'Called for the exclusion of a group of people because of their religion, in a public channel.',
    'Dehumanising insults against people of a national origin, repeated after a warning.',
  ],
  sexual_solicitation: ['Unsolicited sexual offers sent to strangers.', 'Advertised paid sexual services.'],
  violent_threat: [
    'Threatened to kill a named person and posted where they live.',
    'Threat of violence against the participants of a public event.',
  ],
  illegal_drugs: [
    'Offered narcotics for sale with prices and delivery.',
    'Sale of prescription opioids without a prescription.',
  ],
  ncii: ['Shared intimate images of a person without their consent.'],
  self_harm: ['Encouraged another user to harm themselves.'],
  intellectual_property: ['Distributed copies of a film still in cinemas after a notice from the rights holder.'],
  other_illegal: ['Sold forged identity documents.', 'Offered stolen account credentials for sale.'],
  weapons: ['Offered firearms for sale without a licence.'],
  terrorism: ['Shared propaganda of a listed terrorist organisation calling for attacks.'],
  csam: ['Child sexual abuse material.'],
};
const REPORT_TEXTS = [
  'This account keeps sending me this.',
  'Scam, they took my money.',
  'Please look at this, it is disgusting.',
  'Threatening messages in our group.',
  'Fake shop, never delivered.',
];
const APPEAL_TEXTS = [
  'I did not post this, my account was used by someone else.',
  'This was a joke between friends and nobody was harmed.',
  'The content is legal where I live; please review the decision.',
  'I removed the message already; please restore my account.',
];
const AUTOMATED_VERSIONS = JSON.stringify({ language: 'lid.176', rules: 'rules@1', classifier: 'text-linear@1' });

/** Whether an order's story goes on: every event after the end of the history is cut. */
interface Story {
  events: Array<[number, string, string, string, string, string]>;
  end: number;
}

/**
 * The world both stores are filled with: deterministic from the seed, so both hold
 * the same orders and decisions (ids included) and answer the same figures.
 */
class World {
  readonly dice = new Dice(20_261_128);
  readonly tally = new Map<string, QuarterTally>();
  readonly dsa: DsaTally = {
    ordersInScope: 0,
    ordersOutsideScope: 0,
    noticesReceived: 0,
    noticesDecided: 0,
    noticesActionTaken: 0,
    ownInitiative: 0,
    ownInitiativeAutomated: 0,
    appealsReceived: 0,
    appealsUpheld: 0,
    appealsOverturned: 0,
    appealsOpen: 0,
    automatedRemovals: 0,
    automatedRemovalsAppealed: 0,
    automatedRemovalsOverturned: 0,
  };
  readonly rows: Record<string, number> = {};
  ordersInYear = 0;
  decisionsInDsaYear = 0;
  private seq = 0;
  private content = 0;
  private readonly moderators: string[];
  private readonly seniors: string[];
  private readonly legalTeam: string[];
  private readonly platformToken: string;
  private readonly flaggers: Array<{ id: string; key: string }>;
  private readonly scope: Set<string>;
  private readonly dsaFrom: number;
  private readonly dsaTo: number;

  constructor(
    readonly periods: Periods,
    readonly authorities: Authority[],
    readonly policy: Policy,
    readonly disclosure: DisclosurePolicy,
    readonly scanning: ScanningPolicy,
    readonly cipher: PersonalDataCipher,
    readonly retentionDays: number,
  ) {
    const d = this.dice;
    this.moderators = Array.from({ length: 150 }, () => d.id('tok'));
    this.legalTeam = Array.from({ length: 8 }, () => d.id('tok'));
    this.seniors = Array.from({ length: 3 }, () => d.id('tok'));
    this.platformToken = d.id('tok');
    this.flaggers = Array.from({ length: 12 }, () => {
      const id = d.id('tok');
      return { id, key: cipher.blindIndex('reporter', `tf:${id}`) };
    });
    this.scope = new Set(policy.document.moderation.territorialScope);
    this.dsaFrom = Date.UTC(periods.dsaYear, 0, 1);
    this.dsaTo = Date.UTC(periods.dsaYear + 1, 0, 1);
    this.byCountry = new Map();
    for (const a of authorities) {
      const list = this.byCountry.get(a.country) ?? [];
      list.push(a);
      this.byCountry.set(a.country, list);
    }
  }
  private readonly byCountry: Map<string, Authority[]>;

  /** The i-th of n instants over the history, in order; the rate doubles from its start to its end. */
  private timeAt(i: number, n: number): number {
    const u = (i + this.dice.next()) / n;
    const x = -1 + Math.sqrt(1 + 3 * u);
    return this.periods.start + Math.floor(x * (this.periods.end - this.periods.start));
  }

  private count(table: FilledTable): void {
    this.rows[table] = (this.rows[table] ?? 0) + 1;
  }

  private tallyOf(country: string, at: number): QuarterTally | undefined {
    const q = this.periods.quarter;
    if (at < q.from || at >= q.to) return undefined;
    let t = this.tally.get(country);
    if (!t) {
      t = emptyTally();
      this.tally.set(country, t);
    }
    return t;
  }

  // ------------------------------------------------------------ legal orders

  orders(lo: number, hi: number, n: number, sink: Sink): void {
    for (let i = lo; i < hi; i++) this.order(i, n, sink);
  }

  private order(i: number, n: number, sink: Sink): void {
    const d = this.dice;
    const policy = this.disclosure;
    const t = this.timeAt(i, n);
    const country = d.weighted(COUNTRIES);
    const authority = d.pick(this.byCountry.get(country)!);
    const type = d.weighted([
      ['production', 83],
      ['preservation', 10],
      ['emergency', 7],
    ] as const);
    let offence = d.weighted(OFFENCES);
    if (OFTEN_REFUSED.has(country) && d.chance(0.12))
      offence = d.pick(['political_speech', 'insulting_officials', 'religion']);
    let data: string[] = d
      .weighted([
        [['ip_addresses', 'phone_number'], 50],
        [['ip_addresses'], 35],
        [['phone_number'], 15],
      ] as const)
      .slice();
    const tooLong = d.chance(0.025);
    const tooOld = d.chance(0.05);
    const periodDays = tooLong
      ? d.int(366, 730)
      : d.weighted([
          [d.int(1, 30), 40],
          [d.int(31, 90), 35],
          [d.int(91, 180), 18],
          [d.int(181, 365), 7],
        ] as const);
    let periodTo = t - d.int(0, 20) * DAY - d.int(0, 86_399) * 1000;
    if (tooOld) periodTo = t - (this.retentionDays + d.int(10, 400)) * DAY + periodDays * DAY;
    let periodFrom = periodTo - periodDays * DAY;
    const mismatch = d.chance(0.006);
    const issuingCountry = mismatch ? (country === 'DE' ? 'AT' : 'DE') : country;
    const id = d.id('lr');

    // The automatic checks, in evaluateOrder's order and words (src/legal/checks.ts).
    type Check = [string, 'pass' | 'fail' | 'review', string | null, string, number | null];
    const checks: Check[] = [];
    const add = (name: string, result: Check[1], code: string | null, detail: string, target: number | null = null) =>
      checks.push([name, result, code, detail, target]);
    add('required_fields', 'pass', null, 'every mandatory field is present and well-formed');
    add(
      'authority_verified',
      'pass',
      null,
      `${authority.name} (${authority.kind}, ${authority.country}), token bound to it`,
    );
    if (issuingCountry !== country) {
      add(
        'authority_country',
        'fail',
        'authority_country_mismatch',
        `the order says ${issuingCountry}; the authority is registered in ${country}`,
      );
    } else add('authority_country', 'pass', null, `issued in ${country}, where the authority is registered`);
    let extraReview = false;
    if (policy.refusedCountries.has(country)) {
      add('country_policy', 'fail', 'country_refused', `the policy refuses orders from ${country}`);
    } else if (policy.extraReviewCountries.has(country)) {
      extraReview = true;
      add(
        'country_policy',
        'review',
        'country_extra_review',
        `orders from ${country} need the extra human-rights review (a senior legal approver)`,
      );
    } else add('country_policy', 'pass', null, `orders from ${country} are accepted`);
    if (policy.refusedOffences.has(offence)) {
      add('offence_not_refused', 'fail', 'refused_offence_category', `the policy never discloses for ${offence}`);
    } else add('offence_not_refused', 'pass', null, `${offence} is not a refused offence category`);
    const related = policy.inScope.get(offence);
    if (!related) {
      add(
        'offence_in_scope',
        'fail',
        'offence_out_of_scope',
        `policy "${policy.name}" discloses only for ${[...policy.inScope.keys()].join(', ')}`,
      );
    } else add('offence_in_scope', 'pass', null, `${offence} is in scope; related violations: ${related.join(', ')}`);
    const reachesBackTo = t - this.retentionDays * DAY;
    if (periodFrom < reachesBackTo) {
      add(
        'period_retention',
        'fail',
        'period_outside_retention',
        `the period starts ${iso(periodFrom)}, before the retention window (${this.retentionDays} days) begins at ${iso(reachesBackTo)}`,
      );
    } else add('period_retention', 'pass', null, `inside the ${this.retentionDays}-day retention window`);
    const days = (periodTo - periodFrom) / DAY;
    if (days > policy.maxPeriodDays) {
      add(
        'period_length',
        'fail',
        'period_too_long',
        `${Math.ceil(days)} days requested; the policy allows at most ${policy.maxPeriodDays}`,
      );
    } else add('period_length', 'pass', null, `${Math.ceil(days)} days, within the policy's ${policy.maxPeriodDays}`);
    add('data_categories', 'pass', null, `${data.join(', ')} only`);
    const hard = checks.filter((c) => c[1] === 'fail').map((c) => c[2] as string);

    // Targets: an order is mostly all good or all bad.
    const targetCount = d.weighted([
      [1, 65],
      [2, 20],
      [3, 8],
      [d.int(4, 10), 7],
    ] as const);
    const good = d.chance(0.55);
    const targets: Array<{
      id: string;
      kind: string;
      value: string;
      accountId: string | null;
      status: string;
      reasons: string[];
    }> = [];
    for (let k = 0; k < targetCount; k++) {
      const kind = d.weighted([
        ['accountId', 4],
        ['username', 3],
        ['phone', 3],
      ] as const);
      const account = d.chance(0.2) ? d.int(0, 49_999) : d.int(0, 2_999_999);
      const accountId = `u${String(account).padStart(9, '0')}`;
      const value =
        kind === 'accountId'
          ? accountId
          : kind === 'username'
            ? `user${account}`
            : `+${d.int(1, 99)}${String(d.int(100_000_000, 999_999_999))}`;
      const targetId = d.id('lrt');
      const outcome = good
        ? d.weighted([
            ['included', 85],
            ['target_not_found', 5],
            ['no_confirmed_violation', 7],
            ['target_outside_jurisdiction', 3],
          ] as const)
        : d.weighted([
            ['target_not_found', 35],
            ['no_confirmed_violation', 45],
            ['target_outside_jurisdiction', 20],
          ] as const);
      if (outcome === 'target_not_found') {
        add('target_exists', 'fail', 'target_not_found', `no account has this ${kind}`, k);
        targets.push({ id: targetId, kind, value, accountId: null, status: 'dropped', reasons: ['target_not_found'] });
        continue;
      }
      add('target_exists', 'pass', null, `account ${accountId}`, k);
      const reasons: string[] = [];
      if (outcome === 'no_confirmed_violation' || !related) {
        add(
          'target_violation',
          'fail',
          'no_confirmed_violation',
          `account ${accountId} has no confirmed violation in ${related?.join(', ') || 'a related category'}`,
          k,
        );
        reasons.push('no_confirmed_violation');
      } else {
        const v = d.int(1, 3);
        add('target_violation', 'pass', null, `${v} confirmed violation(s): ${related[0]}`, k);
      }
      if (outcome === 'target_outside_jurisdiction') {
        const elsewhere = country === 'FR' ? 'BE' : 'FR';
        add(
          'target_jurisdiction',
          'fail',
          'target_outside_jurisdiction',
          `account country ${elsewhere}, phone country ${elsewhere}: outside ${country}; use mutual legal assistance`,
          k,
        );
        reasons.push('target_outside_jurisdiction');
      } else add('target_jurisdiction', 'pass', null, `account or phone number in ${country}`, k);
      targets.push({
        id: targetId,
        kind,
        value,
        accountId,
        status: reasons.length === 0 ? 'included' : 'dropped',
        reasons,
      });
    }
    let included = targets.filter((x) => x.status === 'included');
    const reasons = [...new Set(hard)];
    if (hard.length === 0 && included.length === 0) {
      for (const x of targets) for (const r of x.reasons) if (!reasons.includes(r)) reasons.push(r);
    }
    const rejected = reasons.length > 0;

    // The order's history, cut where the history ends.
    const story: Story = { events: [], end: this.periods.end };
    const event = (at: number, actor: string, role: string, kind: string, status: string, details: object) => {
      if (at >= story.end) return false;
      story.events.push([at, actor, role, kind, status, JSON.stringify(details)]);
      return true;
    };
    const systemPolicy = 'system:disclosure-policy';
    const systemDisclosure = 'system:disclosure';
    event(t, authority.tokenId, 'authority', 'received', 'received', { type, targets: targetCount });
    event(
      t,
      systemPolicy,
      'system',
      rejected ? 'checks.rejected' : 'checks.passed',
      rejected ? 'rejected' : 'in_review',
      {
        reasons,
        extraReview,
        policyVersion: policy.version,
      },
    );
    let status = rejected ? 'rejected' : 'in_review';
    let decidedAt: number | null = rejected ? t : null;
    let disclosedAt: number | null = null;
    let preservedUntil: number | null = null;
    let extended = 0;
    let secondOwed = 0;
    let round = 1;
    let updatedAt = t;
    const requestedData = data.slice();
    if (!rejected && type === 'preservation') {
      preservedUntil = t + policy.preservationDays * DAY;
      event(t, systemDisclosure, 'system', 'preserved', 'preserved', {
        accounts: included.length,
        until: iso(preservedUntil),
      });
      status = 'preserved';
      decidedAt = t;
      const p = d.next();
      if (p < 0.2) {
        const at = t + d.int(1, 50) * DAY + d.int(0, DAY);
        if (event(at, authority.tokenId, 'authority', 'withdrawn', 'withdrawn', { from: 'preserved' })) {
          status = 'withdrawn';
          updatedAt = at;
        }
      } else if (p < 0.3) {
        const at = t + d.int(40, 59) * DAY;
        const until = preservedUntil + policy.preservationExtensionDays * DAY;
        if (event(at, authority.tokenId, 'authority', 'preservation.extended', 'preserved', { until: iso(until) })) {
          preservedUntil = until;
          extended = 1;
          updatedAt = at;
        }
      }
    } else if (!rejected) {
      const p = d.next();
      const emergency = type === 'emergency';
      const reviewDelay = () => (emergency ? d.duration(2 * HOUR, 0.8, 8 * HOUR) : d.duration(2 * DAY, 0.8, 10 * DAY));
      const reviewer = () => d.pick(this.legalTeam);
      if (p < 0.06) {
        const at = t + d.duration(DAY, 1, 20 * DAY);
        if (event(at, authority.tokenId, 'authority', 'withdrawn', 'withdrawn', { from: 'in_review' })) {
          status = 'withdrawn';
          decidedAt = at;
          updatedAt = at;
        }
      } else if (p < 0.2) {
        const at = t + reviewDelay();
        if (event(at, reviewer(), 'legal', 'review.reject', 'rejected', { round: 1, reasons: ['not proportionate'] })) {
          status = 'rejected';
          decidedAt = at;
          updatedAt = at;
        }
      } else {
        let at = t + reviewDelay();
        let alive = true;
        if (p < 0.28 && !emergency) {
          alive = event(at, reviewer(), 'legal', 'review.narrow', 'in_review', {
            round: 1,
            reasons: ['proportionality'],
          });
          if (alive) {
            round = 2;
            updatedAt = at;
            if (included.length > 1) {
              for (const x of included.slice(1)) {
                x.status = 'removed';
                x.reasons = ['narrowed'];
              }
              included = included.slice(0, 1);
            } else if (data.length === 2) {
              data = ['ip_addresses'];
            } else {
              periodFrom = Math.max(periodFrom, periodTo - 30 * DAY);
            }
            at += d.duration(6 * HOUR, 1, 5 * DAY);
          }
        }
        const records = included.reduce(
          (s) => s + (data.includes('phone_number') ? 1 : 0) + (data.includes('ip_addresses') ? d.int(0, 400) : 0),
          0,
        );
        const disclose = (when: number) => {
          if (!event(when, systemDisclosure, 'system', 'disclosed', 'disclosed', { targets: included.length, records }))
            return false;
          status = 'disclosed';
          disclosedAt = when;
          updatedAt = when;
          return true;
        };
        if (alive && emergency) {
          const senior = d.pick(this.seniors);
          if (event(at, senior, 'legal_senior', 'review.approve', 'approved', { round, reasons: [] })) {
            event(at, senior, 'legal_senior', 'approved', 'approved', { secondApprovalOwed: true });
            status = 'approved';
            decidedAt = at;
            secondOwed = 1;
            updatedAt = at;
            if (disclose(at)) {
              const second = at + d.duration(12 * HOUR, 0.7, 5 * DAY);
              if (
                event(second, reviewer(), 'legal', 'emergency.second_approval', 'disclosed', { round, reasons: [] })
              ) {
                secondOwed = 0;
                updatedAt = second;
              }
            }
          }
        } else if (alive) {
          const first = reviewer();
          if (event(at, first, 'legal', 'review.approve', 'in_review', { round, reasons: [] })) {
            updatedAt = at;
            const second = at + d.duration(6 * HOUR, 1, 4 * DAY);
            const approver = extraReview ? d.pick(this.seniors) : d.pick(this.legalTeam.filter((x) => x !== first));
            const role = extraReview ? 'legal_senior' : 'legal';
            if (event(second, approver, role, 'review.approve', 'approved', { round, reasons: [] })) {
              event(second, approver, role, 'approved', 'approved', { secondApprovalOwed: false });
              status = 'approved';
              decidedAt = second;
              updatedAt = second;
              disclose(second);
            }
          }
        }
      }
    }

    // Rows, as the services leave them.
    const nonDisclosureUntil = d.chance(0.3) ? t + d.int(90, 365) * DAY : null;
    const document = d.chance(0.6);
    const policyVersion = policy.version;
    sink.add('legal_requests', [
      id,
      authority.id,
      type,
      status,
      `${country}-${new Date(t).getUTCFullYear()}-${d.int(10_000, 99_999)}`,
      LEGAL_BASIS[country] ?? 'Criminal procedure code',
      JSON.stringify({ name: authority.name, country: issuingCountry }),
      JSON.stringify({
        reference: `${d.int(1, 99)} Gs ${d.int(100, 9999)}/${String(new Date(t).getUTCFullYear()).slice(2)}`,
        issuedBy: `${authority.kind === 'court' ? authority.name : `Court of ${country}`}`,
        issuedAt: iso(t - d.int(1, 10) * DAY),
      }),
      document ? d.hex(64) : null,
      document ? d.int(40_000, 2_000_000) : null,
      offence,
      JSON.stringify({ description: `Investigation into ${offence.replaceAll('_', ' ')}`, provisions: 'section 1' }),
      JSON.stringify(data),
      periodFrom,
      periodTo,
      JSON.stringify({
        data: requestedData,
        period: { from: iso(periodFrom), to: iso(periodTo) },
        targets: targetCount,
      }),
      nonDisclosureUntil,
      type === 'emergency' ? 'A person is missing and threatened; the last contact was through this account.' : null,
      null,
      extraReview ? 1 : 0,
      policyVersion,
      round,
      t,
      t + policy.deadlines[type].hoursMs,
      decidedAt,
      disclosedAt,
      secondOwed,
      preservedUntil,
      extended,
      null,
      null,
      null,
      updatedAt,
    ]);
    this.count('legal_requests');
    for (let k = 0; k < targets.length; k++) {
      const x = targets[k]!;
      const notice = disclosedAt !== null && x.status === 'included' ? (nonDisclosureUntil ?? disclosedAt) : null;
      const notified = notice !== null && notice + 5 * 60_000 < this.periods.end ? notice + d.int(1, 300) * 1000 : null;
      sink.add('legal_targets', [
        x.id,
        id,
        k,
        x.kind,
        this.cipher.encrypt(TARGET_FIELD, x.id, x.value),
        x.accountId,
        x.status,
        JSON.stringify(x.reasons),
        notice,
        notified,
      ]);
      this.count('legal_targets');
    }
    for (const c of checks) {
      sink.add('legal_checks', [
        d.id('lrc'),
        id,
        c[4] === null ? null : targets[c[4]]!.id,
        c[0],
        c[1],
        c[2],
        c[3],
        policyVersion,
        t,
      ]);
      this.count('legal_checks');
    }
    // Each event with the country and label recordEvent gives it (legal/events.ts).
    const failedCodes = rejectionLabel(
      checks.filter((c) => c[1] === 'fail' && c[2] !== null).map((c) => c[2] as string),
    );
    const labelOf = (kind: string) =>
      kind === 'received'
        ? type
        : kind === 'disclosed'
          ? disclosedDataLabel(data)
          : kind === 'checks.rejected'
            ? failedCodes
            : null;
    for (const [at, actor, role, kind, st, details] of story.events) {
      sink.add('legal_events', [
        d.sortableId('lre', at, this.seq++),
        id,
        at,
        actor,
        role,
        kind,
        st,
        details,
        country,
        labelOf(kind),
      ]);
      this.count('legal_events');
      if (kind === 'disclosed') {
        for (const accountId of new Set(included.map((x) => x.accountId!))) {
          sink.add('legal_disclosed_accounts', [id, accountId, country, at]);
          this.count('legal_disclosed_accounts');
        }
      }
    }

    // The checks' own tallies: the events of the quarter measured, by the authority's country.
    for (const [at, , , kind] of story.events) {
      const q = this.tallyOf(country, at);
      if (!q) continue;
      if (kind === 'received') {
        q.received++;
        q.receivedByType[type] = (q.receivedByType[type] ?? 0) + 1;
      } else if (kind === 'checks.rejected') {
        q.rejected++;
        const failed = new Set(checks.filter((c) => c[1] === 'fail').map((c) => c[2] as string));
        for (const code of failed) q.rejectedByReason[code] = (q.rejectedByReason[code] ?? 0) + 1;
        if (HUMAN_RIGHTS_REASONS.some((r) => failed.has(r))) q.refusedHumanRights++;
      } else if (kind === 'review.reject') {
        q.rejected++;
        q.rejectedByReason[REVIEWER_REJECTED] = (q.rejectedByReason[REVIEWER_REJECTED] ?? 0) + 1;
      } else if (kind === 'withdrawn') q.withdrawn++;
      else if (kind === 'preserved') q.preserved++;
      else if (kind === 'disclosed') {
        q.fulfilled++;
        q.fulfilledByData[disclosedDataLabel(data)]++;
        for (const x of included) q.accounts.add(x.accountId!);
      }
    }
    if (t >= this.periods.year.from && t < this.periods.year.to) this.ordersInYear++;
    if (t >= this.dsaFrom && t < this.dsaTo) {
      if (this.scope.has(country)) this.dsa.ordersInScope++;
      else this.dsa.ordersOutsideScope++;
    }
  }

  // ------------------------------------------------------------ moderation decisions

  decisions(lo: number, hi: number, n: number, sink: Sink): void {
    for (let i = lo; i < hi; i++) this.decision(i, n, sink);
  }

  private event(
    sink: Sink,
    at: number,
    caseId: string,
    subject: { type: string; id: string; accountId: string },
    type: string,
    actor: string,
    role: string,
    payload: object,
  ): void {
    sink.add('moderation_events', [
      this.dice.sortableId('evt', at, this.seq++),
      caseId,
      subject.type,
      subject.id,
      subject.accountId,
      type,
      actor,
      role,
      JSON.stringify(payload),
      at,
    ]);
    this.count('moderation_events');
  }

  /** One report on a case: its row and its `report.received` event. Answers its source and weight. */
  private report(
    sink: Sink,
    caseId: string,
    subject: { type: 'content' | 'account'; id: string; accountId: string },
    category: string,
    at: number,
    trusted: boolean,
    outcome: { at: number; outcome: string; ground: string | null } | null,
  ): { source: string; weight: number; actor: string; role: string } {
    const d = this.dice;
    const id = d.id('rep');
    const source = trusted
      ? 'trusted_flagger'
      : d.weighted([
          ['public', 60],
          ['platform', 40],
        ] as const);
    let tokenId: string | null = null;
    let reporterAccount: string | null = null;
    let email: Buffer | null = null;
    let key: string;
    let clientKey: string | null = null;
    let weight = 1;
    if (source === 'trusted_flagger') {
      const f = d.pick(this.flaggers);
      tokenId = f.id;
      key = f.key;
      weight = this.policy.document.moderation.reports.trustedFlaggerWeight;
    } else {
      if (source === 'platform') {
        tokenId = this.platformToken;
        reporterAccount = `u${String(d.int(0, 19_999_999)).padStart(9, '0')}`;
        key = this.cipher.blindIndex('reporter', `acct:${reporterAccount}`);
      } else {
        const address = `${d.int(11, 223)}.${d.int(0, 255)}.${d.int(0, 255)}.${d.int(1, 254)}`;
        clientKey = this.cipher.blindIndex('client', address);
        if (d.chance(0.2)) {
          const mail = `reporter${d.int(0, 999_999)}@mail.example`;
          email = this.cipher.encrypt(REPORTER_EMAIL_FIELD, id, mail);
          key = this.cipher.blindIndex('reporter', `email:${mail}`);
        } else key = this.cipher.blindIndex('reporter', `addr:${address}`);
      }
      if (d.chance(0.25)) weight = Math.max(0.1, Math.round(d.next() * 100) / 100);
    }
    sink.add('reports', [
      id,
      caseId,
      subject.type,
      subject.id,
      category,
      d.chance(0.5) ? d.pick(REPORT_TEXTS) : null,
      source,
      tokenId,
      reporterAccount,
      email,
      key,
      clientKey,
      weight,
      d.hex(64),
      outcome ? 'resolved' : 'open',
      outcome?.outcome ?? null,
      at,
      outcome?.at ?? null,
      outcome?.ground ?? null,
    ]);
    this.count('reports');
    const actor = source === 'public' ? 'public' : (tokenId as string);
    const role = source === 'public' ? 'public' : source === 'platform' ? 'platform' : 'trusted_flagger';
    this.event(sink, at, caseId, subject, 'report.received', actor, role, { reportId: id, category, source, weight });
    return { source, weight, actor, role };
  }

  private decision(i: number, n: number, sink: Sink): void {
    const d = this.dice;
    const decidedAt = this.timeAt(i, n);
    const source = d.weighted([
      ['report', 55],
      ['scan', 40],
      ['strikes', 5],
    ] as const);
    const category: CategoryCode = source === 'scan' ? d.weighted(SCAN_CATEGORIES) : d.weighted(REPORT_CATEGORIES);
    const definition = this.policy.category(category)!;
    const subjectType: 'content' | 'account' =
      source === 'strikes' ? 'account' : source === 'scan' || d.chance(0.8) ? 'content' : 'account';
    const accountId = `u${String(d.int(0, 19_999_999)).padStart(9, '0')}`;
    const subject = {
      type: subjectType,
      id: subjectType === 'content' ? `m${String(this.content++).padStart(10, '0')}` : accountId,
      accountId,
    };
    const full = source === 'scan' && d.chance(0.6);
    let actions: Array<{ type: ActionType; until?: string }>;
    if (full) actions = [{ type: 'remove_content' }];
    else if (source === 'strikes') {
      actions = d
        .weighted([
          [[{ type: 'suspend_account', until: iso(decidedAt + d.int(7, 90) * DAY) }], 65],
          [[{ type: 'ban_account' }], 25],
          [[{ type: 'dismiss' }], 10],
        ] as const)
        .slice() as typeof actions;
    } else if (subjectType === 'content') {
      actions = d
        .weighted([
          [[{ type: 'dismiss' }], source === 'scan' ? 30 : 35],
          [[{ type: 'remove_content' }], 45],
          [[{ type: 'restrict_content' }], 6],
          [[{ type: 'remove_content' }, { type: 'warn' }], 5],
          [[{ type: 'remove_content' }, { type: 'suspend_account', until: iso(decidedAt + 30 * DAY) }], 4],
          [[{ type: 'warn' }], 5],
        ] as const)
        .slice() as typeof actions;
    } else {
      actions = d
        .weighted([
          [[{ type: 'dismiss' }], 30],
          [[{ type: 'warn' }], 25],
          [[{ type: 'suspend_account', until: iso(decidedAt + d.int(7, 90) * DAY) }], 35],
          [[{ type: 'ban_account' }], 10],
        ] as const)
        .slice() as typeof actions;
    }
    // The scanning policy's ground per category; a moderator deciding by hand mostly chooses the same.
    const ground = full || d.chance(0.9) ? this.scanning.ground(category) : 'terms';
    const handling = full
      ? d.int(200, 5000)
      : source === 'scan'
        ? d.duration(4 * HOUR, 1.2, 30 * DAY)
        : source === 'strikes'
          ? d.duration(12 * HOUR, 1, 30 * DAY)
          : d.duration(8 * HOUR, 1.3, 30 * DAY);
    const createdAt = decidedAt - handling;
    const automation = full ? 'full' : source === 'scan' || d.chance(0.15) ? 'partial' : 'none';
    const decidedBy = full ? 'system:scanner' : d.pick(this.moderators);
    const score = Math.round((0.95 + d.next() * 0.05) * 1000) / 1000;
    const explanation = full
      ? `Removed automatically: the classifier found ${category.replaceAll('_', ' ')} with score ${score.toFixed(3)} (policy ${this.policy.version.slice(0, 19)}, versions ${AUTOMATED_VERSIONS}).`
      : d.pick(EXPLANATIONS[category] ?? EXPLANATIONS.other_illegal!);
    const caseId = d.id('case');
    const decisionId = d.id('dec');
    const dismiss = actions.some((a) => a.type === 'dismiss');
    const language = subjectType === 'content' ? d.weighted(LANGUAGES) : null;
    const isPublic = subjectType === 'content' && d.chance(0.4);

    // Reports: the first opens the case, the others join it before the decision.
    let reportCount = 0;
    let weight = 0;
    let trusted = 0;
    const sources: string[] = [];
    const outcome = { at: decidedAt, outcome: dismiss ? 'no_action' : 'action_taken', ground: dismiss ? null : ground };
    let openedBy: { actor: string; role: string } = { actor: 'system:scanner', role: 'system' };
    if (source === 'report') {
      const byFlagger = d.chance(0.08);
      let k = 1;
      while (k < 20 && d.chance(0.3)) k++;
      for (let r = 0; r < k; r++) {
        const at = r === 0 ? createdAt : createdAt + Math.floor(d.next() * handling);
        const filed = this.report(sink, caseId, subject, category, at, byFlagger && r === 0, outcome);
        if (r === 0) openedBy = { actor: filed.actor, role: filed.role };
        sources.push(filed.source);
        reportCount++;
        weight += filed.weight;
        if (filed.source === 'trusted_flagger') trusted++;
        if (at >= this.dsaFrom && at < this.dsaTo) {
          this.dsa.noticesReceived++;
          this.dsa.noticesDecided++;
          if (!dismiss) this.dsa.noticesActionTaken++;
        }
      }
    } else if (source === 'strikes') openedBy = { actor: d.pick(this.moderators), role: 'moderator' };

    const statement = buildStatement(this.policy, {
      decisionId,
      actions,
      category,
      ground,
      explanation,
      subjectType,
      contentKind: subjectType === 'content' ? (d.chance(0.15) ? 'image' : 'text') : null,
      contentLanguage: language,
      contentDate: createdAt - d.int(0, 3 * DAY),
      decidedAt,
      reportSources: sources,
      automatedDetection: automation !== 'none',
      automation,
    });
    const proposal =
      source === 'strikes' ? (actions.some((a) => a.type === 'ban_account') ? 'ban_account' : 'suspend_account') : null;
    const severity = definition.severity;
    sink.add('cases', [
      caseId,
      subjectType,
      subject.id,
      accountId,
      'closed',
      definition.queue ?? 'main',
      category,
      severity,
      language,
      isPublic ? 1 : 0,
      reportCount,
      reportCount,
      weight,
      trusted,
      proposal,
      rank(
        { severity, reporterWeight: weight, trustedCount: trusted, isPublic, proposed: proposal !== null },
        createdAt,
      ),
      null,
      null,
      decisionId,
      createdAt,
      decidedAt,
      decidedAt,
      source,
    ]);
    this.count('cases');
    const opened =
      source === 'report'
        ? { source: 'report' }
        : source === 'scan'
          ? { source: 'scan', action: full ? 'remove' : 'review', category, score }
          : { source: 'strikes', strikes: d.int(3, 6), proposal, fromCase: d.id('case') };
    this.event(sink, createdAt, caseId, subject, 'case.opened', openedBy.actor, openedBy.role, opened);
    if (source === 'strikes') {
      const { source: _s, ...payload } = opened as { source: string };
      this.event(sink, createdAt, caseId, subject, 'strikes.threshold', openedBy.actor, openedBy.role, payload);
    }
    const decidedRole = full ? 'system' : 'moderator';
    this.event(sink, decidedAt, caseId, subject, 'decision.made', decidedBy, decidedRole, {
      decisionId,
      actions,
      category,
      ground,
      automation,
      policyVersion: this.policy.version,
    });

    // An appeal against some restrictions, by the account through the platform.
    let decisionStatus = 'in_effect';
    let reversedAt: number | null = null;
    let appealStatus: string | null = null;
    const removal = full && actions.some((a) => a.type === 'remove_content');
    if (statement && d.chance(full ? 0.03 : 0.05)) {
      const filed = decidedAt + d.duration(2 * DAY, 1.2, 180 * DAY);
      if (filed < this.periods.end) {
        const appealId = d.id('apl');
        const resolved = filed + d.duration(3 * DAY, 1, 60 * DAY);
        const open = resolved >= this.periods.end;
        appealStatus = open ? 'open' : d.chance(full ? 0.35 : 0.2) ? 'overturned' : 'upheld';
        const resolver = d.pick(this.moderators.filter((m) => m !== decidedBy).slice(0, 20));
        sink.add('appeals', [
          appealId,
          decisionId,
          accountId,
          d.pick(APPEAL_TEXTS),
          appealStatus,
          decidedBy,
          filed,
          open ? null : resolver,
          open
            ? null
            : appealStatus === 'overturned'
              ? 'The decision did not hold up on review.'
              : 'The decision stands.',
          open ? null : resolved,
        ]);
        this.count('appeals');
        this.event(sink, filed, caseId, subject, 'appeal.filed', this.platformToken, 'platform', {
          appealId,
          decisionId,
        });
        if (appealStatus === 'overturned') {
          decisionStatus = 'reversed';
          reversedAt = resolved;
          this.event(sink, resolved, caseId, subject, 'decision.reversed', resolver, 'moderator', {
            appealId,
            decisionId,
          });
        } else if (appealStatus === 'upheld') {
          this.event(sink, resolved, caseId, subject, 'appeal.upheld', resolver, 'moderator', { appealId, decisionId });
        }
        if (filed >= this.dsaFrom && filed < this.dsaTo) {
          this.dsa.appealsReceived++;
          if (appealStatus === 'upheld') this.dsa.appealsUpheld++;
          else if (appealStatus === 'overturned') this.dsa.appealsOverturned++;
          else this.dsa.appealsOpen++;
        }
      }
    }
    sink.add('decisions', [
      decisionId,
      caseId,
      subjectType,
      subject.id,
      accountId,
      JSON.stringify(actions),
      category,
      ground,
      explanation,
      decidedBy,
      automation,
      this.policy.version,
      statement ? JSON.stringify(statement) : null,
      decisionStatus,
      decidedAt,
      reversedAt,
      source,
      statement ? 1 : 0,
      actions.some((a) => a.type === 'remove_content') ? 1 : 0,
    ]);
    this.count('decisions');
    if (decidedAt >= this.dsaFrom && decidedAt < this.dsaTo) {
      this.decisionsInDsaYear++;
      if (statement && source !== 'report') {
        this.dsa.ownInitiative++;
        if (full) this.dsa.ownInitiativeAutomated++;
      }
      if (removal) {
        this.dsa.automatedRemovals++;
        if (appealStatus) this.dsa.automatedRemovalsAppealed++;
        if (appealStatus === 'overturned') this.dsa.automatedRemovalsOverturned++;
      }
    }
  }

  /** Cases still open at the end of the history: reported (most) or flagged by a scan, none decided. */
  openCases(count: number, sink: Sink): void {
    const d = this.dice;
    for (let i = 0; i < count; i++) {
      const createdAt = this.periods.end - 30 * DAY + Math.floor(((i + d.next()) / count) * 30 * DAY);
      const byScan = d.chance(0.25);
      const category: CategoryCode = byScan ? d.weighted(SCAN_CATEGORIES) : d.weighted(REPORT_CATEGORIES);
      const definition = this.policy.category(category)!;
      const accountId = `u${String(d.int(0, 19_999_999)).padStart(9, '0')}`;
      const subject = { type: 'content' as const, id: `m${String(this.content++).padStart(10, '0')}`, accountId };
      const caseId = d.id('case');
      let reportCount = 0;
      let weight = 0;
      const trusted = 0;
      let openedBy = { actor: 'system:scanner', role: 'system' };
      let updatedAt = createdAt;
      if (!byScan) {
        const k = d.int(1, 3);
        for (let r = 0; r < k; r++) {
          const at = r === 0 ? createdAt : Math.min(this.periods.end - 1, createdAt + d.int(1, 48) * HOUR);
          const filed = this.report(sink, caseId, subject, category, at, false, null);
          if (r === 0) openedBy = { actor: filed.actor, role: filed.role };
          reportCount++;
          weight += filed.weight;
          updatedAt = Math.max(updatedAt, at);
        }
      }
      const language = d.weighted(LANGUAGES);
      const isPublic = d.chance(0.4);
      const severity = definition.severity;
      sink.add('cases', [
        caseId,
        'content',
        subject.id,
        accountId,
        'open',
        definition.queue ?? 'main',
        category,
        severity,
        language,
        isPublic ? 1 : 0,
        reportCount,
        reportCount,
        weight,
        trusted,
        null,
        rank({ severity, reporterWeight: weight, trustedCount: trusted, isPublic, proposed: false }, createdAt),
        null,
        null,
        null,
        createdAt,
        updatedAt,
        null,
        byScan ? 'scan' : 'report',
      ]);
      this.count('cases');
      const opened = byScan
        ? { source: 'scan', action: 'review', category, score: Math.round((0.6 + d.next() * 0.3) * 1000) / 1000 }
        : { source: 'report' };
      this.event(sink, createdAt, caseId, subject, 'case.opened', openedBy.actor, openedBy.role, opened);
    }
  }
}

const LEGAL_BASIS: Record<string, string> = {
  DE: '§ 100g StPO',
  FR: 'Article 60-1 du Code de procédure pénale',
  US: '18 U.S.C. § 2703(d)',
  GB: 'Investigatory Powers Act 2016, s. 61',
  PL: 'Art. 218 Kodeksu postępowania karnego',
};

// ---------------------------------------------------------------- running it

export async function runTransparency(
  dialect: Dialect,
  options: TransparencyOptions = TRANSPARENCY_DEFAULTS,
): Promise<TransparencyResult> {
  const loadStart = load();
  const bench = await openBenchStore(dialect);
  try {
    const version = await storeVersion(bench.ctx.store.db, dialect);
    const settings = await storeSettings(bench.ctx.store.db, dialect);
    const periods = periodsFor(Date.now(), options.years);
    const authorities = await registerAuthorities(bench);
    const world = new World(
      periods,
      authorities,
      bench.ctx.policy,
      bench.ctx.disclosure,
      bench.ctx.scanning,
      bench.ctx.cipher,
      bench.ctx.config.sessionRetentionDays,
    );
    const t0 = nowMs();
    const indexSeconds =
      dialect === 'sqlite'
        ? await fillSqlite(bench, world, options)
        : await fillPostgres(bench.schema as string, world, options);
    const fillSeconds = round1((nowMs() - t0) / 1000);
    const storeBytes = await databaseBytes(bench);
    log(
      `${dialect}: filled in ${fillSeconds} s (indexes and analysis ${indexSeconds} s), ${(storeBytes / 2 ** 30).toFixed(1)} GiB: ${Object.entries(
        world.rows,
      )
        .map(([t, n]) => `${t} ${n.toLocaleString('en')}`)
        .join(', ')}`,
    );

    const loadTiming = load();
    const reports = {} as Record<ReportMethod, ReportTiming>;
    for (const method of REPORT_METHODS) {
      log(`${dialect}: ${method}: first call, then ${options.repetitions} alternating with select 1`);
      reports[method] = await measureInChild(bench, method, periods, options);
      const r = reports[method];
      log(
        `${dialect}: ${method}: first ${r.firstMs} ms, median ${r.medianMs} ms, p95 ${r.p95Ms} ms (select 1 ${r.select1.medianMs} ms); peak RSS +${r.memory.peakRssMiB} MiB, heap +${r.memory.heapMiB} MiB`,
      );
    }
    const withoutNewIndexes = await measureWithoutNewIndexes(bench, periods, options);
    const checked = await checkFigures(bench, world, periods, options);
    if (withoutNewIndexes && withoutNewIndexes.quarter.digest !== reports.quarter.digest) {
      checked.mismatches.push('(a) answered other figures without the new indexes');
    }
    log(
      `${dialect}: checked ${checked.compared} figures of ${checked.quarter} (${checked.mismatches.length} mismatches), ${checked.dsaCompared} DSA totals (${checked.dsaMismatches.length} mismatches)`,
    );
    const slowest = await profileQueries(bench, periods);
    return {
      store: dialect,
      storeVersion: version,
      storeSettings: settings,
      options,
      data: {
        from: isoDay(periods.start),
        to: isoDay(periods.end - 1),
        countries: COUNTRIES.length,
        authorities: new Set(authorities.map((a) => a.id)).size,
        rows: world.rows,
        fillSeconds,
        indexAndAnalyzeSeconds: indexSeconds,
        storeBytes,
        ordersInQuarter: [...world.tally.values()].reduce((n, t) => n + t.received, 0),
        ordersInYear: world.ordersInYear,
        decisionsInDsaYear: world.decisionsInDsaYear,
        noticesInDsaYear: world.dsa.noticesReceived,
      },
      reports,
      withoutNewIndexes,
      checked,
      slowest,
      loadAverage: { start: loadStart, timing: loadTiming, end: load(), cores: os.cpus().length },
      targetMet: {
        quarterPostgres: dialect === 'postgres' ? reports.quarter.p95Ms <= TRANSPARENCY_TARGET.quarterPostgresMs : null,
      },
    };
  } finally {
    await bench.destroy();
  }
}

const ADMIN: Actor = { id: 'bench:admin', role: 'admin' };
const AUTHORITY_NAMES: Record<string, string> = { police: 'Police', prosecutor: 'Public Prosecutor', court: 'Court' };

/** Three authorities per country (police, prosecutor, court), registered through `createAuthority`. */
async function registerAuthorities(bench: BenchStore): Promise<Authority[]> {
  const d = new Dice(7);
  const out: Authority[] = [];
  for (const [country] of COUNTRIES) {
    for (const [kind] of KINDS) {
      const { publicKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
      const jwk = { ...publicKey.export({ format: 'jwk' }), use: 'enc' };
      const name = `${AUTHORITY_NAMES[kind]} ${country}`;
      const id = await createAuthority(bench.ctx.store.db, ADMIN, {
        name,
        country,
        kind,
        contactEmail: `legal-${kind}@${country.toLowerCase()}.example`,
        publicJwk: jwk as Record<string, unknown>,
      });
      out.push({ id, name, country, kind, tokenId: d.id('tok') });
    }
  }
  // Orders pick an authority of the country by kind: police most often.
  return out.flatMap((a) => Array.from({ length: KINDS.find(([k]) => k === a.kind)![1] }, () => a));
}

/** Orders and decisions per chunk: generated, then written (PostgreSQL: while the next is generated). */
const CHUNK_ORDERS = 5_000;
const CHUNK_DECISIONS = 5_000;

function* chunks(total: number, size: number): Generator<[number, number]> {
  for (let lo = 0; lo < total; lo += size) yield [lo, Math.min(total, lo + size)];
}

function progress(what: string, done: number, total: number, step: number): void {
  if (done % step === 0 && done < total) log(`${what}: ${done.toLocaleString('en')} of ${total.toLocaleString('en')}`);
}

/**
 * SQLite: generated and inserted through prepared statements on a raw handle while
 * the store is closed, journal and fsync off, one transaction per chunk; the
 * indexes other than the primary keys are dropped first and rebuilt from their own
 * definitions, then `PRAGMA optimize` gathers the statistics. Answers the seconds
 * the rebuild and the analysis took.
 */
async function fillSqlite(bench: BenchStore, world: World, options: TransparencyOptions): Promise<number> {
  let indexSeconds = 0;
  await bench.reopen(() => {
    const db = new BetterSqlite3(bench.sqliteFile as string);
    try {
      db.pragma('journal_mode = DELETE');
      db.pragma('journal_mode = OFF');
      db.pragma('synchronous = OFF');
      db.pragma('cache_size = -2000000');
      db.pragma('temp_store = MEMORY');
      const indexes = db
        .prepare(
          `select name, sql from sqlite_master where type = 'index' and sql is not null and tbl_name in (${FILLED.map(() => '?').join(', ')})`,
        )
        .all(...FILLED) as { name: string; sql: string }[];
      for (const i of indexes) db.exec(`drop index "${i.name}"`);
      const statements = new Map(
        FILLED.map((t) => {
          const cols = TABLES[t].map(([c]) => c);
          checkColumns(
            t,
            (db.prepare(`pragma table_info("${t}")`).all() as { name: string; notnull: number; dflt_value: unknown }[])
              .filter((c) => c.notnull === 1 && c.dflt_value === null)
              .map((c) => c.name),
            cols,
          );
          return [t, db.prepare(`insert into ${t} (${cols.join(', ')}) values (${cols.map(() => '?').join(', ')})`)];
        }),
      );
      const sink: Sink = { add: (table, row) => statements.get(table)!.run(row) };
      const orders = db.transaction((lo: number, hi: number) => world.orders(lo, hi, options.orders, sink));
      for (const [lo, hi] of chunks(options.orders, CHUNK_ORDERS)) {
        orders(lo, hi);
        progress('sqlite: orders', hi, options.orders, 100_000);
      }
      const decisions = db.transaction((lo: number, hi: number) => world.decisions(lo, hi, options.decisions, sink));
      for (const [lo, hi] of chunks(options.decisions, CHUNK_DECISIONS)) {
        decisions(lo, hi);
        progress('sqlite: decisions', hi, options.decisions, 500_000);
      }
      db.transaction(() => world.openCases(openCaseCount(options), sink))();
      const t0 = nowMs();
      log(`sqlite: rebuilding ${indexes.length} indexes`);
      for (const i of indexes) db.exec(i.sql);
      log('sqlite: PRAGMA optimize');
      db.pragma('analysis_limit = 1000');
      db.pragma('optimize = 0x10002');
      indexSeconds = round1((nowMs() - t0) / 1000);
    } finally {
      db.pragma('journal_mode = WAL');
      db.close();
    }
  });
  return indexSeconds;
}

const openCaseCount = (o: TransparencyOptions) => Math.round(o.decisions * 0.004);

/** Every NOT NULL column without a default must be written: a new column in a migration would fail loudly here. */
function checkColumns(table: string, required: string[], written: string[]): void {
  const missing = required.filter((c) => !written.includes(c));
  if (missing.length) throw new Error(`${table}: the benchmark does not write ${missing.join(', ')}`);
}

/**
 * PostgreSQL: generated here and streamed to `psql` as COPY, 5,000 orders or
 * decisions at a time (a transaction per chunk, each table's rows of the chunk one
 * COPY), generated while the server stores the last. The filled tables' primary
 * keys, unique and foreign keys and indexes are dropped first and rebuilt from
 * their own definitions, then the tables are vacuumed and analysed, as autovacuum would.
 */
async function fillPostgres(schema: string, world: World, options: TransparencyOptions): Promise<number> {
  const client = new pg.Client({ connectionString: BENCH_PG_URL, options: `-c search_path=${schema}` });
  await client.connect();
  try {
    await client.query(`set maintenance_work_mem = '512MB'`);
    await client.query('set synchronous_commit = off');
    const required = await client.query<{ table_name: string; column_name: string }>(
      `select table_name, column_name from information_schema.columns
        where table_schema = $1 and is_nullable = 'NO' and column_default is null`,
      [schema],
    );
    for (const t of FILLED) {
      checkColumns(
        t,
        required.rows.filter((r) => r.table_name === t).map((r) => r.column_name),
        TABLES[t].map(([c]) => c),
      );
    }
    const { rows: constraints } = await client.query<{ name: string; table: string; type: string; def: string }>(
      `select c.conname as name, t.relname as table, c.contype as type, pg_get_constraintdef(c.oid) as def
         from pg_constraint c
         join pg_class t on t.oid = c.conrelid
         join pg_namespace n on n.oid = t.relnamespace
         left join pg_class f on f.oid = c.confrelid
        where n.nspname = $1 and c.contype in ('p', 'u', 'f')
          and (t.relname = any($2) or f.relname = any($2))`,
      [schema, FILLED],
    );
    const { rows: indexes } = await client.query<{ name: string; def: string }>(
      `select i.relname as name, pg_get_indexdef(i.oid) as def
         from pg_index x
         join pg_class i on i.oid = x.indexrelid
         join pg_class t on t.oid = x.indrelid
         join pg_namespace n on n.oid = t.relnamespace
        where n.nspname = $1 and t.relname = any($2)
          and not exists (select 1 from pg_constraint c where c.conindid = x.indexrelid)`,
      [schema, FILLED],
    );
    const keys = constraints.filter((c) => c.type !== 'f');
    const foreign = constraints.filter((c) => c.type === 'f');
    for (const c of foreign) await client.query(`alter table "${c.table}" drop constraint "${c.name}"`);
    for (const c of keys) await client.query(`alter table "${c.table}" drop constraint "${c.name}"`);
    for (const i of indexes) await client.query(`drop index "${i.name}"`);

    // psql reads the script and the rows of each COPY from the same stream.
    const copy = spawn('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', BENCH_PG_URL], {
      stdio: ['pipe', 'ignore', 'pipe'],
      env: { ...process.env, PGOPTIONS: `-c search_path=${schema} -c synchronous_commit=off` },
    });
    trackChild(copy);
    let stderr = '';
    copy.stderr.setEncoding('utf8');
    copy.stderr.on('data', (chunk: string) => {
      stderr += chunk;
    });
    const exited = new Promise<void>((resolve, reject) => {
      copy.on('error', reject);
      copy.on('exit', (code) =>
        code === 0 ? resolve() : reject(new Error(`psql (COPY) exited with ${code}: ${stderr.trim()}`)),
      );
    });
    exited.catch(() => {});
    const lines = new Map<FilledTable, string[]>();
    const sink: Sink = {
      add(table, row) {
        let list = lines.get(table);
        if (!list) {
          list = [];
          lines.set(table, list);
        }
        list.push(row.map(copyValue).join('\t'));
      },
    };
    const heads = new Map(FILLED.map((t) => [t, `copy ${t} (${TABLES[t].map(([c]) => c).join(', ')}) from stdin;\n`]));
    const flush = async () => {
      let script = 'begin;\n';
      for (const [table, list] of lines) script += `${heads.get(table)}${list.join('\n')}\n\\.\n`;
      script += 'commit;\n';
      lines.clear();
      if (!copy.stdin.write(script)) {
        await Promise.race([new Promise((resolve) => copy.stdin.once('drain', resolve)), exited]);
      }
    };
    try {
      for (const [lo, hi] of chunks(options.orders, CHUNK_ORDERS)) {
        world.orders(lo, hi, options.orders, sink);
        await flush();
        progress('postgres: orders', hi, options.orders, 100_000);
      }
      for (const [lo, hi] of chunks(options.decisions, CHUNK_DECISIONS)) {
        world.decisions(lo, hi, options.decisions, sink);
        await flush();
        progress('postgres: decisions', hi, options.decisions, 500_000);
      }
      world.openCases(openCaseCount(options), sink);
      await flush();
      copy.stdin.end();
      await exited;
    } finally {
      if (copy.exitCode === null) copy.kill('SIGKILL');
    }

    const t0 = nowMs();
    log(`postgres: rebuilding ${keys.length} keys, ${indexes.length} indexes, ${foreign.length} foreign keys`);
    for (const c of keys) await client.query(`alter table "${c.table}" add constraint "${c.name}" ${c.def}`);
    for (const i of indexes) await client.query(i.def);
    for (const c of foreign) await client.query(`alter table "${c.table}" add constraint "${c.name}" ${c.def}`);
    log('postgres: vacuum analyze');
    await client.query(`vacuum analyze ${FILLED.join(', ')}`);
    return round1((nowMs() - t0) / 1000);
  } finally {
    await client.end();
  }
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value in COPY's text format: \N for null, bytea as escaped hex, backslash and control characters escaped. */
function copyValue(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'number') return String(v);
  if (Buffer.isBuffer(v)) return `\\\\x${v.toString('hex')}`;
  const text = String(v);
  return /[\\\t\n\r]/.test(text) ? text.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c]!) : text;
}

async function databaseBytes(bench: BenchStore): Promise<number> {
  if (bench.dialect === 'sqlite') {
    const file = bench.sqliteFile as string;
    const wal = `${file}-wal`;
    return fs.statSync(file).size + (fs.existsSync(wal) ? fs.statSync(wal).size : 0);
  }
  const { rows } = await sql<{ n: string }>`
    select coalesce(sum(pg_total_relation_size(c.oid)), 0) as n
      from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = ${bench.schema} and c.relkind = 'r'`.execute(bench.ctx.store.db);
  return Number(rows[0]?.n ?? 0);
}

// ---------------------------------------------------------------- timing, in a child process

interface ChildSpec {
  dialect: Dialect;
  env: Record<string, string>;
  schema: string | undefined;
  method: ReportMethod;
  repetitions: number;
  budgetSeconds: number;
  periods: Periods;
  country: string;
}

interface ChildAnswer {
  firstMs: number;
  samples: number[];
  select1: number[];
  restRss: number;
  maxRss: number;
  restHeap: number;
  maxHeap: number;
  resultBytes: number;
  digests: string[];
}

const SELF = fileURLToPath(import.meta.url);
const MiB = 2 ** 20;

async function measureInChild(
  bench: BenchStore,
  method: ReportMethod,
  periods: Periods,
  options: TransparencyOptions,
): Promise<ReportTiming> {
  const env: Record<string, string> = {
    CUSTOS_DATA_DIR: bench.config.dataDir,
    CUSTOS_MASTER_KEY: (bench.config.masterKey as Buffer).toString('hex'),
    ...(bench.dialect === 'postgres' ? { CUSTOS_DATABASE_URL: BENCH_PG_URL } : {}),
  };
  const spec: ChildSpec = {
    dialect: bench.dialect,
    env,
    schema: bench.schema,
    method,
    repetitions: options.repetitions,
    budgetSeconds: options.budgetSeconds,
    periods,
    country: options.country,
  };
  const answer = await new Promise<ChildAnswer>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', SELF, '--child', JSON.stringify(spec)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    trackChild(child);
    let out = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      out += chunk;
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').at(-1) ?? '';
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last) as ChildAnswer);
      else reject(new Error(`${method} on ${bench.dialect}: the measuring process exited with ${code}: ${out}`));
    });
  });
  if (new Set(answer.digests).size !== 1) {
    throw new Error(`${method} on ${bench.dialect}: the calls answered different figures`);
  }
  const r3 = (v: number) => Math.round(v * 1000) / 1000;
  const medianMs = median(answer.samples);
  const select1 = median(answer.select1);
  return {
    period: describePeriod(method, periods, options.country),
    firstMs: round1(answer.firstMs),
    samples: answer.samples.map(round1),
    medianMs: round1(medianMs),
    p95Ms: round1(percentile(answer.samples, 95)),
    select1: { medianMs: r3(select1), p95Ms: r3(percentile(answer.select1, 95)) },
    ratio: Math.round(medianMs / select1),
    memory: {
      restMiB: round1(answer.restRss / MiB),
      peakRssMiB: round1(Math.max(0, answer.maxRss - answer.restRss) / MiB),
      heapMiB: round1(Math.max(0, answer.maxHeap - answer.restHeap) / MiB),
    },
    resultBytes: answer.resultBytes,
    digest: answer.digests[0]!,
  };
}

/** The covering index migration 20261129T000000 added for the request figures. */
const NEW_INDEXES = ['legal_events_figures'];

/** Times (a) again with the new indexes dropped (a few calls), then rebuilds them from their own definitions. */
async function measureWithoutNewIndexes(
  bench: BenchStore,
  periods: Periods,
  options: TransparencyOptions,
): Promise<TransparencyResult['withoutNewIndexes']> {
  const db = bench.ctx.store.db;
  const { rows } =
    bench.dialect === 'postgres'
      ? await sql<{ name: string; def: string }>`select indexname as name, indexdef as def from pg_indexes
          where schemaname = ${bench.schema} and indexname in (${sql.join(NEW_INDEXES)})`.execute(db)
      : await sql<{ name: string; def: string }>`select name, sql as def from sqlite_master
          where type = 'index' and name in (${sql.join(NEW_INDEXES)})`.execute(db);
  if (rows.length === 0) return null;
  log(`${bench.dialect}: quarter without ${rows.map((r) => r.name).join(', ')}`);
  for (const r of rows) await sql.raw(`drop index "${r.name}"`).execute(db);
  try {
    const quarter = await measureInChild(bench, 'quarter', periods, {
      ...options,
      repetitions: Math.min(options.repetitions, 3),
    });
    log(
      `${bench.dialect}: quarter without the new indexes: first ${quarter.firstMs} ms, median ${quarter.medianMs} ms`,
    );
    return { indexes: rows.map((r) => r.name), quarter };
  } finally {
    for (const r of rows) await sql.raw(r.def).execute(db);
  }
}

function describePeriod(method: ReportMethod, p: Periods, country: string): string {
  const days = (from: number, to: number) => `${isoDay(from)} to ${isoDay(to - 1)}`;
  if (method === 'quarter') return `${p.quarter.label} (${days(p.quarter.from, p.quarter.to)}), all countries`;
  if (method === 'quarterCountry') return `${p.quarter.label}, ${country}`;
  if (method === 'year') return `${days(p.year.from, p.year.to)} (4 quarters), all countries`;
  return `DSA year ${p.dsaYear}`;
}

/** The report a method names, as the routes make it. */
function reportCall(ctx: Context, db: Db, spec: Pick<ChildSpec, 'method' | 'periods' | 'country'>) {
  const p = spec.periods;
  const range = (from: number, to: number, country?: string) =>
    parseReportRange({ from: isoDay(from), to: isoDay(to - 1), ...(country ? { country } : {}) }, p.end);
  const requests = (from: number, to: number, country?: string) => async () =>
    publishFigures(await computeRequestFigures(db, range(from, to, country)), ctx.config.transparencyMinCount);
  switch (spec.method) {
    case 'quarter':
      return requests(p.quarter.from, p.quarter.to);
    case 'quarterCountry':
      return requests(p.quarter.from, p.quarter.to, spec.country);
    case 'year':
      return requests(p.year.from, p.year.to);
    case 'dsaYear':
      // The history ends where the current quarter begins: "now" for the figures, so every call answers the same.
      return () => computeDsaFigures({ ...ctx, store: { ...ctx.store, db } }, p.dsaYear, p.end);
  }
}

/**
 * JSON with every object's keys sorted: the figures' objects keyed by reason or
 * type get their keys in the order the store returned the rows, which differs
 * between the stores without the figures differing.
 */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
}

/**
 * The process's peak RSS. getrusage's maxRSS is no use here: Linux carries the
 * parent's high-water mark into a child across fork and exec, and the parent has
 * just filled the store. The kernel's own mark (VmHWM) is reset by writing 5 to
 * /proc/self/clear_refs, so it covers exactly the calls measured.
 */
function peakRss(): number {
  try {
    const kib = /VmHWM:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) * 1024;
  } catch {}
  return process.resourceUsage().maxRSS * 1024;
}

function resetPeakRss(): void {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5');
  } catch {}
}

async function childMain(spec: ChildSpec): Promise<void> {
  const config = toConfig(spec.env, { logLevel: 'silent' });
  const ctx = await createContext(config, { pgSchema: spec.schema, logger: createLogger('silent') });
  try {
    const db = ctx.store.db;
    const select1 = async () => {
      await sql`select 1`.execute(db);
    };
    for (let i = 0; i < 50; i++) await select1();
    const call = reportCall(ctx, db, spec);
    const rest = process.memoryUsage();
    let maxHeap = rest.heapUsed;
    const sample = () => {
      const h = process.memoryUsage().heapUsed;
      if (h > maxHeap) maxHeap = h;
    };
    const timer = setInterval(sample, 5);
    const digests: string[] = [];
    let resultBytes = 0;
    const timed = async () => {
      const t0 = nowMs();
      const result = await call();
      const ms = nowMs() - t0;
      sample();
      resultBytes = Buffer.byteLength(JSON.stringify(result));
      digests.push(crypto.createHash('sha256').update(canonicalJson(result)).digest('hex'));
      return ms;
    };
    resetPeakRss();
    const firstMs = await timed();
    const samples: number[] = [];
    const base: number[] = [];
    const baseline = async () => {
      for (let k = 0; k < 10; k++) {
        const t0 = nowMs();
        await select1();
        base.push(nowMs() - t0);
      }
    };
    for (let rep = 0; rep < spec.repetitions; rep++) {
      if (rep >= 2 && samples.reduce((a, b) => a + b, 0) > spec.budgetSeconds * 1000) break;
      if (rep % 2 === 0) {
        await baseline();
        samples.push(await timed());
      } else {
        samples.push(await timed());
        await baseline();
      }
    }
    clearInterval(timer);
    const answer: ChildAnswer = {
      firstMs,
      samples,
      select1: base,
      restRss: rest.rss,
      maxRss: peakRss(),
      restHeap: rest.heapUsed,
      maxHeap,
      resultBytes,
      digests,
    };
    process.stdout.write(`${JSON.stringify(answer)}\n`);
  } finally {
    await closeContext(ctx);
  }
}

// ---------------------------------------------------------------- 3. checking the figures

async function checkFigures(
  bench: BenchStore,
  world: World,
  periods: Periods,
  options: TransparencyOptions,
): Promise<TransparencyResult['checked']> {
  const db = bench.ctx.store.db;
  const q = periods.quarter;
  const range = parseReportRange({ from: isoDay(q.from), to: isoDay(q.to - 1) }, periods.end);
  const figures: RequestFigures = await computeRequestFigures(db, range);
  const mismatches: string[] = [];
  let compared = 0;
  const same = (what: string, got: number, want: number) => {
    compared++;
    if (got !== want) mismatches.push(`${what}: ${got}, expected ${want}`);
  };
  const rowOf = (country: string) => figures.rows.find((r) => r.country === country && r.quarter === q.label);

  // Direct counts from the orders' own columns (not the event log the figures read).
  const direct = await directCounts(db, q.from, q.to);
  const countries = new Set([...world.tally.keys(), ...figures.rows.map((r) => r.country), ...direct.keys()]);
  for (const country of countries) {
    const got = rowOf(country);
    const want = world.tally.get(country) ?? emptyTally();
    const counted = direct.get(country);
    const g = (f: (r: NonNullable<typeof got>) => number) => (got ? f(got) : 0);
    const pairs: Array<[string, number, number, number | undefined]> = [
      ['received', g((r) => r.received), want.received, counted?.received],
      ['fulfilled', g((r) => r.fulfilled), want.fulfilled, counted?.fulfilled],
      ['fulfilled both', g((r) => r.fulfilledByData.both), want.fulfilledByData.both, counted?.both],
      [
        'fulfilled ip only',
        g((r) => r.fulfilledByData.ip_addresses),
        want.fulfilledByData.ip_addresses,
        counted?.ipOnly,
      ],
      [
        'fulfilled phone only',
        g((r) => r.fulfilledByData.phone_number),
        want.fulfilledByData.phone_number,
        counted?.phoneOnly,
      ],
      ['rejected', g((r) => r.rejected), want.rejected, counted?.rejected],
      ['withdrawn', g((r) => r.withdrawn), want.withdrawn, counted?.withdrawn],
      ['preserved', g((r) => r.preserved), want.preserved, counted?.preserved],
      ['human-rights refusals', g((r) => r.refusedHumanRights), want.refusedHumanRights, counted?.humanRights],
      ['accounts affected', g((r) => r.accountsAffected), want.accounts.size, counted?.accounts],
    ];
    for (const type of new Set([...Object.keys(want.receivedByType), ...Object.keys(got?.receivedByType ?? {})])) {
      pairs.push([
        `received ${type}`,
        got?.receivedByType[type] ?? 0,
        want.receivedByType[type] ?? 0,
        counted?.byType[type] ?? 0,
      ]);
    }
    for (const code of new Set([...Object.keys(want.rejectedByReason), ...Object.keys(got?.rejectedByReason ?? {})])) {
      pairs.push([
        `rejected ${code}`,
        got?.rejectedByReason[code] ?? 0,
        want.rejectedByReason[code] ?? 0,
        counted?.byReason[code] ?? 0,
      ]);
    }
    for (const [what, fig, gen, sqlCount] of pairs) {
      same(`${country} ${what} (figures vs generator)`, fig, gen);
      if (sqlCount !== undefined || gen !== 0) same(`${country} ${what} (figures vs direct count)`, fig, sqlCount ?? 0);
    }
  }

  // The DSA totals against the generator's.
  const dsa: DsaFigures = await computeDsaFigures(bench.ctx, periods.dsaYear, periods.end);
  const dsaMismatches: string[] = [];
  let dsaCompared = 0;
  const t = world.dsa;
  const dsaPairs: Array<[string, number | string, number]> = [
    ['orders received (member states)', dsa.ordersToProvideInformation.received, t.ordersInScope],
    ['orders from outside the scope', dsa.ordersToProvideInformation.receivedFromOutsideScope, t.ordersOutsideScope],
    ['notices received', dsa.notices.received, t.noticesReceived],
    ['notices decided', dsa.notices.decided, t.noticesDecided],
    ['notices action taken', dsa.notices.actionTaken, t.noticesActionTaken],
    ['own-initiative actions', dsa.ownInitiativeActions.total, t.ownInitiative],
    ['own-initiative automated', dsa.ownInitiativeActions.automated, t.ownInitiativeAutomated],
    ['appeals received', dsa.appeals.received, t.appealsReceived],
    ['appeals upheld', dsa.appeals.upheld, t.appealsUpheld],
    ['appeals overturned', dsa.appeals.overturned, t.appealsOverturned],
    ['appeals pending', dsa.appeals.pending, t.appealsOpen],
    ['automated removals', dsa.automatedRemovals.total, t.automatedRemovals],
    ['automated removals appealed', dsa.automatedRemovals.appealed, t.automatedRemovalsAppealed],
    ['automated removals overturned', dsa.automatedRemovals.overturned, t.automatedRemovalsOverturned],
  ];
  // A total with a part below the minimum published count is a range (the sum of its
  // published parts, dsa-figures.ts): it must hold the generator's count.
  const holds = (got: number | string, want: number) => {
    if (typeof got === 'number') return got === want;
    const [lo, hi] = got.split('–').map(Number);
    return lo! <= want && want <= hi! && lo! < hi!;
  };
  for (const [what, got, want] of dsaPairs) {
    dsaCompared++;
    if (!holds(got, want)) dsaMismatches.push(`${what}: ${got}, expected ${want}`);
  }
  void options;
  return { quarter: q.label, compared, mismatches, dsaCompared, dsaMismatches };
}

interface DirectCount {
  received: number;
  byType: Record<string, number>;
  fulfilled: number;
  both: number;
  ipOnly: number;
  phoneOnly: number;
  rejected: number;
  byReason: Record<string, number>;
  withdrawn: number;
  preserved: number;
  humanRights: number;
  accounts: number;
}

/**
 * The quarter's figures counted from the orders' own columns: received_at,
 * disclosed_at, decided_at of rejections (the checks' at receipt, a reviewer's
 * later), the withdrawal's updated_at (nothing changes a withdrawn order after),
 * preserved_until with decided_at, and the targets and failed checks of those orders.
 */
async function directCounts(db: Db, from: number, to: number): Promise<Map<string, DirectCount>> {
  const out = new Map<string, DirectCount>();
  const get = (country: string) => {
    let c = out.get(country);
    if (!c) {
      c = {
        received: 0,
        byType: {},
        fulfilled: 0,
        both: 0,
        ipOnly: 0,
        phoneOnly: 0,
        rejected: 0,
        byReason: {},
        withdrawn: 0,
        preserved: 0,
        humanRights: 0,
        accounts: 0,
      };
      out.set(country, c);
    }
    return c;
  };
  const rows = <T>(query: RawBuilder<T>) => query.execute(db).then((r) => r.rows);
  for (const r of await rows(sql<{ country: string; type: string; n: string }>`
    select a.country, r.type, count(*) as n from legal_requests r join authorities a on a.id = r.authority_id
     where r.received_at >= ${from} and r.received_at < ${to} group by a.country, r.type`)) {
    const c = get(r.country);
    c.received += Number(r.n);
    c.byType[r.type] = Number(r.n);
  }
  for (const r of await rows(sql<{ country: string; data: string; n: string }>`
    select a.country, r.data_categories as data, count(*) as n from legal_requests r join authorities a on a.id = r.authority_id
     where r.disclosed_at >= ${from} and r.disclosed_at < ${to} group by a.country, r.data_categories`)) {
    const c = get(r.country);
    const data = JSON.parse(r.data) as string[];
    c.fulfilled += Number(r.n);
    if (data.length === 2) c.both += Number(r.n);
    else if (data[0] === 'ip_addresses') c.ipOnly += Number(r.n);
    else c.phoneOnly += Number(r.n);
  }
  for (const r of await rows(sql<{ country: string; by_checks: string; n: string }>`
    select a.country, case when r.decided_at = r.received_at then 1 else 0 end as by_checks, count(*) as n
      from legal_requests r join authorities a on a.id = r.authority_id
     where r.status = 'rejected' and r.decided_at >= ${from} and r.decided_at < ${to}
     group by a.country, case when r.decided_at = r.received_at then 1 else 0 end`)) {
    const c = get(r.country);
    c.rejected += Number(r.n);
    if (Number(r.by_checks) === 0) c.byReason[REVIEWER_REJECTED] = Number(r.n);
  }
  for (const r of await rows(sql<{ country: string; code: string; n: string }>`
    select a.country, k.code, count(distinct r.id) as n
      from legal_requests r join authorities a on a.id = r.authority_id join legal_checks k on k.request_id = r.id
     where r.status = 'rejected' and r.decided_at = r.received_at and r.received_at >= ${from} and r.received_at < ${to}
       and k.result = 'fail'
     group by a.country, k.code`)) {
    get(r.country).byReason[r.code] = Number(r.n);
  }
  for (const r of await rows(sql<{ country: string; n: string }>`
    select a.country, count(*) as n
      from legal_requests r join authorities a on a.id = r.authority_id
     where r.status = 'rejected' and r.decided_at = r.received_at and r.received_at >= ${from} and r.received_at < ${to}
       and exists (select 1 from legal_checks k where k.request_id = r.id and k.result = 'fail'
                   and k.code in (${sql.join([...HUMAN_RIGHTS_REASONS])}))
     group by a.country`)) {
    get(r.country).humanRights = Number(r.n);
  }
  for (const r of await rows(sql<{ country: string; n: string }>`
    select a.country, count(*) as n from legal_requests r join authorities a on a.id = r.authority_id
     where r.status = 'withdrawn' and r.updated_at >= ${from} and r.updated_at < ${to} group by a.country`)) {
    get(r.country).withdrawn = Number(r.n);
  }
  for (const r of await rows(sql<{ country: string; n: string }>`
    select a.country, count(*) as n from legal_requests r join authorities a on a.id = r.authority_id
     where r.preserved_until is not null and r.decided_at >= ${from} and r.decided_at < ${to} group by a.country`)) {
    get(r.country).preserved = Number(r.n);
  }
  for (const r of await rows(sql<{ country: string; n: string }>`
    select a.country, count(distinct t.account_id) as n
      from legal_requests r join authorities a on a.id = r.authority_id join legal_targets t on t.request_id = r.id
     where r.disclosed_at >= ${from} and r.disclosed_at < ${to} and t.status = 'included' group by a.country`)) {
    get(r.country).accounts = Number(r.n);
  }
  return out;
}

// ---------------------------------------------------------------- 4. the queries one by one

/** Records every query a call runs, compiled, without changing it. */
class QueryRecorder implements KyselyPlugin {
  readonly nodes: RootOperationNode[] = [];
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    this.nodes.push(args.node);
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

/**
 * Runs (a) and (d) once with every query recorded, then each query alone, timed
 * (best of two for (a), once for (d), whose queries take seconds), and answers the
 * three slowest of each with their plans, printed in full on stderr: PostgreSQL's
 * EXPLAIN (ANALYZE, BUFFERS) for (a), plain EXPLAIN for (d); SQLite's EXPLAIN QUERY PLAN.
 */
async function profileQueries(bench: BenchStore, periods: Periods): Promise<SlowQuery[]> {
  const out: SlowQuery[] = [];
  for (const report of ['quarter', 'dsaYear'] as const) {
    const recorder = new QueryRecorder();
    const db = bench.ctx.store.db.withPlugin(recorder);
    await reportCall(bench.ctx, db, { method: report, periods, country: '' })();
    const executor = bench.ctx.store.db.getExecutor();
    const compiled = recorder.nodes.map((node) => executor.compileQuery(node, { queryId: 'profile' } as never));
    const timed: Array<{ q: CompiledQuery; ms: number }> = [];
    for (const q of compiled) {
      let best = Number.POSITIVE_INFINITY;
      for (let k = 0; k < (report === 'quarter' ? 2 : 1); k++) {
        const t0 = nowMs();
        await bench.ctx.store.db.executeQuery(CompiledQuery.raw(q.sql, [...q.parameters]));
        best = Math.min(best, nowMs() - t0);
      }
      timed.push({ q, ms: best });
    }
    timed.sort((a, b) => b.ms - a.ms);
    const total = timed.reduce((s, x) => s + x.ms, 0);
    log(`${bench.dialect}: ${report}: ${timed.length} queries, ${round1(total)} ms one after the other`);
    for (const { q, ms } of timed.slice(0, 3)) {
      const prefix =
        bench.dialect === 'sqlite'
          ? 'explain query plan '
          : report === 'quarter'
            ? 'explain (analyze, buffers) '
            : 'explain ';
      const plan = await bench.ctx.store.db.executeQuery(CompiledQuery.raw(prefix + q.sql, [...q.parameters]));
      const lines = (plan.rows as Array<Record<string, unknown>>).map((r) =>
        String(r['QUERY PLAN'] ?? `${r.id}/${r.parent} ${r.detail}`),
      );
      process.stderr.write(`\n--- ${bench.dialect} ${report}: ${round1(ms)} ms\n${q.sql}\n${lines.join('\n')}\n`);
      out.push({ report, query: summarise(q.sql), ms: round1(ms), plan: planSummary(lines) });
    }
  }
  return out;
}

function summarise(text: string): string {
  const s = text.replace(/\s+/g, ' ').replace(/"/g, '');
  const from = s.indexOf(' from ');
  const head = s.slice(0, 60);
  return from > 60 ? `${head}… ${s.slice(from, from + 80)}…` : `${s.slice(0, 140)}…`;
}

/** The plan's node names, without costs: what the store chose to do. */
function planSummary(lines: string[]): string {
  return lines
    .filter(
      (l) =>
        !/^\s*(Planning|Execution|Buffers|Buckets|Output|Sort Key|Group Key|Presorted Key|Hash Cond|Merge Cond|Index Cond|Filter|Rows Removed|Join Filter|Recheck|Heap Blocks|Heap Fetches|Worker|Sort Method|Full-sort|Batches|Memory|I\/O|Cache|JIT|Functions|Options|Timing)/.test(
          l.replace(/^\s*->\s*/, ''),
        ),
    )
    .map((l) =>
      l
        .replace(/\s*\(cost=[^)]*\)/, '')
        .replace(/\s*\(actual[^)]*\)/, '')
        .replace(/\s*->\s*/, ' > ')
        .trim(),
    )
    .filter(Boolean)
    .slice(0, 14)
    .join('; ');
}

// `node --import tsx bench/transparency.ts --child <spec>`: one report, timed in a process of its own.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href && process.argv[2] === '--child') {
  childMain(JSON.parse(process.argv[3] ?? '{}') as ChildSpec).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exit(1);
    },
  );
}
