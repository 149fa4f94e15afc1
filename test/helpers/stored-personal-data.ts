import { PHONE_FIELD } from '../../src/accounts/service.js';
import { type SessionRecord, sessionsInPeriod } from '../../src/sessions/service.js';
import type { Harness } from './harness.js';

/**
 * What the store holds for one account, decrypted, read directly and not audited: for
 * tests that check what ingest stored. The API's read needs a legal order naming the
 * account (`GET /v1/accounts/:id/personal-data`, see test/personal-data.test.ts).
 */
export async function storedPersonalData(
  h: Harness,
  accountId: string,
  from = 0,
  to = Date.now() + 86_400_000,
): Promise<{ phoneNumber: string | null; sessions: SessionRecord[] }> {
  const db = h.ctx.store.db;
  const row = await db.selectFrom('accounts').select('phone_enc').where('id', '=', accountId).executeTakeFirstOrThrow();
  return {
    phoneNumber: row.phone_enc ? h.ctx.cipher.decrypt(PHONE_FIELD, accountId, row.phone_enc) : null,
    sessions: await sessionsInPeriod(db, h.ctx.cipher, accountId, from, to),
  };
}
