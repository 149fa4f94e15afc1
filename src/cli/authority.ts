import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import {
  AUTHORITY_KINDS,
  type AuthorityKind,
  createAuthority,
  getAuthority,
  listAuthorities,
  setAuthorityStatus,
} from '../authorities/service.js';
import { ValidationError } from '../errors.js';
import { createToken } from '../identity/tokens.js';
import { EXIT, cliActor, withContext } from './run-command.js';

// The same bounds as the API's schemas (src/authorities/routes.ts), so both paths accept the same input.
const MAX_NAME = 300;
const MAX_EMAIL = 320;
const REASON = { min: 3, max: 2000 };

function kind(value: string): AuthorityKind {
  if (!(AUTHORITY_KINDS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`one of ${AUTHORITY_KINDS.join(', ')}`);
  }
  return value as AuthorityKind;
}

function name(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length === 0 || trimmed.length > MAX_NAME) {
    throw new InvalidArgumentError(`1 to ${MAX_NAME} characters`);
  }
  return trimmed;
}

function country(value: string): string {
  const code = value.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(code)) throw new InvalidArgumentError('an ISO 3166-1 alpha-2 code, such as DE');
  return code;
}

function email(value: string): string {
  if (value.length > MAX_EMAIL || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value)) {
    throw new InvalidArgumentError('an e-mail address');
  }
  return value;
}

function reason(value: string): string {
  const trimmed = value.trim();
  if (trimmed.length < REASON.min || trimmed.length > REASON.max) {
    throw new InvalidArgumentError(`${REASON.min} to ${REASON.max} characters`);
  }
  return trimmed;
}

function futureDate(value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError('an RFC 3339 date-time');
  return t;
}

/**
 * Reads the authority's public key: a JWK, or a JWKS holding exactly one key (the
 * form authorities often publish). Whether it can receive a package is the service's check.
 */
function readJwk(file: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    process.stderr.write(`custos: cannot read the key in ${file}: ${(error as Error).message}\n`);
    process.exit(EXIT.failure);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (Array.isArray(keys)) {
    if (keys.length !== 1) {
      process.stderr.write(`custos: ${file} is a JWKS with ${keys.length} keys; give the one key to register\n`);
      process.exit(EXIT.failure);
    }
    parsed = keys[0];
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    process.stderr.write(`custos: ${file} does not hold a JSON Web Key (a JSON object)\n`);
    process.exit(EXIT.failure);
  }
  return parsed as Record<string, unknown>;
}

/** Prints a refused input field by field, as the API's 422 details name them. */
function printProblems(error: ValidationError): void {
  process.stderr.write(`custos: ${error.message}\n`);
  for (const p of error.problems) process.stderr.write(`${p.path}: ${p.code}: ${p.message}\n`);
  process.exitCode = EXIT.failure;
}

/** `custos authority …`: verified authorities, with the services (and audit) of /v1/authorities. */
export function authorityCommand(): Command {
  const cmd = new Command('authority').description(
    'Register, list, suspend and reinstate authorities, and create their tokens',
  );
  cmd
    .command('create')
    .description('Register an authority with the public key its packages are encrypted to; prints its id')
    .requiredOption('--name <name>', 'the authority as it names itself', name)
    .requiredOption('--country <CC>', 'its country (ISO 3166-1 alpha-2)', country)
    .requiredOption('--kind <kind>', AUTHORITY_KINDS.join(', '), kind)
    .requiredOption('--email <address>', 'its contact address', email)
    .requiredOption('--jwk <file>', 'its public key as a JWK (EC P-256/384/521 or X25519, for ECDH-ES)')
    .action(async (opts: { name: string; country: string; kind: AuthorityKind; email: string; jwk: string }) => {
      const publicJwk = readJwk(opts.jwk);
      await withContext(async (ctx) => {
        try {
          const id = await createAuthority(ctx.store.db, cliActor(), {
            name: opts.name,
            country: opts.country,
            kind: opts.kind,
            contactEmail: opts.email,
            publicJwk,
          });
          process.stdout.write(`${id}\n`);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          printProblems(error);
        }
      });
    });
  cmd
    .command('list')
    .description('List the authorities: id, status, country, kind, name, contact')
    .option('--json', 'print them as a JSON array, as GET /v1/authorities does')
    .action(async (opts: { json?: boolean }) => {
      await withContext(async (ctx) => {
        const authorities = await listAuthorities(ctx.store.db);
        if (opts.json) {
          process.stdout.write(`${JSON.stringify(authorities)}\n`);
          return;
        }
        for (const a of authorities) {
          process.stdout.write(`${a.id}\t${a.status}\t${a.country}\t${a.kind}\t${a.name}\t${a.contactEmail}\n`);
        }
      });
    });
  for (const [verb, status, done, help] of [
    ['suspend', 'suspended', 'suspended', 'Suspend an authority; its tokens stop working at once'],
    ['reinstate', 'active', 'reinstated', 'Reinstate a suspended authority; its tokens work again'],
  ] as const) {
    cmd
      .command(`${verb} <id>`)
      .description(help)
      .requiredOption('--reason <text>', 'why (kept in the audit log)', reason)
      .action(async (id: string, opts: { reason: string }) => {
        await withContext(async (ctx) => {
          await setAuthorityStatus(ctx.store.db, cliActor(), id, status, opts.reason);
          process.stdout.write(`${done} ${id}\n`);
        });
      });
  }
  cmd
    .command('token <id>')
    .description('Create a token bound to the authority; it is printed once and stored only as a hash')
    .requiredOption('--name <name>', 'who at the authority holds the token')
    .option('--expires <date-time>', 'when the token stops working', futureDate)
    .option('--json', 'print {"id","token"} as JSON')
    .action(async (id: string, opts: { name: string; expires?: number; json?: boolean }) => {
      await withContext(async (ctx) => {
        // A 404 for an unknown authority, as the API answers, rather than a field error.
        await getAuthority(ctx.store.db, id);
        try {
          const created = await createToken(ctx.store.db, cliActor(), {
            role: 'authority',
            name: opts.name,
            authorityId: id,
            expiresAt: opts.expires ?? null,
          });
          process.stdout.write(
            opts.json
              ? `${JSON.stringify({ id: created.id, token: created.token })}\n`
              : `${created.id}\n${created.token}\n`,
          );
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          printProblems(error);
        }
      });
    });
  return cmd;
}
