import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { type AuditCheckpoint, CheckpointRangeError, signAuditCheckpoint } from '../audit/checkpoint.js';
import type { Context } from '../context.js';
import { NotFoundError } from '../errors.js';
import { errors, rolesNote } from '../http/schemas.js';
import { policyHistory, policyText } from './policy-history.js';
import { parseReportRange } from './range.js';
import { type PublishedFigures, computeRequestFigures, figuresCsv, publishFigures } from './requests.js';

const CheckpointQuery = Type.Object(
  {
    seq: Type.Optional(
      Type.Integer({ minimum: 1, description: 'The entry to sign the hash of; default: the head of the chain' }),
    ),
  },
  { additionalProperties: false },
);
const Checkpoint = Type.Object({
  seq: Type.Integer({ description: 'The entry the checkpoint is about' }),
  hash: Type.String({ description: 'Its chain hash (hex SHA-256)' }),
  head: Type.Object({ seq: Type.Integer(), hash: Type.String() }, { description: 'The head of the chain when signed' }),
  at: Type.String({ description: 'When it was signed' }),
  jws: Type.String({
    description:
      'Compact JWS (EdDSA) of the other fields, by a key of /.well-known/custos-signing-keys.json: keep it (and the keys) to check the chain later',
  }),
});

const Day = (description: string) => Type.String({ maxLength: 10, description: `${description} (YYYY-MM-DD)` });
const Query = Type.Object(
  {
    country: Type.Optional(Type.String({ maxLength: 2, description: 'ISO 3166-1 alpha-2 of the authorities' })),
    from: Type.Optional(Day('First day; default: the start of the quarter a year ago')),
    to: Type.Optional(Day('Last day, included; default: today')),
    format: Type.Union([Type.Literal('json'), Type.Literal('csv')], { default: 'json' }),
  },
  { additionalProperties: false },
);

/** Public figures change slowly: computed at most once a minute per query and process. */
const CACHE_MS = 60_000;
/** Per client address and process. */
const RATE_LIMIT = { max: 120, timeWindow: '1 minute' };

/** Public transparency: request figures per country and quarter, and the policies in force. */
export const transparencyRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    const cache = new Map<string, { at: number; figures: PublishedFigures }>();
    const cached = async (key: string, make: () => Promise<PublishedFigures>) => {
      const hit = cache.get(key);
      if (hit && Date.now() - hit.at < CACHE_MS) return hit.figures;
      const figures = await make();
      if (cache.size > 1000) cache.clear();
      cache.set(key, { at: Date.now(), figures });
      return figures;
    };
    // The head's checkpoint is signed at most once a minute: the public sees the log grow by the minute,
    // not entry by entry, and a flood of requests costs one signature a minute.
    let head: { at: number; checkpoint: AuditCheckpoint } | undefined;
    const publishedHead = async (): Promise<AuditCheckpoint> => {
      if (head && Date.now() - head.at < CACHE_MS) return head.checkpoint;
      head = { at: Date.now(), checkpoint: await signAuditCheckpoint(ctx.store.db, ctx.cipher) };
      return head.checkpoint;
    };
    const publicCache = (reply: FastifyReply) => reply.header('cache-control', `public, max-age=${CACHE_MS / 1000}`);

    app.get<{ Querystring: Static<typeof Query> }>(
      '/requests',
      {
        config: { access: 'public', rateLimit: RATE_LIMIT },
        schema: {
          tags: ['transparency'],
          summary:
            'Legal orders per country and quarter: received, fulfilled, rejected by reason, withdrawn, preserved, accounts affected',
          description: `${rolesNote('public')} Counts from 1 to the threshold minus one are published as a range ("1–9").`,
          querystring: Query,
          security: [{}],
          response: { 200: Type.Object({}, { additionalProperties: true }), ...errors(422, 429) },
        },
      },
      async (request, reply) => {
        const { format, ...input } = request.query;
        const range = parseReportRange(input);
        const key = `${range.country ?? '*'}|${range.from}|${range.to}`;
        const figures = await cached(key, async () =>
          publishFigures(await computeRequestFigures(ctx.store.reads, range), ctx.config.transparencyMinCount),
        );
        publicCache(reply);
        if (format === 'csv') {
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="custos-requests-${figures.from}-${figures.to}.csv"`)
            .send(figuresCsv(figures));
        }
        return figures;
      },
    );

    app.get<{ Querystring: Static<typeof CheckpointQuery> }>(
      '/audit-checkpoint',
      {
        config: { access: 'public', rateLimit: RATE_LIMIT },
        schema: {
          tags: ['transparency'],
          summary:
            'A signed checkpoint of the audit chain: an entry (by default the head) and its hash, signed by the platform',
          description: `${rolesNote('public')} Anyone may keep checkpoints: a later rewrite of the audit history, or a removal of its end, no longer contains the signed entry with the signed hash (\`custos audit verify --checkpoint\`, or this route asked for the same \`seq\`, shows it). The head is signed at most once a minute, and \`seq\` reaches only entries that head covers, so the route does not show audited activity as it happens.`,
          querystring: CheckpointQuery,
          security: [{}],
          response: { 200: Checkpoint, ...errors(404, 422, 429) },
        },
      },
      async (request, reply) => {
        reply.header('cache-control', `public, max-age=${CACHE_MS / 1000}`);
        const head = await publishedHead();
        const seq = request.query.seq;
        if (seq === undefined || seq === head.seq) return head;
        if (seq > head.seq) throw new NotFoundError('Audit entry');
        try {
          return await signAuditCheckpoint(ctx.store.db, ctx.cipher, { seq });
        } catch (error) {
          if (error instanceof CheckpointRangeError) throw new NotFoundError('Audit entry');
          throw error;
        }
      },
    );

    app.get(
      '/policy',
      {
        config: { access: 'public', rateLimit: RATE_LIMIT },
        schema: {
          tags: ['transparency'],
          summary:
            'The disclosure and moderation policies in force (the disclosure policy in full) and every version used so far',
          description: rolesNote('public'),
          security: [{}],
          response: { 200: Type.Object({}, { additionalProperties: true }), ...errors(429) },
        },
      },
      async (_request, reply) => {
        publicCache(reply);
        return {
          disclosure: {
            name: ctx.disclosure.name,
            version: ctx.disclosure.version,
            text: policyText(ctx.disclosure.file),
          },
          moderation: { name: ctx.policy.name, version: ctx.policy.version },
          history: await policyHistory(ctx.store.reads),
        };
      },
    );
  };
