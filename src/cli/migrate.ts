import { Command } from 'commander';
import { migrateToLatest } from '../db/migrate.js';
import { withContext } from './run-command.js';

export function migrateCommand(): Command {
  return new Command('migrate').description('Bring the database schema up to date').action(async () => {
    await withContext(async (ctx) => {
      // createContext already migrates; this run reports what is current.
      const applied = await migrateToLatest(ctx.store);
      process.stdout.write(
        `${ctx.store.description}: schema up to date${applied.length ? ` (${applied.join(', ')})` : ''}\n`,
      );
    });
  });
}
