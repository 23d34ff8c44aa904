import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { AppError } from '../errors.js';

export interface EncryptionKey {
  readonly version: string;
  readonly key: Buffer;
}

export class DecryptionError extends AppError {
  constructor(message: string) {
    super('decryption_failed', message);
  }
}

/**
 * AES-256-GCM envelopes `<version>:<iv>:<tag>:<ciphertext>` (base64url parts). The first key
 * encrypts; any key decrypts the envelopes it made, so keys rotate without downtime. `purpose`
 * is bound as additional authenticated data: a client secret cannot be swapped into another
 * column unnoticed.
 */
export interface SecretBox {
  encrypt(plaintext: string, purpose: string): string;
  decrypt(envelope: string, purpose: string): string;
  /** The version of the key that encrypts, i.e. the newest. */
  readonly currentVersion: string;
  versionOf(envelope: string): string;
}

export function createSecretBox(keys: readonly EncryptionKey[]): SecretBox {
  const current = keys[0];
  if (!current)
    throw new AppError(
      'encryption_not_configured',
      'ENCRYPTION_KEYS is not set: no key to encrypt secrets with.',
    );
  for (const k of keys) {
    if (k.key.length !== 32)
      throw new AppError('encryption_not_configured', `Key "${k.version}" is not 32 bytes.`);
  }
  const byVersion = new Map(keys.map((k) => [k.version, k.key]));

  return {
    currentVersion: current.version,
    encrypt(plaintext, purpose) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current.key, iv, { authTagLength: 16 });
      cipher.setAAD(Buffer.from(purpose, 'utf8'));
      const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return [
        current.version,
        iv.toString('base64url'),
        tag.toString('base64url'),
        ciphertext.toString('base64url'),
      ].join(':');
    },
    decrypt(envelope, purpose) {
      const parts = envelope.split(':');
      if (parts.length !== 4) throw new DecryptionError('Encrypted value is malformed.');
      const [version, iv, tag, ciphertext] = parts as [string, string, string, string];
      const key = byVersion.get(version);
      if (!key)
        throw new DecryptionError(`Encrypted with key "${version}", which is not in ENCRYPTION_KEYS.`);
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'), {
          authTagLength: 16,
        });
        decipher.setAAD(Buffer.from(purpose, 'utf8'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([
          decipher.update(Buffer.from(ciphertext, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new DecryptionError(
          'Encrypted value failed authentication: it was altered or belongs elsewhere.',
        );
      }
    },
    versionOf(envelope) {
      return envelope.split(':', 1)[0] ?? '';
    },
  };
}
