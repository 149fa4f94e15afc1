import path from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { checkStoreKey, rotateMasterKey } from '../crypto/master-key-rotation.js';
import { openStore } from '../db/database.js';
import { EXIT, cliActor, configOrExit, fail, withContext } from './run-command.js';

function batchSize(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 100_000) throw new InvalidArgumentError('a whole number from 1 to 100000');
  return n;
}

/** `custos keys`: the master key that protects personal data at rest. */
export function keysCommand(): Command {
  const cmd = new Command('keys').description('The master key that encrypts personal data at rest');
  cmd
    .command('rotate-master')
    .description(
      'Re-encrypt every encrypted field and recompute every blind index under a new master key. Stop custos first; safe to re-run after a crash (it resumes)',
    )
    .option(
      '--new-key-file <path>',
      'file with the new key (64 hex digits, mode 0600); required with CUSTOS_MASTER_KEY, else a key is generated into <dataDir>/master.key',
    )
    .option('--batch-size <n>', 'rows per transaction', batchSize, 500)
    .action(async (opts: { newKeyFile?: string; batchSize: number }) => {
      const config = configOrExit();
      // Not createContext: it refuses to load a key while a rotation is unfinished.
      let store: Awaited<ReturnType<typeof openStore>> | undefined;
      try {
        store = await openStore(config);
        const result = await rotateMasterKey(store.db, {
          dataDir: config.dataDir,
          configuredKey: config.masterKey,
          newKeyFile: opts.newKeyFile ? path.resolve(opts.newKeyFile) : undefined,
          actor: cliActor(),
          batchSize: opts.batchSize,
        });
        await store.close();
        const lines = [
          `master key rotated${result.resumed ? ' (resumed an unfinished rotation)' : ''}: key ${result.oldKeyId} -> ${result.newKeyId}`,
          ...Object.entries(result.counts.reencrypted).map(([column, n]) => `  ${column}: ${n} re-encrypted`),
          ...Object.entries(result.counts.blindIndexes).map(
            ([column, n]) => `  ${column}: ${n} blind indexes recomputed`,
          ),
          result.keyFile
            ? `the new key is in ${result.keyFile}; start custos as before`
            : `set CUSTOS_MASTER_KEY to the key in ${opts.newKeyFile ?? 'the new key file'} before starting custos (the old key no longer decrypts the data)`,
        ];
        process.stdout.write(`${lines.join('\n')}\n`);
      } catch (error) {
        if (store) await store.close().catch(() => {});
        fail(error);
      }
    });
  cmd
    .command('check')
    .description('Decrypt every encrypted field with the configured master key; exit 1 if any does not decrypt')
    .action(async () => {
      const check = await withContext((ctx) => checkStoreKey(ctx.store.db, ctx.cipher));
      for (const [column, c] of Object.entries(check.columns)) {
        process.stdout.write(`${column}: ${c.values} values, ${c.undecryptable} do not decrypt\n`);
      }
      if (check.undecryptable > 0) {
        process.stderr.write(`custos: ${check.undecryptable} values do not decrypt under the configured master key\n`);
        process.exitCode = EXIT.failure;
      }
    });
  return cmd;
}
