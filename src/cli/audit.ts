import { Command } from 'commander';
import { verifyAudit } from '../audit/service.js';
import { EXIT, withContext } from './run-command.js';

export function auditCommand(): Command {
  const cmd = new Command('audit').description('The tamper-evident audit log');
  cmd
    .command('verify')
    .description('Walk the hash chain; exit 1 naming the first bad entry')
    .action(async () => {
      const result = await withContext((ctx) => verifyAudit(ctx.store.db));
      if (result.ok) {
        process.stdout.write(`audit chain intact: ${result.entries} entries, head ${result.headHash}\n`);
        return;
      }
      process.stderr.write(`audit chain broken at entry ${result.badSeq}: ${result.problem}\n`);
      process.exitCode = EXIT.failure;
    });
  return cmd;
}
