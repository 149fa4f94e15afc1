import crypto from 'node:crypto';
import ipaddr from 'ipaddr.js';
import { normalisePhone } from '../../src/accounts/phone.js';

/** A phone number as the platform sends it, and every form it could be stored or logged in. */
export interface PhoneSample {
  /** As sent (with spaces, parentheses, dashes). */
  input: string;
  e164: string;
  /** Text that must never appear in clear: E.164, its digits, the national number. */
  forms: string[];
}

/** An IP address as sent, and every form it could be stored or logged in. */
export interface IpSample {
  input: string;
  normalised: string;
  version: 4 | 6;
  /** Text forms: as sent, normalised, and for IPv6 the full eight groups. */
  forms: string[];
  /** The address as bytes (searched for in raw files, IPv6 only: 4 bytes collide with random data). */
  bytes: Buffer | null;
}

const digits = (n: number) => Array.from({ length: n }, () => crypto.randomInt(10)).join('');

const SHAPES: Record<string, { cc: string; format: (d: string) => string; national: number }> = {
  DE: { cc: '49', national: 11, format: (d) => `+49 (151) ${d.slice(0, 4)}-${d.slice(4)}` },
  FR: {
    cc: '33',
    national: 9,
    format: (d) => `+33 6 ${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4, 6)} ${d.slice(6)}`,
  },
  RU: { cc: '7', national: 10, format: (d) => `+7 916 ${d.slice(0, 3)}-${d.slice(3, 5)}-${d.slice(5)}` },
  ANON: { cc: '888', national: 8, format: (d) => `+888 0${d.slice(0, 3)} ${d.slice(3)}` },
};
const SUFFIX_DIGITS: Record<string, number> = { DE: 8, FR: 8, RU: 7, ANON: 7 };

/** A random valid phone number of one of a few shapes, written with separators. */
export function samplePhone(shape: 'DE' | 'FR' | 'RU' | 'ANON' = 'DE'): PhoneSample {
  const s = SHAPES[shape]!;
  for (let attempt = 0; attempt < 50; attempt++) {
    const input = s.format(digits(SUFFIX_DIGITS[shape]!));
    const parsed = normalisePhone(input);
    if (!parsed) continue;
    const e164 = parsed.e164;
    const national = e164.slice(1 + s.cc.length);
    return { input, e164, forms: [...new Set([input, e164, e164.slice(1), national])] };
  }
  throw new Error(`could not make a valid ${shape} number`);
}

/** A random public IPv4 address (outside documentation ranges); `mapped` sends it as ::ffff:a.b.c.d. */
export function sampleIpv4(options: { mapped?: boolean } = {}): IpSample {
  const text = `${11 + crypto.randomInt(180)}.${crypto.randomInt(256)}.${crypto.randomInt(256)}.${1 + crypto.randomInt(254)}`;
  const input = options.mapped ? `::ffff:${text}` : text;
  return { input, normalised: text, version: 4, forms: [...new Set([input, text])], bytes: null };
}

/** A random global IPv6 address, sent in upper case with leading zeros so the stored form differs. */
export function sampleIpv6(): IpSample {
  const groups = ['2a02', ...Array.from({ length: 7 }, () => crypto.randomInt(1, 0xffff).toString(16))];
  groups[4] = '0';
  groups[5] = '0';
  const parsed = ipaddr.IPv6.parse(groups.join(':'));
  const normalised = parsed.toString();
  const full = parsed.toNormalizedString();
  const padded = parsed.parts.map((g) => g.toString(16).padStart(4, '0')).join(':');
  const input = padded.toUpperCase();
  return {
    input,
    normalised,
    version: 6,
    forms: [...new Set([input, normalised, full, padded])],
    bytes: Buffer.from(parsed.toByteArray()),
  };
}
