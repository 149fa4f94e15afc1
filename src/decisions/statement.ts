import { scrubPersonalData } from '../logging.js';
import type { Policy } from '../policy/policy.js';

/**
 * Statements of reasons in the shape of the EU DSA Transparency Database
 * submission API (field names and enumeration values are the database's own).
 * A statement never names the reporter and never carries personal data: the
 * account and content appear only through the platform's unique id (`puid`).
 */
export interface DsaStatement {
  decision_visibility?: string[];
  decision_visibility_other?: string;
  decision_monetary?: string;
  decision_provision?: string;
  decision_account?: string;
  account_type?: string;
  decision_ground: 'DECISION_GROUND_ILLEGAL_CONTENT' | 'DECISION_GROUND_INCOMPATIBLE_CONTENT';
  illegal_content_legal_ground?: string;
  illegal_content_explanation?: string;
  incompatible_content_ground?: string;
  incompatible_content_explanation?: string;
  incompatible_content_illegal?: 'Yes' | 'No';
  category: string;
  content_type: string[];
  content_type_other?: string;
  content_language?: string;
  content_date: string;
  application_date: string;
  end_date_visibility_restriction?: string;
  end_date_account_restriction?: string;
  decision_facts: string;
  source_type: 'SOURCE_ARTICLE_16' | 'SOURCE_TRUSTED_FLAGGER' | 'SOURCE_TYPE_OTHER_NOTIFICATION' | 'SOURCE_VOLUNTARY';
  automated_detection: 'Yes' | 'No';
  automated_decision: 'AUTOMATED_DECISION_FULLY' | 'AUTOMATED_DECISION_PARTIALLY' | 'AUTOMATED_DECISION_NOT_AUTOMATED';
  territorial_scope: string[];
  puid: string;
}

export const ACTION_TYPES = [
  'remove_content',
  'restrict_content',
  'warn',
  'suspend_account',
  'ban_account',
  'dismiss',
] as const;
export type ActionType = (typeof ACTION_TYPES)[number];

export interface StatementInput {
  decisionId: string;
  actions: Array<{ type: ActionType; until?: string }>;
  category: string;
  ground: 'illegal' | 'terms';
  explanation: string;
  legalGround?: string;
  subjectType: 'content' | 'account';
  contentKind: 'text' | 'image' | null;
  contentLanguage: string | null;
  /** When the content was posted, or when the account was created / first seen. */
  contentDate: number;
  decidedAt: number;
  /** Sources of the reports that led to the case; empty for own-initiative cases. */
  reportSources: string[];
  automatedDetection: boolean;
  automation: 'none' | 'partial' | 'full';
}

const FACTS_LIMIT = 5000;
/** The database's limit for illegal_content_explanation and incompatible_content_explanation. */
const EXPLANATION_LIMIT = 2000;

const day = (t: number) => new Date(t).toISOString().slice(0, 10);

/** Builds the statement for a restricting decision; null for a dismissal (nothing was restricted). */
export function buildStatement(policy: Policy, input: StatementInput): DsaStatement | null {
  const types = new Set(input.actions.map((a) => a.type));
  if (types.has('dismiss')) return null;
  const category = policy.category(input.category);
  if (!category) throw new Error(`unknown category ${input.category}`);
  const visibility: string[] = [];
  if (types.has('remove_content')) visibility.push('DECISION_VISIBILITY_CONTENT_REMOVED');
  if (types.has('restrict_content')) visibility.push('DECISION_VISIBILITY_CONTENT_LABELLED');
  if (types.has('warn') && visibility.length === 0 && !types.has('suspend_account') && !types.has('ban_account')) {
    visibility.push('DECISION_VISIBILITY_OTHER');
  }
  const statement: DsaStatement = {
    decision_ground:
      input.ground === 'illegal' ? 'DECISION_GROUND_ILLEGAL_CONTENT' : 'DECISION_GROUND_INCOMPATIBLE_CONTENT',
    category: category.dsa,
    content_type: [
      input.contentKind === 'image'
        ? 'CONTENT_TYPE_IMAGE'
        : input.contentKind === 'text'
          ? 'CONTENT_TYPE_TEXT'
          : 'CONTENT_TYPE_OTHER',
    ],
    content_date: day(input.contentDate),
    application_date: day(input.decidedAt),
    decision_facts: truncate(input.explanation, FACTS_LIMIT),
    source_type: sourceType(input.reportSources),
    automated_detection: input.automatedDetection ? 'Yes' : 'No',
    automated_decision:
      input.automation === 'full'
        ? 'AUTOMATED_DECISION_FULLY'
        : input.automation === 'partial'
          ? 'AUTOMATED_DECISION_PARTIALLY'
          : 'AUTOMATED_DECISION_NOT_AUTOMATED',
    territorial_scope: [...policy.document.moderation.territorialScope].sort(),
    puid: input.decisionId,
  };
  if (visibility.length > 0) statement.decision_visibility = visibility;
  // CONTENT_TYPE_OTHER requires content_type_other: a decision on an account concerns no single item.
  if (statement.content_type.includes('CONTENT_TYPE_OTHER')) statement.content_type_other = 'Account';
  if (types.has('warn') && visibility.includes('DECISION_VISIBILITY_OTHER')) {
    statement.decision_visibility_other = 'Formal warning to the account';
  }
  const suspend = input.actions.find((a) => a.type === 'suspend_account');
  if (types.has('ban_account')) {
    statement.decision_account = 'DECISION_ACCOUNT_TERMINATED';
    statement.decision_provision = 'DECISION_PROVISION_TOTAL_TERMINATION';
  } else if (suspend) {
    statement.decision_account = 'DECISION_ACCOUNT_SUSPENDED';
    statement.decision_provision = 'DECISION_PROVISION_TOTAL_SUSPENSION';
    if (suspend.until) statement.end_date_account_restriction = day(Date.parse(suspend.until));
  }
  statement.account_type = 'ACCOUNT_TYPE_PRIVATE';
  if (input.contentLanguage && /^[a-z]{2}$/i.test(input.contentLanguage)) {
    statement.content_language = input.contentLanguage.toUpperCase();
  }
  if (input.ground === 'illegal') {
    statement.illegal_content_legal_ground = input.legalGround ?? `Illegal content: ${category.label}`;
    statement.illegal_content_explanation = truncate(input.explanation, EXPLANATION_LIMIT);
  } else {
    statement.incompatible_content_ground = `Terms of service: ${category.label}`;
    statement.incompatible_content_explanation = truncate(input.explanation, EXPLANATION_LIMIT);
    statement.incompatible_content_illegal = 'No';
  }
  return statement;
}

function sourceType(sources: string[]): DsaStatement['source_type'] {
  if (sources.includes('trusted_flagger')) return 'SOURCE_TRUSTED_FLAGGER';
  if (sources.includes('public') || sources.includes('platform')) return 'SOURCE_ARTICLE_16';
  return 'SOURCE_VOLUNTARY';
}

/** E-mail addresses, which a moderator may quote in an explanation; a statement is published. */
const EMAIL = /[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g;

/**
 * Fits free text (the moderator's explanation) to a field, with phone numbers, IP and
 * e-mail addresses written out: statements are published (Transparency Database), so
 * personal data a moderator quoted must not travel with them.
 */
function truncate(text: string, limit: number): string {
  const clean = scrubPersonalData(text).replace(EMAIL, '[e-mail]');
  return clean.length <= limit ? clean : `${clean.slice(0, limit - 1)}…`;
}
