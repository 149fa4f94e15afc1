import { type CountryCode, isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';

/**
 * Phone numbers in text. A cheap pattern finds digit runs that could be a
 * number — international (`+49 151 2345 6789`, `0049…`) or local with separators
 * (`0151 / 234 56 789`, `(030) 1234-567`) — and libphonenumber's full metadata
 * decides whether each is a valid number: international forms always, local
 * forms only for the regions a rule names (a local number means nothing without
 * its country). Anonymous +888 numbers (no SIM, bought on a marketplace; see
 * SPEC.md) are outside libphonenumber's metadata and are accepted by shape.
 * Dates and times (`2024-01-15`, `15.01.2024`) are not numbers.
 */

export interface PhoneCandidate {
  /** The candidate as written (digits and separators). */
  readonly raw: string;
  readonly digits: string;
  readonly international: boolean;
  readonly start: number;
  readonly end: number;
}

export interface PhoneNumberFound {
  /** E.164. */
  readonly e164: string;
  /** ISO 3166-1 alpha-2, or '001' for non-geographic numbers. */
  readonly region: string;
}

/** Bounded, and separators and digits are disjoint, so this runs in linear time. */
const CANDIDATE = /(?<![\p{L}\p{N}+])(?:\+|00)?\d(?:[ .\-/()\u00a0]{0,3}\d){6,16}(?!\p{N})/gu;
const DATE = /^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4}|\d{1,2}[:.]\d{2}(?:[:.]\d{2})?)$/;
const ANONYMOUS = /^888\d{7,12}$/;

/** Finds phone-number-shaped runs in (`compat`-normalised) text. */
export function findPhoneCandidates(text: string): PhoneCandidate[] {
  const found: PhoneCandidate[] = [];
  CANDIDATE.lastIndex = 0;
  for (let m = CANDIDATE.exec(text); m !== null; m = CANDIDATE.exec(text)) {
    const raw = m[0];
    const start = m.index;
    if (DATE.test(raw)) continue;
    const digits = raw.replace(/\D/g, '');
    const international = raw.startsWith('+') || raw.startsWith('00');
    const national = raw.startsWith('00') ? digits.slice(2) : digits;
    if (national.length < 7 || national.length > 15) continue;
    found.push({ raw, digits: national, international, start, end: start + raw.length });
  }
  return found;
}

/**
 * Validations already made. libphonenumber takes about 20 µs per number, and a
 * spam campaign repeats its number in thousands of messages. Bounded, in memory
 * only, cleared whole when full.
 */
const VALIDATED = new Map<string, PhoneNumberFound | null>();
const VALIDATED_MAX = 4096;

/** Validates a candidate: international forms on their own, local ones against `region`. */
export function validatePhone(candidate: PhoneCandidate, region?: string): PhoneNumberFound | null {
  const key = candidate.international ? candidate.digits : `${region ?? ''}:${candidate.raw}`;
  let found = VALIDATED.get(key);
  if (found === undefined) {
    found = validateUncached(candidate, region);
    if (VALIDATED.size >= VALIDATED_MAX) VALIDATED.clear();
    VALIDATED.set(key, found);
  }
  return found;
}

function validateUncached(candidate: PhoneCandidate, region?: string): PhoneNumberFound | null {
  if (candidate.international) {
    if (ANONYMOUS.test(candidate.digits)) return { e164: `+${candidate.digits}`, region: '001' };
    const parsed = parsePhoneNumberFromString(`+${candidate.digits}`);
    if (!parsed?.isValid()) return null;
    return { e164: parsed.number, region: parsed.country ?? '001' };
  }
  if (!region || !isSupportedCountry(region)) return null;
  const parsed = parsePhoneNumberFromString(candidate.raw, region as CountryCode);
  if (!parsed?.isValid()) return null;
  return { e164: parsed.number, region: parsed.country ?? region };
}

/** Whether libphonenumber knows the region code (ISO 3166-1 alpha-2). */
export const isPhoneRegion = (region: string) => isSupportedCountry(region);
