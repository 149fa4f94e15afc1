import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import YAML from 'yaml';

/** The category codes of SPEC.md; the policy file must define each of them. */
export const CATEGORY_CODES = [
  'csam',
  'terrorism',
  'violent_threat',
  'hate_speech',
  'illegal_drugs',
  'weapons',
  'scam_fraud',
  'spam',
  'ncii',
  'sexual_solicitation',
  'self_harm',
  'intellectual_property',
  'other_illegal',
] as const;
export type CategoryCode = (typeof CATEGORY_CODES)[number];

/** DSA Transparency Database categories (2025 revision) a policy may map to. */
export const DSA_CATEGORIES = [
  'STATEMENT_CATEGORY_ANIMAL_WELFARE',
  'STATEMENT_CATEGORY_CONSUMER_INFORMATION',
  'STATEMENT_CATEGORY_CYBER_VIOLENCE',
  'STATEMENT_CATEGORY_CYBER_VIOLENCE_AGAINST_WOMEN',
  'STATEMENT_CATEGORY_DATA_PROTECTION_AND_PRIVACY_VIOLATIONS',
  'STATEMENT_CATEGORY_ILLEGAL_OR_HARMFUL_SPEECH',
  'STATEMENT_CATEGORY_INTELLECTUAL_PROPERTY_INFRINGEMENTS',
  'STATEMENT_CATEGORY_NEGATIVE_EFFECTS_ON_CIVIC_DISCOURSE_OR_ELECTIONS',
  'STATEMENT_CATEGORY_NOT_SPECIFIED_NOTICE',
  'STATEMENT_CATEGORY_OTHER_VIOLATION_TC',
  'STATEMENT_CATEGORY_PROTECTION_OF_MINORS',
  'STATEMENT_CATEGORY_RISK_FOR_PUBLIC_SECURITY',
  'STATEMENT_CATEGORY_SCAMS_AND_FRAUD',
  'STATEMENT_CATEGORY_SELF_HARM',
  'STATEMENT_CATEGORY_UNSAFE_AND_PROHIBITED_PRODUCTS',
  'STATEMENT_CATEGORY_VIOLENCE',
] as const;

const Category = Type.Object(
  {
    label: Type.String({ minLength: 1 }),
    dsa: Type.Union(DSA_CATEGORIES.map((c) => Type.Literal(c))),
    severity: Type.Integer({ minimum: 1, maximum: 10 }),
    queue: Type.Optional(Type.String({ pattern: '^[a-z_]+$' })),
  },
  { additionalProperties: false },
);

const PolicySchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    categories: Type.Record(Type.String({ pattern: '^[a-z_]+$' }), Category),
    moderation: Type.Object(
      {
        claimMinutes: Type.Integer({ minimum: 1, maximum: 1440 }),
        appealWindowDays: Type.Integer({ minimum: 1, maximum: 3650 }),
        strikes: Type.Object(
          {
            expiryDays: Type.Integer({ minimum: 1 }),
            proposeSuspensionAt: Type.Integer({ minimum: 1 }),
            proposeBanAt: Type.Integer({ minimum: 1 }),
          },
          { additionalProperties: false },
        ),
        reports: Type.Object(
          {
            publicPerAddressPerHour: Type.Integer({ minimum: 1 }),
            publicPerSubjectPerHour: Type.Integer({ minimum: 1 }),
            trustedFlaggerWeight: Type.Number({ minimum: 1 }),
            minimumReporterWeight: Type.Number({ exclusiveMinimum: 0, maximum: 1 }),
          },
          { additionalProperties: false },
        ),
        territorialScope: Type.Array(Type.String({ pattern: '^[A-Z]{2}$' }), { minItems: 1 }),
      },
      { additionalProperties: false },
    ),
    // The scanning section is validated by its own module; the disclosure policy is a file of its own
    // (policy/disclosure/, CUSTOS_DISCLOSURE_POLICY_FILE).
    scanning: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export type PolicyDocument = Static<typeof PolicySchema>;
export type CategoryDefinition = Static<typeof Category>;

export interface Policy {
  /** `sha256:<hex>` of the file's bytes. */
  readonly version: string;
  readonly name: string;
  readonly file: string;
  /** The file's text, for tools that point at a line of it (the rules compiler). */
  readonly source: string;
  readonly document: PolicyDocument;
  category(code: string): CategoryDefinition | undefined;
  isCategory(code: string): code is CategoryCode;
}

export class PolicyError extends Error {
  constructor(file: string, problem: string) {
    super(`policy ${file}: ${problem}`);
    this.name = 'PolicyError';
  }
}

const here = path.dirname(fileURLToPath(import.meta.url));
/** The shipped default policy. */
export const DEFAULT_POLICY_FILE = path.resolve(here, '../../policy/current.yaml');

const validate = new Ajv({ allErrors: true, strict: false }).compile(PolicySchema);

/** Reads, validates and freezes a policy file (YAML or JSON). */
export function loadPolicy(file: string = DEFAULT_POLICY_FILE): Policy {
  let bytes: Buffer;
  try {
    bytes = fs.readFileSync(file);
  } catch (error) {
    throw new PolicyError(file, `cannot be read (${(error as Error).message})`);
  }
  const source = bytes.toString('utf8');
  let parsed: unknown;
  try {
    parsed = YAML.parse(source);
  } catch (error) {
    throw new PolicyError(file, `is not valid YAML/JSON (${(error as Error).message})`);
  }
  if (!validate(parsed)) {
    const first = validate.errors?.[0];
    throw new PolicyError(file, `${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}`);
  }
  const document = parsed as PolicyDocument;
  const missing = CATEGORY_CODES.filter((c) => !document.categories[c]);
  if (missing.length > 0) throw new PolicyError(file, `categories lack ${missing.join(', ')}`);
  const s = document.moderation.strikes;
  if (s.proposeBanAt < s.proposeSuspensionAt) {
    throw new PolicyError(file, 'moderation.strikes.proposeBanAt must not be below proposeSuspensionAt');
  }
  const version = `sha256:${crypto.createHash('sha256').update(bytes).digest('hex')}`;
  return Object.freeze({
    version,
    name: document.name,
    file,
    source,
    document,
    category: (code: string) => (Object.hasOwn(document.categories, code) ? document.categories[code] : undefined),
    isCategory: (code: string): code is CategoryCode => (CATEGORY_CODES as readonly string[]).includes(code),
  });
}
