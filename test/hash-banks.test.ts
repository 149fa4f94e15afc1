import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ValidationError } from '../src/errors.js';
import { importHashes, listBanks, parseHashList, setBankEnabled, setHashEnabled } from '../src/hashes/banks.js';
import { HashMatcher } from '../src/hashes/matcher.js';
import { TEST_ACTOR, describeEachStore } from './helpers/harness.js';
import { cliEnv, runCli } from './helpers/cli.js';
import { startCli, waitUntilUp } from './helpers/cli-process.js';
import { freePort } from './helpers/webhook-receiver.js';

const randomPdq = () => crypto.randomBytes(32).toString('hex');

/** `hex` with `bits` of its bits flipped (distinct positions). */
function flip(hex: string, bits: number): string {
  const bytes = Buffer.from(hex, 'hex');
  const picked = new Set<number>();
  while (picked.size < bits) picked.add(crypto.randomInt(256));
  for (const b of picked) bytes[b >> 3]! ^= 1 << (b & 7);
  return bytes.toString('hex');
}

describe('hash lists', () => {
  it('reads plain hex, reference-tool lines and CSV with a header, and numbers every bad line', () => {
    const a = randomPdq();
    const b = randomPdq();
    const plain = parseHashList(`# a comment\n${a}\n\n0x${b.toUpperCase()}\n${a}\nnot-hex\n${a.slice(2)}\n`);
    assert.deepEqual(
      plain.hashes.map((h) => [h.value, h.line]),
      [
        [a, 2],
        [b, 4],
      ],
    );
    assert.equal(plain.duplicates, 1);
    assert.deepEqual(
      plain.problems.map((p) => p.line),
      [6, 7],
    );
    assert.match(plain.problems[1]!.problem, /64 hex digits, this has 62/);

    const tool = parseHashList(`${a},100,bridge.jpg\n${b},87,other.jpg\n`);
    assert.deepEqual(
      tool.hashes.map((h) => h.value),
      [a, b],
    );

    const md5 = crypto.createHash('md5').update('x').digest('hex');
    const sha = crypto.createHash('sha256').update('x').digest('hex');
    const csv = parseHashList(`pdq,md5,sha256,note\n${a},${md5},${sha},first\n,${md5},,again\n`);
    assert.deepEqual(
      csv.hashes.map((h) => `${h.kind}:${h.line}`),
      ['pdq:2', 'md5:2', 'sha256:2'],
    );
    assert.equal(csv.duplicates, 1);
    assert.equal(csv.problems.length, 0);

    const sha256s = parseHashList(`${sha}\n${md5}\n`, 'sha256');
    assert.equal(sha256s.hashes.length, 1);
    assert.deepEqual(
      sha256s.problems.map((p) => p.line),
      [2],
    );
  });
});

