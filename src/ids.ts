import crypto from 'node:crypto';

/**
 * Unguessable identifiers: a short prefix naming the kind of thing, then 128
 * random bits in base32 (lower case, no padding), e.g. `tok_3kq…`.
 */
export function newId(prefix: string): string {
  const bytes = crypto.randomBytes(16);
  let bits = 0;
  let value = 0;
  let out = '';
  const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alphabet[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alphabet[(value << (5 - bits)) & 31];
  return `${prefix}_${out}`;
}
