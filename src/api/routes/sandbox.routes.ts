import { AppError } from '../../errors.js';
import type { SandboxDirectory } from '../../sandbox/directory.js';
import { route } from '../route.js';
import { sandboxView } from '../schemas.js';

/** GET /api/sandbox: the embedded sandbox and its demo tenants, for people trying the product. */
export function sandboxRoutes(sandbox: SandboxDirectory | undefined) {
  return [
    route({
      method: 'get',
      path: '/sandbox',
      tag: 'Sandbox',
      summary: 'Describe the embedded ServiceTitan sandbox',
      access: 'admin',
      status: 200,
      response: sandboxView,
      handler: async () => {
        if (!sandbox)
          throw new AppError(
            'not_found',
            'This deployment has no embedded ServiceTitan sandbox (it runs with SERVICETITAN_APP_KEY): connect a real tenant with the tenant ID, client ID and client secret from its ServiceTitan administrator.',
          );
        return { url: sandbox.url, approvalsUrl: sandbox.approvalsUrl, tenants: sandbox.tenants() };
      },
    }),
  ];
}
