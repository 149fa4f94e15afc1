import crypto from 'node:crypto';
import type { AccountInput } from '../../src/accounts/service.js';
import type { SessionInput } from '../../src/sessions/service.js';
import type { ScanItem, Scanner } from '../../src/scanning/scanner.js';

let counter = 0;
const unique = () => `${Date.now().toString(36)}${(counter++).toString(36)}${crypto.randomBytes(2).toString('hex')}`;

/** German mobile numbers that libphonenumber accepts, distinct per call. */
export function buildPhone(): string {
  return `+49151${String(10_000_000 + Math.floor(Math.random() * 89_999_999))}`;
}

export function buildAccount(overrides: Partial<AccountInput> = {}): AccountInput {
  return { id: `acc-${unique()}`, phone: buildPhone(), username: `user_${unique()}`, country: 'DE', ...overrides };
}

/** A public IPv4 address outside the documentation ranges, random per call. */
export function buildIp(): string {
  return `${11 + Math.floor(Math.random() * 180)}.${Math.floor(Math.random() * 256)}.${Math.floor(Math.random() * 256)}.${1 + Math.floor(Math.random() * 254)}`;
}

export function buildSession(accountId: string, overrides: Partial<SessionInput> = {}): SessionInput {
  return {
    accountId,
    ip: buildIp(),
    port: 1024 + Math.floor(Math.random() * 60000),
    at: new Date(Date.now() - Math.floor(Math.random() * 30 * 86_400_000)).toISOString(),
    ...overrides,
  };
}

/** A text item as a scanner sees it (private chat and unknown language unless said). */
export function scanItem(text: string | null, isPublic = false, language: string | null = null): ScanItem {
  return { id: 'c1', accountId: 'a1', kind: 'text', text, image: null, public: isPublic, language };
}

/** A scanner that always throws, for retry and dead-letter tests. */
export function brokenScanner(): Scanner {
  return {
    name: 'broken',
    cost: 1,
    version: '0',
    accepts: () => true,
    scan: () => {
      throw new Error('model exploded');
    },
  };
}
