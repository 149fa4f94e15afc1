import crypto from 'node:crypto';

/**
 * Unguessable identifiers: a short prefix naming the kind of thing, then 128
 * random bits in base32 (lower case, no padding), e.g. `tok_3kq…`.
 */
export function newId(prefix: string): string {
  const bytes = randomBytes(16);
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

let lastTime = 0;
let counter = 0;

/**
 * An id that sorts by creation within one process (and roughly across
 * processes): 48-bit millisecond time and a counter, hex, then 64 random bits.
 * For append-only logs whose order matters.
 */
export function newSortableId(prefix: string): string {
  const now = Date.now();
  if (now === lastTime) counter += 1;
  else {
    lastTime = now;
    counter = 0;
  }
  const time = now.toString(16).padStart(12, '0');
  const seq = counter.toString(16).padStart(4, '0');
  return `${prefix}_${time}${seq}${randomBytes(8).toString('hex')}`;
}

/**
 * Random bytes from a pool refilled 4 KiB at a time from the CSPRNG: each byte
 * is handed out once. A report takes half a dozen ids, and one `randomBytes`
 * call per id cost more than the id itself (Node pools `randomUUID` the same
 * way). The view is only valid until the caller has turned it into text.
 */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let offset = 0;

function randomBytes(n: number): Buffer {
  if (offset + n > pool.length) {
    pool = crypto.randomBytes(POOL_BYTES);
    offset = 0;
  }
  const out = pool.subarray(offset, offset + n);
  offset += n;
  return out;
}
