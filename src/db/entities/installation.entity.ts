import { defineEntity, type InferEntity, p } from '@mikro-orm/core';

/**
 * The one row that names this database's installation. Every Temporal workflow, schedule and
 * task queue this installation makes carries its id, so two databases served by one Temporal
 * (a reset `.data/postgres`, another DATABASE_URL) never claim each other's work.
 */
export const Installation = defineEntity({
  name: 'Installation',
  tableName: 'installation',
  properties: {
    /** Always true: the primary key and its check allow a single row. */
    singleton: p.boolean().primary().default(true),
    installationId: p.string().length(32).unique('installation_installation_id_unique'),
    createdAt: p.datetime().onCreate(() => new Date()),
  },
  checks: [{ name: 'installation_singleton_check', expression: 'singleton' }],
});
export type IInstallation = InferEntity<typeof Installation>;
