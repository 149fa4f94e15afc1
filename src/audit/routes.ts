import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { ValidationError } from '../errors.js';
import { DateTime, errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { actorOf } from '../http/auth.js';
import { type VerifyResult, appendAudit, listAudit, verifyAuditSettled } from './service.js';
import { verifyAuditCheckpoint } from './checkpoint.js';
import type { JWK } from 'jose';
import { PERSONAL_DATA_ACTIONS, personalDataAccesses } from './personal-data-access.js';

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

const CheckpointVerdictSchema = Type.Object(
  {
    ok: Type.Boolean(),
    seq: Type.Optional(Type.Integer({ description: 'The entry the checkpoint signed' })),
    at: Type.Optional(Type.String({ description: 'When it was signed' })),
    keys: Type.Optional(
      Type.Union([Type.Literal('store'), Type.Literal('given')], {
        description: "Whose keys checked the signature: the store's published ones, or the keys given",
      }),
    ),
    kid: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'The signing key' })),
    code: Type.Optional(
      Type.Union([Type.Literal('chain_broken'), Type.Literal('entry_missing'), Type.Literal('history_rewritten')]),
    ),
    problem: Type.Optional(Type.String()),
  },
  { description: 'Present when a checkpoint was given: whether the chain still holds its entry with its hash' },
);
const Verified = Type.Union([
  Type.Object({
    ok: Type.Literal(true),
    entries: Type.Integer({ description: 'Entries checked' }),
    headHash: Type.String({ description: "The last entry's hash" }),
    checkpoint: Type.Optional(CheckpointVerdictSchema),
  }),
  Type.Object({
    ok: Type.Literal(false),
    badSeq: Type.Integer({ description: 'The first bad entry' }),
    problem: Type.String(),
    checkpoint: Type.Optional(CheckpointVerdictSchema),
  }),
]);
const VerifyBody = Type.Object(
  {
    checkpoint: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 8192,
        description: 'A checkpoint kept earlier (its compact JWS, from GET /v1/transparency/audit-checkpoint)',
      }),
    ),
    keys: Type.Optional(
      Type.Object(
        { keys: Type.Array(Type.Object({}, { additionalProperties: true })) },
        { description: "The JWKS kept with it; default: the store's published keys" },
      ),
    ),
  },
  { additionalProperties: false },
);

const AccessQuery = Type.Object(
  {
    from: Type.Optional(DateTime('Reads at or after')),
    to: Type.Optional(DateTime('Reads before')),
    after: Type.Optional(
      Type.Integer({ minimum: 0, description: "Continue after this seq (the previous page's nextAfter)" }),
    ),
    limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000, description: 'Audit entries per page' }),
  },
  { additionalProperties: false },
);

const Access = Type.Object({
  seq: Type.Integer({ description: 'The audit entry' }),
  at: Type.String(),
  action: Type.String(),
  kind: Type.Union(
    [...new Set(Object.values(PERSONAL_DATA_ACTIONS))].map((k) => Type.Literal(k)),
    { description: 'What was read (never the value)' },
  ),
  subject: Type.Union([Type.Object({ type: Type.String(), id: Type.String() }), Type.Null()]),
  orderId: Type.Union([Type.String(), Type.Null()], { description: 'The legal request the read served' }),
  reason: Type.Union([Type.String(), Type.Null()]),
  categories: Type.Array(Type.String()),
});

