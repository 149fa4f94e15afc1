import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { AUTHORITY_KINDS as SERVER_AUTHORITY_KINDS } from '../src/authorities/service.js';
import { ACTION_TYPES } from '../src/decisions/statement.js';
import { ROLES as SERVER_ROLES } from '../src/identity/roles.js';
import { USER_ROLES as SERVER_USER_ROLES } from '../src/identity/users.js';
import { REASON_CODES as SERVER_REASON_CODES } from '../src/legal/checks.js';
import { DISCLOSABLE_DATA, ORDER_TYPES as SERVER_ORDER_TYPES } from '../src/legal/disclosure-policy.js';
import { LEGAL_STATUSES as SERVER_LEGAL_STATUSES } from '../src/legal/service.js';
import { CATEGORY_CODES as SERVER_CATEGORY_CODES } from '../src/policy/policy.js';
import * as banks from '../src/hashes/banks.js';
import { WEBHOOK_EVENTS as SERVER_WEBHOOK_EVENTS } from '../src/webhooks/outbox.js';
import {
  ACTIONS,
  AUTHORITY_KINDS,
  BANK_ACTIONS,
  CATEGORY_CODES,
  CHECK_LABELS,
  DATA_CATEGORIES,
  DEFAULT_PDQ_THRESHOLD,
  HASH_KINDS,
  LEGAL_STATUSES,
  MAX_PDQ_THRESHOLD,
  ORDER_TYPES,
  REASON_CODES,
  ROLES,
  USER_ROLES,
  WEBHOOK_EVENTS,
  reasonText,
} from '../web/src/lib/vocabulary.ts';

/**
 * The web app keeps its own copy of the API's codes (importing the server's
 * modules would pull them into the browser bundle): these fail when they drift.
 */
describe('the web app speaks the API’s codes (web/src/lib/vocabulary.ts)', () => {
  it('categories, actions, roles, authority kinds', () => {
    assert.deepEqual([...CATEGORY_CODES].sort(), [...SERVER_CATEGORY_CODES].sort());
    assert.deepEqual(
      ACTIONS.map((a) => a.code),
      [...ACTION_TYPES],
    );
    assert.deepEqual([...ROLES].sort(), [...SERVER_ROLES].sort());
    assert.deepEqual([...USER_ROLES], [...SERVER_USER_ROLES]);
    assert.deepEqual([...AUTHORITY_KINDS], [...SERVER_AUTHORITY_KINDS]);
  });

  it('webhook events', () => {
    assert.deepEqual([...WEBHOOK_EVENTS], [...SERVER_WEBHOOK_EVENTS]);
  });

  it('hash banks: actions, hash kinds, thresholds', () => {
    assert.deepEqual(
      BANK_ACTIONS.map((a) => a.code),
      [...banks.BANK_ACTIONS],
    );
    assert.deepEqual([...HASH_KINDS], [...banks.HASH_KINDS]);
    assert.deepEqual(
      [DEFAULT_PDQ_THRESHOLD, MAX_PDQ_THRESHOLD],
      [banks.DEFAULT_PDQ_THRESHOLD, banks.MAX_PDQ_THRESHOLD],
    );
  });

  it('legal orders: types, statuses, data categories, every reason code explained in words', () => {
    assert.deepEqual(
      ORDER_TYPES.map((t) => t.code),
      [...SERVER_ORDER_TYPES],
    );
    assert.deepEqual(Object.keys(LEGAL_STATUSES), [...SERVER_LEGAL_STATUSES]);
    assert.deepEqual(
      DATA_CATEGORIES.map((d) => d.code),
      [...DISCLOSABLE_DATA],
    );
    assert.deepEqual([...REASON_CODES].sort(), [...SERVER_REASON_CODES].sort());
    for (const code of SERVER_REASON_CODES) {
      assert.ok(reasonText(code).length > 20 && reasonText(code) !== code, `${code} is explained`);
    }
  });

  it('every automatic check the server runs has a label', () => {
    // The names checks.ts records, each written as a string literal in an add('…', …) call.
    const checks = fs.readFileSync(new URL('../src/legal/checks.ts', import.meta.url), 'utf8');
    const names = new Set([...checks.matchAll(/add\(\s*'([a-z_]+)'/g)].map((m) => m[1] as string));
    assert.ok(names.size >= 8, `found the check names in checks.ts: ${[...names].join(', ')}`);
    for (const name of names) assert.ok(CHECK_LABELS[name], `a label for the check ${name}`);
  });
});
