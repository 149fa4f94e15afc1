import { Command } from 'commander';
import { auditCommand } from './audit.js';
import { authorityCommand } from './authority.js';
import { backupCommand, restoreCommand } from './backup.js';
import { addHashBankCommands } from './hash-banks.js';
import { hashesCommand } from './hashes.js';
import { keysCommand } from './keys.js';
import { migrateCommand } from './migrate.js';
import { modelCommand } from './model.js';
import { serveCommand } from './serve.js';
import { tokenCommand } from './token.js';
import { transparencyCommand } from './transparency.js';
import { userCommand } from './user.js';
import { workerCommand } from './worker.js';

const program = new Command()
  .name('custos')
  .description('Trust-and-safety and lawful-disclosure back office. Configuration: CUSTOS_* environment variables.')
  .showHelpAfterError();

program.addCommand(serveCommand());
program.addCommand(workerCommand());
program.addCommand(migrateCommand());
program.addCommand(tokenCommand());
program.addCommand(userCommand());
program.addCommand(authorityCommand());
program.addCommand(auditCommand());
program.addCommand(transparencyCommand());
program.addCommand(modelCommand());
program.addCommand(keysCommand());
program.addCommand(backupCommand());
program.addCommand(restoreCommand());
const hashes = hashesCommand();
addHashBankCommands(hashes);
program.addCommand(hashes);

await program.parseAsync(process.argv);
