import fs from 'node:fs';
import type { Db } from '../db/database.js';

export interface PolicyInForce {
  kind: 'moderation' | 'disclosure';
  name: string;
  version: string;
  file: string;
}

/**
 * Notes that a process runs with these policy versions: the first time a version is
 * seen is when it came into force; the last time, until when it was (at least) used.
 * The public page lists the history, so a quiet switch of the disclosure policy shows.
 */
export async function recordPolicyVersions(db: Db, policies: PolicyInForce[], now = Date.now()): Promise<void> {
  for (const p of policies) {
    await db
      .insertInto('policy_versions')
      .values({ version: p.version, kind: p.kind, name: p.name, first_seen_at: now, last_seen_at: now })
      .onConflict((oc) => oc.column('version').doUpdateSet({ last_seen_at: now }))
      .execute();
  }
}

export interface PolicyHistoryEntry {
  kind: string;
  name: string;
  version: string;
  firstSeen: string;
  lastSeen: string;
}

/** Every policy version ever in force, newest first. */
export async function policyHistory(db: Db): Promise<PolicyHistoryEntry[]> {
  const rows = await db
    .selectFrom('policy_versions')
    .selectAll()
    .orderBy('first_seen_at', 'desc')
    .orderBy('version')
    .execute();
  return rows.map((r) => ({
    kind: r.kind,
    name: r.name,
    version: r.version,
    firstSeen: new Date(Number(r.first_seen_at)).toISOString(),
    lastSeen: new Date(Number(r.last_seen_at)).toISOString(),
  }));
}

/** The text of a policy file as it is published (the file the version hashes). */
export function policyText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}
