import { CompactEncrypt, CompactSign, type JWK } from 'jose';
import type { Actor } from '../audit/actor.js';
import { SYSTEM_ACTOR } from '../audit/actor.js';
import { appendAudit } from '../audit/service.js';
import { PHONE_FIELD } from '../accounts/service.js';
import type { Context } from '../context.js';
import type { Tx } from '../db/database.js';
import { ConflictError } from '../errors.js';
import { sessionsInPeriod } from '../sessions/service.js';
import { PACKAGE_ENC, PACKAGE_KEY_ALG, importAuthorityKey } from './authority-key.js';
import type { DisclosableData } from './disclosure-policy.js';
import { recordEvent } from './events.js';
import { lockRequest, requireOwnRequest } from './service.js';
import { SIGNING_ALG, currentSigningKey, sha256Hex } from './signing-keys.js';

/** The payload inside the JWS (SPEC.md): per target, the phone number and the IP addresses, nothing else. */
export interface DisclosurePayload {
  requestId: string;
  producedAt: string;
  policyVersion: string;
  targets: Array<{
    accountId: string;
    phoneNumber?: string | null;
    ipAddresses?: Array<{ ip: string; port?: number; at: string }>;
  }>;
}

/** Media type of the signed payload, named in the JWS and JWE headers. */
export const PAYLOAD_TYPE = 'application/vnd.custos.disclosure+json';
const DAY = 86_400_000;
const ACTOR = SYSTEM_ACTOR('disclosure');

/**
 * Discloses an approved production or emergency order, once: per included target, the phone number and the IP addresses (with port and time)
 * inside the approved period only, as JSON, signed with the platform's key (JWS,
 * EdDSA) and encrypted to the authority's key (JWE, ECDH-ES + A256GCM). Every read of
 * personal data is audited in the same transaction. The row lock (PostgreSQL) or the
 * write lock (SQLite) and the `approved` status make concurrent callers (two
 * approvals racing, the recovery job) produce exactly one package.
 */
export async function produceDisclosure(ctx: Context, id: string, now = Date.now()): Promise<boolean> {
  const policy = ctx.disclosure;
  const key = await currentSigningKey(ctx.store.db, ctx.cipher, now);
  return ctx.store.db.transaction().execute(async (tx) => {
    const row = await lockRequest(tx, id);
    if (row.status !== 'approved') return false;
    const targets = await tx
      .selectFrom('legal_targets')
      .select(['id', 'account_id'])
      .where('request_id', '=', id)
      .where('status', '=', 'included')
      .orderBy('position')
      .execute();
    const accounts = targets.map((t) => t.account_id!).filter(Boolean);

    const data = JSON.parse(row.data_categories) as DisclosableData[];
    const payload = await readDisclosure(
      ctx,
      tx,
      id,
      accounts,
      data,
      Number(row.period_from),
      Number(row.period_to),
      now,
    );
    const authority = await tx
      .selectFrom('authorities')
      .select(['public_jwk'])
      .where('id', '=', row.authority_id)
      .executeTakeFirstOrThrow();
    const jws = await new CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader({ alg: SIGNING_ALG, kid: key.kid, typ: 'JWS', cty: PAYLOAD_TYPE })
      .sign(key.privateKey);
    const jwe = await new CompactEncrypt(new TextEncoder().encode(jws))
      .setProtectedHeader({ alg: PACKAGE_KEY_ALG, enc: PACKAGE_ENC, cty: 'JWS' })
      .encrypt(await importAuthorityKey(JSON.parse(authority.public_jwk) as JWK));
    const records = payload.targets.reduce((n, t) => n + (t.ipAddresses?.length ?? 0) + (t.phoneNumber ? 1 : 0), 0);
    await tx
      .insertInto('disclosure_packages')
      .values({
        request_id: id,
        jwe,
        sha256: sha256Hex(jwe),
        kid: key.kid,
        targets: payload.targets.length,
        records,
        policy_version: policy.version,
        produced_at: now,
        downloaded_at: null,
      })
      .execute();
    // The affected accounts are told once the gag ends, or at once when there is none and the policy says so.
    const noticeAt =
      row.non_disclosure_until !== null ? Number(row.non_disclosure_until) : policy.notifyUsers ? now : null;
    if (noticeAt !== null) {
      await tx
        .updateTable('legal_targets')
        .set({ notice_due_at: noticeAt })
        .where('request_id', '=', id)
        .where('status', '=', 'included')
        .execute();
    }
    await tx
      .updateTable('legal_requests')
      .set({ status: 'disclosed', disclosed_at: now, updated_at: now })
      .where('id', '=', id)
      .execute();
    if (row.preservation_request_id) {
      await tx
        .updateTable('legal_requests')
        .set({ consumed_by: id, updated_at: now })
        .where('id', '=', row.preservation_request_id)
        // The first production order to be disclosed consumes it; a later one leaves that record alone.
        .where('consumed_by', 'is', null)
        .execute();
      await tx.deleteFrom('preservations').where('source', '=', `legal:${row.preservation_request_id}`).execute();
      await recordEvent(tx, ACTOR, row.preservation_request_id, 'preservation.consumed', 'preserved', { by: id }, now);
    }
    await recordEvent(tx, ACTOR, id, 'disclosed', 'disclosed', { targets: payload.targets.length, records }, now);
    await appendAudit(
      tx,
      ACTOR,
      {
        action: 'legal_request.disclose',
        subjectType: 'legal_request',
        subjectId: id,
        details: {
          targets: payload.targets.length,
          records,
          data,
          period: {
            from: new Date(Number(row.period_from)).toISOString(),
            to: new Date(Number(row.period_to)).toISOString(),
          },
          packageSha256: sha256Hex(jwe),
          kid: key.kid,
          policyVersion: policy.version,
        },
      },
      now,
    );
    return true;
  });
}

