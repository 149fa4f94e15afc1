import assert from 'node:assert/strict';
import { it } from 'node:test';
import { buildStatement } from '../src/decisions/statement.js';
import { loadPolicy } from '../src/policy/policy.js';
import { validateStatement } from '../src/transparency/dsa-rules.js';

it('writes out phone numbers, IP and e-mail addresses a moderator quoted, so the published statement carries none', () => {
  const explanation =
    'Offered cocaine; buyers were told to call +49 151 23456789 or mail dealer.one@example.org, logged in from 203.0.113.7 and 2001:db8::1.';
  for (const ground of ['illegal', 'terms'] as const) {
    const statement = buildStatement(loadPolicy(), {
      decisionId: 'dec_1',
      actions: [{ type: 'remove_content' }],
      category: 'illegal_drugs',
      ground,
      explanation,
      subjectType: 'content',
      contentKind: 'text',
      contentLanguage: 'en',
      contentDate: Date.UTC(2026, 10, 1),
      decidedAt: Date.UTC(2026, 10, 2),
      reportSources: ['public'],
      automatedDetection: false,
      automation: 'none',
    });
    assert.ok(statement);
    const text = JSON.stringify(statement);
    for (const secret of ['+49 151 23456789', 'dealer.one@example.org', '203.0.113.7', '2001:db8::1']) {
      assert.ok(!text.includes(secret), `${secret} left in the ${ground} statement`);
    }
    assert.match(statement.decision_facts, /call \[phone\] or mail \[e-mail\], logged in from \[ip\] and \[ip\]/);
    assert.deepEqual(validateStatement(statement), [], 'and it passes the Transparency Database rules');
  }
});
