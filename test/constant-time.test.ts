import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { csrfTokenMatches } from '../src/identity/web-sessions.js';
import { signPayload, verifySignature } from '../src/webhooks/signature.js';

const SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(full);
    return e.name.endsWith('.ts') ? [full] : [];
  });
}

const read = (file: string) => fs.readFileSync(path.join(SRC, file), 'utf8');

/**
 * Comparisons with `===` that name a secret and are fine: no attacker controls one side
 * and times the answer. Each with its reason.
 */
const ALLOWED = new Map([
  // At start-up, whether the stored demo TOTP secret is the demo's own (src/demo only).
  ['demo/users-seed.ts', /known\.totpSecret/],
]);

const SECRET_NAME = /token|secret|password|csrf|signature|accesskey|access_key|hmac|\bmac\b|digest/i;
/** Operands that are no secret: null, undefined, literals, types, lengths and enumerations. */
const HARMLESS =
  /^(?:null|undefined|true|false|\d.*|['"`].*|typeof\b.*)$|\.(?:length|role|kind|type|status|source|code)$/;

/** Each `a === b` / `a !== b` of a source text where a side names a secret and neither side is harmless. */
function secretComparisons(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/([\w$.[\]'"`]+(?:\([^()\n]*\))?)\s*([!=]==)\s*(typeof\s+\w+|[\w$.[\]'"`]+)/g)) {
    const [, left = '', , right = ''] = m;
    if (HARMLESS.test(left) || HARMLESS.test(right)) continue;
    if (SECRET_NAME.test(left) || SECRET_NAME.test(right)) out.push(m[0]);
  }
  return out;
}

describe('secrets are compared in constant time', () => {
  it('compares no secret with === or !== anywhere in src/', () => {
    const found: string[] = [];
    for (const file of sourceFiles(SRC)) {
      const rel = path.relative(SRC, file);
      const text = fs.readFileSync(file, 'utf8');
      for (const compare of secretComparisons(text)) {
        if (!ALLOWED.get(rel)?.test(compare)) found.push(`${rel}: ${compare}`);
      }
    }
    assert.deepEqual(found, []);
    // The scan does find such comparisons, on either side.
    assert.deepEqual(secretComparisons('if (row.csrf_token === presented) ok();'), ['row.csrf_token === presented']);
    assert.deepEqual(secretComparisons('if (decrypt(x) !== known.totpSecret) no();'), [
      'decrypt(x) !== known.totpSecret',
    ]);
    assert.deepEqual(secretComparisons('if (row.token_hash === null || token.length !== 43) no();'), []);
  });

  it('takes every secret the API is shown through a constant-time or hash-then-look-up path', () => {
    // Bearer tokens and session cookies: only their SHA-256 is stored and looked up.
    assert.match(read('identity/tokens.ts'), /tokenByHash\.first\(db, \{ hash: hashToken\(token\) \}\)/);
    assert.match(read('identity/web-sessions.ts'), /sessionById\.first\(db, \{ id: sessionIdOf\(cookieValue\) \}\)/);
    // CSRF tokens through the helper; the helper through timingSafeEqual.
    assert.match(read('http/auth.ts'), /csrfTokenMatches\(request\.headers\['x-csrf-token'\]/);
    assert.match(read('identity/web-sessions.ts'), /crypto\.timingSafeEqual\(a, b\)/);
    // Report access keys: hashed, then compared with timingSafeEqual.
    assert.match(
      read('reports/service.ts'),
      /crypto\.timingSafeEqual\(given, Buffer\.from\(row\.access_key_hash, 'hex'\)\)/,
    );
    // Webhook signatures (for receivers and our tests).
    assert.match(read('webhooks/signature.ts'), /crypto\.timingSafeEqual\(expected, Buffer\.from\(given, 'hex'\)\)/);
    // Passwords: argon2's verify, which compares in constant time.
    assert.match(read('identity/passwords.ts'), /await verify\(stored, password\)/);
  });

  it('answers false, never throws, for a CSRF token of another length or encoding', () => {
    const expected = 'a'.repeat(43);
    assert.equal(csrfTokenMatches(expected, expected), true);
    assert.equal(csrfTokenMatches(`${expected}a`, expected), false);
    assert.equal(csrfTokenMatches('', expected), false);
    // Same number of characters, more bytes: timingSafeEqual would throw on the length.
    assert.equal(csrfTokenMatches('ä'.repeat(43), expected), false);
    assert.equal(csrfTokenMatches(['a'], expected), false);
    assert.equal(csrfTokenMatches(undefined, expected), false);
  });

  it('verifies webhook signatures without throwing on a short, long or foreign one', () => {
    const header = signPayload('whsec', '{"a":1}');
    assert.equal(verifySignature('whsec', header, '{"a":1}'), true);
    assert.equal(verifySignature('whsec', header, '{"a":2}'), false);
    assert.equal(verifySignature('other', header, '{"a":1}'), false);
    const t = header.split(',')[0];
    for (const v1 of ['ab', 'ab'.repeat(33), 'zz'.repeat(32), '']) {
      assert.equal(verifySignature('whsec', `${t},v1=${v1}`, '{"a":1}'), false, v1);
    }
  });
});
