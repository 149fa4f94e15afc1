import crypto from 'node:crypto';

/**
 * Cryptocurrency addresses in text, with their checksums verified so that a
 * random 34-character token is not taken for a wallet:
 *
 * - Bitcoin legacy (P2PKH, `1…`) and P2SH (`3…`, BIP-13): Base58Check — 25 bytes,
 *   version 0x00 or 0x05, the last 4 bytes the first 4 of SHA-256(SHA-256(rest)).
 * - Bitcoin SegWit (`bc1…`): Bech32 (BIP-173) for witness version 0, Bech32m
 *   (BIP-350) for versions 1–16 (Taproot `bc1p…`); program sizes per BIP-141.
 * - Ethereum (`0x` + 40 hex digits): when the digits are of mixed case, the
 *   EIP-55 checksum (the case of each letter from Keccak-256 of the lower-case
 *   address); all-lower or all-upper addresses carry no checksum.
 * - Tron (`T…`, 34 characters): Base58Check with version 0x41.
 * - Monero (`4…`/`8…`, 95 characters; integrated 106): Monero's block Base58, a
 *   varint network tag (18 standard, 19 integrated, 42 subaddress), and the
 *   first 4 bytes of Keccak-256 of the rest as checksum.
 *
 * Mainnet forms only: testnet addresses are not a platform-safety signal.
 */

export type WalletNetwork = 'btc' | 'eth' | 'trx' | 'xmr';
export const WALLET_NETWORKS: readonly WalletNetwork[] = ['btc', 'eth', 'trx', 'xmr'];

export interface WalletMention {
  readonly network: WalletNetwork;
  /** Address form, e.g. `btc-p2pkh`, `btc-taproot`, `eth`, `xmr-subaddress`. */
  readonly form: string;
  /** Whether the checksum holds (true for forms that carry none, like lower-case Ethereum). */
  readonly valid: boolean;
  readonly start: number;
  readonly end: number;
}

const B58 = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const B58_INDEX = new Int8Array(128).fill(-1);
for (let k = 0; k < B58.length; k++) B58_INDEX[B58.charCodeAt(k)] = k;

const B58C = '[1-9A-HJ-NP-Za-km-z]';
/**
 * Candidates by shape; each alternative is bounded and anchored to a token start,
 * so the scan is linear. Order matters: bech32 and 0x before the base58 forms.
 */
const CANDIDATE = new RegExp(
  [
    '(?<![0-9A-Za-z])(?:',
    '(bc1[02-9ac-hj-np-z]{8,87}|BC1[02-9AC-HJ-NP-Z]{8,87})',
    '|(0x[0-9a-fA-F]{40})',
    `|(T${B58C}{33})`,
    `|([48]${B58C}{94}(?:${B58C}{11})?)`,
    `|([13]${B58C}{24,33})`,
    ')(?![0-9A-Za-z])',
  ].join(''),
  'g',
);

/** Finds wallet-shaped tokens in `text` (use `compat`-normalised text: case matters). */
export function findWallets(text: string): WalletMention[] {
  const found: WalletMention[] = [];
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
    const start = m.index;
    const address = m[0];
    let checked = CHECKED.get(address);
    if (!checked) {
      checked = check(m);
      if (CHECKED.size >= CHECKED_MAX) CHECKED.clear();
      CHECKED.set(address, checked);
    }
    found.push({ ...checked, start, end: start + address.length });
  }
  return found;
}

/**
 * Checksums already verified. Campaigns repeat the same address across many
 * messages, and a Keccak-256 (mixed-case Ethereum, Monero) costs about 20 µs.
 */
const CHECKED = new Map<string, Omit<WalletMention, 'start' | 'end'>>();
const CHECKED_MAX = 4096;

function check(m: RegExpExecArray): Omit<WalletMention, 'start' | 'end'> {
  if (m[1]) return checkBech32(m[1]);
  if (m[2]) return { network: 'eth', form: 'eth', valid: checkEip55(m[2]) };
  if (m[3]) return { network: 'trx', form: 'trx', valid: checkBase58Check(m[3], [0x41]) !== null };
  if (m[4]) return checkMonero(m[4]);
  const version = checkBase58Check(m[5]!, [0x00, 0x05]);
  return { network: 'btc', form: version === 0x05 ? 'btc-p2sh' : 'btc-p2pkh', valid: version !== null };
}

