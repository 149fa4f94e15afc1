import type { Role } from '../identity/roles.js';

/** Who did something: a token holder, the public, or Custos itself (jobs, CLI). */
export interface Actor {
  /** Token id, `public`, `system:<job>` or `cli:<user>`. */
  readonly id: string;
  readonly role: Role | 'public' | 'system';
  readonly authorityId?: string | null;
  /** The HTTP request id, when there is one, to tie log lines to audit entries. */
  readonly requestId?: string;
}

export const SYSTEM_ACTOR = (job: string): Actor => ({ id: `system:${job}`, role: 'system' });
