import { defineSearchAttributeKey, TypedSearchAttributes } from '@temporalio/common';
import type { SyncTrigger } from '../workflows/definitions.js';

export const CompanyIdKey = defineSearchAttributeKey('CompanyId', 'KEYWORD');
export const TenantIdKey = defineSearchAttributeKey('TenantId', 'KEYWORD');
export const EnvironmentKey = defineSearchAttributeKey('Environment', 'KEYWORD');
export const SyncTriggerKey = defineSearchAttributeKey('SyncTrigger', 'KEYWORD');

/** The search attributes every sync run carries, so the Web UI filters by company or tenant. */
export function searchAttributesFor(
  credential: { company: { id: number }; tenantId: string; environment: string },
  trigger: SyncTrigger,
): TypedSearchAttributes {
  return new TypedSearchAttributes([
    { key: CompanyIdKey, value: String(credential.company.id) },
    { key: TenantIdKey, value: credential.tenantId },
    { key: EnvironmentKey, value: credential.environment },
    { key: SyncTriggerKey, value: trigger },
  ]);
}

/** Every search attribute the product sets, as Temporal's operator API names their type. */
export const SEARCH_ATTRIBUTES = [CompanyIdKey, TenantIdKey, EnvironmentKey, SyncTriggerKey].map(
  (k) => k.name,
);
