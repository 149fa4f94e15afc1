import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { entryHash } from '../src/audit/chain.js';
import { verifyAudit } from '../src/audit/service.js';
import type { Db } from '../src/db/database.js';
import { appendFillerEntries, withTampering, lastSeq, swapContents, swapSeq } from './helpers/audit-chain.js';
import { runCli } from './helpers/cli.js';
import { buildAccount, buildSession } from './helpers/factories.js';
import { TEST_ACTOR, describeEachStore } from './helpers/harness.js';
import { tokenIdOf } from './helpers/identity.js';
import { orderAgainst, personalDataUrl } from './helpers/legal.js';

const DAY = 86_400_000;

async function entriesFor(db: Db, requestId: string) {
  return db.selectFrom('audit_log').selectAll().where('request_id', '=', requestId).orderBy('seq').execute();
}

/** Asserts that verification fails at `seq`, both in one pass and walking the chain in small pages. */
async function assertBrokenAt(db: Db, seq: number, problem?: RegExp) {
  for (const pageSize of [5000, 3]) {
    const result = await verifyAudit(db, pageSize);
    assert.equal(result.ok, false, `tampering went unnoticed (page size ${pageSize})`);
    if (result.ok) return;
    assert.equal(result.badSeq, seq, `first bad entry (page size ${pageSize}): ${result.problem}`);
    assert.match(result.problem, new RegExp(`\\bentr(y|ies) ${seq}\\b`));
    if (problem) assert.match(result.problem, problem);
  }
}

/** The first entry number the CLI names must be `seq`. */
function assertCliNames(res: { code: number | null; stdout: string; stderr: string }, seq: number) {
  assert.notEqual(res.code, 0, `custos audit verify exited 0 on a broken chain: ${res.stdout}`);
  const named = /\bentry (\d+)/.exec(res.stderr + res.stdout);
  assert.ok(named, `no entry named: ${res.stderr}`);
  assert.equal(Number(named[1]), seq, res.stderr);
}

