import { route } from '../route.js';
import { flagKeyParams, flagListQuery, flagSetSchema, flagsView } from '../schemas.js';
import type { createFlagService } from '../services/flags.service.js';

export function flagRoutes(flags: ReturnType<typeof createFlagService>) {
  const tag = 'Feature flags';
  return [
    route({
      method: 'get',
      path: '/flags',
      tag,
      summary: 'List feature flags (global values, and a company’s own with companyId)',
      access: 'read',
      query: flagListQuery,
      status: 200,
      response: flagsView,
      handler: ({ query }, ctx) => flags.list(ctx, query.companyId),
    }),
    route({
      method: 'put',
      path: '/flags/:key',
      tag,
      summary: 'Set a feature flag, globally or for one company',
      access: 'admin',
      params: flagKeyParams,
      body: flagSetSchema,
      status: 200,
      response: flagsView,
      audit: { action: 'flag.set', target: 'flag' },
      handler: ({ params, body }, ctx) => flags.set(ctx, params.key, body),
    }),
    route({
      method: 'delete',
      path: '/flags/:key',
      tag,
      summary: 'Remove a flag’s value (global, or a company’s own with companyId)',
      access: 'admin',
      params: flagKeyParams,
      query: flagListQuery,
      status: 200,
      response: flagsView,
      audit: { action: 'flag.unset', target: 'flag' },
      handler: ({ params, query }, ctx) => flags.unset(ctx, params.key, query.companyId),
    }),
  ];
}
