import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { sql } from 'kysely';
import { PERSONAL_DATA_ACTIONS } from '../src/audit/personal-data-access.js';
import { type Harness, describeEachStore } from './helpers/harness.js';
import { tokenIdOf } from './helpers/identity.js';
import {
  type Violator,
  buildOrder,
  fileOrder,
  legalToken,
  personalDataUrl,
  review,
  seedViolator,
} from './helpers/legal.js';

interface Access {
  seq: number;
  at: string;
  action: string;
  kind: string;
  subject: { type: string; id: string } | null;
  orderId: string | null;
  reason: string | null;
  categories: string[];
}
interface ActorAccesses {
  actor: { id: string; role: string; name: string | null };
  accesses: Access[];
}

async function report(h: Harness, query = ''): Promise<{ actors: ActorAccesses[]; nextAfter: number | null }> {
  const res = await h.call('GET', `/v1/audit/personal-data-access${query}`, { token: h.tokens.auditor });
  assert.equal(res.statusCode, 200, res.body);
  return res.data;
}

/** The query with its parameters written in (strings only: the action names). */
function inline(text: string, parameters: readonly unknown[]): string {
  let i = 0;
  return text.replace(/\?|\$\d+/g, (m) => {
    const value = m === '?' ? parameters[i++] : parameters[Number(m.slice(1)) - 1];
    return typeof value === 'number' ? String(value) : `'${String(value).replace(/'/g, "''")}'`;
  });
}

