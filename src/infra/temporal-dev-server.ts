import type { ChildProcess } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import type { Logger } from '../logger.js';
import { SEARCH_ATTRIBUTES } from '../temporal/search-attributes.js';
import { freePort, isPortInUse } from './free-port.js';
import { spawnInOwnGroup } from './process-group.js';
import { findTemporalCli, installTemporalCliWithGo } from './temporal-cli.js';

/** Keyword search attributes every sync run carries; registered on the dev server at start. */
export { SEARCH_ATTRIBUTES as SEARCH_ATTRIBUTE_NAMES } from '../temporal/search-attributes.js';

export interface TemporalDevServer {
  readonly address: string;
  readonly uiUrl: string | undefined;
  readonly namespace: string;
  stop(): Promise<void>;
}

export interface TemporalDevServerOptions {
  /** SQLite file; omitted = in memory (tests). */
  dbFile?: string;
  namespace?: string;
  port?: number;
  /** Web UI port; undefined = no UI. */
  uiPort?: number;
  cliPath?: string;
  readyTimeoutMs?: number;
  /** Register the product's search attributes at start (default true). */
  searchAttributes?: boolean;
  /** More `temporal server start-dev` arguments (e.g. `--dynamic-config-value` for a test). */
  extraArgs?: string[];
  logger: Logger;
}

/**
 * Starts `temporal server start-dev` and waits until its frontend answers. The SDK's own
 * launcher gives up after 5 s, too short for a cold start on 2 cores; this one waits as long
 * as `readyTimeoutMs` and then says so plainly.
 */
export async function startTemporalDevServer(options: TemporalDevServerOptions): Promise<TemporalDevServer> {
  const { logger } = options;
  const namespace = options.namespace ?? 'default';
  const port = options.port && !(await isPortInUse(options.port)) ? options.port : await freePort();
  if (options.port && port !== options.port)
    logger.warn({ wanted: options.port, port }, 'Temporal port busy; using another');
  let uiPort = options.uiPort;
  if (uiPort !== undefined && (await isPortInUse(uiPort))) {
    const other = await freePort();
    logger.warn({ wanted: uiPort, port: other }, 'Temporal Web UI port busy; using another');
    uiPort = other;
  }
  if (options.dbFile) await mkdir(path.dirname(path.resolve(options.dbFile)), { recursive: true });

  const cli = findTemporalCli(options.cliPath) ?? (await installTemporalCliWithGo(logger));
  if (!cli) return startWithSdkDownload({ ...options, namespace, port, uiPort });

  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--namespace',
    namespace,
    '--log-level',
    'warn',
    // A deployment registers them with `stsync setup`; the embedded server gets them at start.
    ...(options.searchAttributes === false
      ? []
      : SEARCH_ATTRIBUTES.flatMap((name) => ['--search-attribute', `${name}=Keyword`])),
    ...(options.dbFile ? ['--db-filename', path.resolve(options.dbFile)] : []),
    ...(uiPort !== undefined ? ['--ui-port', String(uiPort)] : ['--headless']),
    ...(options.extraArgs ?? []),
  ];
  logger.debug({ cli, args }, 'starting Temporal dev server');
  // Its own process group: Ctrl-C must not stop Temporal before the worker has drained.
  const server = spawnInOwnGroup(cli, args, { stopSignal: 'SIGTERM' });
  const child = server.child;
  const output: string[] = [];
  const remember = (chunk: Buffer) => {
    output.push(chunk.toString());
    if (output.length > 50) output.shift();
  };
  child.stdout?.on('data', remember);
  child.stderr?.on('data', remember);

  const address = `127.0.0.1:${port}`;
  try {
    await waitForTemporal(address, namespace, options.readyTimeoutMs ?? 60_000, child);
  } catch (error) {
    await server.stop();
    throw new Error(
      `${(error as Error).message}\nTemporal dev server output:\n${output.join('').slice(-4000)}`,
    );
  }
  logger.info({ address, ui: uiPort && `http://127.0.0.1:${uiPort}` }, 'Temporal dev server is up');
  return {
    address,
    namespace,
    uiUrl: uiPort !== undefined ? `http://127.0.0.1:${uiPort}` : undefined,
    stop: () => server.stop(),
  };
}

/** Polls the frontend until the namespace answers, the process dies, or the time is up. */
export async function waitForTemporal(
  address: string,
  namespace: string,
  timeoutMs: number,
  child?: ChildProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (child && child.exitCode !== null) {
      throw new Error(`Temporal dev server exited with code ${child.exitCode} before it was ready`);
    }
    let connection: Connection | undefined;
    try {
      connection = await Connection.connect({ address, connectTimeout: 2_000 });
      await connection.withDeadline(Date.now() + 2_000, () =>
        connection!.workflowService.describeNamespace({ namespace }),
      );
      return;
    } catch (error) {
      lastError = error;
    } finally {
      await connection?.close().catch(() => {});
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(
    `Temporal at ${address} was not ready after ${Math.round(timeoutMs / 1000)} s (namespace "${namespace}"): ${
      (lastError as Error)?.message ?? lastError
    }`,
  );
}

/** No CLI and no Go: the SDK downloads the CLI (needs internet) and runs it for us. */
async function startWithSdkDownload(
  options: TemporalDevServerOptions & { namespace: string; port: number; uiPort: number | undefined },
): Promise<TemporalDevServer> {
  options.logger.info('no Temporal CLI found and no Go toolchain: using the SDK download of the CLI');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  const { defineSearchAttributeKey } = await import('@temporalio/common');
  const env = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'cached-download' },
      ip: '127.0.0.1',
      port: options.port,
      namespace: options.namespace,
      ...(options.dbFile ? { dbFilename: path.resolve(options.dbFile) } : {}),
      ...(options.uiPort !== undefined ? { ui: true, uiPort: options.uiPort } : {}),
      searchAttributes: SEARCH_ATTRIBUTES.map((name) => defineSearchAttributeKey(name, 'KEYWORD')),
    },
  });
  return {
    address: env.address,
    namespace: options.namespace,
    uiUrl: options.uiPort !== undefined ? `http://127.0.0.1:${options.uiPort}` : undefined,
    stop: () => env.teardown(),
  };
}
