import { type TSchema, Type } from '@sinclair/typebox';
import { ErrorResponse } from './error-handler.js';
import type { Role } from '../identity/roles.js';

/** RFC 3339 date-time with a time zone, as every time in the API. */
export const DateTime = (description?: string) => Type.String({ format: 'date-time', description });

/** ISO 3166-1 alpha-2 country code, upper case. */
export const CountryCode = Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' });

/** An identifier chosen by the platform (accounts, content, chats). */
export const ExternalId = (description: string) =>
  Type.String({ minLength: 1, maxLength: 128, pattern: '^[A-Za-z0-9_.:@-]+$', description });

/** Error answers a route may give, for its OpenAPI description. */
export function errors(...statuses: number[]): Record<number, TSchema> {
  const out: Record<number, TSchema> = {};
  for (const s of [401, 403, ...statuses]) out[s] = ErrorResponse as unknown as TSchema;
  return out;
}

/** A sentence for the route's OpenAPI description naming who may call it. */
export function rolesNote(roles: readonly Role[] | 'public'): string {
  return roles === 'public' ? 'Anyone may call this route.' : `Roles: ${roles.join(', ')}.`;
}
