/**
 * Standalone sandbox: `npm run sandbox [-- --json] [-- --port N]`.
 *
 * Listens on SANDBOX_PORT (default 4010) and SANDBOX_HOST (default 127.0.0.1), serves the demo
 * tenants, and prints their credentials. With --json, stdout carries exactly one JSON object
 * (for scripts); everything else goes to stderr. The clock follows the wall clock from now, with
 * a change tick every minute, so a running sync keeps seeing new and changed records.
 */
import { parseArgs } from 'node:util';
import { approvalsUrl, startSandbox } from './index.js';

const DEFAULT_PORT = 4010;

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`Invalid sandbox port "${raw}"`);
  return port;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      json: { type: 'boolean', default: false },
      port: { type: 'string' },
      'tick-seconds': { type: 'string' },
      'rate-limit': { type: 'string' },
    },
  });
  const port = parsePort(values.port ?? process.env.SANDBOX_PORT);
  const tickSeconds = Number(values['tick-seconds'] ?? 60);
  if (!(tickSeconds > 0)) throw new Error('--tick-seconds must be a positive number');
  const minute = 60_000;
  const sandbox = await startSandbox({
    port,
    host: process.env.SANDBOX_HOST ?? '127.0.0.1',
    startTime: new Date(Math.floor(Date.now() / minute) * minute),
    realTime: true,
    tickMs: tickSeconds * 1000,
    ...(values['rate-limit'] !== undefined ? { rateLimitPerSecond: Number(values['rate-limit']) } : {}),
  });

  if (values.json) {
    const summary = {
      appKey: sandbox.appKey,
      authUrl: sandbox.url,
      apiUrl: sandbox.url,
      approvalsUrl: approvalsUrl(sandbox.url),
      tenants: sandbox.tenants.map((t) => ({
        ...t,
        customers: sandbox.countRecords(t.tenantId, 'customers'),
        invoices: sandbox.countRecords(t.tenantId, 'invoices'),
      })),
    };
    process.stdout.write(`${JSON.stringify(summary)}\n`);
  } else {
    const lines = [
      `ServiceTitan sandbox listening on ${sandbox.url}`,
      `  auth URL: ${sandbox.url}   (token endpoint ${sandbox.url}/connect/token)`,
      `  API URL:  ${sandbox.url}`,
      `  app key:  ${sandbox.appKey}`,
      `  approvals: ${approvalsUrl(sandbox.url)}   (a tenant's "API Application Access" page: allow or disconnect the app)`,
      '',
      'Tenants:',
      ...sandbox.tenants.map((t) => {
        const notes = [
          t.environment,
          t.approved ? null : 'NOT APPROVED (API answers 403)',
          t.licensed.accounting ? null : 'no Accounting licence (403 on accounting)',
        ].filter(Boolean);
        return `  ${t.tenantId}  client id ${t.clientId}  secret ${t.clientSecret}  [${notes.join(', ')}]  customers ${sandbox.countRecords(t.tenantId, 'customers')}, invoices ${sandbox.countRecords(t.tenantId, 'invoices')}`;
      }),
      '',
      `A change tick every ${tickSeconds} s. Ctrl+C to stop.`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  }

  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`sandbox: ${signal} received, closing\n`);
    sandbox.close().then(
      () => {
        process.exitCode = 0;
      },
      (error: unknown) => {
        console.error('sandbox: close failed', error);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('sandbox: failed to start', error);
  process.exitCode = 1;
});
