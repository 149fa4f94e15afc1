import { Command, InvalidArgumentError } from 'commander';
import { ROLES, isRole } from '../identity/roles.js';
import { createToken, listTokens, revokeToken } from '../identity/tokens.js';
import { cliActor, withContext } from './run-command.js';

function role(value: string): string {
  if (!isRole(value)) throw new InvalidArgumentError(`one of ${ROLES.join(', ')}`);
  return value;
}

function futureDate(value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new InvalidArgumentError('an RFC 3339 date-time');
  return t;
}

export function tokenCommand(): Command {
  const cmd = new Command('token').description('Create, list and revoke API tokens');
  cmd
    .command('create')
    .description('Create a token; it is printed once and stored only as a hash')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`, role)
    .requiredOption('--name <name>', 'who or what holds the token')
    .option('--authority <id>', 'the authority an authority token is bound to')
    .option('--expires <date-time>', 'when the token stops working', futureDate)
    .option('--json', 'print {"id","token"} as JSON')
    .action(async (opts: { role: string; name: string; authority?: string; expires?: number; json?: boolean }) => {
      await withContext(async (ctx) => {
        const created = await createToken(ctx.store.db, cliActor(), {
          role: opts.role,
          name: opts.name,
          authorityId: opts.authority ?? null,
          expiresAt: opts.expires ?? null,
        });
        process.stdout.write(
          opts.json
            ? `${JSON.stringify({ id: created.id, token: created.token })}\n`
            : `${created.id}\n${created.token}\n`,
        );
      });
    });
  cmd
    .command('list')
    .description('List tokens (never their secret)')
    .action(async () => {
      await withContext(async (ctx) => {
        for (const t of await listTokens(ctx.store.db)) {
          const state = t.revokedAt
            ? 'revoked'
            : t.expiresAt && Date.parse(t.expiresAt) < Date.now()
              ? 'expired'
              : 'active';
          process.stdout.write(`${t.id}\t${t.role}\t${state}\t${t.name}${t.authorityId ? `\t${t.authorityId}` : ''}\n`);
        }
      });
    });
  cmd
    .command('revoke <id>')
    .description('Revoke a token; it stops working at once')
    .action(async (id: string) => {
      await withContext(async (ctx) => {
        await revokeToken(ctx.store.db, cliActor(), id);
        process.stdout.write(`revoked ${id}\n`);
      });
    });
  return cmd;
}
