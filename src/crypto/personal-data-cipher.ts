import crypto from 'node:crypto';
import { masterKeyId } from './master-key.js';

/**
 * Field-level protection of personal data (phone numbers, IP addresses).
 *
 * - Encryption: AES-256-GCM with a random 96-bit nonce per value. The field name
 *   and the owning record's id are the additional authenticated data, so a
 *   ciphertext copied onto another account or column fails to decrypt.
 *   Layout: version byte (1) | nonce (12) | ciphertext | tag (16).
 * - Blind index: HMAC-SHA-256 of the normalised value under a separate key, so
 *   lookups by phone number never need a plaintext column.
 *
 * Both keys are derived from the master key with HKDF-SHA-256 (RFC 5869), each
 * under its own label, so neither can be used in place of the other.
 */
export class PersonalDataCipher {
  static readonly VERSION = 1;
  /** The master key's public id (see masterKeyId), for messages: which key is this? */
  readonly keyId: string;
  readonly #encKey: Buffer;
  readonly #indexKey: Buffer;
  // Nonces come from a pool of CSPRNG bytes refilled 4 KiB at a time: one
  // randomBytes call per value cost a third of the encryption time.
  #pool = Buffer.alloc(0);
  #poolOffset = 0;

  #nonce(): Buffer {
    if (this.#poolOffset + 12 > this.#pool.length) {
      this.#pool = crypto.randomBytes(4096);
      this.#poolOffset = 0;
    }
    const nonce = this.#pool.subarray(this.#poolOffset, this.#poolOffset + 12);
    this.#poolOffset += 12;
    return nonce;
  }

  constructor(masterKey: Buffer) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.#encKey = derive(masterKey, 'custos/personal-data/aes-256-gcm/v1');
    this.#indexKey = derive(masterKey, 'custos/personal-data/blind-index/v1');
    this.keyId = masterKeyId(masterKey);
  }

  encrypt(field: string, ownerId: string, plaintext: string): Buffer {
    return this.encryptBytes(field, ownerId, Buffer.from(plaintext, 'utf8'));
  }

  /** As {@link encrypt}, for binary values (a court order's PDF). */
  encryptBytes(field: string, ownerId: string, plaintext: Buffer): Buffer {
    const nonce = this.#nonce();
    const cipher = crypto.createCipheriv('aes-256-gcm', this.#encKey, nonce);
    cipher.setAAD(aad(field, ownerId));
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.of(PersonalDataCipher.VERSION), nonce, body, cipher.getAuthTag()]);
  }

  /** Throws when the value was altered or belongs to another field or owner. */
  decrypt(field: string, ownerId: string, sealed: Buffer | Uint8Array): string {
    return this.decryptBytes(field, ownerId, sealed).toString('utf8');
  }

  /** As {@link decrypt}, for binary values. */
  decryptBytes(field: string, ownerId: string, sealed: Buffer | Uint8Array): Buffer {
    const data = Buffer.from(sealed);
    if (data.length < 1 + 12 + 16 || data[0] !== PersonalDataCipher.VERSION) {
      throw new Error(`cannot decrypt ${field}: unknown format`);
    }
    const decipher = crypto.createDecipheriv('aes-256-gcm', this.#encKey, data.subarray(1, 13));
    decipher.setAAD(aad(field, ownerId));
    decipher.setAuthTag(data.subarray(data.length - 16));
    return Buffer.concat([decipher.update(data.subarray(13, data.length - 16)), decipher.final()]);
  }

  /** Deterministic keyed hash of a normalised value (hex), for equality lookups. */
  blindIndex(field: string, value: string): string {
    return crypto.createHmac('sha256', this.#indexKey).update(`${field}\0${value}`).digest('hex');
  }
}

function derive(master: Buffer, label: string): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', master, Buffer.alloc(0), label, 32));
}

function aad(field: string, ownerId: string): Buffer {
  return Buffer.from(`${field}\0${ownerId}`, 'utf8');
}
