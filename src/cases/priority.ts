/**
 * Queue priority, computed from the case, never typed in. Points:
 *   severity of the worst category (CSAM 10, terrorism 9 …) × 10
 * + 12 × log2(1 + weighted distinct reporters)   (diminishing: a mob adds little)
 * + 15 when a trusted flagger reported it
 * + 10 when the subject is public (a channel reaches many people)
 * + 1 per hour the case has waited.
 *
 * Ageing grows every case's priority at the same rate, so the order between two
 * cases depends only on `base − createdAt/hour`. That constant is stored as the
 * case's `rank` and indexed: the queue is an index scan, however many cases wait.
 */
export interface PriorityInputs {
  severity: number;
  reporterWeight: number;
  trustedCount: number;
  isPublic: boolean;
  proposed: boolean;
}

const HOUR = 3_600_000;

export function basePriority(p: PriorityInputs): number {
  return (
    p.severity * 10 +
    12 * Math.log2(1 + p.reporterWeight) +
    (p.trustedCount > 0 ? 15 : 0) +
    (p.isPublic ? 10 : 0) +
    (p.proposed ? 5 : 0)
  );
}

/** The stored, time-independent sort key. */
export function rank(p: PriorityInputs, createdAt: number): number {
  return basePriority(p) - createdAt / HOUR;
}

/** The priority shown to moderators at time `now`. */
export function priorityAt(storedRank: number, now: number): number {
  return Math.round((storedRank + now / HOUR) * 10) / 10;
}
