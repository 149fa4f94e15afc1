import fs from 'node:fs';
import path from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { ValidationError } from '../errors.js';
import {
  BANK_ACTIONS,
  HASH_KINDS,
  type HashKind,
  MAX_PDQ_THRESHOLD,
  importHashes,
  listBanks,
  setBankEnabled,
  setHashEnabled,
} from '../hashes/banks.js';
import { CATEGORY_CODES } from '../policy/policy.js';
import { EXIT, cliActor, withContext } from './run-command.js';

function oneOf(values: readonly string[]) {
  return (value: string): string => {
    if (!values.includes(value)) throw new InvalidArgumentError(`one of ${values.join(', ')}`);
    return value;
  };
}

function threshold(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > MAX_PDQ_THRESHOLD) {
    throw new InvalidArgumentError(`a whole number of bits from 0 to ${MAX_PDQ_THRESHOLD}`);
  }
  return n;
}

interface ImportOpts {
  bank: string;
  category?: string;
  action?: string;
  threshold?: number;
  kind: HashKind;
  skipInvalid?: boolean;
  json?: boolean;
}

/** `custos hashes import|banks|disable|enable`: the hash banks, from the command line. */
export function addHashBankCommands(cmd: Command): void {
  cmd
    .command('import <file>')
    .description(
      'Import a hash list (plain hex, `hash,quality,file` lines, or CSV with a pdq/md5/sha256 header) into a bank, creating it when new; atomic and idempotent',
    )
    .requiredOption('--bank <name>', 'the bank (created when new: then --category is needed)')
    .option('--category <code>', `the bank's category: ${CATEGORY_CODES.join(', ')}`, oneOf(CATEGORY_CODES))
    .option('--action <action>', 'what a match does: review or remove (new banks: review)', oneOf(BANK_ACTIONS))
    .option('--threshold <bits>', 'largest PDQ distance that matches (new banks: 31)', threshold)
    .option('--kind <kind>', 'what plain lines hold: pdq, md5 or sha256', oneOf(HASH_KINDS), 'pdq')
    .option('--skip-invalid', 'import the valid lines and list the bad ones, instead of refusing the file')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: ImportOpts) => {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (error) {
        process.stderr.write(`custos: cannot read ${file}: ${(error as Error).message}\n`);
        process.exit(EXIT.failure);
      }
      await withContext(async (ctx) => {
        try {
          process.stderr.write(`custos: importing ${file} into ${opts.bank} (one transaction)\n`);
          // A line at each tenth of a long list, so an operator sees it move; nothing counts until the commit.
          let shown = 0;
          const onProgress = (written: number, total: number) => {
            if (written >= total || total < 10_000 || written < shown + total / 10) return;
            shown = written;
            process.stderr.write(
              `custos: ${written.toLocaleString('en')} of ${total.toLocaleString('en')} written, not committed until all are\n`,
            );
          };
          const result = await importHashes(ctx.store.db, cliActor(), text, {
            onProgress,
            bank: opts.bank,
            kind: opts.kind,
            skipInvalid: opts.skipInvalid ?? false,
            source: path.basename(file),
            ...(opts.category ? { category: opts.category } : {}),
            ...(opts.action ? { action: opts.action } : {}),
            ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
          });
          if (opts.json) {
            process.stdout.write(`${JSON.stringify(result)}\n`);
          } else {
            const b = result.bank;
            process.stdout.write(
              `${result.bankCreated ? 'created' : 'bank'} ${b.name} (${b.category}, ${b.action}, threshold ${b.threshold}): ` +
                `${result.inserted} imported, ${result.alreadyPresent} already there, ` +
                `${result.duplicatesInFile} repeated in the file, ${result.invalid.length} invalid\n`,
            );
          }
          for (const p of result.invalid) process.stderr.write(`${file}:${p.line}: ${p.problem}\n`);
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          process.stderr.write(`custos: ${error.message}\n`);
          for (const p of error.problems) {
            const line = p.path.startsWith('/line/') ? `${file}:${p.path.slice(6)}` : p.path;
            process.stderr.write(`${line}: ${p.message}\n`);
          }
          process.exitCode = EXIT.failure;
        }
      });
    });

  cmd
    .command('banks')
    .description('List the hash banks with their settings and enabled hashes')
    .action(async () => {
      await withContext(async (ctx) => {
        for (const b of await listBanks(ctx.store.db)) {
          process.stdout.write(
            `${b.name}\t${b.category}\t${b.action}\tthreshold ${b.threshold}\t${b.enabled ? 'enabled' : 'disabled'}\t${b.hashes} hashes\n`,
          );
        }
      });
    });

  for (const enabled of [false, true]) {
    cmd
      .command(enabled ? 'enable' : 'disable')
      .description(
        enabled
          ? 'Enable a bank, or one hash of it'
          : 'Disable a bank, or one hash of it; running scanners stop matching it within seconds',
      )
      .requiredOption('--bank <name>', 'the bank')
      .option('--hash <hex>', 'one hash of the bank instead of the whole bank')
      .option('--kind <kind>', 'the kind of --hash: pdq, md5 or sha256', oneOf(HASH_KINDS), 'pdq')
      .action(async (opts: { bank: string; hash?: string; kind: HashKind }) => {
        await withContext(async (ctx) => {
          if (opts.hash) await setHashEnabled(ctx.store.db, cliActor(), opts.bank, opts.kind, opts.hash, enabled);
          else await setBankEnabled(ctx.store.db, cliActor(), opts.bank, enabled);
          process.stdout.write(
            `${opts.hash ? `${opts.kind} ${opts.hash} of ` : ''}${opts.bank} ${enabled ? 'enabled' : 'disabled'}\n`,
          );
        });
      });
  }
}