/**
 * Reads what an order discloses, target by target, each read audited. Only the two
 * disclosable categories exist here: the payload type has no place for anything else.
 */
async function readDisclosure(
  ctx: Context,
  tx: Tx,
  id: string,
  accounts: string[],
  data: DisclosableData[],
  from: number,
  to: number,
  now: number,
): Promise<DisclosurePayload> {
  const payload: DisclosurePayload = {
    requestId: id,
    producedAt: new Date(now).toISOString(),
    policyVersion: ctx.disclosure.version,
    targets: [],
  };
  for (const accountId of accounts) {
    const target: DisclosurePayload['targets'][number] = { accountId };
    if (data.includes('phone_number')) {
      const account = await tx
        .selectFrom('accounts')
        .select(['phone_enc'])
        .where('id', '=', accountId)
        .executeTakeFirst();
      target.phoneNumber = account?.phone_enc ? ctx.cipher.decrypt(PHONE_FIELD, accountId, account.phone_enc) : null;
    }
    if (data.includes('ip_addresses')) {
      const sessions = await sessionsInPeriod(tx, ctx.cipher, accountId, from, to);
      target.ipAddresses = sessions.map((s) =>
        s.port === null ? { ip: s.ip, at: s.at } : { ip: s.ip, port: s.port, at: s.at },
      );
    }
    payload.targets.push(target);
    await appendAudit(
      tx,
      ACTOR,
      {
        action: 'personal_data.read',
        subjectType: 'account',
        subjectId: accountId,
        details: {
          categories: data,
          purpose: `legal_request:${id}`,
          period: { from: new Date(from).toISOString(), to: new Date(to).toISOString() },
          records: (target.ipAddresses?.length ?? 0) + (target.phoneNumber ? 1 : 0),
        },
      },
      now,
    );
  }
  return payload;
}

/**
 * Freezes a preservation order's included targets against the retention purge for the
 * policy's days (extendable once). Nothing leaves Custos, so an order that passed the
 * checks is preserved at once; a production order filed later may consume it.
 */
export async function preserveOrder(ctx: Context, tx: Tx, id: string, now: number): Promise<void> {
  const policy = ctx.disclosure;
  const targets = await tx
    .selectFrom('legal_targets')
    .select(['account_id'])
    .where('request_id', '=', id)
    .where('status', '=', 'included')
    .orderBy('position')
    .execute();
  const accounts = targets.map((t) => t.account_id!).filter(Boolean);
  const until = now + policy.preservationDays * DAY;
  for (const accountId of accounts) {
    await tx
      .insertInto('preservations')
      .values({
        id: `${id}:${accountId}`,
        account_id: accountId,
        until_at: until,
        source: `legal:${id}`,
        created_at: now,
      })
      .execute();
  }
  await tx
    .updateTable('legal_requests')
    .set({ status: 'preserved', preserved_until: until, decided_at: now, updated_at: now })
    .where('id', '=', id)
    .execute();
  await recordEvent(
    tx,
    ACTOR,
    id,
    'preserved',
    'preserved',
    { accounts: accounts.length, until: new Date(until).toISOString() },
    now,
  );
  await appendAudit(
    tx,
    ACTOR,
    {
      action: 'legal_request.preserve',
      subjectType: 'legal_request',
      subjectId: id,
      details: { accounts, until: new Date(until).toISOString(), policyVersion: policy.version },
    },
    now,
  );
}

/** The sealed package, for the authority that filed the order; every download is audited. */
export async function downloadPackage(ctx: Context, actor: Actor, id: string, now = Date.now()): Promise<string> {
  return ctx.store.db.transaction().execute(async (tx) => {
    const row = await requireOwnRequest(tx, actor, id);
    const pkg = await tx.selectFrom('disclosure_packages').selectAll().where('request_id', '=', id).executeTakeFirst();
    if (!pkg) {
      throw new ConflictError(`No package: the order is ${row.status}.`, {
        status: row.status,
        reason: 'not_disclosed',
      });
    }
    if (pkg.downloaded_at === null) {
      await tx.updateTable('disclosure_packages').set({ downloaded_at: now }).where('request_id', '=', id).execute();
    }
    await appendAudit(
      tx,
      actor,
      {
        action: 'legal_request.package_download',
        subjectType: 'legal_request',
        subjectId: id,
        details: { sha256: pkg.sha256, first: pkg.downloaded_at === null },
      },
      now,
    );
    return pkg.jwe;
  });
}

/** Approved orders whose package was not built (the process died in between): built now. */
export async function resumeApprovedOrders(ctx: Context, now = Date.now()): Promise<number> {
  const rows = await ctx.store.db
    .selectFrom('legal_requests')
    .select('id')
    .where('status', '=', 'approved')
    .limit(20)
    .execute();
  let done = 0;
  for (const r of rows) if (await produceDisclosure(ctx, r.id, now)) done++;
  return done;
}
