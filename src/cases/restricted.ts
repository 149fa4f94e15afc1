import type { Actor } from '../audit/actor.js';
import { ForbiddenError } from '../errors.js';

/**
 * The restricted queue: cases about child sexual abuse material (the policy
 * puts the `csam` category there). Only admins and the `restricted_reviewer`
 * role see it, and reviewers see nothing else; ordinary moderators neither
 * list nor open its cases, so the material reaches as few people as possible.
 */
export const RESTRICTED_QUEUE = 'restricted';

/** Which cases a caller may see: every queue, all but the restricted one, or the restricted one only. */
export type QueueScope = 'all' | 'unrestricted' | 'restricted';

export function queueScopeOf(actor: Pick<Actor, 'role'>): QueueScope {
  if (actor.role === 'admin' || actor.role === 'system') return 'all';
  if (actor.role === 'restricted_reviewer') return 'restricted';
  return 'unrestricted';
}

export function maySee(scope: QueueScope, queue: string): boolean {
  if (scope === 'all') return true;
  return scope === 'restricted' ? queue === RESTRICTED_QUEUE : queue !== RESTRICTED_QUEUE;
}

/** Throws 403 unless a caller with `scope` may see cases in `queue`. */
export function assertScopeSees(scope: QueueScope, queue: string): void {
  if (maySee(scope, queue)) return;
  throw new ForbiddenError(
    scope === 'restricted'
      ? 'Your role reviews the restricted queue only.'
      : 'The restricted queue is for admins and restricted reviewers only.',
  );
}

/** Throws 403 unless the caller may see a case in `queue`. */
export function assertMaySee(actor: Pick<Actor, 'role'>, queue: string): void {
  assertScopeSees(queueScopeOf(actor), queue);
}
