/**
 * The words behind the API's codes. The lists mirror the server's own
 * (src/policy/policy.ts, src/decisions/statement.ts, src/legal/…); a test
 * (test/web-vocabulary.test.ts) fails when they drift apart.
 */

export interface Described {
  code: string;
  label: string;
  /** Plain words, for people who do not know the code. */
  help: string;
}

/** The one taxonomy of reports, decisions and offences, explained for the public. */
export const CATEGORIES: readonly Described[] = [
  {
    code: 'csam',
    label: 'Child sexual abuse',
    help: 'Sexual images, videos or text involving anyone under 18, or grooming of a child.',
  },
  {
    code: 'terrorism',
    label: 'Terrorism',
    help: 'Propaganda, recruitment, praise or instructions for terrorist attacks or groups.',
  },
  { code: 'violent_threat', label: 'Violent threat', help: 'A threat to kill, hurt or attack a person or a group.' },
  {
    code: 'hate_speech',
    label: 'Hate speech',
    help: 'Attacks on people for their origin, religion, gender, sexual orientation, disability or similar.',
  },
  { code: 'illegal_drugs', label: 'Illegal drugs', help: 'Selling or offering to sell illegal drugs.' },
  { code: 'weapons', label: 'Weapons', help: 'Selling weapons, explosives or instructions to make them.' },
  {
    code: 'scam_fraud',
    label: 'Scam or fraud',
    help: 'Tricks to take money or personal data: fake investments, phishing, impersonation.',
  },
  { code: 'spam', label: 'Spam', help: 'Unwanted mass messages, advertising or links sent again and again.' },
  {
    code: 'ncii',
    label: 'Intimate images shared without consent',
    help: 'Nude or sexual images of someone shared without their agreement, including fakes.',
  },
  { code: 'sexual_solicitation', label: 'Sexual solicitation', help: 'Offering or asking for sexual services.' },
  {
    code: 'self_harm',
    label: 'Self-harm or suicide',
    help: 'Encouraging or showing self-harm or suicide. If someone is in danger now, call the emergency number.',
  },
  {
    code: 'intellectual_property',
    label: 'Copyright or trademark',
    help: 'Your work or brand used without permission.',
  },
  {
    code: 'other_illegal',
    label: 'Something else illegal',
    help: 'Content that breaks the law in another way; say which in your explanation.',
  },
];

export const CATEGORY_CODES = CATEGORIES.map((c) => c.code);

/** The category's label, or the code itself when unknown. */
export function categoryLabel(code: string | null | undefined): string {
  if (!code) return '—';
  return CATEGORIES.find((c) => c.code === code)?.label ?? code;
}

/** Actions a moderator's decision can take (src/decisions/statement.ts ACTION_TYPES). */
export const ACTIONS: readonly Described[] = [
  { code: 'remove_content', label: 'Remove content', help: 'Take the message down for everyone.' },
  { code: 'restrict_content', label: 'Restrict content', help: 'Keep it but limit who sees it.' },
  { code: 'warn', label: 'Warn the account', help: 'Send a warning; no other effect.' },
  { code: 'suspend_account', label: 'Suspend the account', help: 'Block the account until a date.' },
  { code: 'ban_account', label: 'Ban the account', help: 'Close the account for good.' },
  { code: 'dismiss', label: 'Dismiss', help: 'No violation: close the case, nothing is enforced.' },
];

export function actionLabel(code: string): string {
  return ACTIONS.find((a) => a.code === code)?.label ?? code;
}

/** The disclosure policy's reason codes (src/legal/checks.ts REASON_CODES), in words. */
export const REASONS: Record<string, string> = {
  missing_field: 'A field the order must have is missing or malformed.',
  authority_not_verified: 'The issuing authority is not a verified, active authority, or the token is not bound to it.',
  authority_country_mismatch:
    'The order says it was issued in a country other than the one the authority is registered in.',
  country_refused:
    'The policy refuses orders from this country for human-rights reasons (no fair trial, or criminal law used against speech, assembly or belief).',
  country_extra_review:
    'Orders from this country need an extra human-rights review: a senior legal member must be one of the approvers.',
  offence_out_of_scope: 'The offence is not one the policy discloses data for.',
  refused_offence_category:
    'The offence is one the policy always refuses (speech, assembly, religion, sexual orientation, journalism, blasphemy, insulting officials).',
  target_not_found: 'No account matches this target.',
  no_confirmed_violation:
    'The account has no confirmed violation of the platform’s rules (enforced and not overturned on appeal) related to the offence.',
  target_outside_jurisdiction:
    'Neither the account’s country nor its phone number’s country is the authority’s: mutual legal assistance is the way.',
  period_outside_retention: 'The period asks for data older than the retention window: it no longer exists.',
  period_too_long: 'The period is longer than the policy allows one order to cover.',
  data_category_not_allowed: 'Only IP addresses and the phone number can ever be disclosed.',
};

