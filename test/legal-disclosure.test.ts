import assert from 'node:assert/strict';
import { before, it } from 'node:test';
import { CompactEncrypt, CompactSign, compactDecrypt, decodeProtectedHeader, generateKeyPair, importJWK } from 'jose';
import { type Context, closeContext, createContext } from '../src/context.js';
import { resumeApprovedOrders } from '../src/legal/disclosure.js';
import { raiseDeadlineWarnings, sendUserNotices } from '../src/legal/jobs.js';
import { submitLegalRequest } from '../src/legal/service.js';
import { createLogger } from '../src/logging.js';
import { purgeExpiredSessions } from '../src/retention/purge.js';
import { assertErrorBody } from './helpers/error-body.js';
import { type Harness, authorityKeyPair, describeEachStore } from './helpers/harness.js';
import {
  buildOrder,
  fileOrder,
  legalToken,
  openPackage,
  review,
  seedViolator,
  type Violator,
} from './helpers/legal.js';

const DAY = 86_400_000;
const HOUR = 3_600_000;

async function fetchPackage(h: Harness, id: string, token = h.tokens.authority) {
  return h.call('GET', `/v1/legal-requests/${id}/package`, { token });
}

async function fileInReview(h: Harness, body: unknown): Promise<string> {
  const filed = await fileOrder(h, body);
  assert.equal(filed.statusCode, 201, filed.body);
  assert.equal(filed.data.status, 'in_review', filed.body);
  return filed.data.id;
}

async function approve(h: Harness, id: string, token: string, expectedStatus: string) {
  const res = await review(h, id, { decision: 'approve' }, token);
  assert.equal(res.statusCode, 200, res.body);
  assert.equal(res.data.status, expectedStatus, res.body);
  return res;
}

/** Files an order and has two members approve it: disclosed. */
async function disclosed(h: Harness, body: unknown, second: string): Promise<string> {
  const id = await fileInReview(h, body);
  await approve(h, id, h.tokens.legal, 'in_review');
  await approve(h, id, second, 'disclosed');
  return id;
}

/** `personal_data.read` audit entries made for an order, as [account, details]. */
async function readsFor(h: Harness, id: string) {
  const rows = await h.ctx.store.db
    .selectFrom('audit_log')
    .select(['subject_type', 'subject_id', 'details'])
    .where('action', '=', 'personal_data.read')
    .orderBy('seq')
    .execute();
  return rows
    .map((r) => ({ type: r.subject_type, account: r.subject_id, details: JSON.parse(r.details) }))
    .filter((r) => r.details.purpose === `legal_request:${id}`);
}

/** Payloads of the outbox entries of one event type about one order. */
async function queued(h: Harness, type: string, requestId: string): Promise<any[]> {
  const rows = await h.ctx.store.db
    .selectFrom('webhook_outbox')
    .select('payload')
    .where('event_type', '=', type)
    .execute();
  return rows.map((r) => JSON.parse(r.payload)).filter((p) => p.data.requestId === requestId);
}

async function registerWebhook(h: Harness) {
  const hook = await h.call('POST', '/v1/webhooks', {
    token: h.tokens.admin,
    body: { url: 'http://127.0.0.1:9/never-called' },
  });
  assert.equal(hook.statusCode, 201, hook.body);
}

/** Replaces the character at `index` of `text` with another base64url character. */
function flip(text: string, index: number): string {
  const c = text[index] === 'A' ? 'B' : 'A';
  return text.slice(0, index) + c + text.slice(index + 1);
}

/** Replaces one dot-separated part of a compact JWE or JWS. */
function withPart(compact: string, part: number, change: (value: string) => string): string {
  const parts = compact.split('.');
  parts[part] = change(parts[part]!);
  return parts.join('.');
}