function base58Decode(s: string): Uint8Array | null {
  const bytes: number[] = [];
  for (let i = 0; i < s.length; i++) {
    const code = s.charCodeAt(i);
    const v = code < 128 ? B58_INDEX[code]! : -1;
    if (v < 0) return null;
    let carry = v;
    for (let k = 0; k < bytes.length; k++) {
      carry += bytes[k]! * 58;
      bytes[k] = carry & 0xff;
      carry >>= 8;
    }
    while (carry > 0) {
      bytes.push(carry & 0xff);
      carry >>= 8;
    }
  }
  for (let i = 0; i < s.length && s[i] === '1'; i++) bytes.push(0);
  return Uint8Array.from(bytes.reverse());
}

const sha256 = (b: Uint8Array) => crypto.createHash('sha256').update(b).digest();

/** Base58Check (25 bytes); returns the version byte when it is one of `versions` and the checksum holds. */
export function checkBase58Check(s: string, versions: readonly number[]): number | null {
  const bytes = base58Decode(s);
  if (bytes?.length !== 25 || !versions.includes(bytes[0]!)) return null;
  const sum = sha256(sha256(bytes.subarray(0, 21)));
  for (let k = 0; k < 4; k++) if (sum[k] !== bytes[21 + k]) return null;
  return bytes[0]!;
}

// ---- Bech32 / Bech32m (BIP-173, BIP-350) -----------------------------------------------------

const BECH32_CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATOR = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const BECH32_CONST = 1;
const BECH32M_CONST = 0x2bc830a3;

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ GENERATOR[i]!) >>> 0;
  }
  return chk;
}

function checkBech32(address: string): Omit<WalletMention, 'start' | 'end'> {
  const invalid = { network: 'btc' as const, form: 'btc-segwit', valid: false };
  if (address.length > 90) return invalid;
  const lower = address.toLowerCase();
  const sep = lower.lastIndexOf('1');
  const hrp = lower.slice(0, sep);
  const data: number[] = [];
  for (const ch of lower.slice(sep + 1)) {
    const v = BECH32_CHARSET.indexOf(ch);
    if (v < 0) return invalid;
    data.push(v);
  }
  if (data.length < 7) return invalid;
  const expanded = [...hrp].map((c) => c.charCodeAt(0) >> 5);
  expanded.push(0, ...[...hrp].map((c) => c.charCodeAt(0) & 31));
  const check = polymod([...expanded, ...data]);
  const version = data[0]!;
  const program = convertBits(data.slice(1, -6), 5, 8);
  const form = version === 0 ? 'btc-segwit' : version === 1 ? 'btc-taproot' : 'btc-segwit';
  if (!program || version > 16 || program.length < 2 || program.length > 40) return { ...invalid, form };
  if (version === 0 && (check !== BECH32_CONST || (program.length !== 20 && program.length !== 32))) {
    return { ...invalid, form };
  }
  if (version > 0 && check !== BECH32M_CONST) return { ...invalid, form };
  return { network: 'btc', form, valid: true };
}

function convertBits(data: number[], from: number, to: number): number[] | null {
  let acc = 0;
  let bits = 0;
  const out: number[] = [];
  const maxv = (1 << to) - 1;
  for (const v of data) {
    acc = (acc << from) | v;
    bits += from;
    while (bits >= to) {
      bits -= to;
      out.push((acc >> bits) & maxv);
    }
    acc &= (1 << bits) - 1;
  }
  if (bits >= from || ((acc << (to - bits)) & maxv) !== 0) return null;
  return out;
}

// ---- Keccak-256 (the original Keccak padding used by Ethereum and Monero, not SHA3-256) -------
// 64-bit lanes as pairs of 32-bit halves (lo, hi): BigInt lanes were 100 times slower.

