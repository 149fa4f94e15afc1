import net from 'node:net';
import type { FieldProblem } from '../errors.js';
import { DSA_CATEGORIES } from '../policy/policy.js';

/**
 * The submission rules of the EU DSA Transparency Database for one statement of
 * reasons, checked before a statement is published or sent, so a statement the
 * database would refuse is caught here, with the field named.
 *
 * Source: the database's API documentation, "Statement Attributes" and "Errors"
 * (https://transparency.dsa.ec.europa.eu/page/api-documentation, kept as
 * resources/markdown/api-documentation*.md in github.com/digital-services-act/transparency-database):
 * - required: decision_ground, category, content_type, decision_facts, content_date,
 *   application_date, source_type, automated_detection, automated_decision,
 *   territorial_scope, puid; at least one of decision_visibility, decision_monetary,
 *   decision_provision, decision_account;
 * - DECISION_GROUND_ILLEGAL_CONTENT requires illegal_content_legal_ground (≤ 500) and
 *   illegal_content_explanation (≤ 2000); DECISION_GROUND_INCOMPATIBLE_CONTENT requires
 *   incompatible_content_ground (≤ 500) and incompatible_content_explanation (≤ 2000);
 * - each "…_OTHER" value requires its "…_other" text (≤ 500);
 * - decision_facts ≤ 5000; dates YYYY-MM-DD, content_date ≥ 2000-01-01,
 *   application_date ≥ 2020-01-01, every end date ≥ application_date;
 * - territorial_scope: EU/EEA ISO 3166-1 codes (Greece is GR); content_language: an upper-case
 *   ISO 639-1 code; puid: 1–500 of a-z, A-Z, 0-9, "-" and "_" (enforced since April 2024);
 * - "please take care to not submit ANY personal data" (Article 24(5) DSA): here, no field may
 *   hold anything shaped like a phone number, an e-mail address or an IP address.
 * Enumeration values are those of the current (2025) schema; categories are policy.ts's DSA_CATEGORIES.
 */

export const DECISION_VISIBILITIES = [
  'DECISION_VISIBILITY_CONTENT_REMOVED',
  'DECISION_VISIBILITY_CONTENT_DISABLED',
  'DECISION_VISIBILITY_CONTENT_DEMOTED',
  'DECISION_VISIBILITY_CONTENT_AGE_RESTRICTED',
  'DECISION_VISIBILITY_CONTENT_INTERACTION_RESTRICTED',
  'DECISION_VISIBILITY_CONTENT_LABELLED',
  'DECISION_VISIBILITY_OTHER',
] as const;
export const DECISION_MONETARIES = [
  'DECISION_MONETARY_SUSPENSION',
  'DECISION_MONETARY_TERMINATION',
  'DECISION_MONETARY_OTHER',
] as const;
export const DECISION_PROVISIONS = [
  'DECISION_PROVISION_PARTIAL_SUSPENSION',
  'DECISION_PROVISION_TOTAL_SUSPENSION',
  'DECISION_PROVISION_PARTIAL_TERMINATION',
  'DECISION_PROVISION_TOTAL_TERMINATION',
] as const;
export const DECISION_ACCOUNTS = ['DECISION_ACCOUNT_SUSPENDED', 'DECISION_ACCOUNT_TERMINATED'] as const;
export const ACCOUNT_TYPES = ['ACCOUNT_TYPE_BUSINESS', 'ACCOUNT_TYPE_PRIVATE'] as const;
export const DECISION_GROUNDS = ['DECISION_GROUND_ILLEGAL_CONTENT', 'DECISION_GROUND_INCOMPATIBLE_CONTENT'] as const;
export const CONTENT_TYPES = [
  'CONTENT_TYPE_APP',
  'CONTENT_TYPE_AUDIO',
  'CONTENT_TYPE_IMAGE',
  'CONTENT_TYPE_PRODUCT',
  'CONTENT_TYPE_SYNTHETIC_MEDIA',
  'CONTENT_TYPE_TEXT',
  'CONTENT_TYPE_VIDEO',
  'CONTENT_TYPE_OTHER',
] as const;
export const SOURCE_TYPES = [
  'SOURCE_ARTICLE_16',
  'SOURCE_TRUSTED_FLAGGER',
  'SOURCE_TYPE_OTHER_NOTIFICATION',
  'SOURCE_VOLUNTARY',
] as const;
export const AUTOMATED_DECISIONS = [
  'AUTOMATED_DECISION_FULLY',
  'AUTOMATED_DECISION_PARTIALLY',
  'AUTOMATED_DECISION_NOT_AUTOMATED',
] as const;
const YES_NO = ['Yes', 'No'] as const;

