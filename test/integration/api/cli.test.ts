import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTokenService } from '../../../src/auth/index.js';
import { rotateKeys } from '../../../src/cli/keys.command.js';
import { createSecretBox } from '../../../src/crypto/secret-box.js';
import { ApiToken, ServiceTitanCredential } from '../../../src/db/entities/index.js';
import { secretPurpose } from '../../../src/db/repositories/credential.repository.js';
import { createCompanyWithCredential } from '../../support/fixtures.js';
import { connectTestOrm, testDatabaseUrl, testKeys, truncateAll } from '../../support/integration.js';

const run = promisify(execFile);

describe('stsync tokens and keys', () => {
  let orm: MikroORM;
  beforeAll(async () => {
    orm = await connectTestOrm();
  });
  afterAll(async () => {
    await orm?.close();
  });
  beforeEach(() => truncateAll(orm));

  it('when `stsync tokens create` runs, then it prints a token once that authenticates with its role and company, and stores only a hash', async () => {
    const { companyId } = await createCompanyWithCredential(orm, {
      tenantId: 1,
      clientId: 'cid',
      clientSecret: 'cs',
    });
    const { stdout } = await run(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/index.ts',
        'tokens',
        'create',
        '--role',
        'operator',
        '--company',
        String(companyId),
        '--name',
        'ops',
      ],
      { env: { ...process.env, DATABASE_URL: await testDatabaseUrl(), LOG_LEVEL: 'warn' } },
    );
    const token = /^(stsk_\S+)$/m.exec(stdout)?.[1];
    expect(token).toBeDefined();
    const principal = await createTokenService({}).authenticate(orm.em.fork(), token!);
    expect(principal).toMatchObject({ role: 'operator', companyId, name: 'ops' });
    const rows = await orm.em.fork().getConnection().execute('select * from api_tokens');
    expect(JSON.stringify(rows)).not.toContain(token);
    expect(await orm.em.fork().count(ApiToken)).toBe(1);
  }, 60_000);

  it('when keys rotate, then every secret is re-encrypted with the newest key, still decrypts, and a second rotation changes nothing', async () => {
    const { credentialId } = await createCompanyWithCredential(orm, {
      tenantId: 7,
      clientId: 'cid.abc',
      clientSecret: 'cs.xyz',
    });
    await createCompanyWithCredential(
      orm,
      { tenantId: 8, clientId: 'cid.def', clientSecret: 'cs.uvw' },
      { name: 'Other' },
    );
    const newer = createSecretBox([{ version: 't2', key: Buffer.alloc(32, 7) }, ...testKeys]);

    const report = await rotateKeys(orm, newer);
    expect(report).toEqual({ credentials: 2, reencrypted: 4, current: 0, keyVersion: 't2' });
    const row = await orm.em.fork().findOneOrFail(ServiceTitanCredential, credentialId);
    expect(newer.versionOf(row.clientSecretEncrypted)).toBe('t2');
    const onlyNew = createSecretBox([{ version: 't2', key: Buffer.alloc(32, 7) }]);
    expect(onlyNew.decrypt(row.clientSecretEncrypted, secretPurpose.clientSecret)).toBe('cs.xyz');
    expect(onlyNew.decrypt(row.clientIdEncrypted, secretPurpose.clientId)).toBe('cid.abc');

    expect(await rotateKeys(orm, newer)).toEqual({
      credentials: 2,
      reencrypted: 0,
      current: 4,
      keyVersion: 't2',
    });
  });

  it('when a secret cannot be decrypted, then the rotation fails and changes nothing', async () => {
    const { credentialId } = await createCompanyWithCredential(orm, {
      tenantId: 9,
      clientId: 'cid',
      clientSecret: 'cs',
    });
    const em = orm.em.fork();
    const row = await em.findOneOrFail(ServiceTitanCredential, credentialId);
    const before = row.clientSecretEncrypted;
    await createCompanyWithCredential(
      orm,
      { tenantId: 10, clientId: 'cid2', clientSecret: 'cs2' },
      { name: 'B' },
    );
    const wrongKeys = createSecretBox([{ version: 't3', key: Buffer.alloc(32, 9) }]);
    await expect(rotateKeys(orm, wrongKeys)).rejects.toThrow(/not in ENCRYPTION_KEYS/);
    expect(
      (await orm.em.fork().findOneOrFail(ServiceTitanCredential, credentialId)).clientSecretEncrypted,
    ).toBe(before);
  });
});
