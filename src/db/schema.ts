import type { Generated } from 'kysely';

/**
 * Row types of every table. They stay inside the data layer: repositories map
 * them to domain views before anything leaves a service. Times are epoch
 * milliseconds (`bigint` columns) in both stores, so range queries and sorting
 * behave the same on SQLite and PostgreSQL. Encrypted fields are bytes.
 */

export interface AuthorityTable {
  id: string;
  name: string;
  country: string;
  kind: string;
  contact_email: string;
  public_jwk: string;
  status: 'active' | 'suspended';
  created_at: number;
  updated_at: number;
}

export interface ApiTokenTable {
  id: string;
  name: string;
  role: string;
  authority_id: string | null;
  /** SHA-256 of the token; the token itself is never stored. */
  token_hash: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  created_by: string;
}

/** A person who signs in on the web pages: staff, or an officer of an authority. */
export interface UserTable {
  id: string;
  /** Lower case; unique. */
  username: string;
  role: string;
  authority_id: string | null;
  /** Argon2id, PHC string. */
  password_hash: string;
  /** AES-256-GCM of the base32 TOTP secret (field `users.totp`, bound to the user id). */
  totp_secret: Buffer;
  /** Time step of the last TOTP code accepted: a code is good once. */
  totp_last_step: number | null;
  /** Failed sign-ins in a row (reset by a successful one). */
  failed_attempts: Generated<number>;
  locked_until: number | null;
  created_at: number;
  created_by: string;
  disabled_at: number | null;
}

/** A sign-in session of the web pages; the cookie value is never stored, only its SHA-256. */
export interface WebSessionTable {
  id: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  /** Slides with use (idle limit), never past the absolute limit after `created_at`. */
  expires_at: number;
  revoked_at: number | null;
}

export interface AccountTable {
  id: string;
  /** AES-256-GCM of the E.164 number, bound to the account id. */
  phone_enc: Buffer | null;
  /** Keyed hash of the E.164 number, for lookups by phone. */
  phone_bidx: string | null;
  /** Country the number belongs to (ISO 3166-1), or '001' for non-geographic ranges. */
  phone_country: string | null;
  username: string | null;
  country: string | null;
  created_at: number | null;
  first_seen_at: number;
  updated_at: number;
  /** Enforcement state: 'active' | 'suspended' | 'banned'. */
  status: Generated<string>;
  suspended_until: number | null;
}

export interface SessionTable {
  /** Keyed hash of (account, ip, port, time): re-sent sessions collapse onto it. */
  id: string;
  account_id: string;
  /** AES-256-GCM of the normalised IP address, bound to the account id. */
  ip_enc: Buffer;
  ip_version: number;
  port: number | null;
  at: number;
  received_at: number;
}

export interface PreservationTable {
  id: string;
  account_id: string;
  until_at: number;
  /** What ordered it, e.g. a legal request id. */
  source: string;
  created_at: number;
}

export interface AuditLogTable {
  seq: number;
  at: number;
  actor_id: string;
  actor_role: string;
  action: string;
  subject_type: string | null;
  subject_id: string | null;
  request_id: string | null;
  /** JSON text; never carries personal data in clear. */
  details: string;
  prev_hash: string;
  hash: string;
}

export interface AuditHeadTable {
  id: number;
  seq: number;
  hash: string;
}

export interface ContentTable {
  id: string;
  account_id: string;
  chat_id: string | null;
  kind: 'text' | 'image';
  text: string | null;
  image: Buffer | null;
  media_ref: string | null;
  image_sha256: string | null;
  image_md5: string | null;
  /** PDQ hash (hex) of the image, once scanned. */
  image_pdq: Generated<string | null>;
  is_public: number;
  language: string | null;
  /** 'visible' | 'removed' | 'restricted' */
  state: string;
  /** Hash of the stored fields, to tell a re-sent item from an edited one. */
  fingerprint: string;
  created_at: number;
  received_at: number;
}

export interface CaseTable {
  id: string;
  subject_type: 'content' | 'account';
  subject_id: string;
  account_id: string;
  status: 'open' | 'closed';
  queue: string;
  category: string;
  severity: number;
  language: string | null;
  is_public: number;
  report_count: number;
  reporter_count: number;
  reporter_weight: number;
  trusted_count: number;
  proposed_action: string | null;
  rank: number;
  claimed_by: string | null;
  claim_expires_at: number | null;
  decision_id: string | null;
  created_at: number;
  updated_at: number;
  closed_at: number | null;
  /** What opened the case: 'report' | 'scan' | 'strikes'. */
  opened_by: string | null;
}

