const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });

// CLDR names these, but they are not ISO 3166-1 countries (UK is an alias of GB).
const NOT_COUNTRIES = new Set(['ZZ', 'EU', 'EZ', 'UN', 'QO', 'UK']);

/** True for an assigned ISO 3166-1 alpha-2 code (as known to the ICU data of this Node.js). */
export function isCountryCode(code: string): boolean {
  return /^[A-Z]{2}$/.test(code) && !NOT_COUNTRIES.has(code) && names.of(code) !== undefined;
}

export function countryName(code: string): string {
  return names.of(code) ?? code;
}