/** The 27 EU member states and Iceland, Liechtenstein and Norway. */
export const EEA_COUNTRIES = [
  ...['AT', 'BE', 'BG', 'CY', 'CZ', 'DE', 'DK', 'EE', 'ES', 'FI', 'FR', 'GR', 'HR', 'HU'],
  ...['IE', 'IS', 'IT', 'LI', 'LT', 'LU', 'LV', 'MT', 'NL', 'NO', 'PL', 'PT', 'RO', 'SE', 'SI', 'SK'],
] as const;

/** ISO 639-1 two-letter language codes (the current list, without the withdrawn "bh"). */
const ISO_639_1 = new Set(
  (
    'aa ab ae af ak am an ar as av ay az ba be bg bi bm bn bo br bs ca ce ch co cr cs cu cv cy da de dv dz ' +
    'ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu hy hz ia id ie ig ii ' +
    'ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb lg li ln lo lt lu lv mg mh mi ' +
    'mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om or os pa pi pl ps pt qu rm rn ro ru rw ' +
    'sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ' +
    'ur uz ve vi vo wa wo xh yi yo za zh zu'
  )
    .toUpperCase()
    .split(' '),
);

/** Every attribute the database knows; anything else is a mistake (and a way for personal data to slip out). */
const KNOWN_FIELDS = new Set([
  'decision_visibility',
  'decision_visibility_other',
  'decision_monetary',
  'decision_monetary_other',
  'decision_provision',
  'decision_account',
  'account_type',
  'decision_ground',
  'decision_ground_reference_url',
  'illegal_content_legal_ground',
  'illegal_content_explanation',
  'incompatible_content_ground',
  'incompatible_content_explanation',
  'incompatible_content_illegal',
  'category',
  'category_addition',
  'category_specification',
  'category_specification_other',
  'content_type',
  'content_type_other',
  'content_id',
  'content_language',
  'content_date',
  'territorial_scope',
  'application_date',
  'end_date_account_restriction',
  'end_date_monetary_restriction',
  'end_date_service_restriction',
  'end_date_visibility_restriction',
  'decision_facts',
  'source_type',
  'source_identity',
  'automated_detection',
  'automated_decision',
  'puid',
]);

export const DECISION_FACTS_LIMIT = 5000;
export const EXPLANATION_LIMIT = 2000;
export const SHORT_TEXT_LIMIT = 500;
const PUID = /^[A-Za-z0-9_-]{1,500}$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

type Rec = Record<string, unknown>;

/**
 * Checks one statement of reasons against the Transparency Database's rules.
 * Returns every problem (empty when the statement may be submitted), each naming
 * the field by JSON pointer and a stable code; messages never quote the value,
 * so problems can be logged and audited.
 */
