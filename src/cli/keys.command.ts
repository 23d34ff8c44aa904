import { LockMode } from '@mikro-orm/core';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { SecretBox } from '../crypto/secret-box.js';
import { ServiceTitanCredential } from '../db/entities/index.js';
import { secretPurpose } from '../db/repositories/credential.repository.js';

export interface RotateReport {
  credentials: number;
  /** Envelopes re-encrypted with the newest key. */
  reencrypted: number;
  /** Envelopes already under the newest key. */
  current: number;
  keyVersion: string;
}

/**
 * Re-encrypts every credential secret with the newest key, in one transaction: either every
 * envelope moves or none does. Afterwards older keys can be dropped from ENCRYPTION_KEYS.
 */
export async function rotateKeys(
  orm: MikroORM,
  secrets: SecretBox,
  /** Called as credentials are done (the CLI's progress). */
  onProgress?: (done: number, total: number) => void,
): Promise<RotateReport> {
  return orm.em.fork().transactional(async (em) => {
    const rows = await em.find(
      ServiceTitanCredential,
      {},
      { orderBy: { id: 'asc' }, lockMode: LockMode.PESSIMISTIC_WRITE },
    );
    const report: RotateReport = {
      credentials: rows.length,
      reencrypted: 0,
      current: 0,
      keyVersion: secrets.currentVersion,
    };
    const columns = [
      ['clientIdEncrypted', secretPurpose.clientId],
      ['clientSecretEncrypted', secretPurpose.clientSecret],
      ['accessTokenEncrypted', ''],
    ] as const;
    for (const [n, row] of rows.entries()) {
      if (n % 50 === 0) onProgress?.(n, rows.length);
      for (const [column, purpose] of columns) {
        const envelope = row[column];
        if (!envelope) continue;
        if (secrets.versionOf(envelope) === secrets.currentVersion) {
          report.current++;
          continue;
        }
        if (column === 'accessTokenEncrypted') {
          // A cached access token is cheaper to drop than to carry: the next run fetches a new one.
          row.accessTokenEncrypted = null;
          row.accessTokenExpiresAt = null;
        } else {
          row[column] = secrets.encrypt(secrets.decrypt(envelope, purpose), purpose);
        }
        report.reencrypted++;
      }
    }
    onProgress?.(rows.length, rows.length);
    return report;
  });
}
