/** The API's answers as the pages use them (see GET /docs/json for the full schemas). */

export interface SessionUser {
  id: string;
  username: string;
  role: string;
  authorityId: string | null;
}

export interface SessionBody {
  user: SessionUser;
  csrfToken: string;
  expiresAt: string;
}

export interface CaseSummary {
  id: string;
  subject: { type: string; id: string };
  accountId: string;
  status: string;
  queue: string;
  category: string;
  language: string | null;
  public: boolean;
  priority: number;
  reportCount: number;
  reporterCount: number;
  trustedFlagged: boolean;
  proposedAction: string | null;
  claim: { by: string; until: string } | null;
  decisionId: string | null;
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface Signal {
  scanner: string;
  category?: string;
  score: number;
  shadow?: boolean;
  ceiling?: string;
  decides?: string;
  detail?: Record<string, unknown>;
}

export interface Violation {
  id: string;
  decisionId: string;
  category: string;
  ground: string;
  at: string;
  strikeExpiresAt: string;
}

export interface Violations {
  accountId: string;
  activeStrikes: number;
  violations: Violation[];
}

export interface CaseDetail extends CaseSummary {
  content: {
    id: string;
    kind: string;
    text: string | null;
    hasImage: boolean;
    chatId: string | null;
    public: boolean;
    language: string | null;
    state: string;
    createdAt: string;
  } | null;
  account: {
    id: string;
    username: string | null;
    country: string | null;
    status: string;
    suspendedUntil: string | null;
    createdAt: string | null;
  } | null;
  reports: {
    id: string;
    category: string;
    explanation: string | null;
    source: string;
    weight: number;
    status: string;
    createdAt: string;
  }[];
  signals: Signal[];
  history: {
    id: string;
    type: string;
    actor: { id: string; role: string };
    at: string;
    payload: Record<string, unknown>;
  }[];
  violations: Violations | null;
}

export interface DecisionAction {
  type: string;
  until?: string;
}

export interface DecisionBody {
  actions: DecisionAction[];
  category: string;
  ground: 'illegal' | 'terms';
  explanation: string;
  legalGround?: string;
  addToLocalBank?: boolean;
}

export interface Decision {
  id: string;
  caseId: string;
  subject: { type: string; id: string };
  accountId: string;
  actions: DecisionAction[];
  category: string;
  ground: string;
  explanation: string;
  decidedBy: string;
  automation: string;
  status: string;
  createdAt: string;
}

export interface BulkResult {
  caseId: string;
  status: number;
  decisionId?: string;
  error?: { code: string; message: string };
}

export interface Appeal {
  id: string;
  decisionId: string;
  accountId: string;
  text: string;
  status: string;
  decidedBy: string;
  filedAt: string;
  resolvedBy: string | null;
  resolution: string | null;
  resolvedAt: string | null;
}

export interface Check {
  name: string;
  result: 'pass' | 'fail' | 'review' | string;
  code: string | null;
  target: number | null;
  detail?: string;
  policyVersion?: string;
  at?: string;
}

export interface LegalBase {
  id: string;
  type: string;
  status: string;
  caseReference: string;
  data: string[];
  period: { from: string; to: string };
  receivedAt: string;
  dueAt: string;
  decidedAt: string | null;
  disclosedAt: string | null;
  preservedUntil: string | null;
  preservationExtended: boolean;
  nonDisclosureUntil: string | null;
  packageAvailable: boolean;
}

export interface LegalQueueItem extends LegalBase {
  authority: { id: string; name: string; country: string };
  offence: string;
  extraReview: boolean;
  secondApprovalOwed: boolean;
  round: number;
  overdue: boolean;
}

export interface LegalTarget {
  id: string;
  position: number;
  kind: string;
  identifier: string | null;
  accountId: string | null;
  status: string;
  reasons: string[];
  noticeDueAt: string | null;
  notifiedAt: string | null;
}

export interface LegalReview {
  id: string;
  round: number;
  reviewerId: string;
  reviewerRole: string;
  decision: string;
  reasons: string[];
  note: string | null;
  narrowed: Record<string, unknown> | null;
  at: string;
}

export interface LegalDetail extends LegalBase {
  authority: { id: string; name: string; country: string; kind: string; status: string };
  issuingAuthority: { name: string; country: string };
  legalBasis: string;
  courtOrder: {
    reference: string;
    issuedBy: string;
    issuedAt: string;
    documentSha256: string | null;
    documentSize: number | null;
  };
  offence: { category: string; description: string; provisions: string };
  emergencyJustification: string | null;
  extraReview: boolean;
  secondApprovalOwed: boolean;
  policyVersion: string;
  round: number;
  targets: LegalTarget[];
  checks: Check[];
  reviews: LegalReview[];
  history: {
    at: string;
    type: string;
    status: string;
    actorId?: string;
    actorRole?: string;
    details?: Record<string, unknown>;
  }[];
  package: {
    sha256: string;
    kid: string;
    targets: number;
    records: number;
    policyVersion: string;
    producedAt: string;
    downloadedAt: string | null;
  } | null;
}

export interface AuthorityOrder extends LegalBase {
  reasons: string[];
  history: { at: string; type: string; status: string }[];
  checks: Check[];
  targets: { position: number; kind: string; status: string; reasons: string[] }[];
}

export interface Authority {
  id: string;
  name: string;
  country: string;
  kind: string;
  contactEmail: string;
  publicJwk: Record<string, unknown>;
  status: string;
  createdAt: string;
  updatedAt: string;
}

export interface TokenInfo {
  id: string;
  name: string;
  role: string;
  authorityId: string | null;
  createdAt: string;
  expiresAt: string | null;
  revokedAt: string | null;
}

/** A person who signs in (GET /v1/users); never their password or TOTP secret. */
export interface UserInfo {
  id: string;
  username: string;
  role: string;
  authorityId: string | null;
  createdAt: string;
  disabledAt: string | null;
  lockedUntil: string | null;
}

/** POST /v1/users: the new user with the generated password and TOTP secret, shown once. */
export interface CreatedUserInfo {
  id: string;
  username: string;
  role: string;
  authorityId: string | null;
  password: string;
  totpSecret: string;
  totpUri: string;
}

/** A hash bank (GET /v1/hash-banks): its settings and how many enabled hashes it holds. */
export interface HashBank {
  id: string;
  name: string;
  category: string;
  action: string;
  threshold: number;
  enabled: boolean;
  hashes: number;
  createdAt: string;
}

/** POST /v1/hash-banks/:name/hashes */
export interface HashesAdded {
  bank: string;
  given: number;
  inserted: number;
  alreadyPresent: number;
  repeated: number;
}

export interface AuditEntry {
  seq: number;
  at: string;
  actor: { id: string; role: string };
  action: string;
  subject: { type: string; id: string } | null;
  requestId: string | null;
  details: Record<string, unknown>;
  hash: string;
  prevHash: string;
}

export interface PolicyView {
  disclosure: { name: string; version: string; text: string };
  moderation: { name: string; version: string };
  history: { kind: string; name: string; version: string; firstSeen: string; lastSeen: string }[];
}

export interface ReportReceipt {
  id: string;
  caseId: string;
  status: string;
  accessKey: string;
}

export interface ReportStatus {
  id: string;
  status: string;
  outcome: string | null;
  category: string;
  createdAt: string;
  resolvedAt: string | null;
}

/** GET /v1/webhooks */
export interface WebhookEndpoint {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  createdAt: string;
}

/** POST /v1/webhooks: the signing secret, shown once. */
export interface CreatedWebhook {
  id: string;
  secret: string;
  endpoint: WebhookEndpoint;
}

/** GET /v1/webhooks/deliveries: one outbox entry. */
export interface WebhookDelivery {
  id: string;
  endpointId: string;
  type: string;
  status: string;
  attempts: number;
  nextAttemptAt: string;
  lastError: string | null;
  createdAt: string;
  deliveredAt: string | null;
}

/** GET /v1/decisions/:id/statement: the DSA statement of reasons (Transparency Database fields). */
export interface DecisionStatement {
  decisionId: string;
  policyVersion: string;
  statement: Record<string, unknown>;
}