export interface ReportTable {
  id: string;
  case_id: string;
  subject_type: 'content' | 'account';
  subject_id: string;
  category: string;
  explanation: string | null;
  /** 'public' | 'platform' | 'trusted_flagger' */
  source: string;
  reporter_token_id: string | null;
  reporter_account_id: string | null;
  reporter_email_enc: Buffer | null;
  /** Keyed hash identifying the reporter (distinct counts, weight), never the identity. */
  reporter_key: string;
  /** Keyed hash of the client address of a public report, for rate limits. */
  client_key: string | null;
  weight: number;
  access_key_hash: string;
  status: 'open' | 'resolved';
  outcome: string | null;
  created_at: number;
  resolved_at: number | null;
  /** The ground ('illegal' | 'terms') of the restriction the case was decided with; null otherwise. */
  ground: string | null;
}

export interface ReporterStatsTable {
  reporter_key: string;
  actioned: number;
  dismissed: number;
  updated_at: number;
}

export interface ModerationEventTable {
  id: string;
  case_id: string | null;
  subject_type: string;
  subject_id: string;
  account_id: string;
  type: string;
  actor_id: string;
  actor_role: string;
  payload: string;
  created_at: number;
}

export interface DecisionTable {
  id: string;
  case_id: string;
  subject_type: 'content' | 'account';
  subject_id: string;
  account_id: string;
  /** JSON array of {type, until?}. */
  actions: string;
  category: string;
  ground: 'illegal' | 'terms';
  explanation: string;
  decided_by: string;
  /** 'none' | 'partial' | 'full' */
  automation: string;
  policy_version: string;
  /** JSON: the DSA statement of reasons, or null for a dismissal. */
  statement: string | null;
  /** 'in_effect' | 'reversed' */
  status: string;
  created_at: number;
  reversed_at: number | null;
  /** The case's `opened_by` when it was decided: 'report' | 'scan' | 'strikes'. */
  opened_by: string | null;
  /** 1 when it restricts something (it has a statement of reasons), 0 for a dismissal. */
  restricts: number;
  /** 1 when its actions include `remove_content`. */
  removes_content: number;
}

/** A statement of reasons on its way to the DSA Transparency Database (its puid is the decision id). */
export interface DsaSubmissionTable {
  decision_id: string;
  /** 'pending' | 'accepted' | 'failed' */
  status: string;
  /** Requests that carried it. */
  attempts: number;
  next_attempt_at: number;
  /** While set and in the future, one sender holds the row: nobody else sends it. */
  lease_until: number | null;
  /** The last batch (request) that carried it. */
  batch_id: string | null;
  /** Why the last attempt failed: an HTTP status, a network error, or field names and rule codes. */
  last_error: string | null;
  created_at: number;
  accepted_at: number | null;
}

export interface ViolationTable {
  id: string;
  account_id: string;
  decision_id: string;
  category: string;
  ground: string;
  /** 'confirmed' | 'overturned' */
  status: string;
  created_at: number;
  strike_expires_at: number;
  overturned_at: number | null;
}

export interface AppealTable {
  id: string;
  decision_id: string;
  account_id: string;
  text: string;
  /** 'open' | 'upheld' | 'overturned' */
  status: string;
  decided_by: string;
  filed_at: number;
  resolved_by: string | null;
  resolution: string | null;
  resolved_at: number | null;
}

export interface WebhookEndpointTable {
  id: string;
  url: string;
  secret_enc: Buffer;
  /** JSON array of event types, or ["*"]. */
  events: string;
  active: number;
  created_at: number;
}

export interface WebhookOutboxTable {
  id: string;
  endpoint_id: string;
  event_type: string;
  payload: string;
  /** 'pending' | 'delivered' | 'dead' */
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  delivered_at: number | null;
}

export interface ScanResultTable {
  content_id: string;
  /** 'allow' | 'review' | 'remove' */
  action: string;
  category: string | null;
  score: number | null;
  language: string | null;
  /** JSON array of signals. */
  signals: string;
  /** JSON object: scanner name -> model or rule-set version. */
  versions: string;
  policy_version: string;
  /** The content fingerprint scanned, so an edit is scanned again. */
  fingerprint: string;
  scanned_at: number;
}

