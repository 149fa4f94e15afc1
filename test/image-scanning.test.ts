import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import { importHashes } from '../src/hashes/banks.js';
import { hashImage } from '../src/images/hash-image.js';
import { TEST_ACTOR, type Harness, describeEachStore } from './helpers/harness.js';
import { decideOk, extraToken, reportAs, seedAccount } from './helpers/notice-action.js';

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), 'fixtures');
const image = (name: string) => fs.readFileSync(path.join(FIXTURES, name));
const BRIDGE = 'pdq/reg-test-input__dih__bridge-1-original.jpg';

let counter = 0;

/** Ingests one image item (synchronously scanned) and returns its id and verdict. */
async function ingestImage(h: Harness, bytes: Buffer, accountId?: string): Promise<{ id: string; verdict: any }> {
  const author = accountId ?? (await seedAccount(h)).id;
  const id = `img-${Date.now().toString(36)}-${counter++}`;
  const res = await h.call('POST', '/v1/ingest/content', {
    token: h.tokens.platform,
    body: {
      items: [
        {
          id,
          accountId: author,
          kind: 'image',
          imageBase64: bytes.toString('base64'),
          createdAt: new Date().toISOString(),
        },
      ],
    },
  });
  assert.equal(res.statusCode, 200, res.body);
  return { id, verdict: res.data.results[0].verdict };
}

async function caseOf(h: Harness, contentId: string) {
  return h.ctx.store.db.selectFrom('cases').selectAll().where('subject_id', '=', contentId).executeTakeFirstOrThrow();
}

async function pdqOf(name: string): Promise<string> {
  return (await hashImage(image(name))).pdq;
}

