import type { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import type { Db } from '../db/database.js';
import { NotFoundError } from '../errors.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { type SessionRecord, sessionsInPeriod } from '../sessions/service.js';
import { PHONE_FIELD } from './service.js';

export interface PersonalDataView {
  accountId: string;
  phoneNumber: string | null;
  period: { from: string; to: string };
  sessions: SessionRecord[];
}

/**
 * Decrypts one account's phone number and its sessions in a period. The read and
 * its audit entry (who, why, what categories, how many records) happen in one
 * transaction: if the entry cannot be written, nothing is returned.
 */
export async function readPersonalData(
  db: Db,
  cipher: PersonalDataCipher,
  actor: Actor,
  request: { accountId: string; from: number; to: number; purpose: string },
): Promise<PersonalDataView> {
  return db.transaction().execute(async (tx) => {
    const account = await tx
      .selectFrom('accounts')
      .select(['id', 'phone_enc'])
      .where('id', '=', request.accountId)
      .executeTakeFirst();
    if (!account) throw new NotFoundError('Account');
    const sessions = await sessionsInPeriod(tx, cipher, account.id, request.from, request.to);
    const view: PersonalDataView = {
      accountId: account.id,
      phoneNumber: account.phone_enc ? cipher.decrypt(PHONE_FIELD, account.id, account.phone_enc) : null,
      period: { from: new Date(request.from).toISOString(), to: new Date(request.to).toISOString() },
      sessions,
    };
    await appendAudit(tx, actor, {
      action: 'personal_data.read',
      subjectType: 'account',
      subjectId: account.id,
      details: {
        categories: ['phone_number', 'ip_addresses'],
        purpose: request.purpose,
        period: view.period,
        records: sessions.length,
      },
    });
    return view;
  });
}
