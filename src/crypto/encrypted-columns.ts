import { PHONE_FIELD } from '../accounts/service.js';
import { TOTP_FIELD } from '../identity/users.js';
import { DOCUMENT_FIELD, TARGET_FIELD } from '../legal/service.js';
import { PRIVATE_FIELD } from '../legal/signing-keys.js';
import { REPORTER_EMAIL_FIELD, reporterKeyOf, storedReporterIdentity } from '../reports/service.js';
import { IP_FIELD, sessionId } from '../sessions/service.js';
import { SECRET_FIELD } from '../webhooks/endpoints.js';
import type { PersonalDataCipher } from './personal-data-cipher.js';

/**
 * Every column the master key protects, in one place. Key rotation walks this
 * list, `custos keys check` and the start-up key check read it, and the rotation
 * test fills and checks every entry: a new encrypted column or blind index that
 * is not added here is a column rotation silently leaves behind.
 */

/** One encrypted column: AES-256-GCM under `field`, bound to the value of `owner` on the same row. */
export interface EncryptedColumn {
  readonly column: string;
  readonly field: string;
  /** The column whose value is the ciphertext's owner id (associated data). */
  readonly owner: string;
}

/** A row as rotation sees it: the columns of `reads` plus the decrypted values of the encrypted ones. */
export interface RowForRekey {
  readonly row: Record<string, unknown>;
  /** Plaintext of each encrypted column (null where the column is null). */
  readonly plain: Record<string, Buffer | null>;
}

export interface RekeyKeys {
  readonly from: PersonalDataCipher;
  readonly to: PersonalDataCipher;
}

/** What a table's blind indexes become under the new key. */
export interface BlindIndexChange {
  /** Column values to set on the row (an unchanged value may be included). */
  readonly set: Record<string, unknown>;
  /** Renames of keys in other tables that hold this row's blind index (old value -> new value). */
  readonly renames?: ReadonlyArray<{ table: string; column: string; from: string; to: string }>;
}

export interface EncryptedTable {
  readonly table: string;
  /** Primary key (a single text column): rotation pages through the table by it. */
  readonly key: string;
  readonly encrypted: readonly EncryptedColumn[];
  /** Blind-index columns recomputed here (for the documentation and the test). */
  readonly blindIndexes: readonly string[];
  /** Further columns `rekeyBlindIndexes` reads. */
  readonly reads: readonly string[];
  /** Recomputes the row's blind indexes under `keys.to` from its plaintexts; pure. */
  readonly rekeyBlindIndexes?: (input: RowForRekey, keys: RekeyKeys) => BlindIndexChange;
}

const text = (b: Buffer | null | undefined): string | null => (b ? b.toString('utf8') : null);

export const ENCRYPTED_TABLES: readonly EncryptedTable[] = [
  {
    table: 'accounts',
    key: 'id',
    encrypted: [{ column: 'phone_enc', field: PHONE_FIELD, owner: 'id' }],
    blindIndexes: ['phone_bidx'],
    reads: [],
    // phone_enc holds the E.164 number the blind index was computed from (accounts/service.ts).
    rekeyBlindIndexes: ({ plain }, { to }) => {
      const phone = text(plain.phone_enc);
      return { set: { phone_bidx: phone === null ? null : to.blindIndex(PHONE_FIELD, phone) } };
    },
  },
  {
    table: 'sessions',
    key: 'id',
    encrypted: [{ column: 'ip_enc', field: IP_FIELD, owner: 'account_id' }],
    // The id is a keyed hash of (account, ip, port, time), the idempotency key of re-sent sessions.
    blindIndexes: ['id'],
    reads: ['account_id', 'port', 'at'],
    rekeyBlindIndexes: ({ row, plain }, { to }) => ({
      set: {
        id: sessionId(
          to,
          String(row.account_id),
          text(plain.ip_enc) ?? '',
          row.port === null ? null : Number(row.port),
          Number(row.at),
        ),
      },
    }),
  },
  {
    table: 'users',
    key: 'id',
    encrypted: [{ column: 'totp_secret', field: TOTP_FIELD, owner: 'id' }],
    blindIndexes: [],
    reads: [],
  },
  {
    table: 'reports',
    key: 'id',
    encrypted: [{ column: 'reporter_email_enc', field: REPORTER_EMAIL_FIELD, owner: 'id' }],
    // client_key (a keyed hash of a public reporter's address, kept for the hourly
    // rate limit) cannot be recomputed: the address is not stored. It is left as it
    // is and ages out of the limit's window. reporter_key likewise stays for public
    // reports known only by their address.
    blindIndexes: ['reporter_key'],
    reads: ['source', 'reporter_token_id', 'reporter_account_id', 'reporter_key'],
    rekeyBlindIndexes: ({ row, plain }, { from, to }) => {
      const identity = storedReporterIdentity({
        source: String(row.source),
        reporter_token_id: (row.reporter_token_id as string | null) ?? null,
        reporter_account_id: (row.reporter_account_id as string | null) ?? null,
        reporterEmail: text(plain.reporter_email_enc),
      });
      if (identity === null) return { set: {} };
      const next = reporterKeyOf(to, identity);
      // The reporter's track record (their weight) follows them to the new key.
      const previous = reporterKeyOf(from, identity);
      return {
        set: { reporter_key: next },
        renames: [{ table: 'reporter_stats', column: 'reporter_key', from: previous, to: next }],
      };
    },
  },
  {
    table: 'legal_documents',
    key: 'request_id',
    encrypted: [{ column: 'content_enc', field: DOCUMENT_FIELD, owner: 'request_id' }],
    blindIndexes: [],
    reads: [],
  },
  {
    table: 'legal_targets',
    key: 'id',
    encrypted: [{ column: 'given_enc', field: TARGET_FIELD, owner: 'id' }],
    blindIndexes: [],
    reads: [],
  },
  {
    table: 'webhook_endpoints',
    key: 'id',
    encrypted: [{ column: 'secret_enc', field: SECRET_FIELD, owner: 'id' }],
    blindIndexes: [],
    reads: [],
  },
  {
    table: 'signing_keys',
    key: 'kid',
    encrypted: [{ column: 'private_enc', field: PRIVATE_FIELD, owner: 'kid' }],
    blindIndexes: [],
    reads: [],
  },
];
