import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { SandboxOptions, SandboxStats, SandboxTenantInfo } from '../src/sandbox/index.js';

/** The sandbox in a child process (see client-sandbox-process.ts), driven over IPC. */
export async function startSandboxProcess(options: SandboxOptions) {
  const child = fork(fileURLToPath(new URL('./client-sandbox-process.ts', import.meta.url)), {
    // As `npm run sandbox` runs it: a small young generation keeps a 1 M-invoice tenant's RSS low.
    execArgv: ['--max-semi-space-size=8', '--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = <T>(message: unknown): Promise<T> =>
    new Promise((resolve) => {
      child.once('message', (reply) => resolve(reply as T));
      child.send(message as object);
    });
  const started = await ask<{ url: string; appKey: string; tenants: SandboxTenantInfo[] }>({
    cmd: 'start',
    options,
  });
  return {
    ...started,
    stats: () => ask<SandboxStats>({ cmd: 'stats' }),
    /** The child's CPU time so far and its peak RSS. */
    usage: () => ask<{ cpu: NodeJS.CpuUsage; maxRssBytes: number }>({ cmd: 'usage' }),
    close: async () => {
      await ask({ cmd: 'close' });
      await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once('exit', resolve)));
    },
  };
}
