import type { CookieSerializeOptions } from '@fastify/cookie';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config.js';
import { SESSION_COOKIE } from '../identity/web-sessions.js';

/**
 * The sign-in cookie's attributes: script cannot read it (HttpOnly), no other
 * site's page can make the browser send it (SameSite=Strict), and it travels over
 * TLS only (Secure) when the request came over TLS or the configuration says so.
 * No Expires: the browser drops it when it closes; the server ends it sooner.
 */
function attributes(config: Pick<Config, 'cookieSecure'>): CookieSerializeOptions {
  return {
    path: '/',
    httpOnly: true,
    sameSite: 'strict',
    secure: config.cookieSecure === 'auto' ? 'auto' : config.cookieSecure === 'always',
  };
}

export function setSessionCookie(reply: FastifyReply, config: Pick<Config, 'cookieSecure'>, value: string): void {
  reply.setCookie(SESSION_COOKIE, value, attributes(config));
}

export function clearSessionCookie(reply: FastifyReply, config: Pick<Config, 'cookieSecure'>): void {
  reply.clearCookie(SESSION_COOKIE, attributes(config));
}

/** The session cookie's value, if the request carries one. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const cookies = request.cookies ?? request.server.parseCookie(request.headers.cookie ?? '');
  const value = cookies[SESSION_COOKIE];
  return value === undefined || value === '' ? undefined : value;
}
