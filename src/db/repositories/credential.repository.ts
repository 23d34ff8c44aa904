import type { EntityManager } from '@mikro-orm/postgresql';
import type { SecretBox } from '../../crypto/secret-box.js';
import { AppError } from '../../errors.js';
import type { TenantCredential } from '../../servicetitan/index.js';
import { ServiceTitanCredential } from '../entities/index.js';

/** Purposes bound into each encrypted column (additional authenticated data). */
export const secretPurpose = {
  clientId: 'servicetitan_credentials.client_id',
  clientSecret: 'servicetitan_credentials.client_secret',
} as const;

export interface LoadedCredential {
  id: number;
  companyId: number;
  timeZone: string;
  status: string;
  tenant: TenantCredential;
}

/** Loads and decrypts a credential; only activities call this, so secrets stay out of history. */
export async function loadCredential(
  em: EntityManager,
  secrets: SecretBox,
  id: number,
): Promise<LoadedCredential> {
  const credential = await em.findOne(ServiceTitanCredential, id, { populate: ['company'] });
  if (!credential) throw new AppError('not_found', `Credential ${id} does not exist.`);
  return {
    id: credential.id,
    companyId: credential.company.id,
    timeZone: credential.company.timeZone,
    status: credential.status,
    tenant: {
      environment: credential.environment,
      tenantId: credential.tenantId,
      clientId: secrets.decrypt(credential.clientIdEncrypted, secretPurpose.clientId),
      clientSecret: secrets.decrypt(credential.clientSecretEncrypted, secretPurpose.clientSecret),
    },
  };
}
