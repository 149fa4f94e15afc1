import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MASTER_KEY_FILE = 'master.key';
/**
 * The next master key while `custos keys rotate-master` runs. Its presence means a
 * rotation is unfinished: part of the store may already be under this key.
 */
export const NEXT_MASTER_KEY_FILE = 'master.key.next';

/** A master key cannot be used as it is (unfinished rotation, bad file, wrong key). */
export class MasterKeyError extends Error {
  override readonly name = 'MasterKeyError';
}

/**
 * Returns the 32-byte master key: the configured one, or the one in
 * `<dataDir>/master.key`, creating that file (mode 0600, exclusive create so two
 * processes starting together cannot write different keys) on first start.
 * Refuses while a master key rotation is unfinished: rows already moved to the
 * next key would not decrypt.
 */
export function loadMasterKey(dataDir: string, configured: Buffer | undefined): Buffer {
  const next = path.join(dataDir, NEXT_MASTER_KEY_FILE);
  if (fs.existsSync(next)) {
    throw new MasterKeyError(
      `a master key rotation is unfinished (${next} exists): run \`custos keys rotate-master\` again to finish it`,
    );
  }
  return currentMasterKey(dataDir, configured);
}

/** As {@link loadMasterKey} without the check for an unfinished rotation (the rotation itself reads it). */
export function currentMasterKey(dataDir: string, configured: Buffer | undefined): Buffer {
  if (configured) return configured;
  const file = path.join(dataDir, MASTER_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  return readKeyFile(file);
}

/** Reads a key file (64 hex digits), refusing one that other users can read. */
export function readKeyFile(file: string): Buffer {
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new MasterKeyError(`${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`);
  }
  const hex = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new MasterKeyError(`${file} does not hold a 32-byte hex key`);
  return Buffer.from(hex, 'hex');
}

/**
 * Writes `key` to `file` as 64 hex digits, mode 0600, refusing to overwrite, and
 * flushes file and folder to disk: a rotation must never re-encrypt a row under a
 * key that a crash could lose.
 */
export function writeKeyFile(file: string, key: Buffer): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, `${key.toString('hex')}\n`);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  syncFolder(path.dirname(file));
}

/** Flushes a folder's entries (a created or renamed file) to disk. */
export function syncFolder(folder: string): void {
  const fd = fs.openSync(folder, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * A public identifier of a master key (16 hex digits of an HKDF output), for the
 * audit log and the operator: it tells keys apart without revealing them.
 */
export function masterKeyId(key: Buffer): string {
  return Buffer.from(crypto.hkdfSync('sha256', key, Buffer.alloc(0), 'custos/master-key/id/v1', 8)).toString('hex');
}
