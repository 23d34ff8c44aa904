import type { AuditLog } from '../../audit/index.js';
import { requireUnrestricted, type TokenService } from '../../auth/index.js';
import { route } from '../route.js';
import {
  auditPage,
  auditQuery,
  dashboardView,
  idParams,
  setupView,
  tokenCreatedView,
  tokenCreateSchema,
  tokenList,
  tokenView,
} from '../schemas.js';
import type { createDashboardService } from '../services/dashboard.service.js';
import type { SetupService } from '../services/setup.service.js';

/** Dashboard, tokens, the audit trail and the deployment's setup check. */
export function adminRoutes(deps: {
  dashboard: ReturnType<typeof createDashboardService>;
  tokens: TokenService;
  audit: AuditLog;
  setup: SetupService;
}) {
  return [
    route({
      method: 'get',
      path: '/dashboard',
      tag: 'Dashboard',
      summary: 'Get the state of every credential',
      access: 'read',
      status: 200,
      response: dashboardView,
      handler: (_input, ctx) => deps.dashboard.get(ctx),
    }),
    route({
      method: 'post',
      path: '/tokens',
      tag: 'Tokens',
      summary: 'Create an API token',
      access: 'admin',
      body: tokenCreateSchema,
      status: 201,
      response: tokenCreatedView,
      audit: { action: 'token.create', target: 'token' },
      handler: async ({ body }, ctx) => {
        requireUnrestricted(ctx.principal);
        return deps.tokens.create(ctx.em, body);
      },
    }),
    route({
      method: 'get',
      path: '/tokens',
      tag: 'Tokens',
      summary: 'List API tokens',
      access: 'admin',
      status: 200,
      response: tokenList,
      handler: async (_input, ctx) => {
        requireUnrestricted(ctx.principal);
        return { items: await deps.tokens.list(ctx.em) };
      },
    }),
    route({
      method: 'delete',
      path: '/tokens/:id',
      tag: 'Tokens',
      summary: 'Revoke an API token',
      access: 'admin',
      params: idParams,
      status: 200,
      response: tokenView,
      audit: { action: 'token.revoke', target: 'token' },
      handler: async ({ params }, ctx) => {
        requireUnrestricted(ctx.principal);
        return deps.tokens.revoke(ctx.em, params.id);
      },
    }),
    route({
      method: 'get',
      path: '/audit',
      tag: 'Audit',
      summary: 'List audit events',
      access: 'admin',
      query: auditQuery,
      status: 200,
      response: auditPage,
      handler: ({ query }, ctx) => deps.audit.list(ctx.em, query, ctx.principal.companyId),
    }),
    route({
      method: 'get',
      path: '/setup',
      tag: 'Setup',
      summary: "Check this deployment's configuration",
      access: 'admin',
      status: 200,
      response: setupView,
      handler: async (_input, ctx) => {
        requireUnrestricted(ctx.principal);
        return deps.setup.check();
      },
    }),
  ];
}