describeEachStore('the auditor’s report of personal-data reads (GET /v1/audit/personal-data-access)', (get) => {
  let violator: Violator;
  let orderId: string;
  let startedAt: string;
  let legalId: string;
  let authorityId: string;

  before(async () => {
    const h = get();
    startedAt = new Date().toISOString();
    violator = await seedViolator(h, { sessions: 4, days: 20 });
    const pdf = Buffer.from('%PDF-1.4\n% court order\n', 'latin1');
    const order = buildOrder([{ accountId: violator.accountId }]);
    const filed = await fileOrder(h, {
      ...order,
      courtOrder: { ...order.courtOrder, documentBase64: pdf.toString('base64') },
    });
    assert.equal(filed.statusCode, 201, filed.body);
    orderId = filed.data.id;
    assert.equal((await review(h, orderId, { decision: 'approve' }, h.tokens.legal)).statusCode, 200);
    const second = await review(h, orderId, { decision: 'approve' }, await legalToken(h));
    assert.equal(second.data.status, 'disclosed', second.body);
    const pkg = await h.call('GET', `/v1/legal-requests/${orderId}/package`, { token: h.tokens.authority });
    assert.equal(pkg.statusCode, 200, pkg.body);
    const doc = await h.call('GET', `/v1/legal-requests/${orderId}/document`, { token: h.tokens.legal });
    assert.equal(doc.statusCode, 200);
    // Legal's own read of the target under the same order, inside its period, with a free-text purpose.
    const read = await h.call(
      'GET',
      personalDataUrl(violator.accountId, { orderId, ...order.period, purpose: 'routine check' }),
      { token: h.tokens.legal },
    );
    assert.equal(read.statusCode, 200, read.body);
    legalId = (await tokenIdOf(h, h.tokens.legal)) as string;
    authorityId = (await tokenIdOf(h, h.tokens.authority)) as string;
  });

  it('lists, per reader, every read with its kind, subject and order, and never the data', async () => {
    const h = get();
    const res = await h.call('GET', '/v1/audit/personal-data-access', { token: h.tokens.auditor });
    assert.equal(res.statusCode, 200, res.body);
    const { actors } = res.data as { actors: ActorAccesses[] };
    const of = (id: string) => actors.find((a) => a.actor.id === id);

    const disclosure = of('system:disclosure');
    assert.ok(disclosure, JSON.stringify(actors.map((a) => a.actor)));
    const production = disclosure.accesses.filter((a) => a.orderId === orderId);
    assert.equal(production.length, 1, 'one read per disclosed target');
    assert.deepEqual(
      { ...production[0], seq: 0, at: '' },
      {
        seq: 0,
        at: '',
        action: 'personal_data.read',
        kind: 'account_data',
        subject: { type: 'account', id: violator.accountId },
        orderId,
        reason: `legal_request:${orderId}`,
        categories: ['ip_addresses', 'phone_number'],
      },
    );

    const authority = of(authorityId);
    assert.deepEqual(authority?.actor, { id: authorityId, role: 'authority', name: 'test authority' });
    assert.deepEqual(
      authority?.accesses.map((a) => [a.kind, a.orderId]),
      [['disclosure_package', orderId]],
    );

    const legal = of(legalId);
    assert.equal(legal?.actor.name, 'test legal');
    assert.deepEqual(
      legal?.accesses.map((a) => [a.kind, a.orderId, a.reason]),
      [
        ['court_document', orderId, `legal_request:${orderId}`],
        // Legal's read names the order it served, and keeps the purpose given with it.
        ['account_data', orderId, 'routine check'],
      ],
    );

    // Writes, reviews and ingest are not reads; and the report itself carries no personal data.
    const actions = new Set(actors.flatMap((a) => a.accesses.map((x) => x.action)));
    assert.deepEqual(
      [...actions].sort(),
      ['case.image_revealed', 'legal_request.document_read', 'legal_request.package_download', 'personal_data.read']
        .filter((a) => actions.has(a))
        .sort(),
    );
    assert.ok(!actions.has('accounts.ingest') && !actions.has('legal_request.review'));
    assert.equal(res.body.includes(violator.phone), false);
    for (const s of violator.sessions) assert.equal(res.body.includes(s.ip), false);
    // Every read in the log is in the report: nothing is grouped away.
    const logged = await h.ctx.store.db
      .selectFrom('audit_log')
      .select('seq')
      .where('action', 'in', ['personal_data.read', 'legal_request.package_download', 'legal_request.document_read'])
      .execute();
    assert.equal(actors.flatMap((a) => a.accesses).filter((a) => a.kind !== 'content_image').length, logged.length);
  });

  it('keeps to the window and pages through the reads with nextAfter, each once', async () => {
    const h = get();
    const all = (await report(h)).actors.flatMap((a) => a.accesses.map((x) => x.seq)).sort((a, b) => a - b);
    assert.ok(all.length >= 4, `${all.length} reads`);
    const seen: number[] = [];
    let after: number | null = null;
    for (let page = 0; page < 20; page++) {
      const q: string = `?limit=1${after === null ? '' : `&after=${after}`}`;
      const r = await report(h, q);
      const seqs = r.actors.flatMap((a) => a.accesses.map((x) => x.seq));
      assert.ok(seqs.length <= 1);
      seen.push(...seqs);
      if (r.nextAfter === null) break;
      after = r.nextAfter;
    }
    assert.deepEqual(seen, all);
    const later = new Date(Date.now() + 60_000).toISOString();
    assert.deepEqual((await report(h, `?from=${later}`)).actors, []);
    assert.deepEqual((await report(h, `?to=${startedAt}`)).actors, []);
    const bad = await h.call('GET', '/v1/audit/personal-data-access?from=yesterday', { token: h.tokens.auditor });
    assert.equal(bad.statusCode, 422);
  });

  it('reads the personal-data entries of the log through an index on action, not every entry', async () => {
    const h = get();
    // The report's own query, as personalDataAccesses builds it.
    const query = h.ctx.store.db
      .selectFrom('audit_log')
      .select(['seq', 'at', 'actor_id', 'actor_role', 'action', 'subject_type', 'subject_id', 'details'])
      .where('action', 'in', Object.keys(PERSONAL_DATA_ACTIONS))
      .orderBy('seq')
      .limit(50)
      .compile();
    let plan: string;
    if (h.dialect === 'sqlite') {
      const rows = await sql
        .raw<{ detail: string }>(`explain query plan ${inline(query.sql, query.parameters)}`)
        .execute(h.ctx.store.db);
      plan = rows.rows.map((r) => r.detail).join('\n');
    } else {
      plan = await h.ctx.store.db.transaction().execute(async (tx) => {
        // A test-sized log is small enough for a sequential scan: ask whether the index can serve it.
        await sql`set local enable_seqscan = off`.execute(tx);
        await sql`set local enable_indexscan = off`.execute(tx);
        const rows = await sql
          .raw<{ 'QUERY PLAN': string }>(`explain ${inline(query.sql, query.parameters)}`)
          .execute(tx);
        return rows.rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    }
    assert.match(plan, /audit_log_action/, plan);
  });

  it('is for auditors and admins only', async () => {
    const h = get();
    assert.equal((await h.call('GET', '/v1/audit/personal-data-access', { token: h.tokens.admin })).statusCode, 200);
    for (const role of ['moderator', 'legal', 'legal_senior', 'platform', 'authority'] as const) {
      const res = await h.call('GET', '/v1/audit/personal-data-access', { token: h.tokens[role] });
      assert.equal(res.statusCode, 403, role);
    }
    assert.equal((await h.call('GET', '/v1/audit/personal-data-access')).statusCode, 401);
  });
});