describeEachStore('disclosure packages: sealed, signed, audited, recovered', (get) => {
  let v1: Violator;
  let v2: Violator;
  let legal2: string;
  let jwe: string;
  before(async () => {
    const h = get();
    v1 = await seedViolator(h, { sessions: 4, days: 20 });
    v2 = await seedViolator(h, { sessions: 3, days: 20 });
    legal2 = await legalToken(h);
    const id = await disclosed(h, buildOrder([{ accountId: v1.accountId }]), legal2);
    const pkg = await fetchPackage(h, id);
    assert.equal(pkg.statusCode, 200, pkg.body);
    jwe = pkg.data.package;
    // The untouched package opens: the failures below come from the tampering alone.
    const { payload } = await openPackage(h, jwe);
    assert.equal(payload.targets[0].phoneNumber, v1.phone);
  });

  it('fails to decrypt a package whose ciphertext, tag or header was altered', async () => {
    const h = get();
    const ciphertext = jwe.split('.')[3]!;
    const tag = jwe.split('.')[4]!;
    for (const [what, tampered] of [
      ['ciphertext', withPart(jwe, 3, (c) => flip(c, Math.floor(ciphertext.length / 2)))],
      ['first byte of the ciphertext', withPart(jwe, 3, (c) => flip(c, 0))],
      ['tag', withPart(jwe, 4, (t) => flip(t, Math.floor(tag.length / 2)))],
      [
        'protected header',
        withPart(jwe, 0, () =>
          Buffer.from(JSON.stringify({ ...decodeProtectedHeader(jwe), cty: 'JSON' })).toString('base64url'),
        ),
      ],
    ] as const) {
      assert.notEqual(tampered, jwe, what);
      await assert.rejects(openPackage(h, tampered), `a package with an altered ${what} must not open`);
      await assert.rejects(compactDecrypt(tampered, h.authorityKey.privateKey), what);
    }
  });

  it('fails verification when the signed content inside was altered or signed by another key', async () => {
    const h = get();
    const { plaintext } = await compactDecrypt(jwe, h.authorityKey.privateKey);
    const jws = new TextDecoder().decode(plaintext);
    const authorityPublic = await importJWK(h.authorityKey.publicJwk, 'ECDH-ES');
    // Whoever holds the authority's public key can encrypt; only the platform can sign.
    const reseal = (inner: string) =>
      new CompactEncrypt(new TextEncoder().encode(inner))
        .setProtectedHeader({ alg: 'ECDH-ES', enc: 'A256GCM', cty: 'JWS' })
        .encrypt(authorityPublic);

    // Control: the same JWS resealed opens, so a failure below is the signature's.
    const control = await openPackage(h, await reseal(jws));
    assert.equal(control.payload.targets[0].accountId, v1.accountId);

    const signature = jws.split('.')[2]!;
    const badSignature = withPart(jws, 2, (s) => flip(s, Math.floor(signature.length / 2)));
    await assert.rejects(openPackage(h, await reseal(badSignature)), /signature verification failed/);

    const payload = JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8'));
    payload.targets[0].phoneNumber = '+4915100000000';
    const badPayload = withPart(jws, 1, () => Buffer.from(JSON.stringify(payload)).toString('base64url'));
    await assert.rejects(openPackage(h, await reseal(badPayload)), /signature verification failed/);

    const forger = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    const forged = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(decodeProtectedHeader(jws) as { alg: string })
      .sign(forger.privateKey);
    await assert.rejects(openPackage(h, await reseal(forged)), /signature verification failed/);
  });

  it('cannot be opened with another key pair', async () => {
    const h = get();
    const stranger = await authorityKeyPair();
    await assert.rejects(openPackage(h, jwe, stranger.privateKey));
    await assert.rejects(compactDecrypt(jwe, stranger.privateKey));
  });

  it('audits one personal-data read per disclosed target, with the order as purpose, and none before disclosure', async () => {
    const h = get();
    const clean = await seedViolator(h, { violation: false, sessions: 2, days: 10 });
    const id = await fileInReview(
      h,
      buildOrder([{ accountId: v1.accountId }, { accountId: clean.accountId }, { accountId: v2.accountId }]),
    );
    await approve(h, id, h.tokens.legal, 'in_review');
    assert.deepEqual(await readsFor(h, id), [], 'nothing read while in review');
    await approve(h, id, legal2, 'disclosed');

    const reads = await readsFor(h, id);
    assert.deepEqual(
      reads.map((r) => [r.type, r.account]),
      [
        ['account', v1.accountId],
        ['account', v2.accountId],
      ],
      'the dropped target (no violation) is not read',
    );
    for (const r of reads) assert.deepEqual(r.details.categories, ['ip_addresses', 'phone_number']);
    const { payload } = await openPackage(h, (await fetchPackage(h, id)).data.package);
    const records = (t: { phoneNumber?: string; ipAddresses?: unknown[] }) =>
      (t.ipAddresses?.length ?? 0) + (t.phoneNumber ? 1 : 0);
    assert.deepEqual(
      reads.map((r) => r.details.records),
      payload.targets.map(records),
      'each entry counts what was read for that target',
    );
    assert.ok(!reads.some((r) => JSON.stringify(r.details).includes(v1.phone)), 'the audit log holds no phone number');
  });

  it('discloses an order left approved without a package (a crash in between) exactly once on resume', async () => {
    const h = get();
    const id = await fileInReview(h, buildOrder([{ accountId: v2.accountId }]));
    await approve(h, id, h.tokens.legal, 'in_review');
    // The second approval committed, then the process died before the package was built.
    await h.ctx.store.db
      .updateTable('legal_requests')
      .set({ status: 'approved', decided_at: Date.now() })
      .where('id', '=', id)
      .execute();
    assertErrorBody(await fetchPackage(h, id), 409, 'conflict');

    const resumed = await Promise.all([resumeApprovedOrders(h.ctx), resumeApprovedOrders(h.ctx)]);
    assert.equal(resumed[0]! + resumed[1]!, 1, `resumed ${resumed}`);
    assert.equal(await resumeApprovedOrders(h.ctx), 0, 'nothing left to resume');

    const db = h.ctx.store.db;
    const packages = await db.selectFrom('disclosure_packages').select('sha256').where('request_id', '=', id).execute();
    assert.equal(packages.length, 1);
    const audits = await db
      .selectFrom('audit_log')
      .select('seq')
      .where('action', '=', 'legal_request.disclose')
      .where('subject_id', '=', id)
      .execute();
    assert.equal(audits.length, 1);
    assert.equal((await readsFor(h, id)).length, 1);
    const view = await h.call('GET', `/v1/legal-requests/${id}`, { token: h.tokens.legal });
    assert.equal(view.data.status, 'disclosed');
    assert.equal(view.data.history.filter((e: { type: string }) => e.type === 'disclosed').length, 1);
    const pkg = await fetchPackage(h, id);
    assert.equal(pkg.statusCode, 200, pkg.body);
    const { payload } = await openPackage(h, pkg.data.package);
    assert.deepEqual(
      payload.targets.map((t: { accountId: string }) => t.accountId),
      [v2.accountId],
    );
  });
});

