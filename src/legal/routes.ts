import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { appendAudit } from '../audit/service.js';
import type { Context } from '../context.js';
import { NotFoundError } from '../errors.js';
import { actorOf } from '../http/auth.js';
import { CountryCode, DateTime, errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { downloadPackage } from './disclosure.js';
import { auditRefusals } from './refusals.js';
import { ORDER_TYPES } from './disclosure-policy.js';
import { extendPreservation, reviewLegalRequest, withdrawLegalRequest } from './review.js';
import { DOCUMENT_FIELD, LEGAL_STATUSES, submitLegalRequest } from './service.js';
import { authorityView, legalView, listLegalQueue, listOwnRequests } from './views.js';

const AUTHORITY: readonly Role[] = ['authority'];
const LEGAL: readonly Role[] = ['legal', 'legal_senior'];
const LEGAL_OR_AUTHORITY: readonly Role[] = [...LEGAL, 'authority'];

const Text = (max: number, description?: string) => Type.String({ minLength: 1, maxLength: max, description });
// One object with three optional keys, not a union: a target naming two identifiers (or
// none) is well-formed but invalid, a 422 from the service (invalid_target), while an
// unknown key stays a 400. A union made both an unknown_field 400.
const Target = Type.Object(
  {
    accountId: Type.Optional(Text(128)),
    username: Type.Optional(Text(128)),
    phone: Type.Optional(Text(40, 'International format, +…')),
  },
  { additionalProperties: false, description: 'Exactly one of accountId, username or phone' },
);

/** The legal order of SPEC.md. Semantic checks (codes, dates, data categories) follow in the service. */
const OrderBody = Type.Object(
  {
    type: Type.Union(ORDER_TYPES.map((t) => Type.Literal(t))),
    caseReference: Text(200, "The authority's file number"),
    issuingAuthority: Type.Object({ name: Text(300), country: CountryCode }, { additionalProperties: false }),
    legalBasis: Text(2000, 'The statute or article relied on'),
    courtOrder: Type.Object(
      {
        reference: Text(200),
        issuedBy: Text(300),
        issuedAt: DateTime('RFC 3339'),
        documentBase64: Type.Optional(
          Type.String({ maxLength: 15_000_000, description: 'The order as a PDF, at most 10 MB' }),
        ),
      },
      { additionalProperties: false },
    ),
    offence: Type.Object(
      {
        category: Text(64, 'A category code (SPEC.md)'),
        description: Text(5000),
        provisions: Text(2000),
      },
      { additionalProperties: false },
    ),
    targets: Type.Array(Target, { minItems: 1 }),
    data: Type.Array(Text(64), { minItems: 1, description: 'ip_addresses and/or phone_number, nothing else' }),
    period: Type.Object({ from: DateTime('RFC 3339'), to: DateTime('RFC 3339') }, { additionalProperties: false }),
    nonDisclosureUntil: Type.Optional(DateTime('RFC 3339; the account is notified only after')),
    emergencyJustification: Type.Optional(Text(5000, 'Required for emergency orders')),
    preservationRequestId: Type.Optional(Text(64, 'An own preservation order this production order consumes')),
  },
  { additionalProperties: false },
);

const ReviewBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject'), Type.Literal('narrow')]),
    reasons: Type.Optional(Type.Array(Text(2000), { maxItems: 50 })),
    note: Type.Optional(Text(10_000, 'Internal: never shown to the authority')),
    narrowTo: Type.Optional(
      Type.Object(
        {
          targets: Type.Optional(
            Type.Array(Type.Integer({ minimum: 0 }), { maxItems: 1000, description: 'Positions to keep' }),
          ),
          period: Type.Optional(Type.Object({ from: DateTime(), to: DateTime() }, { additionalProperties: false })),
          data: Type.Optional(Type.Array(Text(64), { maxItems: 2 })),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

const Params = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const Query = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('open'), ...LEGAL_STATUSES.map((s) => Type.Literal(s))])),
    limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
  },
  { additionalProperties: false },
);
const Any = Type.Object({}, { additionalProperties: true });
const OrderView = Type.Object(
  {
    id: Type.String(),
    type: Type.String(),
    status: Type.String(),
    dueAt: Type.String(),
    checks: Type.Array(Any),
  },
  { additionalProperties: true },
);

