import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import YAML from 'yaml';
import { isCountryCode } from '../geo/countries.js';
import { CATEGORY_CODES, type CategoryCode } from '../policy/policy.js';
import { AUTHORITY_KINDS } from '../authorities/service.js';

/** The only personal data a legal order can ever obtain. Nothing else exists on this path. */
export const DISCLOSABLE_DATA = ['ip_addresses', 'phone_number'] as const;
export type DisclosableData = (typeof DISCLOSABLE_DATA)[number];

export const ORDER_TYPES = ['production', 'preservation', 'emergency'] as const;
export type OrderType = (typeof ORDER_TYPES)[number];

const Code = Type.String({ pattern: '^[a-z_]+$' });
const Country = Type.String({ pattern: '^[A-Z]{2}$' });
const Deadline = Type.Object(
  {
    hours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 365 }),
    warnHours: Type.Number({ minimum: 0 }),
  },
  { additionalProperties: false },
);

const DisclosurePolicySchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    authorityKinds: Type.Array(Type.Union(AUTHORITY_KINDS.map((k) => Type.Literal(k))), { minItems: 1 }),
    countries: Type.Object(
      { refused: Type.Array(Country), extraReview: Type.Array(Country) },
      { additionalProperties: false },
    ),
    offences: Type.Object(
      {
        inScope: Type.Record(Code, Type.Array(Code, { minItems: 1 })),
        refused: Type.Array(Code),
      },
      { additionalProperties: false },
    ),
    outsideJurisdiction: Type.Union([Type.Literal('refuse'), Type.Literal('extra_review')]),
    maxPeriodDays: Type.Integer({ minimum: 1, maximum: 3650 }),
    maxTargets: Type.Integer({ minimum: 1, maximum: 1000 }),
    deadlines: Type.Object(
      { production: Deadline, preservation: Deadline, emergency: Deadline },
      { additionalProperties: false },
    ),
    preservation: Type.Object(
      {
        days: Type.Integer({ minimum: 1, maximum: 365 }),
        extensionDays: Type.Integer({ minimum: 0, maximum: 365 }),
      },
      { additionalProperties: false },
    ),
    notifyUsers: Type.Boolean(),
  },
  { additionalProperties: false },
);
type DisclosurePolicyDocument = Static<typeof DisclosurePolicySchema>;

/** A loaded, validated disclosure policy. Its version is the SHA-256 of the file's bytes. */
export interface DisclosurePolicy {
  readonly version: string;
  readonly name: string;
  readonly file: string;
  readonly authorityKinds: readonly string[];
  readonly refusedCountries: ReadonlySet<string>;
  readonly extraReviewCountries: ReadonlySet<string>;
  /** Offence category → violation categories that count as related. */
  readonly inScope: ReadonlyMap<string, readonly CategoryCode[]>;
  readonly refusedOffences: ReadonlySet<string>;
  readonly outsideJurisdiction: 'refuse' | 'extra_review';
  readonly maxPeriodDays: number;
  readonly maxTargets: number;
  readonly deadlines: Readonly<Record<OrderType, { hoursMs: number; warnMs: number }>>;
  readonly preservationDays: number;
  readonly preservationExtensionDays: number;
  readonly notifyUsers: boolean;
  /** True when `code` may name an offence at all (in scope, refused, or any taxonomy code). */
  isOffenceCode(code: string): boolean;
}

export class DisclosurePolicyError extends Error {
  constructor(file: string, problem: string) {
    super(`disclosure policy ${file}: ${problem}`);
    this.name = 'DisclosurePolicyError';
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
export const DISCLOSURE_POLICY_DIR = path.resolve(here, '../../policy/disclosure');
/** The shipped default: disclose for any offence with a related confirmed violation. */
export const DEFAULT_DISCLOSURE_POLICY_FILE = path.join(DISCLOSURE_POLICY_DIR, 'current.yaml');

const validate = new Ajv({ allErrors: true, strict: false }).compile(DisclosurePolicySchema);
const HOUR = 3_600_000;

/** Reads and validates a disclosure policy file (YAML or JSON); any problem names the file. */
export function loadDisclosurePolicy(file: string = DEFAULT_DISCLOSURE_POLICY_FILE): DisclosurePolicy {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new DisclosurePolicyError(file, `cannot be read (${(error as Error).message})`);
  }
  let parsed: unknown;
  try {
    parsed = YAML.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new DisclosurePolicyError(file, `is not valid YAML/JSON (${(error as Error).message})`);
  }
  if (!validate(parsed)) {
    const first = validate.errors?.[0];
    throw new DisclosurePolicyError(file, `${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`);
  }
  const doc = parsed as DisclosurePolicyDocument;
  const taxonomy = new Set<string>(CATEGORY_CODES);
  for (const [offence, related] of Object.entries(doc.offences.inScope)) {
    if (!taxonomy.has(offence)) {
      throw new DisclosurePolicyError(file, `offences.inScope: ${offence} is not a category of the taxonomy`);
    }
    const unknown = related.filter((c) => !taxonomy.has(c));
    if (unknown.length > 0) {
      throw new DisclosurePolicyError(file, `offences.inScope.${offence}: unknown violation category ${unknown[0]}`);
    }
  }
  for (const refused of doc.offences.refused) {
    if (Object.hasOwn(doc.offences.inScope, refused)) {
      throw new DisclosurePolicyError(file, `offences: ${refused} is both in scope and refused`);
    }
  }
  for (const list of [doc.countries.refused, doc.countries.extraReview]) {
    const bad = list.find((c) => !isCountryCode(c));
    if (bad) throw new DisclosurePolicyError(file, `countries: ${bad} is not an ISO 3166-1 country code`);
  }
  const deadline = (d: { hours: number; warnHours: number }) => ({
    hoursMs: d.hours * HOUR,
    warnMs: d.warnHours * HOUR,
  });
  const refusedOffences = new Set(doc.offences.refused);
  return Object.freeze({
    version: `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`,
    name: doc.name,
    file,
    authorityKinds: doc.authorityKinds,
    refusedCountries: new Set(doc.countries.refused),
    extraReviewCountries: new Set(doc.countries.extraReview),
    inScope: new Map(Object.entries(doc.offences.inScope) as [string, CategoryCode[]][]),
    refusedOffences,
    outsideJurisdiction: doc.outsideJurisdiction,
    maxPeriodDays: doc.maxPeriodDays,
    maxTargets: doc.maxTargets,
    deadlines: {
      production: deadline(doc.deadlines.production),
      preservation: deadline(doc.deadlines.preservation),
      emergency: deadline(doc.deadlines.emergency),
    },
    preservationDays: doc.preservation.days,
    preservationExtensionDays: doc.preservation.extensionDays,
    notifyUsers: doc.notifyUsers,
    isOffenceCode: (code: string) => taxonomy.has(code) || refusedOffences.has(code),
  });
}