describeEachStore(
  'preservation orders',
  (get) => {
    let held: Violator;
    let control: Violator;
    let legal2: string;
    let t0: number;
    let preservationId: string;

    const sessionsOf = async (h: Harness, accountId: string) =>
      (await h.ctx.store.db.selectFrom('sessions').select('id').where('account_id', '=', accountId).execute()).length;

    before(async () => {
      const h = get();
      // Sessions 2.5, 7.5, …, 27.5 days old, inside the 30-day retention window of this suite (ingest refuses older).
      held = await seedViolator(h, { sessions: 6, days: 30 });
      control = await seedViolator(h, { sessions: 6, days: 30 });
      legal2 = await legalToken(h);
      t0 = Date.now();
    });

    it('preserves an order that passes the checks at once, for 60 days, holding its targets against the retention purge', async () => {
      const h = get();
      const filed = await fileOrder(
        h,
        buildOrder([{ accountId: held.accountId }], {
          type: 'preservation',
          period: { from: new Date(t0 - 29 * DAY).toISOString(), to: new Date(t0).toISOString() },
        }),
      );
      assert.equal(filed.statusCode, 201, filed.body);
      assert.equal(filed.data.status, 'preserved', filed.body);
      preservationId = filed.data.id;
      assert.equal(Date.parse(filed.data.preservedUntil) - Date.parse(filed.data.receivedAt), 60 * DAY);
      assert.equal(filed.data.preservationExtended, false);
      assert.equal(filed.data.packageAvailable, false);
      assertErrorBody(await fetchPackage(h, preservationId), 409, 'conflict');

      const later = t0 + 20 * DAY;
      const cutoff = later - 30 * DAY;
      await purgeExpiredSessions(h.ctx.store.db, 30, later);
      assert.equal(await sessionsOf(h, held.accountId), held.sessions.length, 'the held account keeps every session');
      assert.equal(
        await sessionsOf(h, control.accountId),
        control.sessions.filter((s) => Date.parse(s.at) >= cutoff).length,
        'an account not held loses its sessions older than the window',
      );
      assert.ok(
        control.sessions.some((s) => Date.parse(s.at) < cutoff),
        'the purge had something to take',
      );
    });

    it('extends a preservation by 30 days once; a second extension is refused (409)', async () => {
      const h = get();
      const extend = () => h.call('POST', `/v1/legal-requests/${preservationId}/extend`, { token: h.tokens.authority });
      const first = await extend();
      assert.equal(first.statusCode, 200, first.body);
      assert.equal(Date.parse(first.data.preservedUntil) - Date.parse(first.data.receivedAt), 90 * DAY);
      assert.equal(first.data.preservationExtended, true);
      const second = await extend();
      const error = assertErrorBody(second, 409, 'conflict');
      assert.deepEqual(error.details, { reason: 'already_extended' });

      // Past the original 60 days, inside the extension: still held.
      await purgeExpiredSessions(h.ctx.store.db, 30, t0 + 75 * DAY);
      assert.equal(await sessionsOf(h, held.accountId), held.sessions.length);
      assert.equal(await sessionsOf(h, control.accountId), 0);
    });

    it('lets a production order consuming the preservation reach back past the retention window, and releases the hold on disclosure', async () => {
      const h = get();
      const t1 = t0 + 80 * DAY;
      const actor = { id: 'authority-token', role: 'authority' as const, authorityId: h.tokens.authorityId };
      const period = { from: new Date(t0 - 29 * DAY).toISOString(), to: new Date(t1).toISOString() };
      const order = buildOrder([{ accountId: held.accountId }], { period });

      const without = await submitLegalRequest(h.ctx, actor, order, t1);
      const refused = await h.call('GET', `/v1/legal-requests/${without}`, { token: h.tokens.authority });
      assert.equal(refused.data.status, 'rejected');
      assert.deepEqual(refused.data.reasons, ['period_outside_retention']);

      const id = await submitLegalRequest(h.ctx, actor, { ...order, preservationRequestId: preservationId }, t1);
      const filed = await h.call('GET', `/v1/legal-requests/${id}`, { token: h.tokens.authority });
      assert.equal(filed.data.status, 'in_review', filed.body);
      assert.equal(filed.data.preservationRequestId, preservationId);
      await approve(h, id, h.tokens.legal, 'in_review');
      await approve(h, id, legal2, 'disclosed');

      const { payload } = await openPackage(h, (await fetchPackage(h, id)).data.package);
      const expected = held.sessions.filter((s) => Date.parse(s.at) >= Date.parse(period.from));
      assert.ok(expected.length > 0);
      assert.ok(
        expected.every((s) => Date.parse(s.at) < t1 - 30 * DAY),
        'every session disclosed is older than the window at the time of the order',
      );
      assert.deepEqual(payload.targets, [
        { accountId: held.accountId, phoneNumber: held.phone, ipAddresses: expected },
      ]);

      const preservation = await h.call('GET', `/v1/legal-requests/${preservationId}`, { token: h.tokens.authority });
      assert.equal(preservation.data.consumedBy, id);
      const holds = await h.ctx.store.db
        .selectFrom('preservations')
        .select('id')
        .where('source', '=', `legal:${preservationId}`)
        .execute();
      assert.deepEqual(holds, []);
      assertErrorBody(
        await h.call('POST', `/v1/legal-requests/${preservationId}/extend`, { token: h.tokens.authority }),
        409,
        'conflict',
      );
      await assert.rejects(
        submitLegalRequest(h.ctx, actor, { ...order, preservationRequestId: preservationId }, t1),
        (e: Error & { code?: string }) => e.code === 'validation_failed',
        'a consumed preservation cannot be consumed again',
      );

      // The hold is gone: the next purge takes the old sessions.
      await purgeExpiredSessions(h.ctx.store.db, 30, t1);
      assert.equal(await sessionsOf(h, held.accountId), 0);
    });
  },
  { config: { sessionRetentionDays: 30 } },
);

