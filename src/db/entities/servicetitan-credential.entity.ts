import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Company } from './company.entity.js';

export const serviceTitanEnvironments = ['integration', 'production'] as const;
export type ServiceTitanEnvironmentName = (typeof serviceTitanEnvironments)[number];

export const credentialStatuses = [
  'untested',
  'connected',
  'awaiting_approval',
  'invalid_credentials',
  'unreachable',
  'disabled',
] as const;
export type CredentialStatus = (typeof credentialStatuses)[number];

/**
 * One ServiceTitan tenant connected by a company in one environment. The client id, secret and
 * any cached access token are stored only as AES-256-GCM envelopes (see src/crypto); the key
 * version travels inside each envelope so keys can rotate.
 */
export const ServiceTitanCredential = defineEntity({
  name: 'ServiceTitanCredential',
  tableName: 'servicetitan_credentials',
  properties: {
    id: p.integer().primary(),
    company: () => p.manyToOne(Company).deleteRule('cascade'),
    environment: p.enum(serviceTitanEnvironments),
    // int64 in ServiceTitan: kept as text so no value loses precision in JavaScript.
    tenantId: p.string().length(20),
    clientIdEncrypted: p.text(),
    clientSecretEncrypted: p.text(),
    accessTokenEncrypted: p.text().nullable(),
    accessTokenExpiresAt: p.datetime().nullable(),
    status: p.enum(credentialStatuses).default('untested'),
    statusMessage: p.text().nullable(),
    lastTestedAt: p.datetime().nullable(),
    createdAt: p.datetime().onCreate(() => new Date()),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
    disabledAt: p.datetime().nullable(),
    /** When `freshness.stale` was sent for the current breach; cleared by the next successful run. */
    freshnessAlertedAt: p.datetime().nullable(),
  },
  uniques: [
    { properties: ['company', 'environment'], name: 'servicetitan_credentials_company_environment_unique' },
    { properties: ['environment', 'tenantId'], name: 'servicetitan_credentials_environment_tenant_unique' },
  ],
});

export type IServiceTitanCredential = InferEntity<typeof ServiceTitanCredential>;