export function validateStatement(record: unknown): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const add = (path: string, code: string, message: string) => problems.push({ path, code, message });
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    add('/', 'wrong_type', 'a statement is a JSON object');
    return problems;
  }
  const r = record as Rec;
  for (const key of Object.keys(r)) {
    if (!KNOWN_FIELDS.has(key)) add(`/${key}`, 'unknown_field', 'is not an attribute of the Transparency Database');
  }
  const present = (key: string) => r[key] !== undefined && r[key] !== null;

  // The decision: at least one of the four kinds of restriction.
  if (!['decision_visibility', 'decision_monetary', 'decision_provision', 'decision_account'].some(present)) {
    add(
      '/decision_visibility',
      'missing_decision',
      'one of decision_visibility, decision_monetary, decision_provision or decision_account is required',
    );
  }
  const visibility = enumList(r, 'decision_visibility', DECISION_VISIBILITIES, false, add);
  otherText(r, 'decision_visibility_other', visibility.includes('DECISION_VISIBILITY_OTHER'), add);
  const monetary = enumValue(r, 'decision_monetary', DECISION_MONETARIES, false, add);
  otherText(r, 'decision_monetary_other', monetary === 'DECISION_MONETARY_OTHER', add);
  enumValue(r, 'decision_provision', DECISION_PROVISIONS, false, add);
  enumValue(r, 'decision_account', DECISION_ACCOUNTS, false, add);
  enumValue(r, 'account_type', ACCOUNT_TYPES, false, add);

  // The ground and what each ground requires.
  const ground = enumValue(r, 'decision_ground', DECISION_GROUNDS, true, add);
  const illegal = ground === 'DECISION_GROUND_ILLEGAL_CONTENT';
  const incompatible = ground === 'DECISION_GROUND_INCOMPATIBLE_CONTENT';
  text(r, 'illegal_content_legal_ground', SHORT_TEXT_LIMIT, illegal, add);
  text(r, 'illegal_content_explanation', EXPLANATION_LIMIT, illegal, add);
  text(r, 'incompatible_content_ground', SHORT_TEXT_LIMIT, incompatible, add);
  text(r, 'incompatible_content_explanation', EXPLANATION_LIMIT, incompatible, add);
  enumValue(r, 'incompatible_content_illegal', YES_NO, false, add);
  if (present('decision_ground_reference_url')) {
    const url = r.decision_ground_reference_url;
    if (typeof url !== 'string') add('/decision_ground_reference_url', 'wrong_type', 'must be a string');
    else if (url.length > SHORT_TEXT_LIMIT) add('/decision_ground_reference_url', 'too_long', 'at most 500 characters');
    else if (!isHttpUrl(url)) add('/decision_ground_reference_url', 'invalid_format', 'must be an http(s) URL');
  }

  // What was restricted.
  enumValue(r, 'category', DSA_CATEGORIES, true, add);
  enumList(r, 'category_addition', DSA_CATEGORIES, false, add);
  const keywords = patternList(r, 'category_specification', /^KEYWORD_[A-Z0-9_]+$/, add);
  otherText(r, 'category_specification_other', keywords.includes('KEYWORD_OTHER'), add);
  const contentTypes = enumList(r, 'content_type', CONTENT_TYPES, true, add);
  otherText(r, 'content_type_other', contentTypes.includes('CONTENT_TYPE_OTHER'), add);
  if (present('content_id')) contentId(r.content_id, add);
  if (present('content_language')) {
    const language = r.content_language;
    if (typeof language !== 'string') add('/content_language', 'wrong_type', 'must be a string');
    else if (!/^[A-Z]{2}$/.test(language) || !ISO_639_1.has(language)) {
      add('/content_language', 'not_allowed', 'must be an upper-case ISO 639-1 code');
    }
  }
  enumList(r, 'territorial_scope', EEA_COUNTRIES, true, add);

  // When.
  date(r, 'content_date', true, '2000-01-01', add);
  const applicationDate = date(r, 'application_date', true, '2020-01-01', add);
  for (const field of [
    'end_date_account_restriction',
    'end_date_monetary_restriction',
    'end_date_service_restriction',
    'end_date_visibility_restriction',
  ]) {
    const end = date(r, field, false, '2020-01-01', add);
    if (end && applicationDate && end < applicationDate) {
      add(`/${field}`, 'before_application_date', 'must be on or after application_date');
    }
  }

  // Why and how.
  text(r, 'decision_facts', DECISION_FACTS_LIMIT, true, add);
  enumValue(r, 'source_type', SOURCE_TYPES, true, add);
  text(r, 'source_identity', SHORT_TEXT_LIMIT, false, add);
  enumValue(r, 'automated_detection', YES_NO, true, add);
  enumValue(r, 'automated_decision', AUTOMATED_DECISIONS, true, add);

  if (!present('puid')) add('/puid', 'missing_field', 'is required');
  else if (typeof r.puid !== 'string') add('/puid', 'wrong_type', 'must be a string');
  else if (!PUID.test(r.puid)) add('/puid', 'invalid_format', 'must be 1-500 of a-z, A-Z, 0-9, "-" and "_"');

  for (const [key, value] of Object.entries(r)) findPersonalData(value, `/${key}`, add);
  return problems;
}

type Add = (path: string, code: string, message: string) => void;