describeEachStore('legal deadline warnings', (get) => {
  let violator: Violator;
  let legal2: string;
  before(async () => {
    const h = get();
    await registerWebhook(h);
    violator = await seedViolator(h, { sessions: 2, days: 10 });
    legal2 = await legalToken(h);
  });

  const counts = async (h: Harness, id: string) => ({
    near: (await queued(h, 'legal.deadline_near', id)).length,
    overdue: (await queued(h, 'legal.overdue', id)).length,
  });

  it('warns once inside the warning window and once past the deadline of an emergency order, never twice', async () => {
    const h = get();
    const filed = await fileOrder(
      h,
      buildOrder([{ accountId: violator.accountId }], {
        type: 'emergency',
        emergencyJustification: 'A bomb threat against a school, timed for tomorrow morning.',
      }),
    );
    assert.equal(filed.statusCode, 201, filed.body);
    const id = filed.data.id;
    const due = Date.parse(filed.data.dueAt);

    await raiseDeadlineWarnings(h.ctx, due - 3 * HOUR);
    assert.deepEqual(await counts(h, id), { near: 0, overdue: 0 }, 'before the 2-hour window');
    await raiseDeadlineWarnings(h.ctx, due - 1 * HOUR);
    assert.deepEqual(await counts(h, id), { near: 1, overdue: 0 });
    await raiseDeadlineWarnings(h.ctx, due - 30 * 60_000);
    assert.deepEqual(await counts(h, id), { near: 1, overdue: 0 }, 'no second deadline_near');
    await raiseDeadlineWarnings(h.ctx, due + 1 * HOUR);
    assert.deepEqual(await counts(h, id), { near: 1, overdue: 1 });
    await raiseDeadlineWarnings(h.ctx, due + 2 * HOUR);
    await raiseDeadlineWarnings(h.ctx, due + 30 * DAY);
    assert.deepEqual(await counts(h, id), { near: 1, overdue: 1 }, 'no second overdue');

    const [near] = await queued(h, 'legal.deadline_near', id);
    assert.equal(near.data.dueAt, filed.data.dueAt);
    assert.equal(near.data.type, 'emergency');
    const [overdue] = await queued(h, 'legal.overdue', id);
    assert.equal(overdue.data.status, 'in_review');
  });

  it('sends neither warning for an order answered in time, while an unanswered one filed with it gets both', async () => {
    const h = get();
    const answered = await fileInReview(h, buildOrder([{ accountId: violator.accountId }]));
    const open = await fileOrder(h, buildOrder([{ accountId: violator.accountId }]));
    assert.equal(open.statusCode, 201, open.body);
    await approve(h, answered, h.tokens.legal, 'in_review');
    await approve(h, answered, legal2, 'disclosed');
    const due = Date.parse(open.data.dueAt);

    await raiseDeadlineWarnings(h.ctx, due - 24 * HOUR);
    await raiseDeadlineWarnings(h.ctx, due + HOUR);
    await raiseDeadlineWarnings(h.ctx, due + 10 * DAY);
    assert.deepEqual(await counts(h, answered), { near: 0, overdue: 0 });
    assert.deepEqual(await counts(h, open.data.id), { near: 1, overdue: 1 });
  });
});

