import crypto from 'node:crypto';
import type { Context } from '../context.js';
import { NotFoundError, ValidationError } from '../errors.js';
import { newId } from '../ids.js';
import { appendAudit } from '../audit/service.js';
import type { Actor } from '../audit/actor.js';
import { WEBHOOK_EVENTS } from './outbox.js';

export const SECRET_FIELD = 'webhook_endpoints.secret';

export interface EndpointView {
  id: string;
  url: string;
  events: string[];
  active: boolean;
  createdAt: string;
}

/** Registers where the platform receives events; the signing secret is shown once and stored encrypted. */
export async function createEndpoint(
  ctx: Context,
  actor: Actor,
  input: { url: string; events?: string[] },
  now = Date.now(),
): Promise<{ id: string; secret: string; endpoint: EndpointView }> {
  let url: URL | undefined;
  try {
    url = new URL(input.url);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'https:' && url.protocol !== 'http:')) {
    throw new ValidationError([{ path: '/url', code: 'invalid_url', message: 'an http(s) URL' }]);
  }
  const events = input.events && input.events.length > 0 ? input.events : ['*'];
  const unknown = events.filter((e) => e !== '*' && !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (unknown.length > 0) {
    throw new ValidationError([{ path: '/events', code: 'unknown_event', message: `unknown: ${unknown.join(', ')}` }]);
  }
  const id = newId('whe');
  const secret = `whsec_${crypto.randomBytes(32).toString('base64url')}`;
  await ctx.store.db.transaction().execute(async (tx) => {
    await tx
      .insertInto('webhook_endpoints')
      .values({
        id,
        url: url.toString(),
        secret_enc: ctx.cipher.encrypt(SECRET_FIELD, id, secret),
        events: JSON.stringify(events),
        active: 1,
        created_at: now,
      })
      .execute();
    await appendAudit(
      tx,
      actor,
      { action: 'webhook_endpoint.create', subjectType: 'webhook_endpoint', subjectId: id, details: { events } },
      now,
    );
  });
  return {
    id,
    secret,
    endpoint: { id, url: url.toString(), events, active: true, createdAt: new Date(now).toISOString() },
  };
}

export async function listEndpoints(ctx: Context): Promise<EndpointView[]> {
  const rows = await ctx.store.db.selectFrom('webhook_endpoints').selectAll().orderBy('created_at').execute();
  return rows.map((r) => ({
    id: r.id,
    url: r.url,
    events: JSON.parse(r.events) as string[],
    active: r.active === 1,
    createdAt: new Date(Number(r.created_at)).toISOString(),
  }));
}

/** Stops new events for an endpoint; deliveries already queued still run. */
export async function deactivateEndpoint(ctx: Context, actor: Actor, id: string): Promise<void> {
  await ctx.store.db.transaction().execute(async (tx) => {
    const res = await tx.updateTable('webhook_endpoints').set({ active: 0 }).where('id', '=', id).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) throw new NotFoundError('Webhook endpoint');
    await appendAudit(tx, actor, {
      action: 'webhook_endpoint.deactivate',
      subjectType: 'webhook_endpoint',
      subjectId: id,
    });
  });
}
