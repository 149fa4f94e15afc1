import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { before, it } from 'node:test';
import YAML from 'yaml';
import { DEFAULT_POLICY_FILE, PolicyError, loadPolicy } from '../src/policy/policy.js';
import { buildScanning } from '../src/scanning/build.js';
import { DEFAULT_TEXT_MODEL_FILE } from '../src/scanning/classifier/text-model.js';
import type { ScanPipeline } from '../src/scanning/pipeline.js';
import type { Signal } from '../src/scanning/scanner.js';
import { buildAccount, scanItem } from './helpers/factories.js';
import { cleanEnv, runCli as runCliProcess } from './helpers/cli-process.js';
import { describeEachStore } from './helpers/harness.js';

const item = scanItem;

/** The shipped policy with its `scanning` section changed by `edit`, written to a temp file. */
function policyFile(edit: (scanning: Record<string, any>) => void, raw?: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-policy-'));
  const file = path.join(dir, 'policy.yaml');
  if (raw !== undefined) {
    fs.writeFileSync(file, raw);
    return file;
  }
  const doc = YAML.parse(fs.readFileSync(DEFAULT_POLICY_FILE, 'utf8'));
  edit(doc.scanning);
  fs.writeFileSync(file, YAML.stringify(doc));
  return file;
}

let shipped: ScanPipeline;
before(async () => {
  shipped = (await buildScanning(loadPolicy())).scanner;
});

const by = (signals: Signal[], scanner: string) => signals.filter((s) => s.scanner === scanner);

it('runs language, rules and our classifier by default, each version recorded with the verdict', async () => {
  const v = await shipped.scan(item('selling cocaine, dm me for the menu'));
  assert.equal(v.action, 'review');
  assert.equal(v.category, 'illegal_drugs');
  assert.equal(v.language, 'en');
  assert.deepEqual(Object.keys(v.versions).sort(), ['classifier', 'language', 'rules']);
  assert.match(v.versions.classifier!, /^sha256:[0-9a-f]{64}$/);
  assert.match(v.versions.rules!, /^rules:\d+:[0-9a-f]{16}$/);
  assert.ok(by(v.signals, 'rules').some((s) => s.detail?.ruleId === 'drugs-sale-en'));
  assert.ok(by(v.signals, 'classifier').some((s) => s.category === 'illegal_drugs' && s.score > 0.9));
  // The substance-name rule ships in shadow mode: recorded, never acted on.
  const substances = by(v.signals, 'rules').find((s) => s.detail?.ruleId === 'drugs-substances');
  assert.equal(substances?.shadow, true);
});

it('leaves everyday chat alone, in every language of the corpus', async () => {
  for (const text of [
    'See you tomorrow at the station, bring the tickets',
    'Увидимся завтра на вокзале',
    'Nos vemos mañana en la estación',
    'A reunião foi adiada para as 15h',
    'سأراك غدا في المحطة',
    'فردا در ایستگاه می‌بینمت',
    'कल स्टेशन पर मिलते हैं',
    'Happy birthday! Have a great day',
  ]) {
    const v = await shipped.scan(item(text));
    assert.equal(v.action, 'allow', `${text}: ${JSON.stringify(v.signals)}`);
  }
});

it('handles hostile text without failing: empty, emoji-only, right-to-left and mixed scripts, lone surrogates, 1 MB', async () => {
  for (const text of [
    '',
    '   ',
    '🙂🙂🙂🔥',
    'مرحبا hello привет 你好',
    '\u202Eevil\u202C text',
    'bad \ud800 half',
    '\u0000\u0001',
  ]) {
    const v = await shipped.scan(item(text));
    assert.ok(['allow', 'review', 'remove'].includes(v.action), JSON.stringify(text));
  }
  // 1 MB: bounded work, the first maxTextChars characters are read (the cut is documented).
  const huge = `${'harmless words about the weather. '.repeat(31_000)}selling cocaine, dm me`;
  assert.ok(huge.length > 1_000_000);
  const v = await shipped.scan(item(huge));
  assert.equal(v.action, 'allow', 'the tail beyond the cut is not read');
  const headFirst = await shipped.scan(item(`selling cocaine, dm me ${huge}`));
  assert.equal(headFirst.action, 'review');
});

it('rules: action review never removes, action remove may; thresholds decide per surface', async () => {
  const file = policyFile((s) => {
    s.thresholds.categories.weapons = { review: 0.5, remove: 0.9, private: { remove: 1.01 } };
    s.shadow = { scanners: ['classifier'] };
    s.rules.push(
      { id: 'test-review-only', category: 'weapons', kind: 'keywords', terms: ['blorptastic rifle'], score: 1 },
      {
        id: 'test-removing',
        category: 'weapons',
        kind: 'keywords',
        terms: ['zapgun deal'],
        score: 0.95,
        action: 'remove',
      },
    );
  });
  const { scanner } = await buildScanning(loadPolicy(file));
  assert.equal((await scanner.scan(item('a blorptastic rifle here', true))).action, 'review');
  assert.equal((await scanner.scan(item('zapgun deal today', true))).action, 'remove');
  assert.equal((await scanner.scan(item('zapgun deal today', false))).action, 'review', 'private chats differ');
  const shadowed = await scanner.scan(item('I will kill you and your family tonight'));
  assert.equal(shadowed.action, 'allow', 'a shadowed scanner takes no action');
  assert.ok(by(shadowed.signals, 'classifier').every((s) => s.shadow === true));
  assert.ok(by(shadowed.signals, 'classifier').length > 0, 'but its signals are recorded');
});

