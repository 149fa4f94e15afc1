import { type Static, Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { CATEGORY_CODES, type CategoryCode, type Policy, PolicyError } from '../policy/policy.js';

const Threshold = Type.Object(
  {
    /** Score at or above which content goes to a human. */
    review: Type.Number({ minimum: 0, maximum: 1.01 }),
    /** Score at or above which content is removed automatically (above 1: never). */
    remove: Type.Number({ minimum: 0, maximum: 1.01 }),
  },
  { additionalProperties: false },
);

const CategoryThresholds = Type.Object(
  {
    review: Type.Optional(Type.Number({ minimum: 0, maximum: 1.01 })),
    remove: Type.Optional(Type.Number({ minimum: 0, maximum: 1.01 })),
    /** Overrides for public channels and for private chats. */
    public: Type.Optional(Type.Partial(Threshold)),
    private: Type.Optional(Type.Partial(Threshold)),
    /** Ground of an automated removal in this category. */
    ground: Type.Optional(Type.Union([Type.Literal('illegal'), Type.Literal('terms')])),
  },
  { additionalProperties: false },
);

export const ScanningSection = Type.Object(
  {
    thresholds: Type.Object(
      {
        default: Threshold,
        categories: Type.Optional(Type.Record(Type.String(), CategoryThresholds)),
      },
      { additionalProperties: false },
    ),
    /** Signals of these categories or scanners are recorded and measured but take no action. */
    shadow: Type.Optional(
      Type.Object(
        {
          categories: Type.Optional(Type.Array(Type.String())),
          scanners: Type.Optional(Type.Array(Type.String())),
        },
        { additionalProperties: false },
      ),
    ),
    /** Longest text scanned; longer texts are cut there (bounded work per message). */
    maxTextChars: Type.Optional(Type.Integer({ minimum: 256, maximum: 1_048_576 })),
    /** Rule lists (see scanning/rules); validated by the rules compiler. */
    rules: Type.Optional(Type.Unknown()),
    allow: Type.Optional(Type.Unknown()),
  },
  { additionalProperties: false },
);

export type ScanningSectionDoc = Static<typeof ScanningSection>;

export interface ScanningPolicy {
  readonly maxTextChars: number;
  threshold(category: CategoryCode, isPublic: boolean): { review: number; remove: number };
  ground(category: CategoryCode): 'illegal' | 'terms';
  isShadow(category: CategoryCode | undefined, scanner: string): boolean;
  readonly section: ScanningSectionDoc;
}

const ILLEGAL_BY_DEFAULT = new Set<CategoryCode>([
  'csam',
  'terrorism',
  'violent_threat',
  'ncii',
  'illegal_drugs',
  'weapons',
  'scam_fraud',
  'other_illegal',
]);

const DEFAULT_SECTION: ScanningSectionDoc = {
  thresholds: { default: { review: 0.6, remove: 1.01 } },
};

const validate = new Ajv({ allErrors: true, strict: false }).compile(ScanningSection);

/** Reads the policy's `scanning` section (defaults when absent: review at 0.6, never remove automatically). */
export function scanningPolicy(policy: Policy): ScanningPolicy {
  const raw = policy.document.scanning ?? DEFAULT_SECTION;
  if (!validate(raw)) {
    const first = validate.errors?.[0];
    throw new PolicyError(policy.file, `scanning${first?.instancePath ?? ''} ${first?.message ?? 'is invalid'}`);
  }
  const section = raw as ScanningSectionDoc;
  const perCategory = section.thresholds.categories ?? {};
  for (const code of Object.keys(perCategory)) {
    if (!(CATEGORY_CODES as readonly string[]).includes(code)) {
      throw new PolicyError(policy.file, `scanning.thresholds.categories.${code}: unknown category`);
    }
  }
  for (const code of section.shadow?.categories ?? []) {
    if (!(CATEGORY_CODES as readonly string[]).includes(code)) {
      throw new PolicyError(policy.file, `scanning.shadow.categories: unknown category ${code}`);
    }
  }
  const shadowCategories = new Set(section.shadow?.categories ?? []);
  const shadowScanners = new Set(section.shadow?.scanners ?? []);
  return {
    section,
    maxTextChars: section.maxTextChars ?? 65_536,
    threshold(category, isPublic) {
      const c = perCategory[category];
      const surface = isPublic ? c?.public : c?.private;
      return {
        review: surface?.review ?? c?.review ?? section.thresholds.default.review,
        remove: surface?.remove ?? c?.remove ?? section.thresholds.default.remove,
      };
    },
    ground: (category) => perCategory[category]?.ground ?? (ILLEGAL_BY_DEFAULT.has(category) ? 'illegal' : 'terms'),
    isShadow: (category, scanner) =>
      shadowScanners.has(scanner) || (category !== undefined && shadowCategories.has(category)),
  };
}
