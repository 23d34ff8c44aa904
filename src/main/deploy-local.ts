import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { freePort } from '../infra/free-port.js';
import { startTemporalDevServer } from '../infra/temporal-dev-server.js';
import { createLogger, type Logger } from '../logger.js';
import { startDemoSandbox } from './demo.js';
import { resolveEncryptionKeys } from './encryption-keys.js';
import { failStartup, onShutdownSignal } from './lifecycle.js';

/**
 * `npm run deploy:local -- --workers 3`: the production topology (docker-compose.yml's) as plain
 * processes on this machine, for trying a scaled-out deployment without a container engine:
 * a Temporal server, the one-shot `stsync setup` (migrations, search attributes), the API and N
 * workers, each a separate process running the production build, against DATABASE_URL. Workers
 * that exit on a failure are started again (compose's `restart: on-failure`). Ctrl-C or SIGTERM
 * stops the API, then the workers (each drains), then Temporal.
 */

const usage = `Usage: npm run deploy:local -- [--workers N] [--restart on-failure|no] [--state <file>]

Needs DATABASE_URL (and ENCRYPTION_KEYS). Uses TEMPORAL_ADDRESS when set, else starts a Temporal
server (SQLite under DATA_DIR/deploy-local). Without SERVICETITAN_APP_KEY it starts the sandbox.
`;

const root = path.resolve(import.meta.dirname, '../..');

interface Child {
  name: string;
  process: ChildProcess;
  exited: Promise<number | null>;
}

function start(name: string, args: string[], env: NodeJS.ProcessEnv, logger: Logger): Child {
  const child = spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
  // Each line of a child's output, prefixed with the child's name (JSON lines stay parseable
  // after the prefix's tab).
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) process.stdout.write(`${name}\t${line}\n`);
    });
  }
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code, signal) => {
      logger.info({ child: name, pid: child.pid, code, signal }, `${name} exited`);
      resolve(code);
    }),
  );
  return { name, process: child, exited };
}

