import { type Static, type TSchema, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { errors, rolesNote } from '../http/schemas.js';
import { type DsaFigures, computeDsaFigures, parseYear } from './dsa-figures.js';
import { dsaFiguresCsv } from './dsa-figures-csv.js';

/** Figures change slowly and cost a few grouped queries: computed at most once a minute per year and process. */
export const FIGURES_CACHE_MS = 60_000;
/** Per client address and process. */
export const FIGURES_RATE_LIMIT = { max: 120, timeWindow: '1 minute' };

const Query = Type.Object(
  {
    // A string, so that "abc" or "20255" is a 422 with the year's problem rather than a type error.
    year: Type.String({
      maxLength: 10,
      description: 'Calendar year (UTC), YYYY; the current year gives the figures so far',
    }),
    format: Type.Optional(
      Type.Union([Type.Literal('json'), Type.Literal('csv')], {
        description: 'json (default) or csv: one long table, one figure per row',
      }),
    ),
  },
  { additionalProperties: false },
);

const Count = Type.Union([Type.Integer(), Type.String()], {
  description: 'Exact, or a range such as "1–9" below the minimum published count',
});
const Seconds = Type.Union([Type.Number(), Type.Null()], { description: 'Seconds; null when nothing was measured' });
const Share = Type.Union([Type.Number(), Type.Null()], { description: '0 to 1; null when the whole is 0' });
const Category = {
  category: Type.String({ description: 'A category code of the taxonomy (or a refused offence code)' }),
  dsaCategory: Type.Union([Type.String(), Type.Null()], { description: 'Its DSA STATEMENT_CATEGORY_*' }),
};
const obj = (properties: Record<string, TSchema>) => Type.Object(properties);

const Figures = obj({
  year: Type.Integer(),
  from: Type.String(),
  to: Type.String(),
  complete: Type.Boolean(),
  generatedAt: Type.String(),
  minimumPublishedCount: Type.Integer(),
  territorialScope: Type.Array(Type.String()),
  ordersToAct: obj({ received: Count }),
  ordersToProvideInformation: obj({
    received: Count,
    byMemberState: Type.Array(obj({ memberState: Type.String(), received: Count })),
    byCategory: Type.Array(obj({ ...Category, received: Count })),
    byMemberStateAndCategory: Type.Array(obj({ memberState: Type.String(), ...Category, received: Count })),
    receivedFromOutsideScope: Count,
    givenEffect: Count,
    medianTimeToAcknowledgeSeconds: Seconds,
    medianTimeToGiveEffectSeconds: Seconds,
  }),
  notices: obj({
    received: Count,
    decided: Count,
    actionTaken: Count,
    actionTakenOnLegalGround: Count,
    actionTakenOnTermsGround: Count,
    noAction: Count,
    pending: Count,
    medianHandlingSeconds: Seconds,
    bySource: Type.Array(
      obj({
        source: Type.Union([Type.Literal('users'), Type.Literal('trusted_flaggers')]),
        received: Count,
        decided: Count,
        actionTaken: Count,
        medianHandlingSeconds: Seconds,
      }),
    ),
    byCategory: Type.Array(
      obj({
        ...Category,
        received: Count,
        fromTrustedFlaggers: Count,
        actionTaken: Count,
        noAction: Count,
        pending: Count,
      }),
    ),
  }),
  ownInitiativeActions: obj({
    total: Count,
    automated: Count,
    human: Count,
    byCategory: Type.Array(obj({ ...Category, total: Count, automated: Count, human: Count })),
  }),
  appeals: obj({
    received: Count,
    decided: Count,
    upheld: Count,
    overturned: Count,
    pending: Count,
    medianTimeToDecisionSeconds: Seconds,
    shareOverturned: Share,
    byCategory: Type.Array(obj({ ...Category, received: Count, upheld: Count, overturned: Count, pending: Count })),
  }),
  automatedRemovals: obj({
    total: Count,
    appealed: Count,
    overturned: Count,
    shareOverturned: Share,
    shareOfAppealedOverturned: Share,
  }),
  notes: Type.Array(obj({ about: Type.String(), text: Type.String() })),
});

/** DSA transparency report figures for one year (Art. 15 and 24), for the public. */
export const figureRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    // One computation per year at a time; its promise is shared by the requests that arrive meanwhile.
    const cache = new Map<number, { at: number; figures: Promise<DsaFigures> }>();
    const figuresOf = (year: number): Promise<DsaFigures> => {
      const now = Date.now();
      const hit = cache.get(year);
      if (hit && now - hit.at < FIGURES_CACHE_MS) return hit.figures;
      const figures = computeDsaFigures(ctx, year, now);
      cache.set(year, { at: now, figures });
      figures.catch(() => {
        if (cache.get(year)?.figures === figures) cache.delete(year);
      });
      return figures;
    };

    app.get<{ Querystring: Static<typeof Query> }>(
      '',
      {
        config: { access: 'public', rateLimit: FIGURES_RATE_LIMIT },
        schema: {
          tags: ['transparency'],
          summary:
            'DSA transparency report figures for a year: orders from authorities, notices, own-initiative actions, appeals, accuracy of automated removals',
          description: `${rolesNote('public')} Counts from 1 to the minimum published count minus one are published as a range ("1–9"); medians in seconds. No account, phone number, address, case reference or authority name appears.`,
          security: [{}],
          querystring: Query,
          response: {
            200: {
              description: 'The figures (JSON), or the same as CSV with ?format=csv',
              content: {
                'application/json': { schema: Figures },
                'text/csv': { schema: Type.String() },
              },
            },
            ...errors(400, 422, 429),
          },
        },
      },
      async (request, reply) => {
        const year = parseYear(request.query.year);
        const figures = await figuresOf(year);
        reply.header('cache-control', `public, max-age=${FIGURES_CACHE_MS / 1000}`);
        if (request.query.format === 'csv') {
          return reply
            .type('text/csv; charset=utf-8')
            .header('content-disposition', `attachment; filename="custos-dsa-figures-${year}.csv"`)
            .send(dsaFiguresCsv(figures));
        }
        return reply.type('application/json; charset=utf-8').send(figures);
      },
    );
  };