describeEachStore('hash banks', (get) => {
  it('imports into a new bank, is idempotent, and audits each import', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const hashes = Array.from({ length: 1200 }, randomPdq);
    const text = hashes.join('\n');
    const first = await importHashes(db, TEST_ACTOR, text, {
      bank: 'terror-gifct',
      category: 'terrorism',
      action: 'remove',
      source: 'gifct.csv',
    });
    assert.equal(first.bankCreated, true);
    assert.equal(first.inserted, 1200);
    assert.deepEqual(
      { category: first.bank.category, action: first.bank.action, threshold: first.bank.threshold },
      { category: 'terrorism', action: 'remove', threshold: 31 },
    );
    const again = await importHashes(db, TEST_ACTOR, text, { bank: 'terror-gifct' });
    assert.equal(again.bankCreated, false);
    assert.equal(again.inserted, 0);
    assert.equal(again.alreadyPresent, 1200);
    const banks = await listBanks(db);
    assert.deepEqual(
      banks.map((b) => [b.name, b.hashes]),
      [['terror-gifct', 1200]],
    );
    const audited = await db
      .selectFrom('audit_log')
      .select(['action', 'details'])
      .where('action', 'like', 'hash_bank.%')
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      audited.map((a) => a.action),
      ['hash_bank.created', 'hash_bank.imported', 'hash_bank.imported'],
    );
    assert.equal(JSON.parse(audited[1]!.details).inserted, 1200);
  });

  it('refuses a list with bad lines and changes nothing, unless told to skip them', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const good = randomPdq();
    const text = `${good}\nzz${good.slice(2)}\n${good.slice(0, 40)}\n`;
    await assert.rejects(
      importHashes(db, TEST_ACTOR, text, { bank: 'csam-ncmec', category: 'csam', action: 'remove' }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.problems.map((p) => p.path).join() === '/line/2,/line/3' &&
        /nothing was imported/.test(e.message),
    );
    assert.equal(
      (await listBanks(db)).some((b) => b.name === 'csam-ncmec'),
      false,
      'no bank was created',
    );
    const skipped = await importHashes(db, TEST_ACTOR, text, {
      bank: 'csam-ncmec',
      category: 'csam',
      action: 'remove',
      skipInvalid: true,
    });
    assert.equal(skipped.inserted, 1);
    assert.deepEqual(
      skipped.invalid.map((p) => p.line),
      [2, 3],
    );
    await assert.rejects(
      importHashes(db, TEST_ACTOR, good, { bank: 'new-bank' }),
      (e: unknown) => e instanceof ValidationError && e.problems[0]!.code === 'missing_field',
    );
    await assert.rejects(
      importHashes(db, TEST_ACTOR, good, { bank: 'x', category: 'csam', threshold: 64 }),
      (e: unknown) => e instanceof ValidationError && e.problems[0]!.path === '/threshold',
    );
    await assert.rejects(
      importHashes(db, TEST_ACTOR, good, { bank: 'Bad Name', category: 'csam' }),
      (e: unknown) => e instanceof ValidationError && e.problems[0]!.path === '/bank',
    );
  });

  it('matchers in other processes follow imports, disabled hashes and disabled banks', async () => {
    const h = get();
    const db = h.ctx.store.db;
    // Two matchers on the same store: what two processes each hold.
    const here = new HashMatcher(db);
    const there = new HashMatcher(db);
    await here.ready();
    await there.ready();
    const known = randomPdq();
    const md5 = crypto.createHash('md5').update(known).digest('hex');
    await importHashes(db, TEST_ACTOR, `${known}\n`, { bank: 'follow-pdq', category: 'csam', action: 'remove' });
    await importHashes(db, TEST_ACTOR, `${md5}\n`, { bank: 'follow-md5', category: 'terrorism', kind: 'md5' });
    const nearCopy = flip(known, 9);
    const query = { md5: 'f'.repeat(32), sha256: 'f'.repeat(64), pdq: { original: randomPdq(), rotate90: nearCopy } };
    assert.equal(there.match(query), null, 'nothing before it reads the changes');
    await there.refresh();
    const m = there.match(query);
    assert.ok(m);
    assert.deepEqual(
      { bank: m.bank.name, category: m.category, kind: m.kind, distance: m.distance, variant: m.variant },
      { bank: 'follow-pdq', category: 'csam', kind: 'pdq', distance: 9, variant: 'rotate90' },
    );
    assert.equal(there.match({ ...query, pdq: { original: flip(known, 40) } }), null, 'beyond the threshold');
    const exact = there.match({ md5, sha256: 'f'.repeat(64), pdq: {} });
    assert.deepEqual([exact?.bank.name, exact?.kind, exact?.distance], ['follow-md5', 'md5', 0]);

    // A live matcher on a timer sees a disabled hash within its interval.
    there.start(20);
    try {
      await setHashEnabled(db, TEST_ACTOR, 'follow-pdq', 'pdq', known, false);
      await waitFor(() => there.match(query) === null);
      await setHashEnabled(db, TEST_ACTOR, 'follow-pdq', 'pdq', known, true);
      await waitFor(() => there.match(query) !== null);
      await setBankEnabled(db, TEST_ACTOR, 'follow-md5', false);
      await waitFor(() => there.match({ md5, sha256: 'f'.repeat(64), pdq: {} }) === null);
    } finally {
      there.stop();
    }
    await here.refresh();
    assert.equal(here.match({ md5, sha256: 'f'.repeat(64), pdq: {} }), null, 'the disabled bank, read later');
    assert.ok(here.match(query));
  });

  it('a PDQ bank threshold is each bank’s own, and the nearest match wins', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const centre = randomPdq();
    const far = flip(centre, 20);
    await importHashes(db, TEST_ACTOR, far, { bank: 'strict', category: 'spam', threshold: 10 });
    await importHashes(db, TEST_ACTOR, flip(centre, 6), { bank: 'loose', category: 'scam_fraud', threshold: 40 });
    const m = new HashMatcher(db);
    await m.ready();
    const found = m.match({ md5: '0'.repeat(32), sha256: '0'.repeat(64), pdq: { original: centre } });
    assert.deepEqual([found?.bank.name, found?.distance], ['loose', 6]);
    // Exactly the strict bank's hash: its own threshold does not matter at distance 0.
    const exact = m.match({ md5: '0'.repeat(32), sha256: '0'.repeat(64), pdq: { original: far } });
    assert.deepEqual([exact?.bank.name, exact?.distance], ['strict', 0]);
    const outside = m.match({ md5: '0'.repeat(32), sha256: '0'.repeat(64), pdq: { original: flip(far, 11) } });
    assert.notEqual(outside?.bank.name, 'strict', 'eleven bits is beyond the strict bank');
  });

  it('`custos hashes import` reports bad lines by number and imports nothing; --skip-invalid imports the rest', async () => {
    const h = get();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-hashes-'));
    try {
      const file = path.join(dir, 'list.txt');
      const good = [randomPdq(), randomPdq()];
      fs.writeFileSync(file, `${good[0]}\nnot a hash\n${good[1]},100,x.jpg\n`);
      const refused = await runCli(h, ['hashes', 'import', file, '--bank', 'cli-bank', '--category', 'weapons']);
      assert.equal(refused.code, 1, refused.stderr);
      assert.match(refused.stderr, /list\.txt:2: not hexadecimal/);
      assert.equal(
        (await listBanks(h.ctx.store.db)).some((b) => b.name === 'cli-bank'),
        false,
      );
      const done = await runCli(h, [
        'hashes',
        'import',
        file,
        '--bank',
        'cli-bank',
        '--category',
        'weapons',
        '--action',
        'review',
        '--skip-invalid',
      ]);
      assert.equal(done.code, 0, done.stderr);
      assert.match(done.stdout, /created cli-bank \(weapons, review, threshold 31\): 2 imported/);
      assert.match(done.stderr, /list\.txt:2:/);
      const listed = await runCli(h, ['hashes', 'banks']);
      assert.match(listed.stdout, /cli-bank\tweapons\treview\tthreshold 31\tenabled\t2 hashes/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a running server follows an import and a disabled bank made by another process, within seconds', async () => {
    const h = get();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-hashes-'));
    const port = await freePort();
    const server = startCli(['serve', '--port', String(port), '--workers', '0'], {
      ...cliEnv(h),
      CUSTOS_HASH_REFRESH_MS: '200',
    });
    try {
      await waitUntilUp(`http://127.0.0.1:${port}/healthz`, 90_000);
      const api = async (url: string, body: unknown) => {
        const res = await fetch(`http://127.0.0.1:${port}${url}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${h.tokens.platform}`, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        });
        assert.equal(res.status, 200, await res.clone().text());
        return (await res.json()) as any;
      };
      const accountId = `acc-live-${Date.now()}`;
      await api('/v1/ingest/accounts', { accounts: [{ id: accountId }] });
      const picture = fs.readFileSync(path.resolve(path.dirname(CUSTOS_BIN), '../test/fixtures/pdq-more/q0746.jpg'));
      let n = 0;
      const upload = async () => {
        const out = await api('/v1/ingest/content', {
          items: [
            {
              id: `live-${Date.now()}-${n++}`,
              accountId,
              kind: 'image',
              imageBase64: picture.toString('base64'),
              createdAt: new Date().toISOString(),
            },
          ],
        });
        return out.results[0].verdict as { action: string; signals: Array<{ scanner: string; detail?: any }> };
      };
      const before = await upload();
      assert.equal(before.action, 'allow');
      const pdq = before.signals.find((s) => s.scanner === 'image')?.detail?.pdq as string;
      assert.match(pdq, /^[0-9a-f]{64}$/);

      // Another process imports the picture's hash; the server sees it without a restart.
      const file = path.join(dir, 'live.txt');
      fs.writeFileSync(file, `${pdq}\n`);
      const imported = await runCli(h, ['hashes', 'import', file, '--bank', 'live', '--category', 'spam']);
      assert.equal(imported.code, 0, imported.stderr);
      const seen = await within(5000, async () => (await upload()).action === 'review');
      assert.ok(seen, 'the server matched the imported hash within 5 s');

      const disabled = await runCli(h, ['hashes', 'disable', '--bank', 'live']);
      assert.equal(disabled.code, 0, disabled.stderr);
      const gone = await within(5000, async () => (await upload()).action === 'allow');
      assert.ok(gone, 'the server stopped matching the disabled bank within 5 s');
    } finally {
      await server.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('an import killed half-way leaves no part of the list visible', async () => {
    const h = get();
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-hashes-'));
    try {
      const file = path.join(dir, 'big.txt');
      const n = 200_000;
      fs.writeFileSync(file, Array.from({ length: n }, randomPdq).join('\n'));
      const child = spawn(
        process.execPath,
        [CUSTOS_BIN, 'hashes', 'import', file, '--bank', 'killed', '--category', 'csam', '--action', 'remove'],
        { env: cliEnv(h), stdio: ['ignore', 'ignore', 'pipe'] },
      );
      // Killed at its first progress line: hashes are written inside the one open transaction, most still to come.
      const started = new Promise<void>((resolve) => {
        let err = '';
        child.stderr.on('data', (chunk) => {
          err += chunk.toString();
          if (/[\d,]+ of 200,000 written, not committed/.test(err)) resolve();
        });
      });
      // The hashes of the bank, as another connection sees them: none until the import commits.
      const counted = async () =>
        Number(
          (
            await h.ctx.store.db
              .selectFrom('bank_hashes')
              .innerJoin('hash_banks', 'hash_banks.id', 'bank_hashes.bank_id')
              .select((eb) => eb.fn.countAll().as('n'))
              .where('hash_banks.name', '=', 'killed')
              .executeTakeFirstOrThrow()
          ).n,
        );
      await started;
      const exitedEarly = child.exitCode !== null;
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const seen = await counted();
      assert.equal(exitedEarly, false, 'the import was still running when it was killed');
      assert.equal(seen, 0, `${seen} of ${n} hashes visible after the kill`);
      const banks = await listBanks(h.ctx.store.db);
      assert.equal(
        banks.some((b) => b.name === 'killed'),
        false,
        'nor the bank it was creating',
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

const CUSTOS_BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/custos.js');

/** Polls `check` until it holds; false if `timeoutMs` pass first. */
async function within(timeoutMs: number, check: () => boolean | Promise<boolean>, everyMs = 20): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check()) return true;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
  return false;
}

async function waitFor(condition: () => boolean, timeoutMs = 5000): Promise<void> {
  if (!(await within(timeoutMs, condition))) throw new Error('condition not met in time');
}
