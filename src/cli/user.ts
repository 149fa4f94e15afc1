import { Command, InvalidArgumentError } from 'commander';
import { USER_ROLES, createUser, disableUser, isUserRole, listUsers, resetUserCredentials } from '../identity/users.js';
import { cliActor, withContext } from './run-command.js';

function role(value: string): string {
  if (!isUserRole(value)) throw new InvalidArgumentError(`one of ${USER_ROLES.join(', ')}`);
  return value;
}

export function userCommand(): Command {
  const cmd = new Command('user').description('Create, list and disable the users who sign in on the web pages');
  cmd
    .command('add')
    .description(
      'Create a user; prints (as POST /v1/users answers) the generated password and TOTP secret, shown this once',
    )
    .requiredOption('--role <role>', `one of ${USER_ROLES.join(', ')}`, role)
    .requiredOption('--username <name>', '3 to 64 letters, digits and . _ @ -')
    .option('--authority <id>', 'the authority an authority user is bound to')
    .action(async (opts: { role: string; username: string; authority?: string }) => {
      await withContext(async (ctx) => {
        const created = await createUser(ctx.store.db, ctx.cipher, cliActor(), {
          username: opts.username,
          role: opts.role,
          authorityId: opts.authority ?? null,
        });
        process.stdout.write(`${JSON.stringify(created, null, 2)}\n`);
      });
    });
  cmd
    .command('list')
    .description('List users (never their password or TOTP secret)')
    .action(async () => {
      await withContext(async (ctx) => {
        for (const u of await listUsers(ctx.store.db)) {
          const state = u.disabledAt ? 'disabled' : u.lockedUntil ? `locked until ${u.lockedUntil}` : 'active';
          process.stdout.write(
            `${u.id}\t${u.username}\t${u.role}\t${state}${u.authorityId ? `\t${u.authorityId}` : ''}\n`,
          );
        }
      });
    });
  cmd
    .command('disable <id>')
    .description('Disable a user; sign-ins are refused and open sessions end at once')
    .action(async (id: string) => {
      await withContext(async (ctx) => {
        await disableUser(ctx.store.db, cliActor(), id);
        process.stdout.write(`disabled ${id}\n`);
      });
    });
  cmd
    .command('reset <id>')
    .description('Give a user a new password and TOTP secret (printed once), clear a lock and end their sessions')
    .action(async (id: string) => {
      await withContext(async (ctx) => {
        const reset = await resetUserCredentials(ctx.store.db, ctx.cipher, cliActor(), id);
        process.stdout.write(`${JSON.stringify(reset, null, 2)}\n`);
      });
    });
  return cmd;
}