const ActorAccesses = Type.Object({
  actor: Type.Object({
    id: Type.String({ description: 'Token id, user id or system:<job>' }),
    role: Type.String(),
    name: Type.Union([Type.String(), Type.Null()], { description: "The token's name or the user's username" }),
  }),
  accesses: Type.Array(Access),
});

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

    app.get<{ Querystring: Static<typeof AccessQuery> }>(
      '/personal-data-access',
      {
        config: { access: { roles: AUDITORS } },
        schema: {
          tags: ['audit'],
          summary: 'Every read of personal data, per staff member (or job), with its reason',
          description: `${rolesNote(AUDITORS)} Read from the audit log: decrypted phone numbers and IP addresses (\`personal_data.read\`), disclosure package downloads, court-order documents opened and case images revealed. Each access names its kind, its subject and the order it served; never the data itself. Pages through the log like GET /v1/audit.`,
          querystring: AccessQuery,
          response: {
            200: Type.Object({
              actors: Type.Array(ActorAccesses),
              nextAfter: Type.Union([Type.Integer(), Type.Null()]),
            }),
            ...errors(422),
          },
        },
      },
      async (request) => {
        const q = request.query;
        return personalDataAccesses(ctx.store.reads, {
          from: q.from ? Date.parse(q.from) : undefined,
          to: q.to ? Date.parse(q.to) : undefined,
          afterSeq: q.after,
          limit: q.limit,
        });
      },
    );

    app.post<{ Body: Static<typeof VerifyBody> }>(
      '/verify',
      {
        config: { access: { roles: AUDITORS } },
        // No body at all is the plain check, as before checkpoints existed.
        preValidation: async (request) => {
          if (request.body === null || request.body === undefined) request.body = {};
        },
        schema: {
          tags: ['audit'],
          summary: 'Walk the hash chain and recompute every hash (as `custos audit verify`); audited',
          description: `${rolesNote(AUDITORS)} Answers {ok: true, entries, headHash} for an intact chain, or {ok: false, badSeq, problem} naming the first missing, altered or misplaced entry. With a \`checkpoint\` kept earlier (and the \`keys\` kept with it), \`checkpoint\` in the answer says whether the chain still holds the signed entry with the signed hash, and whose keys checked it; if it does not (a history rewritten with recomputed hashes passes the chain check alone, a cut end too), the answer is {ok: false} naming that entry. A checkpoint that the keys do not verify is 422 at \`/checkpoint\` (\`invalid_checkpoint\`). The check is recorded as \`audit.verify\` after it ran.`,
          body: VerifyBody,
          response: { 200: Verified, ...errors(400, 422) },
        },
      },
      async (request) => {
        const db = ctx.store.db;
        const body = request.body;
        if (body.keys !== undefined && body.checkpoint === undefined) {
          throw new ValidationError([
            { path: '/keys', code: 'not_allowed', message: 'keys check a checkpoint: give the checkpoint too' },
          ]);
        }
        const chain = await verifyAuditSettled(db);
        let checkpoint: Static<typeof CheckpointVerdictSchema> | undefined;
        // The chain as answered: a checkpoint that the chain no longer holds makes it not ok.
        let result: VerifyResult = chain;
        if (body.checkpoint !== undefined) {
          const verdict = await verifyAuditCheckpoint(db, body.checkpoint, {
            keys: body.keys as { keys: JWK[] } | undefined,
            chain,
          });
          if (!verdict.ok && verdict.code === 'invalid_checkpoint') {
            throw new ValidationError([{ path: '/checkpoint', code: 'invalid_checkpoint', message: verdict.problem }]);
          }
          const about = verdict.checkpoint ? { seq: verdict.checkpoint.seq, at: verdict.checkpoint.at } : {};
          checkpoint = verdict.ok
            ? { ok: true, ...about, keys: verdict.signer.keys, kid: verdict.signer.kid }
            : {
                ok: false,
                ...about,
                ...(verdict.signer ? { keys: verdict.signer.keys, kid: verdict.signer.kid } : {}),
                code: verdict.code as Exclude<typeof verdict.code, 'invalid_checkpoint'>,
                problem: verdict.problem,
              };
          if (chain.ok && !verdict.ok && verdict.checkpoint) {
            result = {
              ok: false,
              entries: chain.entries,
              // The entry whose hash changed, or the first one the cut end lost.
              badSeq: verdict.code === 'entry_missing' ? chain.entries + 1 : verdict.checkpoint.seq,
              problem: verdict.problem,
            };
          }
        }
        const answer = result.ok
          ? { ok: true as const, entries: result.entries, headHash: result.headHash }
          : { ok: false as const, badSeq: result.badSeq, problem: result.problem };
        await db.transaction().execute((tx) =>
          appendAudit(tx, actorOf(request), {
            action: 'audit.verify',
            details: {
              ...(result.ok
                ? { ok: true, entries: result.entries, headHash: result.headHash }
                : { ok: false, entries: result.entries, badSeq: result.badSeq, problem: result.problem }),
              ...(checkpoint ? { checkpoint } : {}),
            },
          }),
        );
        return checkpoint ? { ...answer, checkpoint } : answer;
      },
    );
  };
