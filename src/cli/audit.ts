import fs from 'node:fs';
import { Command, InvalidArgumentError } from 'commander';
import type { JWK } from 'jose';
import { signAuditCheckpoint, verifyAuditCheckpoint } from '../audit/checkpoint.js';
import { verifyAudit } from '../audit/service.js';
import { EXIT, fail, withContext } from './run-command.js';

/** A compact JWS given inline, or the path of a file holding one (or the route's JSON answer). */
function readCheckpoint(value: string): string {
  const text = fs.existsSync(value) ? fs.readFileSync(value, 'utf8').trim() : value.trim();
  if (text.startsWith('{')) {
    const parsed = JSON.parse(text) as { jws?: unknown };
    if (typeof parsed.jws !== 'string') throw new InvalidArgumentError('the JSON file has no "jws"');
    return parsed.jws;
  }
  return text;
}

function readKeys(file: string): { keys: JWK[] } {
  let parsed: { keys?: unknown };
  try {
    parsed = JSON.parse(fs.readFileSync(file, 'utf8')) as { keys?: unknown };
  } catch (error) {
    throw new InvalidArgumentError(`cannot read a JWKS from ${file}: ${(error as Error).message}`);
  }
  if (!Array.isArray(parsed.keys)) throw new InvalidArgumentError(`${file} is not a JWKS (no "keys" array)`);
  return { keys: parsed.keys as JWK[] };
}

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('an entry number (1 or more)');
  return n;
}

export function auditCommand(): Command {
  const cmd = new Command('audit').description('The tamper-evident audit log');
  cmd
    .command('verify')
    .description(
      'Walk the hash chain; exit 1 naming the first bad entry. With --checkpoint, also check that the chain still holds the signed entry with its signed hash',
    )
    .option('--checkpoint <jws-or-file>', 'a checkpoint kept earlier (GET /v1/transparency/audit-checkpoint)')
    .option('--keys <jwks-file>', "the signing keys kept with it (default: the store's published keys)", readKeys)
    .action(async (options: { checkpoint?: string; keys?: { keys: JWK[] } }) => {
      if (options.checkpoint !== undefined) {
        let jws: string;
        try {
          jws = readCheckpoint(options.checkpoint);
        } catch (error) {
          fail(error);
        }
        const verdict = await withContext((ctx) => verifyAuditCheckpoint(ctx.store.db, jws, { keys: options.keys }));
        if (verdict.ok) {
          const c = verdict.checkpoint;
          process.stdout.write(
            `audit chain intact: ${verdict.entries} entries, and entry ${c.seq} still has the hash the checkpoint of ${c.at} signed\n`,
          );
          return;
        }
        process.stderr.write(`${verdict.code}: ${verdict.problem}\n`);
        process.exitCode = EXIT.failure;
        return;
      }
      const result = await withContext((ctx) => verifyAudit(ctx.store.db));
      if (result.ok) {
        process.stdout.write(`audit chain intact: ${result.entries} entries, head ${result.headHash}\n`);
        return;
      }
      process.stderr.write(`audit chain broken at entry ${result.badSeq}: ${result.problem}\n`);
      process.exitCode = EXIT.failure;
    });
  cmd
    .command('checkpoint')
    .description('Print a signed checkpoint of the chain (JSON with its JWS), as the public route gives it')
    .option('--seq <n>', 'the entry to sign the hash of (default: the head)', positiveInt)
    .action(async (options: { seq?: number }) => {
      const checkpoint = await withContext((ctx) =>
        signAuditCheckpoint(ctx.store.db, ctx.cipher, { seq: options.seq }),
      );
      process.stdout.write(`${JSON.stringify(checkpoint, null, 2)}\n`);
    });
  return cmd;
}