describeEachStore('notices to the accounts whose data was disclosed', (get) => {
  let v1: Violator;
  let v2: Violator;
  let legal2: string;
  before(async () => {
    const h = get();
    await registerWebhook(h);
    v1 = await seedViolator(h, { sessions: 2, days: 10 });
    v2 = await seedViolator(h, { sessions: 2, days: 10 });
    legal2 = await legalToken(h);
  });

  const notices = (h: Harness, id: string) => queued(h, 'account.data_disclosed', id);

  it('tells each disclosed account at once when the order sets no non-disclosure date, and only once', async () => {
    const h = get();
    const id = await disclosed(h, buildOrder([{ accountId: v1.accountId }, { accountId: v2.accountId }]), legal2);
    await sendUserNotices(h.ctx, Date.now());
    const sent = await notices(h, id);
    assert.deepEqual(sent.map((n) => n.data.accountId).sort(), [v1.accountId, v2.accountId].sort());
    for (const n of sent) {
      assert.deepEqual(n.data.dataCategories, ['ip_addresses', 'phone_number']);
      assert.equal(n.data.authority.country, 'DE');
    }
    const text = JSON.stringify(sent);
    for (const v of [v1, v2]) {
      assert.ok(!text.includes(v.phone), 'the notice carries no phone number');
      for (const s of v.sessions) assert.ok(!text.includes(s.ip), 'the notice carries no IP address');
    }
    await sendUserNotices(h.ctx, Date.now() + DAY);
    assert.equal((await notices(h, id)).length, 2, 'no duplicate');
  });

  it('waits for the non-disclosure date to pass, then tells each account once', async () => {
    const h = get();
    const now = Date.now();
    const gag = now + 30 * DAY;
    const id = await disclosed(
      h,
      buildOrder([{ accountId: v1.accountId }, { accountId: v2.accountId }], {
        nonDisclosureUntil: new Date(gag).toISOString(),
      }),
      legal2,
    );
    await sendUserNotices(h.ctx, now + DAY);
    await sendUserNotices(h.ctx, gag - 60_000);
    assert.deepEqual(await notices(h, id), [], 'nothing while the gag holds');
    await sendUserNotices(h.ctx, gag + 60_000);
    assert.deepEqual((await notices(h, id)).map((n) => n.data.accountId).sort(), [v1.accountId, v2.accountId].sort());
    await sendUserNotices(h.ctx, gag + DAY);
    assert.equal((await notices(h, id)).length, 2, 'no duplicate');
    const view = await h.call('GET', `/v1/legal-requests/${id}`, { token: h.tokens.legal });
    for (const t of view.data.targets) assert.ok(t.notifiedAt, JSON.stringify(t));
  });

  it('sends a notice that fell due while the process was down after the restart, exactly once', async () => {
    const h = get();
    const gag = Date.now() + 10 * DAY;
    const id = await disclosed(
      h,
      buildOrder([{ accountId: v1.accountId }], { nonDisclosureUntil: new Date(gag).toISOString() }),
      legal2,
    );
    await sendUserNotices(h.ctx, gag - DAY);
    assert.deepEqual(await notices(h, id), []);

    // New processes on the same store, after the gag has ended.
    const restart = () =>
      createContext(h.config, {
        ...(h.dialect === 'postgres' ? { pgSchema: h.location } : {}),
        logger: createLogger('silent'),
      });
    let ctx: Context = await restart();
    try {
      assert.ok((await sendUserNotices(ctx, gag + HOUR)) >= 1);
    } finally {
      await closeContext(ctx);
    }
    ctx = await restart();
    try {
      await sendUserNotices(ctx, gag + 2 * HOUR);
    } finally {
      await closeContext(ctx);
    }
    await sendUserNotices(h.ctx, gag + 3 * HOUR);
    const sent = await notices(h, id);
    assert.deepEqual(
      sent.map((n) => n.data.accountId),
      [v1.accountId],
    );
  });
});
