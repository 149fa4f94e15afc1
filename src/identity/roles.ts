/** The roles of SPEC.md. Each token has exactly one. */
export const ROLES = [
  'admin',
  'moderator',
  'legal',
  /** A legal member who may approve an emergency order alone (the second approval owed after) and whom extra-review orders need. */
  'legal_senior',
  'auditor',
  'platform',
  'authority',
  'trusted_flagger',
  /** Reviews the restricted queue (child sexual abuse material) alone with admins; sees no other case. */
  'restricted_reviewer',
] as const;
export type Role = (typeof ROLES)[number];

export function isRole(value: string): value is Role {
  return (ROLES as readonly string[]).includes(value);
}

/**
 * Who may call a route: a list of roles (with `anonymous: true`, callers without
 * a token too), or `public` (anyone, token or not).
 * Every /v1 route must declare one; the server refuses to start otherwise.
 */
export type Access = { roles: readonly Role[]; anonymous?: boolean } | 'public';
