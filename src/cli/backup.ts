import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { verifyAudit } from '../audit/service.js';
import { MASTER_KEY_FILE, MasterKeyError, loadMasterKey } from '../crypto/master-key.js';
import { checkStoreKey } from '../crypto/master-key-rotation.js';
import { PersonalDataCipher } from '../crypto/personal-data-cipher.js';
import { backupStore, restoreStore } from '../db/backup.js';
import { openStore } from '../db/database.js';
import { EXIT, configOrExit, fail } from './run-command.js';

/** `custos backup --out FILE`: a consistent online backup of the store (the master key is not in it). */
export function backupCommand(): Command {
  return new Command('backup')
    .description(
      'Write a consistent backup of the store while custos runs (SQLite online backup, or pg_dump -Fc). The master key is not in it: keep that separately',
    )
    .requiredOption('--out <file>', 'backup file to create (refuses to overwrite)')
    .action(async (opts: { out: string }) => {
      const config = configOrExit();
      try {
        const result = await backupStore(config, path.resolve(opts.out));
        const where = result.schema ? `postgres schema ${result.schema}` : result.dialect;
        process.stdout.write(`backup written: ${result.file} (${where}, ${result.bytes} bytes)\n`);
      } catch (error) {
        fail(error);
      }
    });
}

/** `custos restore --from FILE`: into an empty store only, then verifies the audit chain and the master key. */
export function restoreCommand(): Command {
  return new Command('restore')
    .description(
      'Restore a backup into an empty store (a fresh data folder, or an empty PostgreSQL database), then verify the audit chain and that the master key decrypts the data',
    )
    .requiredOption('--from <file>', 'backup file written by `custos backup`')
    .action(async (opts: { from: string }) => {
      const config = configOrExit();
      try {
        if (!config.masterKey && !fs.existsSync(path.join(config.dataDir, MASTER_KEY_FILE))) {
          // Without this check the first start would generate a fresh key that decrypts nothing.
          throw new MasterKeyError(
            `no master key: put the key the backup was written under in ${path.join(config.dataDir, MASTER_KEY_FILE)} (mode 0600) or set CUSTOS_MASTER_KEY, then run restore again`,
          );
        }
        const cipher = new PersonalDataCipher(loadMasterKey(config.dataDir, config.masterKey));
        const restored = await restoreStore(config, path.resolve(opts.from));
        process.stdout.write(`restored ${opts.from} into ${restored.dialect} ${restored.target}\n`);
        const store = await openStore(config, restored.dialect === 'postgres' ? { pgSchema: restored.target } : {});
        try {
          const audit = await verifyAudit(store.db);
          if (audit.ok) {
            process.stdout.write(`audit chain intact: ${audit.entries} entries, head ${audit.headHash}\n`);
          } else {
            process.stderr.write(`audit chain broken at entry ${audit.badSeq}: ${audit.problem}\n`);
            process.exitCode = EXIT.failure;
          }
          const keys = await checkStoreKey(store.db, cipher);
          if (keys.undecryptable === 0) {
            const values = Object.values(keys.columns).reduce((n, c) => n + c.values, 0);
            process.stdout.write(`master key ${cipher.keyId} decrypts all ${values} encrypted values\n`);
          } else {
            process.stderr.write(
              `custos: ${keys.undecryptable} encrypted values do not decrypt under master key ${cipher.keyId}: it is not the key of this backup\n`,
            );
            process.exitCode = EXIT.failure;
          }
        } finally {
          await store.close();
        }
      } catch (error) {
        fail(error);
      }
    });
}
