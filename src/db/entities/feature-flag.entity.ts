import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Company } from './company.entity.js';

/**
 * A feature flag's value, globally (`scope` 'global') or for one company (`company:<id>`). The
 * flags themselves are declared in src/flags/definitions.ts; a flag with no row has its default.
 */
export const FeatureFlag = defineEntity({
  name: 'FeatureFlag',
  tableName: 'feature_flags',
  properties: {
    id: p.integer().primary(),
    key: p.string().length(64),
    scope: p.string().length(32),
    company: () => p.manyToOne(Company).deleteRule('cascade').nullable(),
    value: p.json<boolean | string>(),
    updatedBy: p.string().length(200).nullable(),
    updatedAt: p
      .datetime()
      .onCreate(() => new Date())
      .onUpdate(() => new Date()),
  },
  uniques: [{ name: 'feature_flags_key_scope_unique', properties: ['key', 'scope'] }],
});
export type IFeatureFlag = InferEntity<typeof FeatureFlag>;