it('refuses a policy whose rules are broken, naming the rule and its line', async () => {
  const badRegex = policyFile((s) => {
    s.rules.push({ id: 'broken', category: 'spam', kind: 'regex', patterns: ['(unclosed'] });
  });
  await assert.rejects(buildScanning(loadPolicy(badRegex)), (error: Error) => {
    assert.ok(error instanceof PolicyError);
    assert.match(error.message, /broken/);
    assert.match(error.message, /line \d+/);
    return true;
  });
  const unknownCategory = policyFile((s) => {
    s.rules.push({ id: 'nowhere', category: 'jaywalking', kind: 'keywords', terms: ['x'] });
  });
  await assert.rejects(buildScanning(loadPolicy(unknownCategory)), /unknown category 'jaywalking'/);
});

it('refuses to start with a missing or corrupt model file, saying which (no silent fallback to rules)', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-model-'));
  const corrupt = path.join(dir, 'text-linear-v1.bin');
  fs.writeFileSync(corrupt, fs.readFileSync(DEFAULT_TEXT_MODEL_FILE).subarray(0, 4096));
  for (const [file, problem] of [
    [path.join(dir, 'missing.bin'), /missing\.bin/],
    [corrupt, /text-linear-v1\.bin/],
  ] as const) {
    const run = await runCliProcess(
      ['migrate'],
      cleanEnv({
        CUSTOS_DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'custos-data-')),
        CUSTOS_TEXT_MODEL_FILE: file,
      }),
      60_000,
    );
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.stderr, /custos: text model/);
    assert.match(run.stderr, problem);
  }
});

describeEachStore('content scanning with the shipped pipeline', (get) => {
  it('answers verdicts with rule and classifier signals; a 1 MB text is stored and scanned on its head', async () => {
    const h = get();
    const a = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [a] } });
    const at = new Date(Date.now() - 60_000).toISOString();
    const big = `selling cocaine, dm me. ${'x'.repeat(1_000_000)}`;
    const res = await h.call('POST', '/v1/ingest/content', {
      token: h.tokens.platform,
      body: {
        items: [
          { id: 'd-ok', accountId: a.id, kind: 'text', text: 'The meeting moved to 3pm', createdAt: at },
          { id: 'd-drugs', accountId: a.id, kind: 'text', text: 'coke for sale, dm me', createdAt: at },
          {
            id: 'd-scam',
            accountId: a.id,
            kind: 'text',
            text: 'send 0.5 BTC and we will return 1 BTC',
            createdAt: at,
            public: true,
          },
          { id: 'd-big', accountId: a.id, kind: 'text', text: big, createdAt: at },
        ],
      },
    });
    assert.equal(res.statusCode, 200, res.body);
    const [ok, drugs, scam, huge] = res.data.results;
    assert.equal(ok.verdict.action, 'allow');
    assert.equal(drugs.verdict.action, 'review');
    assert.ok(drugs.verdict.signals.some((s: Signal) => s.scanner === 'rules'));
    assert.ok(drugs.verdict.signals.some((s: Signal) => s.scanner === 'classifier'));
    assert.equal(scam.verdict.action, 'remove', JSON.stringify(scam.verdict));
    assert.equal(scam.verdict.category, 'scam_fraud');
    assert.equal(huge.verdict.action, 'review');
    const stored = await h.ctx.store.db
      .selectFrom('content')
      .select('text')
      .where('id', '=', 'd-big')
      .executeTakeFirst();
    assert.equal(stored?.text?.length, big.length, 'stored whole');

    // Invalid UTF-8 on the wire: decoded with replacement characters, stored and scanned like any text.
    const raw = Buffer.concat([
      Buffer.from(`{"items":[{"id":"d-bytes","accountId":"${a.id}","kind":"text","createdAt":"${at}","text":"caf`),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe]),
      Buffer.from(' ok"}]}'),
    ]);
    const bytes = await h.app.inject({
      method: 'POST',
      url: '/v1/ingest/content',
      headers: { authorization: `Bearer ${h.tokens.platform}`, 'content-type': 'application/json' },
      payload: raw,
    });
    assert.equal(bytes.statusCode, 200, bytes.body);
    assert.equal(JSON.parse(bytes.body).results[0].verdict.action, 'allow');
  });
});
