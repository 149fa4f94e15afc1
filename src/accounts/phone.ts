import { parsePhoneNumberWithError } from 'libphonenumber-js/max';

export interface NormalisedPhone {
  /** E.164, e.g. +4915112345678. */
  e164: string;
  /** ISO 3166-1 alpha-2 of the number, or '001' for non-geographic ranges (+800, +883, +888…). */
  country: string;
}

/**
 * +888 numbers are sold without a SIM (anonymous numbers bought on a
 * marketplace) and are outside libphonenumber's metadata, yet they are real
 * account identifiers. They are accepted as they are: +888 and 7 to 12 digits.
 */
const ANONYMOUS_NUMBER = /^\+888\d{7,12}$/;

/** Parses and validates a phone number; returns null when it is not a valid international number. */
export function normalisePhone(input: string): NormalisedPhone | null {
  if (input.length > 40) return null;
  const compact = input.replace(/[\s().-]/g, '');
  if (ANONYMOUS_NUMBER.test(compact)) return { e164: compact, country: '001' };
  if (!compact.startsWith('+')) return null;
  try {
    const parsed = parsePhoneNumberWithError(input);
    if (!parsed.isValid()) return null;
    return { e164: parsed.number, country: parsed.country ?? '001' };
  } catch {
    return null;
  }
}
