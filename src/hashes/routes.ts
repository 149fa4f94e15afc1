import { type Static, Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import type { Context } from '../context.js';
import { actorOf } from '../http/auth.js';
import { NotFoundError } from '../errors.js';
import { errors, rolesNote } from '../http/schemas.js';
import type { Role } from '../identity/roles.js';
import { CATEGORY_CODES } from '../policy/policy.js';
import {
  BANK_ACTIONS,
  BANK_NAME_PATTERN,
  DEFAULT_PDQ_THRESHOLD,
  HASH_KINDS,
  MAX_PDQ_THRESHOLD,
  addHashes,
  createBank,
  listBanks,
  setHashEnabled,
} from './banks.js';

const ADMIN: readonly Role[] = ['admin'];

/** Hashes one request may add; larger lists go through `custos hashes import`. */
const MAX_HASHES = 5000;

const BankView = Type.Object({
  id: Type.String(),
  name: Type.String(),
  category: Type.String(),
  action: Type.String(),
  threshold: Type.Integer({ description: 'Largest PDQ distance (bits) that matches' }),
  enabled: Type.Boolean(),
  hashes: Type.Integer({ description: 'Enabled hashes in the bank' }),
  createdAt: Type.String(),
});

// Values are checked by banks.ts (the same rules and messages as `custos hashes`); the
// schema checks the shape, so a bad name, category or threshold is one 422 listing each.
const CreateBody = Type.Object(
  {
    name: Type.String({
      maxLength: 200,
      description: `Lower-case letters, digits, . _ -; at most 64 (${BANK_NAME_PATTERN})`,
    }),
    category: Type.String({ maxLength: 64, description: `One of ${CATEGORY_CODES.join(', ')}` }),
    action: Type.Optional(Type.String({ maxLength: 16, description: `${BANK_ACTIONS.join(' or ')}; default review` })),
    threshold: Type.Optional(
      Type.Number({ description: `PDQ bits, 0 to ${MAX_PDQ_THRESHOLD}; default ${DEFAULT_PDQ_THRESHOLD}` }),
    ),
  },
  { additionalProperties: false },
);

const HashesBody = Type.Object(
  {
    hashes: Type.Array(
      Type.Object(
        {
          kind: Type.String({ maxLength: 16, description: HASH_KINDS.join(', ') }),
          value: Type.String({ maxLength: 200, description: 'Hex digits (any case, 0x allowed)' }),
        },
        { additionalProperties: false },
      ),
      { minItems: 1, maxItems: MAX_HASHES },
    ),
    source: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Where the hashes come from, kept with each' }),
    ),
  },
  { additionalProperties: false },
);

const AddedView = Type.Object({
  bank: Type.String(),
  given: Type.Integer(),
  inserted: Type.Integer(),
  alreadyPresent: Type.Integer({ description: 'Already in the bank (a disabled hash stays disabled)' }),
  repeated: Type.Integer({ description: 'Given more than once in the list' }),
});

const BankParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false });
const HashParams = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 64 }),
    kind: Type.Union(HASH_KINDS.map((k) => Type.Literal(k))),
    value: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);

type ListedBank = Awaited<ReturnType<typeof listBanks>>[number];

/** A bank as the API shows it (its change number stays in the store). */
function toView({ seq: _seq, createdAt, ...bank }: ListedBank) {
  return { ...bank, createdAt: new Date(createdAt).toISOString() };
}

/**
 * Hash banks for admins: list, create, add hashes, disable one hash. Each write
 * takes a change number (banks.ts), so matchers in every process follow it;
 * this process's matcher catches up at once.
 */
export const hashBankRoutes =
  (ctx: Context): FastifyPluginAsync =>
  async (app) => {
    const view = async (name: string) => {
      const bank = (await listBanks(ctx.store.db)).find((b) => b.name === name);
      if (!bank) throw new NotFoundError('Hash bank');
      return toView(bank);
    };

    app.get(
      '',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['hash-banks'],
          summary: 'Hash banks with their settings and enabled hashes, by name',
          description: rolesNote(ADMIN),
          response: { 200: Type.Object({ banks: Type.Array(BankView) }), ...errors() },
        },
      },
      async () => ({
        banks: (await listBanks(ctx.store.db)).map(toView),
      }),
    );

    app.post<{ Body: Static<typeof CreateBody> }>(
      '',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['hash-banks'],
          summary: 'Create a hash bank (empty; add hashes next)',
          description: rolesNote(ADMIN),
          body: CreateBody,
          response: { 201: BankView, ...errors(400, 409, 422) },
        },
      },
      async (request, reply) => {
        const { name, ...options } = request.body;
        const bank = await createBank(ctx.store.db, actorOf(request), name, options);
        await ctx.hashes.nudge();
        return reply.status(201).send(await view(bank.name));
      },
    );

    app.post<{ Params: Static<typeof BankParams>; Body: Static<typeof HashesBody> }>(
      '/:name/hashes',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['hash-banks'],
          summary: 'Add hashes to a bank; any bad hash refuses the whole list (422 by index)',
          description: rolesNote(ADMIN),
          params: BankParams,
          body: HashesBody,
          response: { 200: AddedView, ...errors(400, 404, 413, 422) },
        },
      },
      async (request) => {
        const result = await addHashes(
          ctx.store.db,
          actorOf(request),
          request.params.name,
          request.body.hashes,
          request.body.source ?? null,
        );
        await ctx.hashes.nudge();
        const { bank, ...counts } = result;
        return { bank: bank.name, ...counts };
      },
    );

    app.delete<{ Params: Static<typeof HashParams> }>(
      '/:name/hashes/:kind/:value',
      {
        config: { access: { roles: ADMIN } },
        schema: {
          tags: ['hash-banks'],
          summary: 'Disable one hash of a bank (kept, disabled, for the record); matching stops at once',
          description: rolesNote(ADMIN),
          params: HashParams,
          response: { 204: Type.Null(), ...errors(404, 422) },
        },
      },
      async (request, reply) => {
        const { name, kind, value } = request.params;
        await setHashEnabled(ctx.store.db, actorOf(request), name, kind, value, false);
        await ctx.hashes.nudge();
        return reply.status(204).send();
      },
    );
  };
