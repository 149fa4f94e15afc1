import fs from 'node:fs/promises';
import { Command } from 'commander';
import { ImageError } from '../images/decode.js';
import { hashImage } from '../images/hash-image.js';
import { EXIT } from './run-command.js';

/** Files larger than this are not read (no image worth hashing is near it). */
const MAX_FILE_BYTES = 256 * 1024 * 1024;

/** `custos hashes …`: image hashes. */
export function hashesCommand(): Command {
  const cmd = new Command('hashes').description('Image hashes (PDQ, MD5, SHA-256)');
  cmd
    .command('compute')
    .description(
      'Print `hash,quality,file` for each image, as the PDQ reference tool does; a file that ' +
        'cannot be hashed is named on stderr and the exit code is 1 once all are done',
    )
    .argument('<files...>', 'image files (JPEG, PNG, WebP, GIF, TIFF, HEIF/AVIF)')
    .option(
      '--json',
      'one JSON object per line instead: file, pdq, quality, md5, sha256, width, height, format, animated',
    )
    .action(async (files: string[], opts: { json?: boolean }) => {
      let failed = 0;
      for (const file of files) {
        try {
          const stat = await fs.stat(file);
          if (!stat.isFile()) throw new Error('not a regular file');
          if (stat.size > MAX_FILE_BYTES) {
            throw new ImageError(
              'image_too_large',
              `The file is ${stat.size} bytes; at most ${MAX_FILE_BYTES} are read.`,
            );
          }
          const h = await hashImage(await fs.readFile(file));
          process.stdout.write(opts.json ? `${JSON.stringify({ file, ...h })}\n` : `${h.pdq},${h.quality},${file}\n`);
          if (h.animated) process.stderr.write(`custos: ${file}: animated; the first frame was hashed\n`);
        } catch (error) {
          failed++;
          const what =
            error instanceof ImageError
              ? `${error.reason}: ${error.message}`
              : error instanceof Error
                ? error.message
                : String(error);
          process.stderr.write(`custos: ${file}: ${what}\n`);
        }
      }
      if (failed > 0) process.exitCode = EXIT.failure;
    });
  return cmd;
}
