import { defineEntity, type InferEntity, p } from '@mikro-orm/core';
import { Company } from './company.entity.js';

export const apiRoles = ['admin', 'operator', 'viewer'] as const;
export type ApiRole = (typeof apiRoles)[number];

/**
 * A bearer token of the admin API. Only the SHA-256 of the token is stored: tokens are 256-bit
 * random values, so a fast hash is as good as a slow one and lets a request be authenticated by
 * one indexed lookup.
 */
export const ApiToken = defineEntity({
  name: 'ApiToken',
  tableName: 'api_tokens',
  properties: {
    id: p.integer().primary(),
    name: p.string().length(200),
    role: p.enum(apiRoles),
    /** Set: the token sees and changes this company's resources only. */
    company: () => p.manyToOne(Company).nullable().deleteRule('cascade'),
    tokenHash: p.string().length(64).unique('api_tokens_token_hash_unique'),
    createdAt: p.datetime().onCreate(() => new Date()),
    revokedAt: p.datetime().nullable(),
    /** When it last authenticated a request (Bearer or console session), to the minute. */
    lastUsedAt: p.datetime().nullable(),
  },
});
export type IApiToken = InferEntity<typeof ApiToken>;
