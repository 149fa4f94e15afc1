import { Readable } from 'node:stream';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { decidedRange, statementLines } from './statements.js';

const AUDITORS: readonly Role[] = ['auditor', 'admin'];

const Query = Type.Object(
  {
    from: Type.String({ format: 'date', description: 'First day (UTC) of decisions, YYYY-MM-DD' }),
    to: Type.String({ format: 'date', description: 'Last day (UTC) of decisions, YYYY-MM-DD, included' }),
  },
  { additionalProperties: false },
);

export const statementRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.get<{ Querystring: Static<typeof Query> }>(
      '',
      {
        config: { access: { roles: AUDITORS } },
        schema: {
          tags: ['transparency'],
          summary: 'DSA statements of reasons of the decisions made in a range of days, as JSON lines',
          description: `${rolesNote(AUDITORS)} One statement per line (application/x-ndjson), in the DSA Transparency Database's own field names and values, oldest decision first; every restricting decision decided from the first day to the last (UTC, both included). The answer is streamed: any range up to five years. A stored statement that breaks the database's rules is left out and logged as a defect.`,
          querystring: Query,
          response: {
            200: {
              description: 'One DSA statement of reasons (a JSON object) per line',
              content: { 'application/x-ndjson': { schema: { type: 'string' } } },
            },
            ...errors(422),
          },
        },
      },
      async (request, reply) => {
        const range = decidedRange(request.query.from, request.query.to);
        reply.type('application/x-ndjson; charset=utf-8');
        // HEAD asks whether the export exists: answer without reading years of decisions.
        if (request.method === 'HEAD') return reply.send('');
        const lines = statementLines(ctx.store.reads, range, (decisionId, problems) =>
          request.log.error(
            { decisionId, problems: problems.map((p) => `${p.path} ${p.code}`) },
            'a stored statement of reasons breaks the DSA rules; left out of the export',
          ),
        );
        return reply.send(Readable.from(lines));
      },
    );
  };
