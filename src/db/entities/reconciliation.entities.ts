import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Company } from './company.entity.js';
import { ServiceTitanCredential } from './servicetitan-credential.entity.js';

export const reconciliationStatuses = ['matched', 'differs'] as const;
export type ReconciliationStatus = (typeof reconciliationStatuses)[number];

/**
 * A comparison of ServiceTitan report exports with the rows a credential's syncs stored
 * (src/reconcile). Written once, when the comparison has finished: a refused or broken report
 * leaves no row. `summary` holds the counts per class and the totals; the details are its
 * differences.
 */
export const Reconciliation = defineEntity({
  name: 'Reconciliation',
  tableName: 'reconciliations',
  properties: {
    id: p.integer().primary(),
    credential: () => p.manyToOne(ServiceTitanCredential).deleteRule('cascade').ref(),
    company: () => p.manyToOne(Company).deleteRule('cascade').ref(),
    environment: p.string().length(16),
    /** Who started it: the API token's name, or `cli`. */
    startedBy: p.string().length(200),
    startedAt: p.datetime(),
    finishedAt: p.datetime(),
    status: p.enum(reconciliationStatuses),
    /** Per report kind, the file name it was read from. */
    sources: p.json<Record<string, string>>(),
    summary: p.json<Record<string, unknown>>(),
  },
  indexes: [{ properties: ['credential', 'id'] }],
});
export type IReconciliation = InferEntity<typeof Reconciliation>;

/**
 * One difference between a report and the stored rows: a record missing on one side, a field
 * whose values differ, or a day's or business unit's totals that differ (`groupKey` names it).
 */
export const ReconciliationDifference = defineEntity({
  name: 'ReconciliationDifference',
  tableName: 'reconciliation_differences',
  properties: {
    id: p.bigint('string').primary(),
    reconciliation: () => p.manyToOne(Reconciliation).deleteRule('cascade').ref(),
    stream: p.string().length(16),
    kind: p.string().length(32),
    externalId: p.string().length(64).nullable(),
    groupKey: p.text().nullable(),
    field: p.string().length(64).nullable(),
    reportValue: p.text().nullable(),
    storedValue: p.text().nullable(),
    /** The report's line, for what the report holds. */
    line: p.integer().nullable(),
  },
  indexes: [{ properties: ['reconciliation', 'id'] }],
});
export type IReconciliationDifference = InferEntity<typeof ReconciliationDifference>;
