import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { type Config, ConfigError } from '../config.js';
import type { EncryptionKey } from '../crypto/secret-box.js';
import type { Logger } from '../logger.js';

/**
 * ENCRYPTION_KEYS when set. For the embedded demo only (no DATABASE_URL), a key generated once
 * and kept beside the embedded database, so `npm start` needs no configuration; a deployment
 * with its own database must bring its own keys.
 */
export async function resolveEncryptionKeys(
  config: Config,
  logger: Logger,
): Promise<readonly EncryptionKey[]> {
  if (config.encryptionKeys?.length) return config.encryptionKeys;
  if (config.database.url) {
    throw new ConfigError(
      'ENCRYPTION_KEYS is required with DATABASE_URL (credentials are encrypted at rest). Generate one with:\n' +
        `  node -e "console.log('v1:' + require('crypto').randomBytes(32).toString('base64'))"`,
    );
  }
  const file = path.join(config.dataDir, 'encryption-key');
  if (!existsSync(file)) {
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, randomBytes(32).toString('base64'), { mode: 0o600 });
    logger.warn(
      { file },
      'generated a local encryption key for the embedded database (set ENCRYPTION_KEYS in production)',
    );
  }
  const key = Buffer.from((await readFile(file, 'utf8')).trim(), 'base64');
  if (key.length !== 32) throw new ConfigError(`${file} does not hold a 32-byte base64 key`);
  return [{ version: 'local', key }];
}