export const REASON_CODES = Object.keys(REASONS);

/** A reason code explained, or the code when it is not one of the policy's. */
export function reasonText(code: string): string {
  return REASONS[code] ?? code;
}

/** The automatic checks by name (src/legal/views.ts), as a legal reader calls them. */
export const CHECK_LABELS: Record<string, string> = {
  required_fields: 'Required fields present',
  authority_verified: 'Authority verified',
  authority_country: 'Issued in the authority’s country',
  country_policy: 'Country accepted by the policy',
  offence_not_refused: 'Offence not a refused category',
  offence_in_scope: 'Offence in the policy’s scope',
  period_retention: 'Period inside the retention window',
  period_length: 'Period not too long',
  data_categories: 'Only disclosable data asked for',
  target_exists: 'Target exists',
  target_violation: 'Target has a related confirmed violation',
  target_jurisdiction: 'Target within the jurisdiction',
};

export function checkLabel(name: string): string {
  return CHECK_LABELS[name] ?? name.replaceAll('_', ' ');
}

/** Legal order statuses (src/legal/service.ts LEGAL_STATUSES). */
export const LEGAL_STATUSES: Record<string, string> = {
  received: 'Received',
  in_review: 'In review',
  approved: 'Approved',
  disclosed: 'Disclosed',
  preserved: 'Preserved',
  rejected: 'Rejected',
  withdrawn: 'Withdrawn',
};

export const ORDER_TYPES: readonly Described[] = [
  { code: 'production', label: 'Production', help: 'Hand over the data; answered within 10 days.' },
  {
    code: 'preservation',
    label: 'Preservation',
    help: 'Keep the data from being deleted for 60 days (extendable by 30) while a production order is obtained.',
  },
  {
    code: 'emergency',
    label: 'Emergency',
    help: 'Imminent threat to life; answered within 8 hours. Say why in the justification.',
  },
];

export const DATA_CATEGORIES: readonly Described[] = [
  { code: 'ip_addresses', label: 'IP addresses', help: 'With port and time, inside the period.' },
  { code: 'phone_number', label: 'Phone number', help: 'As registered, including numbers without a SIM (+888).' },
];

export function dataLabel(code: string): string {
  return DATA_CATEGORIES.find((d) => d.code === code)?.label ?? code;
}

export const AUTHORITY_KINDS = ['court', 'prosecutor', 'police'] as const;

/** Hash banks (src/hashes/banks.ts): what a match does, and the kinds of hash a bank holds. */
export const BANK_ACTIONS: readonly Described[] = [
  { code: 'review', label: 'Queue for review', help: 'A match opens a case for a moderator.' },
  { code: 'remove', label: 'Remove', help: 'A match removes the content at once (still appealable).' },
];
export const HASH_KINDS = ['pdq', 'md5', 'sha256'] as const;
/** The usual and the largest PDQ distance a bank may set. */
export const DEFAULT_PDQ_THRESHOLD = 31;
export const MAX_PDQ_THRESHOLD = 63;

/** Roles of the API (src/identity/roles.ts). */
export const ROLES = [
  'admin',
  'moderator',
  'legal',
  'legal_senior',
  'auditor',
  'platform',
  'authority',
  'trusted_flagger',
  'restricted_reviewer',
] as const;

/** Roles people sign in with (users); the others are held by machines and organisations as API tokens. */
export const USER_ROLES = [
  'admin',
  'moderator',
  'legal',
  'legal_senior',
  'auditor',
  'authority',
  'restricted_reviewer',
] as const;

/** Roles that work in the console; `authority` uses the portal; the others use the API only. */
export const CONSOLE_ROLES = ['admin', 'moderator', 'legal', 'legal_senior', 'auditor', 'restricted_reviewer'];

/** How a public report's outcome reads to the person who filed it. */
export const REPORT_STATUSES: Record<string, string> = {
  open: 'We have your report; it is waiting for a moderator.',
  resolved: 'A moderator has looked at your report and decided.',
};

export const REPORT_OUTCOMES: Record<string, string> = {
  action_taken: 'Action was taken: the content or the account broke the rules or the law.',
  no_action: 'No action was taken: the moderator found no rule or law broken.',
};

/** Events the platform can receive by webhook (src/webhooks/outbox.ts). */
export const WEBHOOK_EVENTS = [
  'content.removed',
  'content.restricted',
  'account.suspended',
  'account.banned',
  'account.warned',
  'decision.reversed',
  'report.resolved',
  'appeal.resolved',
  'legal.deadline_near',
  'legal.overdue',
  'account.data_disclosed',
] as const;

/** Outbox states of a webhook delivery, as the admin reads them. */
export const DELIVERY_STATUSES: Record<string, string> = {
  pending: 'pending',
  delivered: 'delivered',
  dead: 'given up',
};