describeEachStore('audit trail', (get) => {
  const ids = {} as Record<'platform' | 'admin' | 'legal', string>;

  before(async () => {
    const h = get();
    for (const role of ['platform', 'admin', 'legal'] as const) {
      const id = await tokenIdOf(h, h.tokens[role]);
      assert.ok(id);
      ids[role] = id;
    }
  });

  it('records each ingest batch with the token, its role and the request id', async () => {
    const h = get();
    const accounts = [buildAccount(), buildAccount()];
    const res = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
    assert.equal(res.statusCode, 200, res.body);
    const requestId = res.headers['x-request-id'] as string;
    assert.ok(requestId, 'the answer names its request id');
    const [entry, ...more] = await entriesFor(h.ctx.store.db, requestId);
    assert.equal(more.length, 0, 'one batch, one entry');
    assert.ok(entry);
    assert.equal(entry.actor_id, ids.platform);
    assert.equal(entry.actor_role, 'platform');
    assert.equal(entry.action, 'accounts.ingest');
    assert.deepEqual(JSON.parse(entry.details), { received: 2, inserted: 2, updated: 0, unchanged: 0 });
    assert.ok(Math.abs(Number(entry.at) - Date.now()) < 60_000, 'stamped with the time of the write');

    // A request id the caller chose is echoed and recorded.
    const sessions = accounts.map((a) => buildSession(a.id));
    const res2 = await h.call('POST', '/v1/ingest/sessions', {
      token: h.tokens.platform,
      body: { sessions },
      headers: { 'x-request-id': 'platform-batch-000042' },
    });
    assert.equal(res2.statusCode, 200, res2.body);
    assert.equal(res2.headers['x-request-id'], 'platform-batch-000042');
    const [sessionEntry, ...others] = await entriesFor(h.ctx.store.db, 'platform-batch-000042');
    assert.equal(others.length, 0);
    assert.ok(sessionEntry);
    assert.equal(sessionEntry.actor_id, ids.platform);
    assert.equal(sessionEntry.actor_role, 'platform');
    assert.equal(sessionEntry.action, 'sessions.ingest');
    assert.deepEqual(JSON.parse(sessionEntry.details), { received: 2, inserted: 2, duplicates: 0 });
  });

  it('records token creation and revocation with the admin token as actor and the token as subject', async () => {
    const h = get();
    const created = await h.call('POST', '/v1/tokens', {
      token: h.tokens.admin,
      body: { role: 'moderator', name: 'audited' },
    });
    assert.equal(created.statusCode, 201, created.body);
    const [createEntry] = await entriesFor(h.ctx.store.db, created.headers['x-request-id'] as string);
    assert.ok(createEntry);
    assert.equal(createEntry.actor_id, ids.admin);
    assert.equal(createEntry.actor_role, 'admin');
    assert.equal(createEntry.action, 'token.create');
    assert.equal(createEntry.subject_type, 'token');
    assert.equal(createEntry.subject_id, created.data.id);
    assert.equal(JSON.parse(createEntry.details).role, 'moderator');

    const revoked = await h.call('POST', `/v1/tokens/${created.data.id}/revoke`, { token: h.tokens.admin });
    assert.equal(revoked.statusCode, 200, revoked.body);
    const revokeEntries = await entriesFor(h.ctx.store.db, revoked.headers['x-request-id'] as string);
    assert.equal(revokeEntries.length, 1);
    assert.equal(revokeEntries[0]?.actor_id, ids.admin);
    assert.equal(revokeEntries[0]?.actor_role, 'admin');
    assert.equal(revokeEntries[0]?.action, 'token.revoke');
    assert.equal(revokeEntries[0]?.subject_id, created.data.id);
  });

  it('writes no entry for a write that was refused', async () => {
    const h = get();
    const head = await lastSeq(h.ctx.store.db);
    const bad = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [buildAccount({ country: 'ZZ' })] },
    });
    assert.equal(bad.statusCode, 422);
    const badToken = await h.call('POST', '/v1/tokens', {
      token: h.tokens.admin,
      body: { role: 'authority', name: 'x', authorityId: 'auth_missing' },
    });
    assert.equal(badToken.statusCode, 422);
    assert.equal(await lastSeq(h.ctx.store.db), head, 'nothing was written, so nothing is audited');
  });

  it('records every read of personal data with the reader, the account, the order, the purpose and the request id', async () => {
    const h = get();
    const account = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [account] } });
    await h.call('POST', '/v1/ingest/sessions', {
      token: h.tokens.platform,
      body: { sessions: [buildSession(account.id), buildSession(account.id)] },
    });
    const order = await orderAgainst(h, [account.id]);
    const from = Date.now() - 40 * DAY;
    const to = Date.now() + 60_000;
    const reads = [];
    for (const purpose of ['Production order AZ 12/26', 'Second look for the same order']) {
      const res = await h.call('GET', personalDataUrl(account.id, { orderId: order.id, from, to, purpose }), {
        token: h.tokens.legal,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.data.sessions.length, 2);
      reads.push({ purpose, requestId: res.headers['x-request-id'] as string });
    }
    const listed = await h.call('GET', '/v1/audit?limit=1000', { token: h.tokens.auditor });
    assert.equal(listed.statusCode, 200, listed.body);
    for (const read of reads) {
      const entries = listed.data.entries.filter((e: { requestId: string }) => e.requestId === read.requestId);
      assert.equal(entries.length, 1, 'each read is its own entry');
      const e = entries[0];
      assert.equal(e.action, 'personal_data.read');
      assert.deepEqual(e.actor, { id: ids.legal, role: 'legal' });
      assert.deepEqual(e.subject, { type: 'account', id: account.id });
      assert.equal(e.details.purpose, read.purpose);
      assert.equal(e.details.orderId, order.id);
      assert.deepEqual([...e.details.categories].sort(), ['ip_addresses', 'phone_number']);
      assert.equal(e.details.records, 2);
    }
  });

  it('never holds a phone number or an IP address in clear', async () => {
    const h = get();
    const phones = [
      { given: '+49 151 2345 6781', e164: '+4915123456781', national: '15123456781' },
      { given: '+888 0123 9876', e164: '+88801239876', national: '01239876' },
    ];
    const ips = [
      { given: '203.0.113.199', stored: '203.0.113.199' },
      { given: '2001:0DB8:0000:0000:0000:0000:00AB:0001', stored: '2001:db8::ab:1' },
      { given: '::ffff:198.51.100.77', stored: '198.51.100.77' },
    ];
    const accounts = phones.map((p) => buildAccount({ phone: p.given }));
    const acc = await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts } });
    assert.equal(acc.statusCode, 200, acc.body);
    const account = accounts[0] as (typeof accounts)[number];
    const ses = await h.call('POST', '/v1/ingest/sessions', {
      token: h.tokens.platform,
      body: { sessions: ips.map((ip) => buildSession(account.id, { ip: ip.given })) },
    });
    assert.equal(ses.statusCode, 200, ses.body);
    const order = await orderAgainst(
      h,
      accounts.map((a) => a.id),
    );
    for (const a of accounts) {
      const res = await h.call(
        'GET',
        personalDataUrl(a.id, {
          orderId: order.id,
          from: Date.now() - 40 * DAY,
          to: Date.now() + 60_000,
          purpose: 'routine check',
        }),
        { token: h.tokens.legal },
      );
      assert.equal(res.statusCode, 200, res.body);
      if (a === account) assert.equal(res.data.sessions.length, 3, 'the addresses were stored and read back');
    }

    const rows = await h.ctx.store.db.selectFrom('audit_log').selectAll().execute();
    const stored = JSON.stringify(rows);
    const listed = (await h.call('GET', '/v1/audit?limit=1000', { token: h.tokens.auditor })).body;
    const needles = [
      ...phones.flatMap((p) => [p.given, p.e164, p.national]),
      ...ips.flatMap((ip) => [ip.given, ip.given.toLowerCase(), ip.stored]),
    ];
    for (const needle of needles) {
      assert.ok(!stored.includes(needle), `audit_log holds ${needle}`);
      assert.ok(!listed.includes(needle), `GET /v1/audit shows ${needle}`);
    }
  });

  it('keeps a phone number written into the purpose of a read out of the log', {}, async () => {
    const h = get();
    const account = buildAccount();
    await h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [account] } });
    const order = await orderAgainst(h, [account.id]);
    const purpose = `Order about ${account.phone} and 203.0.113.250`;
    const res = await h.call(
      'GET',
      personalDataUrl(account.id, { orderId: order.id, from: Date.now() - DAY, to: Date.now(), purpose }),
      { token: h.tokens.legal },
    );
    // Refusing such a purpose (422) is as good as scrubbing it; storing it is not.
    if (res.statusCode === 422) {
      assert.equal(res.data.error.details[0].path, '/querystring/purpose', res.body);
      return;
    }
    assert.equal(res.statusCode, 200, res.body);
    const stored = JSON.stringify(await h.ctx.store.db.selectFrom('audit_log').selectAll().execute());
    assert.ok(!stored.includes(account.phone as string), 'the phone number is in the audit log');
    assert.ok(!stored.includes('203.0.113.250'), 'the IP address is in the audit log');
  });

  it('keeps an IP address sent as x-request-id out of the log', {}, async () => {
    const h = get();
    const res = await h.call('POST', '/v1/ingest/accounts', {
      token: h.tokens.platform,
      body: { accounts: [buildAccount()] },
      headers: { 'x-request-id': '203.0.113.251' },
    });
    assert.equal(res.statusCode, 200, res.body);
    const stored = JSON.stringify(await h.ctx.store.db.selectFrom('audit_log').selectAll().execute());
    assert.ok(!stored.includes('203.0.113.251'), 'the IP address is in the audit log');
  });

  it('pages through the log with after/nextAfter: every entry once, in order, linked by hash', async () => {
    const h = get();
    await appendFillerEntries(h.ctx.store.db, 7, TEST_ACTOR);
    const all = await h.ctx.store.db.selectFrom('audit_log').select('seq').orderBy('seq').execute();
    const seen: any[] = [];
    let after: number | null = null;
    let pages = 0;
    do {
      const res = await h.call('GET', `/v1/audit?limit=4${after === null ? '' : `&after=${after}`}`, {
        token: h.tokens.auditor,
      });
      assert.equal(res.statusCode, 200, res.body);
      assert.ok(res.data.entries.length <= 4);
      seen.push(...res.data.entries);
      after = res.data.nextAfter;
      if (after !== null) assert.equal(after, res.data.entries.at(-1).seq);
      pages += 1;
      assert.ok(pages < 1000, 'pagination ends');
    } while (after !== null);
    assert.deepEqual(
      seen.map((e) => e.seq),
      all.map((r) => Number(r.seq)),
    );
    assert.ok(pages >= 3, 'more than one page was walked');
    // The view shows the chain: each entry's prevHash is its predecessor's hash.
    for (let i = 1; i < seen.length; i++) assert.equal(seen[i].prevHash, seen[i - 1].hash);
    assert.equal(seen[0].prevHash, '0'.repeat(64));
    for (const e of seen) assert.equal(Number.isNaN(Date.parse(e.at)), false);

    const admin = await h.call('GET', '/v1/audit?limit=2', { token: h.tokens.admin });
    assert.equal(admin.statusCode, 200);
    assert.deepEqual(
      admin.data.entries.map((e: { seq: number }) => e.seq),
      seen.slice(0, 2).map((e) => e.seq),
    );
  });

  it('filters by time: from inclusive, to exclusive, and pages inside the window', async () => {
    const h = get();
    const t0 = Date.UTC(2001, 0, 1);
    const seqs = await appendFillerEntries(h.ctx.store.db, 5, TEST_ACTOR, (i) => t0 + i * DAY);
    const iso = (t: number) => new Date(t).toISOString();
    const query = async (q: string) => {
      const res = await h.call('GET', `/v1/audit?${q}`, { token: h.tokens.auditor });
      assert.equal(res.statusCode, 200, res.body);
      return res.data as { entries: { seq: number; at: string }[]; nextAfter: number | null };
    };

    const window = await query(`from=${iso(t0 + DAY)}&to=${iso(t0 + 3 * DAY)}`);
    assert.deepEqual(
      window.entries.map((e) => e.seq),
      [seqs[1], seqs[2]],
    );
    assert.equal(window.entries[0]?.at, iso(t0 + DAY));
    assert.equal(window.nextAfter, null);

    const until = await query(`to=${iso(t0 + 2 * DAY)}`);
    assert.deepEqual(
      until.entries.map((e) => e.seq),
      [seqs[0], seqs[1]],
      'everything else in the log is from today',
    );

    const since = await query(`from=${iso(t0 + 4 * DAY)}&limit=1000`);
    assert.ok(since.entries.some((e) => e.seq === seqs[4]));
    assert.ok(!since.entries.some((e) => seqs.slice(0, 4).includes(e.seq)));

    const paged: number[] = [];
    let after: number | null = null;
    do {
      const page = await query(
        `from=${iso(t0)}&to=${iso(t0 + 5 * DAY)}&limit=2${after === null ? '' : `&after=${after}`}`,
      );
      paged.push(...page.entries.map((e) => e.seq));
      after = page.nextAfter;
    } while (after !== null);
    assert.deepEqual(paged, seqs);
  });

  it('answers 422 for query values out of range or not a time', async () => {
    const h = get();
    for (const q of ['limit=0', 'limit=1001', 'after=-1', 'from=yesterday', 'to=2026-13-01T00:00:00Z']) {
      const res = await h.call('GET', `/v1/audit?${q}`, { token: h.tokens.auditor });
      assert.ok([400, 422].includes(res.statusCode), `${q}: ${res.statusCode} ${res.body}`);
      assert.ok(res.data.error.details.some((d: { path: string }) => d.path.startsWith('/querystring/')));
    }
  });

  it('verifies an intact chain, also when walking it in small pages', async () => {
    const h = get();
    const count = await lastSeq(h.ctx.store.db);
    assert.ok(count >= 20, 'a chain long enough to tamper with in the middle');
    for (const pageSize of [5000, 1, 2, 7]) {
      const result = await verifyAudit(h.ctx.store.db, pageSize);
      assert.equal(result.ok, true, JSON.stringify(result));
      if (result.ok) {
        assert.equal(result.entries, count);
        const head = await h.ctx.store.db.selectFrom('audit_head').select('hash').executeTakeFirstOrThrow();
        assert.equal(result.headHash, head.hash);
      }
    }
  });

  it('detects an altered field of one row and names that row', async () => {
    const h = get();
    const k = Math.floor((await lastSeq(h.ctx.store.db)) / 2);
    const row = await h.ctx.store.db.selectFrom('audit_log').selectAll().where('seq', '=', k).executeTakeFirstOrThrow();
    const alterations: Record<string, Record<string, unknown>> = {
      details: { details: JSON.stringify({ ...JSON.parse(row.details), tampered: true }) },
      actor_id: { actor_id: 'tok_someone_else' },
      actor_role: { actor_role: row.actor_role === 'admin' ? 'auditor' : 'admin' },
      action: { action: 'nothing.happened' },
      subject_id: { subject_type: 'account', subject_id: 'acc-other' },
      request_id: { request_id: 'req-forged-0001' },
      at: { at: Number(row.at) + 1 },
      hash: { hash: 'f'.repeat(64) },
      prev_hash: { prev_hash: 'e'.repeat(64) },
    };
    for (const [column, set] of Object.entries(alterations)) {
      await withTampering(
        h.ctx.store.db,
        async (db) => {
          await db.updateTable('audit_log').set(set).where('seq', '=', k).execute();
        },
        async () => {
          try {
            await assertBrokenAt(h.ctx.store.db, k);
          } catch (error) {
            throw new Error(`altering ${column}: ${(error as Error).message}`);
          }
        },
      );
    }
  });

  it('detects a removed row in the middle and a removed first row', async () => {
    const h = get();
    const k = Math.floor((await lastSeq(h.ctx.store.db)) / 2);
    for (const seq of [k, 1]) {
      await withTampering(
        h.ctx.store.db,
        async (db) => {
          await db.deleteFrom('audit_log').where('seq', '=', seq).execute();
        },
        () => assertBrokenAt(h.ctx.store.db, seq, /missing/),
      );
    }
  });

  it('detects reordered rows: seq numbers swapped or contents swapped, adjacent or far apart', async () => {
    const h = get();
    const n = await lastSeq(h.ctx.store.db);
    const pairs: [number, number][] = [
      [5, 6],
      [4, n - 3],
    ];
    for (const [a, b] of pairs) {
      for (const swap of [swapSeq, swapContents]) {
        await withTampering(
          h.ctx.store.db,
          (db) => swap(db, a, b),
          () => assertBrokenAt(h.ctx.store.db, a),
        );
      }
    }
  });

  it('detects a removed tail and names the first removed entry', async () => {
    const h = get();
    const n = await lastSeq(h.ctx.store.db);
    for (const removed of [1, 3]) {
      await withTampering(
        h.ctx.store.db,
        async (db) => {
          await db
            .deleteFrom('audit_log')
            .where('seq', '>', n - removed)
            .execute();
        },
        () => assertBrokenAt(h.ctx.store.db, n - removed + 1, /missing|removed/),
      );
    }
  });

  it('names the first of several bad entries', async () => {
    const h = get();
    const n = await lastSeq(h.ctx.store.db);
    await withTampering(
      h.ctx.store.db,
      async (db) => {
        await db
          .updateTable('audit_log')
          .set({ action: 'x' })
          .where('seq', '=', n - 2)
          .execute();
        await db.deleteFrom('audit_log').where('seq', '=', 7).execute();
        await swapSeq(db, 3, 4);
      },
      () => assertBrokenAt(h.ctx.store.db, 3),
    );
  });

  it('names a well-formed entry appended behind the head row as the first bad entry', {}, async () => {
    const h = get();
    const n = await lastSeq(h.ctx.store.db);
    await withTampering(
      h.ctx.store.db,
      async (db) => {
        const last = await db.selectFrom('audit_log').selectAll().where('seq', '=', n).executeTakeFirstOrThrow();
        const forged = {
          seq: n + 1,
          at: Date.now(),
          actorId: 'tok_forged',
          actorRole: 'admin',
          action: 'token.create',
          subjectType: null,
          subjectId: null,
          requestId: null,
          details: '{}',
        };
        await db
          .insertInto('audit_log')
          .values({
            seq: forged.seq,
            at: forged.at,
            actor_id: forged.actorId,
            actor_role: forged.actorRole,
            action: forged.action,
            subject_type: null,
            subject_id: null,
            request_id: null,
            details: forged.details,
            prev_hash: last.hash,
            hash: entryHash(last.hash, forged),
          })
          .execute();
      },
      () => assertBrokenAt(h.ctx.store.db, n + 1),
    );
  });

  it('keeps one unbroken chain when many requests write at once', async () => {
    const h = get();
    const before = await lastSeq(h.ctx.store.db);
    const writes = Array.from({ length: 12 }, (_, i) =>
      i % 2 === 0
        ? h.call('POST', '/v1/tokens', { token: h.tokens.admin, body: { role: 'auditor', name: `parallel ${i}` } })
        : h.call('POST', '/v1/ingest/accounts', { token: h.tokens.platform, body: { accounts: [buildAccount()] } }),
    );
    for (const res of await Promise.all(writes)) assert.ok([200, 201].includes(res.statusCode), res.body);
    assert.equal(await lastSeq(h.ctx.store.db), before + 12);
    const result = await verifyAudit(h.ctx.store.db);
    assert.equal(result.ok, true, JSON.stringify(result));
  });

  it('custos audit verify exits 0 on an intact chain, reading the same store', async () => {
    const h = get();
    const res = await runCli(h, ['audit', 'verify']);
    assert.equal(res.code, 0, res.stderr);
    const n = await lastSeq(h.ctx.store.db);
    assert.match(res.stdout, new RegExp(`\\b${n} entries\\b`), 'the CLI read this suite’s chain');
  });

  it('custos audit verify exits non-zero naming an altered entry', async () => {
    const h = get();
    const k = Math.floor((await lastSeq(h.ctx.store.db)) / 2);
    await withTampering(
      h.ctx.store.db,
      async (db) => {
        await db.updateTable('audit_log').set({ actor_id: 'tok_forged' }).where('seq', '=', k).execute();
      },
      async () => assertCliNames(await runCli(h, ['audit', 'verify']), k),
    );
  });

  it('custos audit verify exits non-zero naming a removed entry', async () => {
    const h = get();
    const k = Math.floor((await lastSeq(h.ctx.store.db)) / 3);
    await withTampering(
      h.ctx.store.db,
      async (db) => {
        await db.deleteFrom('audit_log').where('seq', '=', k).execute();
      },
      async () => assertCliNames(await runCli(h, ['audit', 'verify']), k),
    );
  });

  it('custos audit verify exits non-zero naming the first of two reordered entries', async () => {
    const h = get();
    const k = Math.floor((await lastSeq(h.ctx.store.db)) / 2);
    await withTampering(
      h.ctx.store.db,
      (db) => swapSeq(db, k, k + 2),
      async () => assertCliNames(await runCli(h, ['audit', 'verify']), k),
    );
  });

  it('POST /v1/audit/verify answers ok on an intact chain and the bad seq after tampering, and is audited', async () => {
    const h = get();
    const db = h.ctx.store.db;
    const res = await h.call('POST', '/v1/audit/verify', { token: h.tokens.auditor });
    assert.equal(res.statusCode, 200, res.body);
    const head = await db.selectFrom('audit_head').select(['seq', 'hash']).executeTakeFirstOrThrow();
    // The check is recorded after it ran: the answer covers the chain up to the entry before it.
    const verified = await db
      .selectFrom('audit_log')
      .selectAll()
      .where('seq', '=', Number(head.seq))
      .executeTakeFirstOrThrow();
    assert.equal(verified.action, 'audit.verify');
    assert.equal(verified.actor_role, 'auditor');
    assert.deepEqual(res.data, { ok: true, entries: Number(head.seq) - 1, headHash: verified.prev_hash });
    assert.deepEqual(JSON.parse(verified.details), res.data);

    const k = Math.floor((await lastSeq(db)) / 2);
    await withTampering(
      h.ctx.store.db,
      async (tampered) => {
        await tampered.updateTable('audit_log').set({ action: 'nothing.happened' }).where('seq', '=', k).execute();
      },
      async () => {
        const broken = await h.call('POST', '/v1/audit/verify', { token: h.tokens.admin });
        assert.equal(broken.statusCode, 200, broken.body);
        assert.equal(broken.data.ok, false, broken.body);
        assert.equal(broken.data.badSeq, k, broken.body);
        assert.match(broken.data.problem, new RegExp(`\\bentry ${k}\\b`));
      },
    );
  });
});