describeEachStore('image scanning against hash banks', (get) => {
  it('removes a rotated copy of a banked image, naming bank and distance in the signals and the statement', async () => {
    const h = get();
    await importHashes(h.ctx.store.db, TEST_ACTOR, await pdqOf(BRIDGE), {
      bank: 'terror-test',
      category: 'terrorism',
      action: 'remove',
    });
    await h.ctx.hashes.refresh();
    const { id, verdict } = await ingestImage(h, image('pdq/reg-test-input__dih__bridge-2-rotate-90.jpg'));
    assert.equal(verdict.action, 'remove');
    assert.equal(verdict.category, 'terrorism');
    const match = verdict.signals.find((s: any) => s.scanner === 'hashes');
    assert.equal(match.detail.bank, 'terror-test');
    assert.equal(match.detail.kind, 'pdq');
    assert.ok(match.detail.distance <= 31, `distance ${match.detail.distance}`);
    assert.notEqual(match.detail.variant, 'original', 'found through a rotation');
    const info = verdict.signals.find((s: any) => s.scanner === 'image');
    assert.match(info.detail.pdq, /^[0-9a-f]{64}$/);
    // The automated decision and its statement of reasons.
    const c = await caseOf(h, id);
    assert.equal(c.status, 'closed');
    const statement = await h.call('GET', `/v1/decisions/${c.decision_id}/statement`, { token: h.tokens.moderator });
    assert.equal(statement.statusCode, 200, statement.body);
    assert.equal(statement.data.statement.automated_detection, 'Yes');
    assert.equal(statement.data.statement.automated_decision, 'AUTOMATED_DECISION_FULLY');
    assert.match(statement.data.statement.decision_facts, /hash bank terror-test/);
    const stored = await h.ctx.store.db
      .selectFrom('content')
      .select(['state', 'image_pdq'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.equal(stored.state, 'removed');
    assert.equal(stored.image_pdq, info.detail.pdq);
  });

  it('matches exact MD5 lists, also for bytes that are not an image', async () => {
    const h = get();
    const bytes = crypto.randomBytes(3000);
    const md5 = crypto.createHash('md5').update(bytes).digest('hex');
    await importHashes(h.ctx.store.db, TEST_ACTOR, md5, { bank: 'md5-list', category: 'csam', kind: 'md5' });
    await h.ctx.hashes.refresh();
    const { verdict } = await ingestImage(h, bytes);
    assert.equal(verdict.action, 'review');
    const match = verdict.signals.find((s: any) => s.scanner === 'hashes');
    assert.deepEqual([match.detail.bank, match.detail.kind, match.detail.distance], ['md5-list', 'md5', 0]);
    const info = verdict.signals.find((s: any) => s.scanner === 'image');
    assert.equal(info.detail.pdq, null);
    assert.equal(info.detail.imageError, 'image_unsupported');
  });

  it('puts a CSAM match in the restricted queue: admins and restricted reviewers only, blurred until revealed', async () => {
    const h = get();
    // Another picture than the other tests' banks hold.
    const banked = 'pdq-more/q0291.jpg';
    await importHashes(h.ctx.store.db, TEST_ACTOR, await pdqOf(banked), {
      bank: 'csam-test',
      category: 'csam',
      action: 'review',
    });
    await h.ctx.hashes.refresh();
    const upload = await sharp(image(banked)).resize({ width: 400 }).jpeg({ quality: 75 }).toBuffer();
    const { id, verdict } = await ingestImage(h, upload);
    assert.equal(verdict.action, 'review');
    assert.equal(verdict.category, 'csam');
    const c = await caseOf(h, id);
    assert.equal(c.queue, 'restricted');
    assert.equal(c.status, 'open');

    const listed = async (token: string, query = '') => {
      const res = await h.call('GET', `/v1/cases?status=open&limit=200${query}`, { token });
      assert.equal(res.statusCode, 200, res.body);
      return res.data.cases.map((x: any) => x.id) as string[];
    };
    assert.equal((await listed(h.tokens.moderator)).includes(c.id), false, 'moderators do not see it');
    assert.equal((await h.call('GET', '/v1/cases?queue=restricted', { token: h.tokens.moderator })).statusCode, 403);
    for (const [method, url] of [
      ['GET', `/v1/cases/${c.id}`],
      ['GET', `/v1/cases/${c.id}/image`],
      ['POST', `/v1/cases/${c.id}/claim`],
    ] as const) {
      assert.equal((await h.call(method, url, { token: h.tokens.moderator })).statusCode, 403, `${method} ${url}`);
    }
    assert.ok((await listed(h.tokens.restricted_reviewer)).includes(c.id));
    assert.ok((await listed(h.tokens.admin)).includes(c.id));
    const detail = await h.call('GET', `/v1/cases/${c.id}`, { token: h.tokens.restricted_reviewer });
    assert.equal(detail.statusCode, 200, detail.body);
    assert.equal(detail.data.content.hasImage, true);
    assert.equal(detail.data.content.imageBase64, undefined, 'the case view never carries the image');

    // Blurred by default; the image itself only on request, and audited.
    const preview = await h.call('GET', `/v1/cases/${c.id}/image`, { token: h.tokens.restricted_reviewer });
    assert.equal(preview.statusCode, 200);
    assert.equal(preview.headers['content-type'], 'image/jpeg');
    assert.equal(preview.headers['cache-control'], 'no-store');
    const meta = await sharp(preview.rawPayload).metadata();
    assert.ok(Math.max(meta.width!, meta.height!) <= 96, `preview is ${meta.width}x${meta.height}`);
    const auditedBefore = await revealCount(h, c.id);
    assert.equal(auditedBefore, 0, 'a preview is not a reveal');
    const revealed = await h.call('GET', `/v1/cases/${c.id}/image?reveal=true`, {
      token: h.tokens.restricted_reviewer,
    });
    assert.equal(revealed.statusCode, 200);
    assert.ok(revealed.rawPayload.equals(upload), 'the image as uploaded');
    assert.equal(await revealCount(h, c.id), 1);

    // The reviewer sees the restricted queue only.
    const other = await reportAs(h, { accountId: (await seedAccount(h)).id }, 'spam');
    assert.equal(
      (await h.call('GET', `/v1/cases/${other.caseId}`, { token: h.tokens.restricted_reviewer })).statusCode,
      403,
    );
    assert.equal((await listed(h.tokens.restricted_reviewer)).includes(other.caseId), false);
    assert.ok((await listed(h.tokens.admin)).includes(other.caseId));

    // Dismissed as a false match, then reported for spam: the new case is in the main queue. Its
    // moderators do not learn of the CSAM-bank match; admins still see it on the same case.
    await decideOk(
      h,
      c.id,
      { actions: [{ type: 'dismiss' }], category: 'csam', ground: 'terms', explanation: 'Not the banked picture.' },
      h.tokens.restricted_reviewer,
    );
    const spam = await reportAs(h, { contentId: id }, 'spam');
    const bankOf = async (token: string) => {
      const res = await h.call('GET', `/v1/cases/${spam.caseId}`, { token });
      assert.equal(res.statusCode, 200, res.body);
      assert.equal(res.data.queue, 'main');
      return res.data.signals.map((s: any) => s.detail?.bank).filter(Boolean);
    };
    assert.deepEqual(await bankOf(h.tokens.moderator), [], 'no CSAM-bank match for a moderator');
    assert.deepEqual(await bankOf(h.tokens.admin), ['csam-test']);
  });

  it('a moderator’s removal banks the image in local-confirmed; an overturned appeal takes it out again', async () => {
    const h = get();
    const picture = image('pdq-more/q0122.jpg');
    const first = await ingestImage(h, picture);
    assert.equal(first.verdict.action, 'allow');
    const report = await reportAs(h, { contentId: first.id }, 'ncii');
    const decision = await decideOk(h, report.caseId, {
      actions: [{ type: 'remove_content' }],
      category: 'ncii',
      ground: 'illegal',
      explanation: 'An intimate image shared without consent, confirmed by the person shown.',
    });
    await h.ctx.hashes.refresh();
    // The same picture, re-encoded: another file, the same PDQ neighbourhood.
    const reupload = await sharp(picture).jpeg({ quality: 70 }).toBuffer();
    const again = await ingestImage(h, reupload);
    assert.equal(again.verdict.action, 'remove');
    assert.equal(again.verdict.category, 'ncii');
    const match = again.verdict.signals.find((s: any) => s.scanner === 'hashes');
    assert.equal(match.detail.bank, 'local-confirmed');

    const appeal = await h.call('POST', `/v1/decisions/${decision.id}/appeals`, {
      token: h.tokens.platform,
      body: { text: 'This is a holiday photo of me, posted by me.' },
    });
    assert.equal(appeal.statusCode, 201, appeal.body);
    const other = await extraToken(h, 'moderator');
    const resolved = await h.call('POST', `/v1/appeals/${appeal.data.id}/resolve`, {
      token: other.token,
      body: { outcome: 'overturned', explanation: 'The account holder is the person shown and posted it.' },
    });
    assert.equal(resolved.statusCode, 200, resolved.body);
    await h.ctx.hashes.refresh();
    const third = await ingestImage(h, await sharp(picture).jpeg({ quality: 80 }).toBuffer());
    assert.equal(third.verdict.action, 'allow', JSON.stringify(third.verdict.signals));
  });
});

async function revealCount(h: Harness, caseId: string): Promise<number> {
  const rows = await h.ctx.store.db
    .selectFrom('audit_log')
    .select('seq')
    .where('action', '=', 'case.image_revealed')
    .where('subject_id', '=', caseId)
    .execute();
  return rows.length;
}
