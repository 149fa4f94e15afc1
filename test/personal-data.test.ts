import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { readPersonalData } from '../src/accounts/personal-data.js';
import { PHONE_FIELD, findAccountsByPhone } from '../src/accounts/service.js';
import { verifyAudit } from '../src/audit/service.js';
import { toConfig } from '../src/config.js';
import { closeContext, createContext } from '../src/context.js';
import { MASTER_KEY_FILE, loadMasterKey } from '../src/crypto/master-key.js';
import { PersonalDataCipher } from '../src/crypto/personal-data-cipher.js';
import type { Db } from '../src/db/database.js';
import { createLogger, scrubPersonalData } from '../src/logging.js';
import { addPreservation, purgeExpiredSessions } from '../src/retention/purge.js';
import { IP_FIELD, type SessionInput, ingestSessions } from '../src/sessions/service.js';
import type { AccountInput } from '../src/accounts/service.js';
import { startWorkers } from '../src/workers/scheduler.js';
import { assertErrorBody } from './helpers/error-body.js';
import { buildAccount, buildSession } from './helpers/factories.js';
import { type Harness, TEST_ACTOR, describeEachStore } from './helpers/harness.js';
import {
  type FiledOrder,
  fileOrder,
  buildOrder,
  legalToken,
  orderAgainst,
  approveOrder,
  personalDataUrl as readUrl,
  review,
} from './helpers/legal.js';
import { samplePhone, sampleIpv4, sampleIpv6 } from './helpers/personal-data-samples.js';

const DAY = 86_400_000;

/** The legal team's read, under `order`, of one account's phone number and sessions of the last `days` days. */
function personalDataUrl(accountId: string, order: FiledOrder, days = 60): string {
  return readUrl(accountId, {
    orderId: order.id,
    from: Date.now() - days * DAY,
    to: Date.now() + 60_000,
    purpose: 'protection test',
  });
}

async function ingest(h: Harness, accounts: AccountInput[], sessions: SessionInput[] = []): Promise<void> {
  const a = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
  assert.equal(a.statusCode, 200, a.body);
  if (sessions.length === 0) return;
  const s = await h.call('POST', '/v1/ingest/sessions', { token: h.tokens.platform, body: { sessions } });
  assert.equal(s.statusCode, 200, s.body);
}

function readIfExists(file: string): Buffer {
  return fs.existsSync(file) ? fs.readFileSync(file) : Buffer.alloc(0);
}

