import crypto from 'node:crypto';
import { sql } from 'kysely';
import type { PersonalDataCipher } from '../../src/crypto/personal-data-cipher.js';
import { ENCRYPTED_TABLES } from '../../src/crypto/encrypted-columns.js';
import type { Db } from '../../src/db/database.js';
import { currentSigningKey } from '../../src/legal/signing-keys.js';
import { createEndpoint } from '../../src/webhooks/endpoints.js';
import { type Harness, TEST_ACTOR } from './harness.js';
import { buildOrder, seedViolator } from './legal.js';
import { fileReport } from './notice-action.js';
import { addUser } from './users.js';

/** What the world was filled with, in clear, to compare decrypted values against. */
export interface EncryptedWorld {
  /** account id -> E.164 phone number. */
  phones: Map<string, string>;
  /** account id -> IPs of its sessions. */
  ips: Map<string, string[]>;
  reporterEmail: string;
  document: Buffer;
  legalRequestId: string;
  webhookSecret: string;
  totpSecret: string;
}

/**
 * Fills a store through the services with a value in every column of the
 * encrypted-column registry: accounts with phone numbers and sessions, reports
 * (by account and by e-mail) with reporter stats, a legal request with a court
 * order PDF and phone targets, a staff user (TOTP), a webhook endpoint and the
 * disclosure signing key.
 */
export async function fillEncryptedWorld(h: Harness, accounts = 3): Promise<EncryptedWorld> {
  const phones = new Map<string, string>();
  const ips = new Map<string, string[]>();
  for (let i = 0; i < accounts; i++) {
    const v = await seedViolator(h, { sessions: 4, days: 20 });
    phones.set(v.accountId, v.phone);
    ips.set(
      v.accountId,
      v.sessions.map((s) => s.ip),
    );
  }
  const [firstAccount, firstPhone] = [...phones.entries()][0]!;
  const reporterEmail = `Reporter.${crypto.randomBytes(3).toString('hex')}@Example.org`;
  const report = await fileReport(h, {
    subject: { accountId: firstAccount },
    category: 'illegal_drugs',
    reporter: { email: reporterEmail },
  });
  if (report.statusCode !== 201) throw new Error(`report: ${report.statusCode} ${report.body}`);
  const document = Buffer.concat([Buffer.from('%PDF-1.7\n', 'latin1'), crypto.randomBytes(200)]);
  const order = buildOrder([{ phone: firstPhone }, { accountId: firstAccount }] as never);
  const filed = await h.call('POST', '/v1/legal-requests', {
    token: h.tokens.authority,
    body: { ...order, courtOrder: { ...order.courtOrder, documentBase64: document.toString('base64') } },
  });
  if (filed.statusCode !== 201) throw new Error(`legal request: ${filed.statusCode} ${filed.body}`);
  const user = await addUser(h, 'moderator');
  const endpoint = await createEndpoint(h.ctx, TEST_ACTOR, { url: 'https://hooks.example.org/custos' });
  await currentSigningKey(h.ctx.store.db, h.ctx.cipher);
  return {
    phones,
    ips,
    reporterEmail,
    document,
    legalRequestId: filed.data.id,
    webhookSecret: endpoint.secret,
    totpSecret: user.totpSecret,
  };
}

/** `table.column` -> number of values, for every column of the registry. */
export async function registryValueCounts(db: Db): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const t of ENCRYPTED_TABLES) {
    for (const c of t.encrypted) {
      const r = await sql<{ n: number }>`select count(*) as n from ${sql.table(t.table)}
        where ${sql.ref(c.column)} is not null`.execute(db);
      counts[`${t.table}.${c.column}`] = Number(r.rows[0]?.n ?? 0);
    }
  }
  return counts;
}

/** For every registry column, how many of its values decrypt under `cipher` and how many do not. */
export async function decryptability(
  db: Db,
  cipher: PersonalDataCipher,
): Promise<Record<string, { ok: number; bad: number }>> {
  const out: Record<string, { ok: number; bad: number }> = {};
  for (const t of ENCRYPTED_TABLES) {
    for (const c of t.encrypted) {
      const rows = await sql<{ owner: string; sealed: Buffer }>`select ${sql.ref(c.owner)} as owner,
        ${sql.ref(c.column)} as sealed from ${sql.table(t.table)} where ${sql.ref(c.column)} is not null`.execute(db);
      const entry = { ok: 0, bad: 0 };
      for (const r of rows.rows) {
        try {
          cipher.decryptBytes(c.field, String(r.owner), r.sealed);
          entry.ok++;
        } catch {
          entry.bad++;
        }
      }
      out[`${t.table}.${c.column}`] = entry;
    }
  }
  return out;
}
