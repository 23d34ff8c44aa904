import { type ChildProcess, spawn } from 'node:child_process';
import { connect, createServer, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, inject, it } from 'vitest';
import { freePort } from '../../src/infra/free-port.js';
import { testDatabaseUrl, testKeys, uniqueId } from '../support/integration.js';

const root = path.resolve(import.meta.dirname, '../..');

interface Spawned {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/** The production worker root (`npm run worker`) in its own process. */
async function spawnWorker(env: Record<string, string>): Promise<Spawned> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main/worker.ts'], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: await testDatabaseUrl(),
      TASK_QUEUE: uniqueId('worker-root'),
      SERVICETITAN_APP_KEY: 'test-app-key',
      ENCRYPTION_KEYS: testKeys.map((k) => `${k.version}:${k.key.toString('base64')}`).join(','),
      LOG_LEVEL: 'info',
      ...env,
    },
  });
  let out = '';
  child.stdout?.on('data', (c) => {
    out += c;
  });
  child.stderr?.on('data', (c) => {
    out += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}

async function waitForOutput(w: Spawned, pattern: RegExp, ms = 60_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pattern.test(w.output())) {
    if (w.child.exitCode !== null) throw new Error(`worker exited (${w.child.exitCode}):\n${w.output()}`);
    if (Date.now() > deadline) throw new Error(`no ${pattern} in:\n${w.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A TCP relay to Temporal on `port`, which can go away (and take its connections with it). */
async function relay(port: number, target: string): Promise<{ close(): Promise<void> }> {
  const [host, targetPort] = target.split(':') as [string, string];
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(Number(targetPort), host);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
      s.on('error', () => {});
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const s of sockets) s.destroy();
      }),
  };
}

describe('the worker root', () => {
  const started: Spawned[] = [];
  afterEach(async () => {
    for (const w of started.splice(0)) if (w.child.exitCode === null) w.child.kill('SIGKILL');
  });

  it('when Temporal never answers, then the worker says what it waits for and exits non-zero after TEMPORAL_CONNECT_TIMEOUT_SECONDS', async () => {
    const port = await freePort();
    const began = Date.now();
    const w = await spawnWorker({
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_CONNECT_TIMEOUT_SECONDS: '3',
    });
    started.push(w);
    const code = await w.exited;
    expect(code).not.toBe(0);
    expect(Date.now() - began).toBeGreaterThanOrEqual(3_000);
    expect(w.output()).toMatch(/waiting for Temporal to answer/);
    expect(w.output()).toContain(`127.0.0.1:${port}`);
    expect(w.output()).toMatch(/did not answer within 3 s \(TEMPORAL_CONNECT_TIMEOUT_SECONDS\)/);
  });

  it('when Temporal comes up after the worker, then the worker waits for it and runs; SIGTERM stops it with 0', async () => {
    const port = await freePort();
    const w = await spawnWorker({
      TEMPORAL_ADDRESS: `127.0.0.1:${port}`,
      TEMPORAL_CONNECT_TIMEOUT_SECONDS: '120',
    });
    started.push(w);
    await waitForOutput(w, /waiting for Temporal to answer/);
    const up = await relay(port, inject('temporalAddress'));
    try {
      await waitForOutput(w, /worker running/, 90_000);
      w.child.kill('SIGTERM');
      expect(await w.exited).toBe(0);
    } finally {
      await up.close();
    }
  });

  it('when METRICS_PORT and TEMPORAL_METRICS_PORT are set, then the worker serves its metrics and the Temporal SDK its own there', async () => {
    const [metricsPort, temporalPort] = [await freePort(), await freePort()];
    const w = await spawnWorker({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      METRICS_PORT: String(metricsPort),
      TEMPORAL_METRICS_PORT: String(temporalPort),
      METRICS_TOKEN: 'worker-metrics-token-0123456789',
    });
    started.push(w);
    await waitForOutput(w, /worker running/, 90_000);
    expect(w.output()).toContain(`http://127.0.0.1:${metricsPort}/metrics`);
    const url = `http://127.0.0.1:${metricsPort}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    const res = await fetch(url, { headers: { authorization: 'Bearer worker-metrics-token-0123456789' } });
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/^stsync_servicetitan_breaker_state\{environment="production"\} 0$/m);
    expect(text).toMatch(/^stsync_process_resident_memory_bytes \d+/m);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const sdk = await fetch(`http://127.0.0.1:${temporalPort}/metrics`).then(
        (r) => r.text(),
        () => '',
      );
      if (/^temporal_worker_task_slots_available\{/m.test(sdk)) break;
      if (Date.now() > deadline) throw new Error(`no Temporal SDK metrics:\n${sdk.slice(0, 500)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    w.child.kill('SIGTERM');
    expect(await w.exited).toBe(0);
  });
});
