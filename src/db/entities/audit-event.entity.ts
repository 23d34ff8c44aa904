import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

export const auditOutcomes = ['success', 'denied', 'failed'] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

/**
 * Who did what to which target, from where, when, and how it ended. Kept without foreign keys so
 * the trail outlives the tokens and companies it names. Never holds a secret.
 */
export const AuditEvent = defineEntity({
  name: 'AuditEvent',
  tableName: 'audit_events',
  properties: {
    id: p.bigint('string').primary(),
    at: p
      .datetime()
      .defaultRaw('now()')
      .onCreate(() => new Date()),
    /** Null for the ADMIN_TOKEN bootstrap token and the CLI. */
    actorTokenId: p.integer().nullable(),
    actorName: p.string().length(200),
    actorRole: p.string().length(16),
    action: p.string().length(64),
    targetType: p.string().length(32),
    targetId: p.string().length(64).nullable(),
    companyId: p.integer().nullable(),
    ip: p.string().length(64).nullable(),
    requestId: p.string().length(64).nullable(),
    outcome: p.enum(auditOutcomes),
    /** Error code, field names changed, counts: never values of secrets. */
    details: p
      .json<Record<string, unknown>>()
      .default('{}')
      .onCreate(() => ({})),
  },
  indexes: [{ properties: ['at'] }, { properties: ['companyId', 'at'] }, { properties: ['action', 'at'] }],
});
export type IAuditEvent = InferEntity<typeof AuditEvent>;
