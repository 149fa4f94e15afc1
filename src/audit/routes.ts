import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { DateTime, errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { listAudit } from './service.js';

const AUDITORS: readonly Role[] = ['auditor', 'admin'];

const Query = Type.Object(
  {
    from: Type.Optional(DateTime('Entries at or after')),
    to: Type.Optional(DateTime('Entries before')),
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: "Continue after this seq (the previous page's nextAfter)" }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
  },
  { additionalProperties: false },
);

const Entry = Type.Object({
  seq: Type.Integer(),
  at: Type.String(),
  actor: Type.Object({ id: Type.String(), role: Type.String() }),
  action: Type.String(),
  subject: Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]),
  requestId: Type.Union([Type.String(), Type.Null()]),
  details: Type.Record(Type.String(), Type.Unknown()),
  hash: Type.String(),
  prevHash: Type.String(),
});

export const auditRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: Static<typeof Query> }>(
      '',
      {
        config: { access: { roles: AUDITORS } },
        schema: {
          tags: ['audit'],
          summary: 'The hash-chained audit log, oldest first, a page at a time',
          description: rolesNote(AUDITORS),
          querystring: Query,
          response: {
            200: Type.Object({ entries: Type.Array(Entry), nextAfter: Type.Union([Type.Integer(), Type.Null()]) }),
            ...errors(422),
          },
        },
      },
      async (request) => {
        const q = request.query;
        const entries = await listAudit(ctx.store.db, {
          from: q.from ? Date.parse(q.from) : undefined,
          to: q.to ? Date.parse(q.to) : undefined,
          afterSeq: q.after,
          limit: q.limit,
        });
        const last = entries.at(-1);
        return { entries, nextAfter: entries.length === q.limit && last ? last.seq : null };
      },
    );
  };