/** Every row of every table of the suite's PostgreSQL schema, as PostgreSQL prints it. */
async function pgRowsAsText(h: Harness): Promise<string> {
  const db = h.ctx.store.db;
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables
    where table_schema = ${h.location} and table_type = 'BASE TABLE'`.execute(db);
  const names = tables.rows.map((r) => r.table_name);
  assert.ok(names.includes('accounts') && names.includes('sessions'), names.join(','));
  let text = '';
  for (const name of names) {
    const rows = await sql<{ row: string }>`select t::text as row from ${sql.table(`${h.location}.${name}`)} t`.execute(
      db,
    );
    text += `${name}\n${rows.rows.map((r) => r.row).join('\n')}\n`;
  }
  return text;
}

function assertNoneIn(haystack: Buffer | string, needles: string[], where: string): void {
  const buf = Buffer.isBuffer(haystack) ? haystack : Buffer.from(haystack);
  for (const needle of needles) {
    assert.equal(buf.includes(Buffer.from(needle)), false, `${where} holds "${needle}" in clear`);
    // bytea columns print as hex: plaintext stored as bytes would show as its hex.
    if (!Buffer.isBuffer(haystack)) {
      assert.equal(haystack.includes(Buffer.from(needle).toString('hex')), false, `${where} holds "${needle}" as hex`);
    }
  }
}

async function lastAuditSeq(db: Db): Promise<number> {
  const row = await db.selectFrom('audit_log').select(db.fn.max('seq').as('seq')).executeTakeFirst();
  return Number(row?.seq ?? 0);
}

/** Ages in whole days of an account's stored sessions, youngest first. */
async function sessionAges(db: Db, accountId: string, now: number): Promise<number[]> {
  const rows = await db.selectFrom('sessions').select('at').where('account_id', '=', accountId).execute();
  return rows.map((r) => Math.round((now - Number(r.at)) / DAY)).sort((a, b) => a - b);
}

const daysAgo = (now: number, days: number) => new Date(now - days * DAY).toISOString();

describeEachStore('personal data protection', (get, dialect) => {
  it('keeps no phone number or IP address in clear in the store', async () => {
    const h = get();
    const phones = [samplePhone('DE'), samplePhone('FR'), samplePhone('RU'), samplePhone('ANON')];
    const ips = [sampleIpv4(), sampleIpv4({ mapped: true }), sampleIpv6(), sampleIpv6()];
    const accounts = phones.map((p) => buildAccount({ phone: p.input }));
    await ingest(
      h,
      accounts,
      ips.map((ip, i) => buildSession(accounts[i]!.id, { ip: ip.input })),
    );
    // The data is there and decrypts, so the search below looks at a store that holds it.
    const order = await orderAgainst(h, [accounts[2]!.id]);
    const pd = await h.call('GET', personalDataUrl(accounts[2]!.id, order), { token: h.tokens.legal });
    assert.equal(pd.statusCode, 200, pd.body);
    assert.equal(pd.data.phoneNumber, phones[2]!.e164);
    assert.deepEqual(
      pd.data.sessions.map((s: { ip: string }) => s.ip),
      [ips[2]!.normalised],
    );

    const needles = [...phones.flatMap((p) => p.forms), ...ips.flatMap((ip) => ip.forms)];
    const ipv6Bytes = ips.flatMap((ip) => (ip.bytes ? [ip.bytes] : []));
    const marker = accounts[0]!.id; // stored in clear: proves the scan reads the data
    if (dialect === 'sqlite') {
      const file = h.location;
      const live = Buffer.concat([fs.readFileSync(file), readIfExists(`${file}-wal`)]);
      assert.ok(live.includes(marker), 'the database file or its WAL holds the ingested rows');
      assertNoneIn(live, needles, 'the SQLite file and its WAL');
      for (const b of ipv6Bytes) assert.equal(live.includes(b), false, 'an IPv6 address is stored as raw bytes');

      const other = new BetterSqlite3(file);
      try {
        // The store's own checkpoint thread may hold the checkpoint lock for a moment: try again.
        let busy = 1;
        for (let attempt = 0; attempt < 100 && busy !== 0; attempt++) {
          if (attempt > 0) await new Promise((r) => setTimeout(r, 50));
          const [row] = other.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number }>;
          busy = row?.busy ?? 1;
        }
        assert.equal(busy, 0, 'the checkpoint ran to the end');
      } finally {
        other.close();
      }
      assert.equal(readIfExists(`${file}-wal`).length, 0, 'the WAL was folded into the file');
      const checkpointed = fs.readFileSync(file);
      assert.ok(checkpointed.includes(marker), 'after the checkpoint the rows are in the file');
      assertNoneIn(checkpointed, needles, 'the SQLite file after a checkpoint');
      for (const b of ipv6Bytes) assert.equal(checkpointed.includes(b), false);
    } else {
      const text = await pgRowsAsText(h);
      assert.ok(text.includes(marker), 'the rows were read');
      assertNoneIn(text, needles, 'the PostgreSQL tables');
      for (const b of ipv6Bytes) assert.equal(text.includes(b.toString('hex')), false);
    }
  });

  it('binds each ciphertext to its owner: a value copied onto another account does not decrypt', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const pa = samplePhone('DE');
    const pb = samplePhone('FR');
    const a = buildAccount({ phone: pa.input });
    const b = buildAccount({ phone: pb.input });
    const d = buildAccount({ phone: undefined });
    const ipA = sampleIpv4();
    const ipD = sampleIpv6();
    await ingest(h, [a, b, d], [buildSession(a.id, { ip: ipA.input }), buildSession(d.id, { ip: ipD.input })]);
    const order = await orderAgainst(h, [a.id, b.id, d.id]);

    const encA = (await db.selectFrom('accounts').select('phone_enc').where('id', '=', a.id).executeTakeFirstOrThrow())
      .phone_enc as Buffer;
    assert.equal(h.ctx.cipher.decrypt(PHONE_FIELD, a.id, encA), pa.e164);
    assert.throws(() => h.ctx.cipher.decrypt(PHONE_FIELD, b.id, encA), 'another owner');
    assert.throws(() => h.ctx.cipher.decrypt(IP_FIELD, a.id, encA), 'another field');
    const tampered = Buffer.from(encA);
    tampered[14] = (tampered[14] ?? 0) ^ 1;
    assert.throws(() => h.ctx.cipher.decrypt(PHONE_FIELD, a.id, tampered), 'an altered byte');

    await db.updateTable('accounts').set({ phone_enc: encA }).where('id', '=', b.id).execute();
    const moved = await h.call('GET', personalDataUrl(b.id, order), { token: h.tokens.legal });
    assertErrorBody(moved, 500, 'internal_error');
    for (const f of pa.forms) assert.ok(!moved.body.includes(f), "another account's number never comes out");

    const ipEncA = (
      await db.selectFrom('sessions').select('ip_enc').where('account_id', '=', a.id).executeTakeFirstOrThrow()
    ).ip_enc;
    await db.updateTable('sessions').set({ ip_enc: ipEncA }).where('account_id', '=', d.id).execute();
    const movedIp = await h.call('GET', personalDataUrl(d.id, order), { token: h.tokens.legal });
    assertErrorBody(movedIp, 500, 'internal_error');
    assert.ok(!movedIp.body.includes(ipA.normalised));

    const own = await h.call('GET', personalDataUrl(a.id, order), { token: h.tokens.legal });
    assert.equal(own.statusCode, 200, own.body);
    assert.equal(own.data.phoneNumber, pa.e164);
    assert.equal(own.data.sessions[0].ip, ipA.normalised);
  });

  it('finds accounts by phone number through a keyed blind index, whatever the notation', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const p = samplePhone('DE');
    const a = buildAccount({ phone: p.e164 });
    const twin = buildAccount({ phone: p.input });
    const other = buildAccount();
    await ingest(h, [a, twin, other]);

    const n = p.e164.slice(3); // national number, e.g. 15112345678
    const notations = [
      p.input,
      p.e164,
      `+49 ${n.slice(0, 3)} ${n.slice(3)}`,
      `+49-${n.slice(0, 3)}-${n.slice(3, 7)}-${n.slice(7)}`,
      `+49 (${n.slice(0, 3)}) ${n.slice(3, 7)} ${n.slice(7)}`,
      `+49.${n.slice(0, 3)}.${n.slice(3)}`,
    ];
    for (const notation of notations) {
      const found = await findAccountsByPhone(db, h.ctx.cipher, notation);
      assert.deepEqual(found.map((x) => x.id).sort(), [a.id, twin.id].sort(), notation);
      assert.equal(JSON.stringify(found).includes(n), false, 'the account view carries no number');
    }
    assert.deepEqual(await findAccountsByPhone(db, h.ctx.cipher, `+49 151 ${n.slice(3, 5)}`), []);
    assert.deepEqual(await findAccountsByPhone(db, h.ctx.cipher, 'not a number'), []);

    const rows = await db
      .selectFrom('accounts')
      .select(['phone_enc', 'phone_bidx'])
      .where('id', 'in', [a.id, twin.id])
      .execute();
    assert.equal(rows.length, 2);
    assert.equal(rows[0]!.phone_bidx, rows[1]!.phone_bidx, 'same number, same index');
    assert.notDeepEqual(rows[0]!.phone_enc, rows[1]!.phone_enc, 'same number, different ciphertext (fresh nonce)');
    const bidx = rows[0]!.phone_bidx as string;
    const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');
    for (const guess of [p.e164, p.e164.slice(1), `${PHONE_FIELD}\0${p.e164}`]) {
      assert.notEqual(bidx, sha256(guess), 'an unkeyed hash of a phone number is reversible by enumeration');
    }
    const otherKey = new PersonalDataCipher(crypto.randomBytes(32));
    assert.notEqual(bidx, otherKey.blindIndex(PHONE_FIELD, p.e164), 'the index depends on the master key');
  });

  it('creates the master key file 0600 when none is configured, reuses it on restart and refuses a readable one', async () => {
    const h = get();
    assert.equal(h.config.masterKey, undefined, 'the harness runs on the key file');
    const keyFile = path.join(h.config.dataDir, MASTER_KEY_FILE);
    assert.equal(fs.statSync(keyFile).mode & 0o777, 0o600);
    const keyBefore = fs.readFileSync(keyFile);

    const p = samplePhone('RU');
    const acc = buildAccount({ phone: p.input });
    await ingest(h, [acc]);
    const order = await orderAgainst(h, [acc.id]);
    // A restart: a new context on the same data dir and store decrypts what the first one wrote.
    const restarted = await createContext(h.config, {
      logger: createLogger('silent'),
      ...(dialect === 'postgres' ? { pgSchema: h.location } : { sqliteFile: h.location }),
    });
    try {
      const view = await readPersonalData(restarted.store.db, restarted.cipher, TEST_ACTOR, {
        accountId: acc.id,
        orderId: order.id,
        from: Date.now() - DAY,
        to: Date.now(),
        purpose: 'restart check',
      });
      assert.equal(view.phoneNumber, p.e164);
    } finally {
      await closeContext(restarted);
    }
    assert.deepEqual(fs.readFileSync(keyFile), keyBefore, 'the key file is not rewritten');

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'custos-key-'));
    try {
      const fresh = path.join(dir, MASTER_KEY_FILE);
      const first = loadMasterKey(dir, undefined);
      assert.equal(first.length, 32);
      assert.equal(fs.statSync(fresh).mode & 0o777, 0o600);
      assert.deepEqual(loadMasterKey(dir, undefined), first, 'a second start reuses the key');

      for (const mode of [0o644, 0o640, 0o604]) {
        fs.chmodSync(fresh, mode);
        assert.throws(() => loadMasterKey(dir, undefined), /readable by other users/);
      }
      await assert.rejects(
        createContext(toConfig({ CUSTOS_DATA_DIR: dir }), { logger: createLogger('silent') }),
        /readable by other users/,
      );
      assert.equal(fs.existsSync(path.join(dir, 'custos.sqlite')), false, 'refused before the store is opened');

      const configuredDir = path.join(dir, 'configured');
      const key = crypto.randomBytes(32);
      assert.deepEqual(loadMasterKey(configuredDir, key), key);
      assert.equal(fs.existsSync(path.join(configuredDir, MASTER_KEY_FILE)), false, 'no file with CUSTOS_MASTER_KEY');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps phone numbers and IP addresses out of the logs', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const start = h.logs().length;
    const phones = [samplePhone('DE'), samplePhone('FR'), samplePhone('ANON')];
    const ips = [sampleIpv4(), sampleIpv4({ mapped: true }), sampleIpv6()];
    const accounts = phones.map((p) => buildAccount({ phone: p.input }));
    await ingest(
      h,
      accounts,
      ips.map((ip, i) => buildSession(accounts[i]!.id, { ip: ip.input })),
    );
    const order = await orderAgainst(h, [accounts[1]!.id, accounts[2]!.id]);

    const badPhone = `+49 ${crypto.randomInt(10, 99)}`;
    const badIps = [`${crypto.randomInt(300, 999)}.1.2.3`, '2a02:db8::g1'];
    const r1 = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [buildAccount({ phone: phones[0]!.input }), buildAccount({ phone: badPhone })] },
    });
    assertErrorBody(r1, 422, 'validation_failed');
    const r2 = await h.call('POST', '/v1/ingest/sessions', {
      token: h.tokens.platform,
      body: {
        sessions: [
          buildSession(accounts[0]!.id, { ip: ips[2]!.input }),
          ...badIps.map((ip) => buildSession(accounts[0]!.id, { ip })),
        ],
      },
    });
    assertErrorBody(r2, 422, 'validation_failed');
    const r3 = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      rawBody: `{"accounts":[{"id":"x","phone":"${phones[1]!.input}"`,
    });
    assertErrorBody(r3, 400, 'malformed_json');

    // A 500: account 1 carries account 0's ciphertext, which does not decrypt under its id.
    const enc = await db
      .selectFrom('accounts')
      .select('phone_enc')
      .where('id', '=', accounts[0]!.id)
      .executeTakeFirst();
    await db
      .updateTable('accounts')
      .set({ phone_enc: enc?.phone_enc ?? null })
      .where('id', '=', accounts[1]!.id)
      .execute();
    assertErrorBody(await h.call('GET', personalDataUrl(accounts[1]!.id, order), { token: h.tokens.legal }), 500);

    const read = await h.call('GET', personalDataUrl(accounts[2]!.id, order), {
      token: h.tokens.legal,
      headers: { 'x-forwarded-for': ips[0]!.normalised, 'x-real-ip': ips[2]!.normalised },
    });
    assert.equal(read.statusCode, 200, read.body);
    assert.equal(read.data.phoneNumber, phones[2]!.e164);

    // Values that slip into a message, a field or an error are masked too.
    h.ctx.logger.warn(
      { phone: phones[0]!.e164, note: { account: { text: `call ${phones[1]!.input}` } }, ipAddresses: [ips[0]!.input] },
      `lookup for ${phones[0]!.e164} from ${ips[2]!.normalised}`,
    );
    h.ctx.logger.error(
      {
        err: Object.assign(new Error(`duplicate key ${phones[1]!.e164}`), {
          detail: `Key (ip)=(${ips[0]!.normalised})`,
        }),
      },
      'driver error',
    );
    h.ctx.logger.info('plain %s and %s', phones[2]!.input, ips[1]!.input);

    const logs = h.logs().slice(start);
    assert.match(logs, /"route":"\/v1\/ingest\/sessions"/, 'the requests were logged');
    assert.match(logs, /"status":422/);
    assert.match(logs, /"status":500/);
    assert.match(logs, /"level":50/, 'the 500 was logged as an error');
    assert.match(logs, /lookup for \[phone\] from \[ip\]/);
    assert.match(logs, /plain \[phone\] and \[ip\]/);
    assert.match(logs, /Key \(ip\)=\(\[ip\]\)/);
    const needles = [...phones.flatMap((p) => p.forms), badPhone, ...ips.flatMap((ip) => ip.forms), ...badIps];
    for (const needle of needles) assert.equal(logs.includes(needle), false, `the logs hold "${needle}"`);
  });

  it('does not log a request id that is an IP address in clear', {}, async () => {
    const h = get();
    const ip = sampleIpv4();
    const start = h.logs().length;
    const res = await h.call('GET', '/v1/me', { token: h.tokens.platform, headers: { 'x-request-id': ip.normalised } });
    assert.equal(res.statusCode, 200);
    assert.match(h.logs().slice(start), /"route":"\/v1\/me/);
    assert.equal(h.logs().slice(start).includes(ip.normalised), false, 'the request id is logged in clear');
  });

  it('logs an error with its type and scrubbed message, so a 500 can be diagnosed', {}, async () => {
    const h = get();
    const p = samplePhone('DE');
    const start = h.logs().length;
    h.ctx.logger.error({ err: new TypeError(`cannot index ${p.e164}`) }, 'index failed');
    const line = JSON.parse(h.logs().slice(start).trim().split('\n').at(-1) ?? '{}');
    assert.equal(line.msg, 'index failed');
    assert.equal(line.err?.type, 'TypeError', JSON.stringify(line));
    assert.equal(line.err?.message, 'cannot index [phone]');
    assert.match(line.err?.stack ?? '', /^TypeError: cannot index \[phone\]/);
  });

  it('purges sessions past retention, except under an active preservation, and audits the purge', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const now = Date.now();
    const plain = buildAccount();
    const held = buildAccount();
    const lapsed = buildAccount();
    await ingest(h, [plain, held, lapsed]);
    const at = (id: string, days: number) => buildSession(id, { at: daysAgo(now, days) });
    // Ingested with a longer window, as if these sessions had arrived back then.
    await ingestSessions(
      db,
      h.ctx.cipher,
      TEST_ACTOR,
      [
        at(plain.id, 400),
        at(plain.id, 366),
        at(plain.id, 364),
        at(plain.id, 10),
        at(held.id, 400),
        at(held.id, 380),
        at(held.id, 5),
        at(lapsed.id, 500),
        at(lapsed.id, 20),
      ],
      { retentionDays: 1000, now },
    );
    await addPreservation(db, { id: `hold-${held.id}`, accountId: held.id, untilAt: now + 30 * DAY, source: 'order' });
    await addPreservation(
      db,
      { id: `hold-${lapsed.id}`, accountId: lapsed.id, untilAt: now - DAY, source: 'old order' },
      now - 61 * DAY,
    );

    const seqBefore = await lastAuditSeq(db);
    const result = await purgeExpiredSessions(db, 365, now);
    assert.deepEqual(result, { deleted: 3, cutoff: new Date(now - 365 * DAY).toISOString() });
    assert.deepEqual(await sessionAges(db, plain.id, now), [10, 364]);
    assert.deepEqual(await sessionAges(db, held.id, now), [5, 380, 400], 'preserved sessions stay');
    assert.deepEqual(await sessionAges(db, lapsed.id, now), [20], 'an expired hold protects nothing');

    const entries = await db.selectFrom('audit_log').selectAll().where('seq', '>', seqBefore).execute();
    assert.equal(entries.length, 1);
    assert.equal(entries[0]!.action, 'sessions.purge');
    assert.equal(entries[0]!.actor_id, 'system:retention');
    assert.deepEqual(JSON.parse(entries[0]!.details), {
      deleted: 3,
      cutoff: result.cutoff,
      retentionDays: 365,
    });

    assert.equal((await purgeExpiredSessions(db, 365, now)).deleted, 0, 'nothing left to purge');
    assert.equal(await lastAuditSeq(db), seqBefore + 1, 'an empty purge writes no entry');

    // A month later the hold has run out: the held account's old sessions go as well.
    const later = now + 31 * DAY;
    const second = await purgeExpiredSessions(db, 365, later);
    assert.equal(second.deleted, 3);
    assert.deepEqual(await sessionAges(db, held.id, later), [36]);
    assert.deepEqual(await sessionAges(db, plain.id, later), [41]);
    const verified = await verifyAudit(db);
    assert.equal(verified.ok, true, JSON.stringify(verified));
  });

  it('purges a backlog in bounded batches, one audit entry per batch', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const now = Date.now();
    const a = buildAccount();
    await ingest(h, [a]);
    await ingestSessions(
      db,
      h.ctx.cipher,
      TEST_ACTOR,
      [400, 401, 402, 403, 404, 1].map((d) => buildSession(a.id, { at: daysAgo(now, d) })),
      { retentionDays: 1000, now },
    );
    const seqBefore = await lastAuditSeq(db);
    const result = await purgeExpiredSessions(db, 365, now, 2);
    assert.equal(result.deleted, 5);
    assert.deepEqual(await sessionAges(db, a.id, now), [1]);
    const entries = await db
      .selectFrom('audit_log')
      .select('details')
      .where('seq', '>', seqBefore)
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      entries.map((e) => JSON.parse(e.details).deleted),
      [2, 2, 1],
    );
  });

  it('runs the purge as a background job with the configured window', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const now = Date.now();
    const a = buildAccount();
    await ingest(h, [a]);
    await ingestSessions(
      db,
      h.ctx.cipher,
      TEST_ACTOR,
      [buildSession(a.id, { at: daysAgo(now, 120) }), buildSession(a.id, { at: daysAgo(now, 2) })],
      { retentionDays: 1000, now },
    );
    const start = h.logs().length;
    const workers = startWorkers({ ...h.ctx, config: { ...h.ctx.config, sessionRetentionDays: 90 } });
    try {
      const deadline = Date.now() + 5000;
      while ((await sessionAges(db, a.id, now)).length > 1 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 25));
      }
    } finally {
      await workers.stop();
    }
    assert.deepEqual(await sessionAges(db, a.id, now), [2]);
    assert.match(h.logs().slice(start), /purged expired sessions/);
  });
  it('reads under an order that names the account and covers the period, and audits the order id', async () => {
    const h = get();
    const p = samplePhone('DE');
    const account = buildAccount({ phone: p.input });
    const ips = [sampleIpv4(), sampleIpv6()];
    await ingest(
      h,
      [account],
      ips.map((ip, i) => buildSession(account.id, { ip: ip.input, at: daysAgo(Date.now(), 5 + i) })),
    );
    const order = await orderAgainst(h, [account.id], {
      period: { from: daysAgo(Date.now(), 30), to: new Date(Date.now() + 3_600_000).toISOString() },
    });
    const res = await h.call(
      'GET',
      readUrl(account.id, { orderId: order.id, ...order.period, purpose: 'verify the targets before approval' }),
      { token: h.tokens.legal },
    );
    assert.equal(res.statusCode, 200, res.body);
    assert.equal(res.data.phoneNumber, p.e164);
    assert.deepEqual(res.data.sessions.map((s: { ip: string }) => s.ip).sort(), ips.map((ip) => ip.normalised).sort());

    const entries = await h.ctx.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('request_id', '=', res.headers['x-request-id'] as string)
      .execute();
    assert.deepEqual(
      entries.map((e) => [e.action, e.subject_type, e.subject_id]),
      [['personal_data.read', 'account', account.id]],
    );
    assert.deepEqual(JSON.parse(entries[0]!.details), {
      categories: ['phone_number', 'ip_addresses'],
      orderId: order.id,
      purpose: 'verify the targets before approval',
      period: { from: new Date(order.period.from).toISOString(), to: new Date(order.period.to).toISOString() },
      records: 2,
    });
    // The auditor's report names the order the read served.
    const report = await h.call('GET', '/v1/audit/personal-data-access', { token: h.tokens.auditor });
    assert.equal(report.statusCode, 200, report.body);
    const seq = Number(entries[0]!.seq);
    const access = report.data.actors
      .flatMap((a: { accesses: Array<{ seq: number }> }) => a.accesses)
      .find((a: { seq: number }) => a.seq === seq);
    assert.equal(access?.orderId, order.id, JSON.stringify(access));
    assert.equal(access?.reason, 'verify the targets before approval');
  });

  it('refuses a read no order covers: unknown, closed, another account, outside the period; reads and reveals nothing', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const p = samplePhone('DE');
    const ip = sampleIpv4();
    const target = buildAccount({ phone: p.input });
    const bystander = buildAccount();
    await ingest(h, [target, bystander], [buildSession(target.id, { ip: ip.input, at: daysAgo(Date.now(), 3) })]);
    const periodFrom = Date.now() - 30 * DAY;
    const periodTo = Date.now() + 3_600_000;
    const period = { from: new Date(periodFrom).toISOString(), to: new Date(periodTo).toISOString() };
    const order = await orderAgainst(h, [target.id], { period });
    // The same account named by an order its authority withdrew and by one a reviewer rejected.
    const withdrawn = await fileOrder(h, buildOrder([{ accountId: target.id }], { period }));
    assert.equal(withdrawn.statusCode, 201, withdrawn.body);
    const w = await h.call('POST', `/v1/legal-requests/${withdrawn.data.id}/withdraw`, { token: h.tokens.authority });
    assert.equal(w.statusCode, 200, w.body);
    const rejected = await fileOrder(h, buildOrder([{ accountId: target.id }], { period }));
    assert.equal(rejected.statusCode, 201, rejected.body);
    const r = await review(h, rejected.data.id, { decision: 'reject', reasons: ['no court seal'] }, h.tokens.legal);
    assert.equal(r.statusCode, 200, r.body);
    assert.equal(r.data.status, 'rejected', r.body);
    // Not yet approved: one still in review (one approval given), and a preservation order, which discloses nothing.
    const inReview = await orderAgainst(h, [target.id], { period, approve: false });
    assert.equal((await review(h, inReview.id, { decision: 'approve' }, h.tokens.legal)).statusCode, 200);
    const preserved = await fileOrder(h, buildOrder([{ accountId: target.id }], { period, type: 'preservation' }));
    assert.equal(preserved.data.status, 'preserved', preserved.body);

    const head = await lastAuditSeq(db);
    const inside = { from: periodFrom + DAY, to: periodTo - 60_000 };
    const cases: Array<{ label: string; accountId: string; orderId: string; from: number; to: number; code: string }> =
      [
        {
          label: 'an unknown order',
          accountId: target.id,
          orderId: 'lr_nosuchorder',
          ...inside,
          code: 'unknown_order',
        },
        {
          label: 'an unknown order, unknown account',
          accountId: 'acc-nosuchaccount',
          orderId: 'lr_nosuchorder',
          ...inside,
          code: 'unknown_order',
        },
        {
          label: 'a withdrawn order',
          accountId: target.id,
          orderId: withdrawn.data.id,
          ...inside,
          code: 'order_closed',
        },
        { label: 'a rejected order', accountId: target.id, orderId: rejected.data.id, ...inside, code: 'order_closed' },
        {
          label: 'an order in review, one approval given',
          accountId: target.id,
          orderId: inReview.id,
          ...inside,
          code: 'order_not_approved',
        },
        {
          label: 'a preservation order',
          accountId: target.id,
          orderId: preserved.data.id,
          ...inside,
          code: 'order_not_approved',
        },
        { label: 'another account', accountId: bystander.id, orderId: order.id, ...inside, code: 'not_a_target' },
        {
          label: 'an account that does not exist',
          accountId: 'acc-nosuchaccount',
          orderId: order.id,
          ...inside,
          code: 'not_a_target',
        },
        {
          label: 'a period starting before the order’s',
          accountId: target.id,
          orderId: order.id,
          from: periodFrom - DAY,
          to: inside.to,
          code: 'outside_order_period',
        },
        {
          label: 'a period ending after the order’s',
          accountId: target.id,
          orderId: order.id,
          from: inside.from,
          to: periodTo + 60_000,
          code: 'outside_order_period',
        },
      ];
    const answers = new Map<string, unknown>();
    for (const c of cases) {
      const res = await h.call('GET', readUrl(c.accountId, { ...c, purpose: 'refusal test' }), {
        token: h.tokens.legal,
      });
      const error = assertErrorBody(res, 422, 'validation_failed');
      assert.deepEqual(
        (error.details as Array<{ path: string; code: string }>).map((d) => [d.path, d.code]),
        [['/querystring/orderId', c.code]],
        c.label,
      );
      for (const needle of [...p.forms, ...ip.forms]) assert.equal(res.body.includes(needle), false, c.label);
      // Whether the account exists or not, the answer is the same.
      const key = `${c.orderId} ${c.code} ${c.from} ${c.to}`;
      if (answers.has(key)) assert.deepEqual(error, answers.get(key), c.label);
      answers.set(key, error);
    }
    assert.equal(answers.size, cases.length - 2, 'two pairs were compared');

    const entries = await db.selectFrom('audit_log').selectAll().where('seq', '>', head).orderBy('seq').execute();
    assert.equal(
      entries.some((e) => e.action === 'personal_data.read'),
      false,
      'a refused read is not audited as a read',
    );
    // Each refusal is recorded as one, with its codes: never the account, the order or the data.
    assert.deepEqual(
      entries.map((e) => e.action),
      cases.map(() => 'personal_data.refused'),
    );
    for (const [i, e] of entries.entries()) {
      assert.equal(e.subject_id, 'GET /v1/accounts/:id/personal-data');
      assert.deepEqual(JSON.parse(e.details), {
        status: 422,
        code: 'validation_failed',
        problems: [{ path: '/querystring/orderId', code: cases[i]!.code }],
      });
    }
    const stored = JSON.stringify(entries);
    for (const needle of [target.id, bystander.id, order.id, ...p.forms, ...ip.forms]) {
      assert.equal(stored.includes(needle), false, `a refusal entry holds ${needle}`);
    }
  });

  it('follows a narrowing review: a target removed from the order or a cut part of its period is refused', async () => {
    const h = get();
    const kept = buildAccount();
    const removed = buildAccount();
    await ingest(h, [kept, removed]);
    const order = await orderAgainst(h, [kept.id, removed.id], {
      period: { from: daysAgo(Date.now(), 60), to: new Date(Date.now() + 3_600_000).toISOString() },
      approve: false,
    });
    const narrowedFrom = Date.now() - 20 * DAY;
    const narrowed = await review(
      h,
      order.id,
      {
        decision: 'narrow',
        reasons: ['only the seller, only the last weeks'],
        narrowTo: {
          targets: [0],
          period: { from: new Date(narrowedFrom).toISOString(), to: order.period.to },
          data: ['ip_addresses'],
        },
      },
      await legalToken(h),
    );
    assert.equal(narrowed.statusCode, 200, narrowed.body);
    const read = (accountId: string, from: number) =>
      h.call('GET', readUrl(accountId, { orderId: order.id, from, to: Date.now() }), { token: h.tokens.legal });
    // Narrowed but not yet approved: nothing is read yet.
    const early = assertErrorBody(await read(kept.id, narrowedFrom), 422, 'validation_failed');
    assert.equal((early.details as Array<{ code: string }>)[0]?.code, 'order_not_approved');
    await approveOrder(h, order.id);
    const cut = assertErrorBody(await read(kept.id, narrowedFrom - DAY), 422, 'validation_failed');
    assert.equal((cut.details as Array<{ code: string }>)[0]?.code, 'outside_order_period');
    const gone = assertErrorBody(await read(removed.id, narrowedFrom), 422, 'validation_failed');
    assert.equal((gone.details as Array<{ code: string }>)[0]?.code, 'not_a_target');
    const ok = await read(kept.id, narrowedFrom);
    assert.equal(ok.statusCode, 200, ok.body);
    // The review dropped phone numbers from the order: the account has one, and it is not read.
    assert.ok(kept.phone, 'the account has a phone number');
    assert.deepEqual(ok.data.categories, ['ip_addresses']);
    assert.equal(ok.data.phoneNumber, null);
    assert.ok(!ok.body.includes(kept.phone!.replace(/\D/g, '').slice(-6)), 'no part of the phone number in the answer');
    const entry = await h.ctx.store.db
      .selectFrom('audit_log')
      .selectAll()
      .where('action', '=', 'personal_data.read')
      .where('subject_id', '=', kept.id)
      .orderBy('seq', 'desc')
      .executeTakeFirstOrThrow();
    assert.deepEqual(JSON.parse(entry.details).categories, ['ip_addresses'], 'the audit names what was read');
  });
});

describe('scrubPersonalData', () => {
  it('masks phone numbers in international notation', () => {
    for (const phone of [
      '+4915112345678',
      '+49 151 1234 5678',
      '+49 (151) 1234-5678',
      '+1 (202) 555-0143',
      '+33 6 12 34 56 78',
      '+88801234567',
      '+7 916 123-45-67',
    ]) {
      assert.equal(scrubPersonalData(`user ${phone} logged in`), 'user [phone] logged in', phone);
    }
  });

  it('masks IPv4 and IPv6 addresses, with ports and brackets', () => {
    const cases: Array<[string, string]> = [
      ['from 203.0.113.7', 'from [ip]'],
      ['from 203.0.113.7:443', 'from [ip]:443'],
      ['ip=10.0.0.1;', 'ip=[ip];'],
      ['from 2001:db8::1', 'from [ip]'],
      ['from 2001:0db8:85a3:0000:0000:8a2e:0370:7334 now', 'from [ip] now'],
      ['from 2001:db8:1:2:3:4:5:6', 'from [ip]'],
      ['from FE80::1', 'from [ip]'],
      ['loopback ::1', 'loopback [ip]'],
      ['[2001:db8::1]:443', '[[ip]]:443'],
    ];
    for (const [input, expected] of cases) assert.equal(scrubPersonalData(input), expected, input);
    const mapped = scrubPersonalData('mapped ::ffff:203.0.113.7 here');
    assert.ok(!mapped.includes('203.0.113.7') && !mapped.includes('ffff'), mapped);
  });

  it('keeps clock times, timestamps, versions and ids', () => {
    for (const text of [
      'at 12:30:05',
      'at 12:30',
      'took 01:02:03.456',
      '2026-11-28T12:30:05.123Z',
      'version 1.2.3',
      'ratio 1:2:3',
      'account acc-123_456 in case 42',
      'req_3kq7abc request',
    ]) {
      assert.equal(scrubPersonalData(text), text, text);
    }
  });
});