async function main() {
  const { values } = parseArgs({
    options: {
      workers: { type: 'string', default: '2' },
      restart: { type: 'string', default: 'on-failure' },
      state: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(usage);
    return;
  }
  const workers = Number(values.workers);
  if (!Number.isInteger(workers) || workers < 1 || workers > 32)
    throw new ConfigError(`--workers must be a whole number from 1 to 32; got "${values.workers}".`);
  if (values.restart !== 'on-failure' && values.restart !== 'no')
    throw new ConfigError(`--restart must be on-failure or no; got "${values.restart}".`);
  const config = loadConfig();
  const logger = createLogger({
    level: config.logLevel,
    name: 'stsync-deploy-local',
    format: config.logFormat,
  });
  if (!config.database.url)
    throw new ConfigError(
      'deploy:local runs against an existing PostgreSQL: set DATABASE_URL (npm start is the all-embedded way).',
    );
  const keys = await resolveEncryptionKeys(config, logger);
  const dir = path.join(config.dataDir, 'deploy-local');
  await mkdir(dir, { recursive: true });
  const stateFile = values.state ?? path.join(dir, 'state.json');

  const stops: { name: string; stop: () => Promise<unknown> }[] = [];
  let stopping = false;
  const stopAll = async () => {
    stopping = true;
    for (const { name, stop } of stops.reverse()) {
      logger.info(`stopping ${name}`);
      await stop().catch((error) => logger.error({ err: error }, `${name} did not stop cleanly`));
    }
    await rm(stateFile, { force: true });
  };
  onShutdownSignal(logger, stopAll);

  try {
    logger.info('building (npm run build)');
    const built = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
    if (built.status !== 0) throw new Error('npm run build failed; see above.');

    let temporalAddress = config.temporal.address;
    let temporalUi: string | undefined;
    if (!temporalAddress) {
      // Like a real cluster: the search attributes come from `stsync setup`, not from the server.
      const server = await startTemporalDevServer({
        logger,
        dbFile: path.join(dir, 'temporal.sqlite'),
        namespace: config.temporal.namespace,
        uiPort: config.temporal.uiPort,
        searchAttributes: false,
        readyTimeoutMs: 90_000,
      });
      stops.push({ name: 'Temporal', stop: () => server.stop() });
      temporalAddress = server.address;
      temporalUi = server.uiUrl;
    }

    const env: NodeJS.ProcessEnv = {
      ...process.env,
      TEMPORAL_ADDRESS: temporalAddress,
      ENCRYPTION_KEYS: keys.map((k) => `${k.version}:${k.key.toString('base64')}`).join(','),
    };
    if (!config.serviceTitan.appKey) {
      const sandbox = await startDemoSandbox(config.sandboxPort, config.sandboxLatencyMs);
      stops.push({ name: 'sandbox', stop: () => sandbox.close() });
      Object.assign(env, {
        SERVICETITAN_APP_KEY: sandbox.appKey,
        SERVICETITAN_INTEGRATION_AUTH_URL: sandbox.url,
        SERVICETITAN_INTEGRATION_API_URL: sandbox.url,
        SERVICETITAN_PRODUCTION_AUTH_URL: sandbox.url,
        SERVICETITAN_PRODUCTION_API_URL: sandbox.url,
      });
      logger.info({ url: sandbox.url }, 'no SERVICETITAN_APP_KEY: the ServiceTitan sandbox stands in');
    }

    const setup = start('setup', ['bin/stsync.js', 'setup'], env, logger);
    if ((await setup.exited) !== 0) throw new Error('stsync setup failed; see its output above.');

    const port = config.api.port || (await freePort());
    const api = start('api', ['dist/main/api.js'], { ...env, PORT: String(port) }, logger);

    const running: Child[] = [];
    const writeState = () =>
      writeFile(
        stateFile,
        `${JSON.stringify(
          {
            pid: process.pid,
            api: { url: `http://${config.api.host}:${port}`, pid: api.process.pid },
            temporal: { address: temporalAddress, ui: temporalUi ?? null },
            workers: running.map((w) => ({ name: w.name, pid: w.process.pid })),
          },
          null,
          2,
        )}\n`,
      );
    // Workers on one host cannot share a metrics port: worker N takes METRICS_PORT + N - 1 (and
    // likewise TEMPORAL_METRICS_PORT) when they are set (0, a free port each, stays 0).
    const nth = (base: number | undefined, index: number) =>
      base ? String(base + index - 1) : base === 0 ? '0' : undefined;
    const workerEnv = (index: number): NodeJS.ProcessEnv => {
      const metricsPort = nth(config.metrics.port, index);
      const temporalPort = nth(config.metrics.temporalPort, index);
      return {
        ...env,
        ...(metricsPort ? { METRICS_PORT: metricsPort } : {}),
        ...(temporalPort ? { TEMPORAL_METRICS_PORT: temporalPort } : {}),
      };
    };
    const startWorker = (index: number) => {
      const worker = start(`worker-${index}`, ['dist/main/worker.js'], workerEnv(index), logger);
      running[index - 1] = worker;
      void worker.exited.then(async (code) => {
        if (stopping || code === 0 || values.restart === 'no') return;
        await new Promise((r) => setTimeout(r, 1_000));
        if (stopping) return;
        logger.warn({ worker: worker.name }, `${worker.name} ended with a failure: starting it again`);
        startWorker(index);
        await writeState();
      });
    };
    for (let i = 1; i <= workers; i++) startWorker(i);
    // Stopped in reverse: the API first (nothing new starts), then the workers (each drains).
    stops.push({ name: 'workers', stop: () => Promise.all(running.map(terminate)) });
    stops.push({ name: 'api', stop: () => terminate(api) });
    await writeState();
    logger.info(
      { api: `http://${config.api.host}:${port}`, temporal: temporalAddress, temporalUi, workers, stateFile },
      `deploy:local is running: API, ${workers} worker${workers === 1 ? '' : 's'} and Temporal as separate processes`,
    );
  } catch (error) {
    await stopAll();
    throw error;
  }
}

/** SIGTERM, then the exit (a worker drains within its WORKER_SHUTDOWN_GRACE_SECONDS). */
async function terminate(child: Child): Promise<void> {
  if (child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill('SIGTERM');
  await child.exited;
}

await main().catch(failStartup);
