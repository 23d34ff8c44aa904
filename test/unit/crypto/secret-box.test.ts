import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSecretBox, DecryptionError } from '../../../src/crypto/secret-box.js';

const v1 = { version: 'v1', key: randomBytes(32) };
const v2 = { version: 'v2', key: randomBytes(32) };

describe('secret box (AES-256-GCM, versioned keys)', () => {
  it('when a secret is encrypted, then it decrypts to the same text and the envelope does not contain it', () => {
    const box = createSecretBox([v1]);
    const envelope = box.encrypt('s3cr3t-client-secret', 'clientSecret');
    expect(envelope).not.toContain('s3cr3t');
    expect(envelope.startsWith('v1:')).toBe(true);
    expect(box.decrypt(envelope, 'clientSecret')).toBe('s3cr3t-client-secret');
    expect(box.encrypt('same', 'x')).not.toBe(box.encrypt('same', 'x'));
  });

  it('when keys rotate, then the newest encrypts and older envelopes still decrypt', () => {
    const old = createSecretBox([v1]).encrypt('old secret', 'clientSecret');
    const box = createSecretBox([v2, v1]);
    expect(box.decrypt(old, 'clientSecret')).toBe('old secret');
    expect(box.versionOf(box.encrypt('new', 'clientSecret'))).toBe('v2');
  });

  it.each([
    ['a flipped ciphertext bit', (e: string) => e.slice(0, -2) + (e.at(-2) === 'A' ? 'B' : 'A') + e.at(-1)],
    [
      'a forged tag',
      (e: string) =>
        e
          .split(':')
          .map((p, i) => (i === 2 ? Buffer.alloc(16).toString('base64url') : p))
          .join(':'),
    ],
    ['a truncated envelope', (e: string) => e.split(':').slice(0, 3).join(':')],
  ])('when an envelope has %s, then decryption fails loudly', (_, tamper) => {
    const box = createSecretBox([v1]);
    const envelope = box.encrypt('secret', 'clientSecret');
    expect(() => box.decrypt(tamper(envelope), 'clientSecret')).toThrow(DecryptionError);
  });

  it('when an envelope is read as another purpose or with an unknown key, then it is refused', () => {
    const envelope = createSecretBox([v1]).encrypt('secret', 'clientSecret');
    expect(() => createSecretBox([v1]).decrypt(envelope, 'clientId')).toThrow(/altered or belongs elsewhere/);
    expect(() => createSecretBox([v2]).decrypt(envelope, 'clientSecret')).toThrow(
      /"v1", which is not in ENCRYPTION_KEYS/,
    );
  });

  it('when no key is configured, then creating the box says so', () => {
    expect(() => createSecretBox([])).toThrow(/ENCRYPTION_KEYS is not set/);
  });
});