/** Legal orders: filed by authorities, reviewed by the legal team, disclosed as a sealed package. */
export const legalRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    app.addHook('onError', auditRefusals(ctx, 'legal_request.refused'));
    app.post<{ Body: Static<typeof OrderBody> }>(
      '',
      {
        config: { access: { roles: AUTHORITY } },
        // A 10 MB PDF in base64 plus the order.
        bodyLimit: 16 * 1024 * 1024,
        schema: {
          tags: ['legal'],
          summary: 'File a legal order (production, preservation or emergency)',
          description: `${rolesNote(AUTHORITY)} The automatic checks run at once: the answer lists them (codes), and a failed hard check rejects the order with its reasons.`,
          body: OrderBody,
          response: { 201: OrderView, ...errors(400, 413, 422) },
        },
      },
      async (request, reply) => {
        const actor = actorOf(request);
        const id = await submitLegalRequest(ctx, actor, request.body);
        return reply.status(201).send(await authorityView(ctx, actor, id));
      },
    );

    app.get<{ Querystring: Static<typeof Query> }>(
      '',
      {
        config: { access: { roles: LEGAL_OR_AUTHORITY } },
        schema: {
          tags: ['legal'],
          summary: 'The legal queue, nearest deadline first (an authority sees its own orders, newest first)',
          description: rolesNote(LEGAL_OR_AUTHORITY),
          querystring: Query,
          response: { 200: Type.Object({ requests: Type.Array(Any) }), ...errors(422) },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        if (actor.role === 'authority') return { requests: await listOwnRequests(ctx, actor, request.query) };
        return { requests: await listLegalQueue(ctx, request.query) };
      },
    );

    app.get<{ Params: Static<typeof Params> }>(
      '/:id',
      {
        config: { access: { roles: LEGAL_OR_AUTHORITY } },
        schema: {
          tags: ['legal'],
          summary: 'One order: status, checks, reviews and deadline (an authority: its own, codes only)',
          description: rolesNote(LEGAL_OR_AUTHORITY),
          params: Params,
          response: { 200: OrderView, ...errors(404) },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        return actor.role === 'authority'
          ? authorityView(ctx, actor, request.params.id)
          : legalView(ctx, request.params.id);
      },
    );

    app.get<{ Params: Static<typeof Params> }>(
      '/:id/document',
      {
        config: { access: { roles: LEGAL } },
        schema: {
          tags: ['legal'],
          summary: 'The court-order document (PDF) as filed; every read is audited',
          description: rolesNote(LEGAL),
          params: Params,
          response: { ...errors(404) },
        },
      },
      async (request, reply) => {
        const id = request.params.id;
        const pdf = await ctx.store.db.transaction().execute(async (tx) => {
          const row = await tx
            .selectFrom('legal_documents')
            .select(['content_enc'])
            .where('request_id', '=', id)
            .executeTakeFirst();
          if (!row) throw new NotFoundError('Court-order document');
          await appendAudit(tx, actorOf(request), {
            action: 'legal_request.document_read',
            subjectType: 'legal_request',
            subjectId: id,
            details: {},
          });
          return ctx.cipher.decryptBytes(DOCUMENT_FIELD, id, row.content_enc);
        });
        return reply.type('application/pdf').header('cache-control', 'no-store').send(pdf);
      },
    );

    app.post<{ Params: Static<typeof Params>; Body: Static<typeof ReviewBody> }>(
      '/:id/reviews',
      {
        config: { access: { roles: LEGAL } },
        schema: {
          tags: ['legal'],
          summary: 'Approve, reject or narrow (two different legal members must approve)',
          description: `${rolesNote(LEGAL)} The same member approving twice answers 409. An emergency order may be approved by one legal_senior alone, the second approval then owed.`,
          params: Params,
          body: ReviewBody,
          response: { 200: OrderView, ...errors(400, 404, 409, 422) },
        },
      },
      async (request) => {
        await reviewLegalRequest(ctx, actorOf(request), request.params.id, request.body);
        return legalView(ctx, request.params.id);
      },
    );

    app.post<{ Params: Static<typeof Params> }>(
      '/:id/withdraw',
      {
        config: { access: { roles: AUTHORITY } },
        schema: {
          tags: ['legal'],
          summary: 'Withdraw an own order before disclosure',
          description: rolesNote(AUTHORITY),
          params: Params,
          response: { 200: OrderView, ...errors(404, 409) },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        await withdrawLegalRequest(ctx, actor, request.params.id);
        return authorityView(ctx, actor, request.params.id);
      },
    );

    app.post<{ Params: Static<typeof Params> }>(
      '/:id/extend',
      {
        config: { access: { roles: AUTHORITY } },
        schema: {
          tags: ['legal'],
          summary: 'Extend an own preservation once',
          description: rolesNote(AUTHORITY),
          params: Params,
          response: { 200: OrderView, ...errors(403, 404, 409) },
        },
      },
      async (request) => {
        const actor = actorOf(request);
        await extendPreservation(ctx, actor, request.params.id);
        return authorityView(ctx, actor, request.params.id);
      },
    );

    app.get<{ Params: Static<typeof Params> }>(
      '/:id/package',
      {
        config: { access: { roles: AUTHORITY } },
        schema: {
          tags: ['legal'],
          summary: 'The disclosure package: a compact JWE (ECDH-ES + A256GCM) around a JWS (EdDSA)',
          description: rolesNote(AUTHORITY),
          params: Params,
          response: { 200: Type.Object({ package: Type.String() }), ...errors(404, 409) },
        },
      },
      async (request, reply) => {
        const jwe = await downloadPackage(ctx, actorOf(request), request.params.id);
        return reply.header('cache-control', 'no-store').send({ package: jwe });
      },
    );
  };