const ROUND_CONSTANTS = [
  0x0000000000000001n,
  0x0000000000008082n,
  0x800000000000808an,
  0x8000000080008000n,
  0x000000000000808bn,
  0x0000000080000001n,
  0x8000000080008081n,
  0x8000000000008009n,
  0x000000000000008an,
  0x0000000000000088n,
  0x0000000080008009n,
  0x000000008000000an,
  0x000000008000808bn,
  0x800000000000008bn,
  0x8000000000008089n,
  0x8000000000008003n,
  0x8000000000008002n,
  0x8000000000000080n,
  0x000000000000800an,
  0x800000008000000an,
  0x8000000080008081n,
  0x8000000000008080n,
  0x0000000080000001n,
  0x8000000080008008n,
];
const RC_LO = Int32Array.from(ROUND_CONSTANTS, (rc) => Number(rc & 0xffffffffn) | 0);
const RC_HI = Int32Array.from(ROUND_CONSTANTS, (rc) => Number(rc >> 32n) | 0);
/** ρ offsets, indexed [x][y]. */
const ROTATIONS = [
  [0, 36, 3, 41, 18],
  [1, 44, 10, 45, 2],
  [62, 6, 43, 15, 61],
  [28, 55, 25, 21, 56],
  [27, 20, 39, 8, 14],
];
/** For lane x + 5y: its ρ offset and its π destination y + 5((2x + 3y) mod 5). */
const RHO = new Int32Array(25);
const PI = new Int32Array(25);
for (let x = 0; x < 5; x++) {
  for (let y = 0; y < 5; y++) {
    RHO[x + 5 * y] = ROTATIONS[x]![y]!;
    PI[x + 5 * y] = y + 5 * ((2 * x + 3 * y) % 5);
  }
}

const NEXT = [1, 2, 3, 4, 0];
const NEXT2 = [2, 3, 4, 0, 1];
const PREV = [4, 0, 1, 2, 3];
const cLo = new Int32Array(5);
const cHi = new Int32Array(5);
const bLo = new Int32Array(25);
const bHi = new Int32Array(25);

function keccakF(lo: Int32Array, hi: Int32Array): void {
  for (let round = 0; round < 24; round++) {
    for (let x = 0; x < 5; x++) {
      cLo[x] = lo[x]! ^ lo[x + 5]! ^ lo[x + 10]! ^ lo[x + 15]! ^ lo[x + 20]!;
      cHi[x] = hi[x]! ^ hi[x + 5]! ^ hi[x + 10]! ^ hi[x + 15]! ^ hi[x + 20]!;
    }
    for (let x = 0; x < 5; x++) {
      const l = cLo[NEXT[x]!]!;
      const h = cHi[NEXT[x]!]!;
      const dLo = cLo[PREV[x]!]! ^ ((l << 1) | (h >>> 31));
      const dHi = cHi[PREV[x]!]! ^ ((h << 1) | (l >>> 31));
      for (let y = 0; y < 25; y += 5) {
        lo[x + y] = lo[x + y]! ^ dLo;
        hi[x + y] = hi[x + y]! ^ dHi;
      }
    }
    for (let k = 0; k < 25; k++) {
      const n = RHO[k]!;
      const l = lo[k]!;
      const h = hi[k]!;
      const to = PI[k]!;
      if (n === 0) {
        bLo[to] = l;
        bHi[to] = h;
      } else if (n < 32) {
        bLo[to] = (l << n) | (h >>> (32 - n));
        bHi[to] = (h << n) | (l >>> (32 - n));
      } else if (n === 32) {
        bLo[to] = h;
        bHi[to] = l;
      } else {
        const m = n - 32;
        bLo[to] = (h << m) | (l >>> (32 - m));
        bHi[to] = (l << m) | (h >>> (32 - m));
      }
    }
    for (let y = 0; y < 25; y += 5) {
      for (let x = 0; x < 5; x++) {
        const a = x + y;
        const b1 = NEXT[x]! + y;
        const b2 = NEXT2[x]! + y;
        lo[a] = bLo[a]! ^ (~bLo[b1]! & bLo[b2]!);
        hi[a] = bHi[a]! ^ (~bHi[b1]! & bHi[b2]!);
      }
    }
    lo[0] = lo[0]! ^ RC_LO[round]!;
    hi[0] = hi[0]! ^ RC_HI[round]!;
  }
}

