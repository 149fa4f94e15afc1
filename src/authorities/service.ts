import type { Db } from '../db/database.js';
import { ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { isCountryCode } from '../geo/countries.js';

export const AUTHORITY_KINDS = ['court', 'prosecutor', 'police'] as const;
export type AuthorityKind = (typeof AUTHORITY_KINDS)[number];

export interface AuthorityInput {
  name: string;
  country: string;
  kind: AuthorityKind;
  contactEmail: string;
  /** Public key (JWK) that disclosure packages are encrypted to. */
  publicJwk: Record<string, unknown>;
}

/** Registers an authority. Its tokens are created separately and bound to its id. */
export async function createAuthority(db: Db, actor: Actor, input: AuthorityInput, now = Date.now()): Promise<string> {
  if (!isCountryCode(input.country)) {
    throw new ValidationError([
      { path: '/country', code: 'unknown_country', message: 'not an ISO 3166-1 country code' },
    ]);
  }
  const id = newId('auth');
  await db.transaction().execute(async (tx) => {
    await tx
      .insertInto('authorities')
      .values({
        id,
        name: input.name,
        country: input.country,
        kind: input.kind,
        contact_email: input.contactEmail,
        public_jwk: JSON.stringify(input.publicJwk),
        status: 'active',
        created_at: now,
        updated_at: now,
      })
      .execute();
    await appendAudit(tx, actor, {
      action: 'authority.create',
      subjectType: 'authority',
      subjectId: id,
      details: { country: input.country, kind: input.kind },
    });
  });
  return id;
}
