import type { Db } from '../db/database.js';

/**
 * The audit actions that hand personal data (or a document or image about a person)
 * to someone, and what each one reads. Everything else in the log (ingest, reviews,
 * decisions, sign-ins) records work on personal data without showing it to anyone.
 */
export const PERSONAL_DATA_ACTIONS = {
  /** A phone number and/or IP addresses decrypted: for a disclosure package or a legal read. */
  'personal_data.read': 'account_data',
  /** An authority fetched the sealed package of its order. */
  'legal_request.package_download': 'disclosure_package',
  /** A member of the legal team opened the court order's PDF. */
  'legal_request.document_read': 'court_document',
  /** A moderator revealed a blurred image of a case. */
  'case.image_revealed': 'content_image',
} as const;

export type PersonalDataAction = keyof typeof PERSONAL_DATA_ACTIONS;
export type AccessKind = (typeof PERSONAL_DATA_ACTIONS)[PersonalDataAction];

/** One read of personal data: who read what kind of data about whom, when, and why. Never the value. */
export interface PersonalDataAccess {
  seq: number;
  at: string;
  action: PersonalDataAction;
  kind: AccessKind;
  subject: { type: string; id: string } | null;
  /** The legal request the read served, when it served one. */
  orderId: string | null;
  /** The reason recorded with the read: `legal_request:<id>`, a case id, or the free text a legal reader gave with the order. */
  reason: string | null;
  /** The data categories read (`phone_number`, `ip_addresses`), when the entry names them. */
  categories: string[];
}

export interface ActorAccesses {
  actor: { id: string; role: string; name: string | null };
  accesses: PersonalDataAccess[];
}

export interface AccessQuery {
  from?: number;
  to?: number;
  afterSeq?: number;
  limit: number;
}

const ORDER_PURPOSE = /^legal_request:(\S+)$/;

/**
 * Every read of personal data in the audit log, grouped by who read it (API token,
 * signed-in user or system job), oldest first within each, a page of entries at a
 * time (keyset on seq, as `listAudit`). Names come from the token or user the actor
 * id stands for.
 */
export async function personalDataAccesses(
  db: Db,
  q: AccessQuery,
): Promise<{ actors: ActorAccesses[]; nextAfter: number | null }> {
  let query = db
    .selectFrom('audit_log')
    .select(['seq', 'at', 'actor_id', 'actor_role', 'action', 'subject_type', 'subject_id', 'details'])
    .where('action', 'in', Object.keys(PERSONAL_DATA_ACTIONS))
    .orderBy('seq')
    .limit(q.limit);
  if (q.from !== undefined) query = query.where('at', '>=', q.from);
  if (q.to !== undefined) query = query.where('at', '<', q.to);
  if (q.afterSeq !== undefined) query = query.where('seq', '>', q.afterSeq);
  const rows = await query.execute();

  const byActor = new Map<string, ActorAccesses>();
  for (const r of rows) {
    const action = r.action as PersonalDataAction;
    const details = JSON.parse(r.details) as Record<string, unknown>;
    const subject = r.subject_type && r.subject_id ? { type: r.subject_type, id: r.subject_id } : null;
    const purpose = typeof details.purpose === 'string' ? details.purpose : null;
    const fromPurpose = purpose ? (ORDER_PURPOSE.exec(purpose)?.[1] ?? null) : null;
    // A legal read of one account names its order in `details.orderId`; a disclosure names it in the purpose.
    const named = typeof details.orderId === 'string' ? details.orderId : null;
    const orderId = subject?.type === 'legal_request' ? subject.id : (named ?? fromPurpose);
    const reason = purpose ?? (orderId ? `legal_request:${orderId}` : subject ? `${subject.type}:${subject.id}` : null);
    const key = `${r.actor_id}\u0000${r.actor_role}`;
    let group = byActor.get(key);
    if (!group) {
      group = { actor: { id: r.actor_id, role: r.actor_role, name: null }, accesses: [] };
      byActor.set(key, group);
    }
    group.accesses.push({
      seq: Number(r.seq),
      at: new Date(Number(r.at)).toISOString(),
      action,
      kind: PERSONAL_DATA_ACTIONS[action],
      subject,
      orderId,
      reason,
      categories: Array.isArray(details.categories) ? details.categories.map(String) : [],
    });
  }

  const ids = [...new Set([...byActor.values()].map((g) => g.actor.id))];
  if (ids.length > 0) {
    const names = new Map<string, string>();
    for (const t of await db.selectFrom('api_tokens').select(['id', 'name']).where('id', 'in', ids).execute()) {
      names.set(t.id, t.name);
    }
    for (const u of await db.selectFrom('users').select(['id', 'username']).where('id', 'in', ids).execute()) {
      names.set(u.id, u.username);
    }
    for (const g of byActor.values()) g.actor.name = names.get(g.actor.id) ?? null;
  }
  const last = rows.at(-1);
  return {
    actors: [...byActor.values()].sort((a, b) => a.actor.id.localeCompare(b.actor.id)),
    nextAfter: rows.length === q.limit && last ? Number(last.seq) : null,
  };
}
