import type { MikroORM } from '@mikro-orm/postgresql';
import { Company, ServiceTitanCredential } from '../../src/db/entities/index.js';
import { secretPurpose } from '../../src/db/repositories/credential.repository.js';
import { testSecrets } from './integration.js';

/** A company with one credential whose id/secret are encrypted with the test key. */
export async function createCompanyWithCredential(
  orm: MikroORM,
  tenant: {
    tenantId: number | string;
    clientId: string;
    clientSecret: string;
    environment?: 'integration' | 'production';
  },
  company: { name?: string; timeZone?: string } = {},
): Promise<{ companyId: number; credentialId: number }> {
  const em = orm.em.fork();
  const c = em.create(Company, {
    name: company.name ?? 'Acme Heating & Air',
    timeZone: company.timeZone ?? 'America/Chicago',
  });
  const credential = em.create(ServiceTitanCredential, {
    company: c,
    environment: tenant.environment ?? 'integration',
    tenantId: String(tenant.tenantId),
    clientIdEncrypted: testSecrets.encrypt(tenant.clientId, secretPurpose.clientId),
    clientSecretEncrypted: testSecrets.encrypt(tenant.clientSecret, secretPurpose.clientSecret),
  });
  await em.flush();
  return { companyId: c.id, credentialId: credential.id };
}
