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

export interface Database {
  authorities: AuthorityTable;
  api_tokens: ApiTokenTable;
  accounts: AccountTable;
  sessions: SessionTable;
  preservations: PreservationTable;
  audit_log: AuditLogTable;
  audit_head: AuditHeadTable;
}