export interface ScanJobTable {
  content_id: string;
  /** 'pending' | 'queued' (handed to NATS JetStream) | 'done' | 'dead' */
  status: string;
  attempts: number;
  next_attempt_at: number;
  lease_until: number | null;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface HashBankTable {
  id: string;
  name: string;
  category: string;
  /** What a match does: 'review' or 'remove'. */
  action: string;
  /** Largest PDQ distance (of 256 bits) that counts as a match. */
  threshold: number;
  enabled: number;
  created_at: number;
  updated_at: number;
  /** hash_head.seq of the last change. */
  seq: number;
}

export interface BankHashTable {
  id: string;
  bank_id: string;
  /** 'pdq' | 'md5' | 'sha256'. */
  kind: string;
  /** Lower-case hex. */
  value: string;
  enabled: number;
  /** Where it came from: an import file, a decision. */
  source: string | null;
  /** This hash's category when it is not its bank's (local-confirmed holds every category). */
  category: string | null;
  added_at: number;
  /** hash_head.seq of the last change. */
  seq: number;
}

export interface HashHeadTable {
  id: number;
  seq: number;
}

export interface LegalRequestTable {
  id: string;
  authority_id: string;
  type: string;
  status: string;
  case_reference: string;
  legal_basis: string;
  issuing_authority: string;
  court_order: string;
  document_sha256: string | null;
  document_size: number | null;
  offence_category: string;
  offence: string;
  data_categories: string;
  period_from: number;
  period_to: number;
  requested: string;
  non_disclosure_until: number | null;
  emergency_justification: string | null;
  preservation_request_id: string | null;
  extra_review: number;
  policy_version: string;
  round: number;
  received_at: number;
  due_at: number;
  decided_at: number | null;
  disclosed_at: number | null;
  second_approval_owed: number;
  preserved_until: number | null;
  preservation_extended: number;
  consumed_by: string | null;
  deadline_warned_at: number | null;
  overdue_warned_at: number | null;
  updated_at: number;
}

export interface LegalDocumentTable {
  request_id: string;
  content_enc: Buffer;
  created_at: number;
}

export interface LegalTargetTable {
  id: string;
  request_id: string;
  position: number;
  kind: string;
  given_enc: Buffer;
  account_id: string | null;
  status: string;
  reasons: string;
  notice_due_at: number | null;
  notified_at: number | null;
}

export interface LegalCheckTable {
  id: string;
  request_id: string;
  target_id: string | null;
  name: string;
  result: string;
  code: string | null;
  detail: string;
  policy_version: string;
  at: number;
}

export interface LegalReviewTable {
  id: string;
  request_id: string;
  round: number;
  reviewer_id: string;
  reviewer_role: string;
  decision: string;
  reasons: string;
  note: string | null;
  narrowed: string | null;
  policy_version: string;
  at: number;
}

export interface LegalEventTable {
  id: string;
  request_id: string;
  at: number;
  actor_id: string;
  actor_role: string;
  type: string;
  status: string;
  details: string;
  /** The filing authority's country, for the request figures. */
  country: string | null;
  /** What the figures group a counted event by (legal/events.ts); null for the others. */
  label: string | null;
}

/** The accounts each disclosure disclosed, by the authority's country and the time of disclosure. */
export interface LegalDisclosedAccountTable {
  request_id: string;
  account_id: string;
  country: string;
  at: number;
}

export interface DisclosurePackageTable {
  request_id: string;
  jwe: string;
  sha256: string;
  kid: string;
  targets: number;
  records: number;
  policy_version: string;
  produced_at: number;
  downloaded_at: number | null;
}

export interface SigningKeyTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_enc: Buffer;
  created_at: number;
  retired_at: number | null;
}

export interface PolicyVersionTable {
  version: string;
  kind: string;
  name: string;
  first_seen_at: number;
  last_seen_at: number;
}

export interface Database {
  policy_versions: PolicyVersionTable;
  legal_requests: LegalRequestTable;
  legal_documents: LegalDocumentTable;
  legal_targets: LegalTargetTable;
  legal_checks: LegalCheckTable;
  legal_reviews: LegalReviewTable;
  legal_events: LegalEventTable;
  legal_disclosed_accounts: LegalDisclosedAccountTable;
  disclosure_packages: DisclosurePackageTable;
  signing_keys: SigningKeyTable;
  hash_banks: HashBankTable;
  bank_hashes: BankHashTable;
  hash_head: HashHeadTable;
  scan_results: ScanResultTable;
  scan_jobs: ScanJobTable;
  content: ContentTable;
  cases: CaseTable;
  reports: ReportTable;
  reporter_stats: ReporterStatsTable;
  moderation_events: ModerationEventTable;
  decisions: DecisionTable;
  dsa_submissions: DsaSubmissionTable;
  violations: ViolationTable;
  appeals: AppealTable;
  webhook_endpoints: WebhookEndpointTable;
  webhook_outbox: WebhookOutboxTable;
  authorities: AuthorityTable;
  api_tokens: ApiTokenTable;
  users: UserTable;
  web_sessions: WebSessionTable;
  accounts: AccountTable;
  sessions: SessionTable;
  preservations: PreservationTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}
