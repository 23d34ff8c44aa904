/**
 * The ServiceTitan sandbox: a local, deterministic simulator of ServiceTitan's auth server and
 * the API endpoints this project syncs from. `startSandbox()` listens on a real port;
 * `createSandboxApp()` gives the Express app and the controls without listening.
 */
import type { AddressInfo } from 'node:net';
import { createSandboxApp } from './app.js';
import type { Sandbox, SandboxOptions } from './types.js';

export { createSandboxApp, DEFAULT_PAGE_SIZES, DEFAULT_START_TIME, type SandboxApp } from './app.js';
export { APPROVALS_PATH, approvalsUrl } from './approvals.js';
export { DEFAULT_APP_KEY, DEMO_TENANTS } from './demo-tenants.js';
export { type SandboxDirectory, type SandboxDirectoryTenant, sandboxDirectory } from './directory.js';
export { LEGACY_CREATED_ON, LEGACY_ODDITIES } from './records.js';
export type {
  FaultSpec,
  Hold,
  HoldSpec,
  RetryAfterMode,
  Sandbox,
  SandboxControls,
  SandboxEnvironment,
  SandboxOptions,
  SandboxStats,
  SandboxStream,
  SandboxTenantInfo,
  SandboxTenantOptions,
} from './types.js';

export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const { app, dispose, ...controls } = createSandboxApp(options);
  const host = options.host ?? '127.0.0.1';
  const server = app.listen(options.port ?? 0, host);
  await new Promise<void>((resolve, reject) => {
    server.once('listening', resolve);
    server.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    ...controls,
    url: `http://${urlHost}:${port}`,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        dispose();
        server.close((error) => (error ? reject(error) : resolve()));
        // Keep-alive sockets of HTTP clients would otherwise hold the server open.
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