function enumValue<T extends string>(
  r: Rec,
  field: string,
  allowed: readonly T[],
  required: boolean,
  add: Add,
): T | undefined {
  const value = r[field];
  if (value === undefined || value === null) {
    if (required) add(`/${field}`, 'missing_field', 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    add(`/${field}`, 'wrong_type', 'must be a string');
    return undefined;
  }
  if (!(allowed as readonly string[]).includes(value)) {
    add(`/${field}`, 'not_allowed', 'is not one of the allowed values');
    return undefined;
  }
  return value as T;
}

/** A non-empty array of distinct allowed values; returns the valid ones. */
function enumList(r: Rec, field: string, allowed: readonly string[], required: boolean, add: Add): string[] {
  return checkList(r, field, required, add, (v) => allowed.includes(v), 'is not one of the allowed values');
}

function patternList(r: Rec, field: string, pattern: RegExp, add: Add): string[] {
  return checkList(r, field, false, add, (v) => pattern.test(v), 'is not one of the allowed values');
}

function checkList(
  r: Rec,
  field: string,
  required: boolean,
  add: Add,
  allowed: (v: string) => boolean,
  message: string,
): string[] {
  const value = r[field];
  if (value === undefined || value === null) {
    if (required) add(`/${field}`, 'missing_field', 'is required');
    return [];
  }
  if (!Array.isArray(value)) {
    add(`/${field}`, 'wrong_type', 'must be an array');
    return [];
  }
  if (value.length === 0) {
    // An empty list says nothing; for an optional list the database reads it as absent.
    if (required) add(`/${field}`, 'missing_field', 'needs at least one value');
    return [];
  }
  const valid: string[] = [];
  value.forEach((v, i) => {
    if (typeof v !== 'string') add(`/${field}/${i}`, 'wrong_type', 'must be a string');
    else if (!allowed(v)) add(`/${field}/${i}`, 'not_allowed', message);
    else if (valid.includes(v)) add(`/${field}/${i}`, 'duplicate_value', 'appears twice');
    else valid.push(v);
  });
  return valid;
}

/** Free text: a string of at most `limit` characters, not blank when present. */
function text(r: Rec, field: string, limit: number, required: boolean, add: Add): void {
  const value = r[field];
  if (value === undefined || value === null) {
    if (required) add(`/${field}`, 'missing_field', 'is required');
    return;
  }
  if (typeof value !== 'string') add(`/${field}`, 'wrong_type', 'must be a string');
  else if (value.trim() === '') add(`/${field}`, required ? 'missing_field' : 'empty', 'must not be blank');
  // Characters as the database counts them (code points), so an emoji counts once.
  else if ([...value].length > limit) add(`/${field}`, 'too_long', `at most ${limit} characters`);
}

/** The "…_other" text an "…_OTHER" value requires. */
function otherText(r: Rec, field: string, required: boolean, add: Add): void {
  text(r, field, SHORT_TEXT_LIMIT, required, add);
}

/** A calendar date YYYY-MM-DD on or after `earliest`; returns it when valid. */
function date(r: Rec, field: string, required: boolean, earliest: string, add: Add): string | undefined {
  const value = r[field];
  if (value === undefined || value === null) {
    if (required) add(`/${field}`, 'missing_field', 'is required');
    return undefined;
  }
  if (typeof value !== 'string') {
    add(`/${field}`, 'wrong_type', 'must be a string');
    return undefined;
  }
  if (!isCalendarDay(value)) {
    add(`/${field}`, 'invalid_format', 'must be a date YYYY-MM-DD');
    return undefined;
  }
  if (value < earliest) {
    add(`/${field}`, 'too_early', `must be on or after ${earliest}`);
    return undefined;
  }
  return value;
}

/** YYYY-MM-DD naming a day that exists (no 2026-02-30). */
export function isCalendarDay(value: string): boolean {
  if (!DAY.test(value)) return false;
  const t = Date.parse(`${value}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().slice(0, 10) === value;
}

function isHttpUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}

/** Key-value identifiers of the content; the database accepts only an EAN-13 product code. */
function contentId(value: unknown, add: Add): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    add('/content_id', 'wrong_type', 'must be an object of identifiers');
    return;
  }
  for (const [key, v] of Object.entries(value)) {
    if (key !== 'EAN-13') add(`/content_id/${key}`, 'not_allowed', 'only EAN-13 is accepted');
    else if (typeof v !== 'string' || !/^\d{13}$/.test(v)) {
      add(`/content_id/${key}`, 'invalid_format', 'an EAN-13 code is 13 digits');
    }
  }
}

// Shapes of personal data. A phone number in E.164 form: "+", a country code, 7 to 15 digits
// in all, perhaps grouped by spaces, dashes, dots or brackets (+49 30 1234567, +1 (555) 010-0000).
const PHONE = /\+[1-9](?:[\s().-]{0,2}\d){6,14}(?!\d)/;
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/;
// Dotted quads not part of a longer dotted number (a version such as 1.2.3.4.5 is not an address).
const IPV4_CANDIDATE = /(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d]|\.\d)/g;

/** Adds a problem for each string under `value` that holds something shaped like personal data. */
function findPersonalData(value: unknown, path: string, add: Add): void {
  if (typeof value === 'string') {
    if (PHONE.test(value)) add(path, 'personal_data_phone', 'holds something shaped like a phone number');
    if (EMAIL.test(value)) add(path, 'personal_data_email', 'holds something shaped like an e-mail address');
    if (hasIpAddress(value)) add(path, 'personal_data_ip', 'holds something shaped like an IP address');
    return;
  }
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) findPersonalData(v, `${path}/${i}`, add);
    return;
  }
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) findPersonalData(v, `${path}/${k}`, add);
  }
}

function hasIpAddress(text: string): boolean {
  for (const m of text.matchAll(IPV4_CANDIDATE)) if (net.isIPv4(m[0])) return true;
  if (!text.includes(':')) return false;
  // IPv6: runs of hex digits, colons and dots (for an embedded IPv4 tail) holding two colons or
  // more, as net.isIPv6 reads them; a clock time (12:30:05) is not one, "::" alone or "e::" (the
  // end of a word before "::") are too thin to call an address.
  for (const token of text.split(/[^0-9A-Fa-f:.]+/)) {
    const candidate = token.replace(/\.+$/, '');
    if ((candidate.match(/:/g) ?? []).length < 2) continue;
    if (candidate.split(':').filter((g) => g !== '').length < 2) continue;
    if (net.isIPv6(candidate)) return true;
  }
  return false;
}