/** Keccak-256 as used by Ethereum (EIP-55) and Monero. */
export function keccak256(data: Uint8Array): Uint8Array {
  const rate = 136;
  const padded = new Uint8Array(Math.ceil((data.length + 1) / rate) * rate);
  padded.set(data);
  padded[data.length] = 0x01;
  padded[padded.length - 1]! |= 0x80;
  const lo = new Int32Array(25);
  const hi = new Int32Array(25);
  const word = (at: number) => padded[at]! | (padded[at + 1]! << 8) | (padded[at + 2]! << 16) | (padded[at + 3]! << 24);
  for (let off = 0; off < padded.length; off += rate) {
    for (let lane = 0; lane < rate / 8; lane++) {
      lo[lane] = lo[lane]! ^ word(off + lane * 8);
      hi[lane] = hi[lane]! ^ word(off + lane * 8 + 4);
    }
    keccakF(lo, hi);
  }
  const out = new Uint8Array(32);
  for (let lane = 0; lane < 4; lane++) {
    for (let k = 0; k < 4; k++) {
      out[lane * 8 + k] = (lo[lane]! >>> (8 * k)) & 0xff;
      out[lane * 8 + 4 + k] = (hi[lane]! >>> (8 * k)) & 0xff;
    }
  }
  return out;
}

/** EIP-55 mixed-case checksum; addresses in one case carry none and pass. */
export function checkEip55(address: string): boolean {
  const hex = address.slice(2);
  if (hex === hex.toLowerCase() || hex === hex.toUpperCase()) return true;
  const hash = keccak256(Buffer.from(hex.toLowerCase(), 'ascii'));
  for (let i = 0; i < 40; i++) {
    const ch = hex[i]!;
    if (!/[a-fA-F]/.test(ch)) continue;
    const nibble = (hash[i >> 1]! >> (i % 2 === 0 ? 4 : 0)) & 0xf;
    if (nibble >= 8 !== (ch === ch.toUpperCase())) return false;
  }
  return true;
}

// ---- Monero ----------------------------------------------------------------------------------

/** Characters that encode a block of n bytes in Monero's Base58 (n = 0…8). */
const MONERO_BLOCK_CHARS = [0, 2, 3, 5, 6, 7, 9, 10, 11];
const MONERO_NETWORKS = new Map([
  [18, 'xmr'],
  [19, 'xmr-integrated'],
  [42, 'xmr-subaddress'],
]);

function moneroBase58Decode(s: string): Uint8Array | null {
  const out: number[] = [];
  for (let off = 0; off < s.length; off += 11) {
    const block = s.slice(off, off + 11);
    const size = MONERO_BLOCK_CHARS.indexOf(block.length);
    if (size < 0) return null;
    let v = 0n;
    for (const ch of block) {
      const d = B58_INDEX[ch.charCodeAt(0)] ?? -1;
      if (d < 0) return null;
      v = v * 58n + BigInt(d);
    }
    if (v >> BigInt(8 * size) !== 0n) return null;
    for (let k = size - 1; k >= 0; k--) out.push(Number((v >> BigInt(8 * k)) & 0xffn));
  }
  return Uint8Array.from(out);
}

function checkMonero(address: string): Omit<WalletMention, 'start' | 'end'> {
  const bytes = moneroBase58Decode(address);
  const form = bytes ? (MONERO_NETWORKS.get(bytes[0]!) ?? 'xmr') : 'xmr';
  if (!bytes || !MONERO_NETWORKS.has(bytes[0]!) || bytes.length < 69) return { network: 'xmr', form, valid: false };
  const body = bytes.subarray(0, bytes.length - 4);
  const sum = keccak256(body);
  for (let k = 0; k < 4; k++) if (sum[k] !== bytes[bytes.length - 4 + k]) return { network: 'xmr', form, valid: false };
  return { network: 'xmr', form, valid: true };
}
