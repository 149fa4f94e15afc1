import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const MASTER_KEY_FILE = 'master.key';

/**
 * Returns the 32-byte master key: the configured one, or the one in
 * `<dataDir>/master.key`, creating that file (mode 0600, exclusive create so two
 * processes starting together cannot write different keys) on first start.
 */
export function loadMasterKey(dataDir: string, configured: Buffer | undefined): Buffer {
  if (configured) return configured;
  const file = path.join(dataDir, MASTER_KEY_FILE);
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  try {
    fs.writeFileSync(file, `${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600, flag: 'wx' });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) {
    throw new Error(`${file} is readable by other users (mode ${mode.toString(8)}); run chmod 600 on it`);
  }
  const hex = fs.readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/i.test(hex)) throw new Error(`${file} does not hold a 32-byte hex key`);
  return Buffer.from(hex, 'hex');
}
