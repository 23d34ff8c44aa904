import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import {
  bundleWorkflowCode,
  NativeConnection,
  Runtime,
  Worker,
  type WorkflowBundle,
  type WorkflowBundleOption,
} from '@temporalio/worker';
import { type ActivityDeps, createActivities } from '../activities/index.js';
import type { Logger } from '../logger.js';

/** Whether this module runs as the production build's JavaScript (dist/) rather than from src/. */
const compiled = import.meta.url.endsWith('.js');
export const workflowsPath = fileURLToPath(
  new URL(`../workflows/index.${compiled ? 'js' : 'ts'}`, import.meta.url),
);
/** Made by `npm run build` (scripts/build.mjs) beside the compiled code it bundles. */
const prebuiltBundle = fileURLToPath(new URL('../workflow-bundle.js', import.meta.url));

/**
 * The workflow code: the build's bundle when running the build, else bundled now (webpack:
 * seconds on 2 cores); workers then reuse it.
 */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
  if (compiled && existsSync(prebuiltBundle)) return { code: await readFile(prebuiltBundle, 'utf8') };
  return bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
}

const noop = () => {};
const quietBundlerLogger = {
  log: noop,
  trace: noop,
  debug: noop,
  info: noop,
  warn: (message: string) => console.warn(message),
  error: (message: string) => console.error(message),
};

export interface WorkerDeps {
  address: string;
  namespace: string;
  taskQueue: string;
  logger: Logger;
  activities: ActivityDeps;
  workflowBundle?: WorkflowBundleOption;
  /** How long to wait at start for Temporal to answer (default: one try). */
  connectTimeoutMs?: number;
  /**
   * `host:port` where the SDK's own Prometheus exporter serves /metrics (task latency, slots,
   * polls). The SDK runtime is made once per process, by the first worker started, and must
   * be made before any NativeConnection: only that first worker's address counts.
   */
  temporalMetricsAddress?: string;
  /** On stop, how long activities in hand may run before they are cancelled (default 20 s). */
  shutdownGraceMs?: number;
}

export interface RunningWorker {
  readonly worker: Worker;
  /**
   * Settles when the worker stops: resolves after `stop()`, rejects when it failed on its own
   * (then it polls no more, so the process should exit and be restarted).
   */
  readonly done: Promise<void>;
  /** Drains in-flight tasks, then closes the connection. */
  stop(): Promise<void>;
}

/**
 * Connects to Temporal, retrying until `timeoutMs` has passed: a worker started beside (or before)
 * its Temporal waits for it, saying what it waits for, instead of failing at once.
 */
export async function connectToTemporal(
  address: string,
  logger: Logger,
  timeoutMs = 0,
): Promise<NativeConnection> {
  const deadline = Date.now() + timeoutMs;
  let delayMs = 250;
  for (let attempt = 1; ; attempt++) {
    try {
      const connection = await NativeConnection.connect({ address });
      if (attempt > 1) logger.info({ address, attempt }, 'Temporal answered');
      return connection;
    } catch (error) {
      const left = deadline - Date.now();
      if (left <= 0) {
        const waited = Math.round(timeoutMs / 1000);
        throw new Error(
          `Temporal at ${address} did not answer${waited ? ` within ${waited} s` : ''} ` +
            `(TEMPORAL_CONNECT_TIMEOUT_SECONDS): ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      if (attempt === 1)
        logger.warn(
          { address, timeoutSeconds: Math.round(timeoutMs / 1000) },
          'waiting for Temporal to answer',
        );
      else logger.debug({ address, attempt, err: error }, 'Temporal still not answering');
      await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, left)));
      delayMs = Math.min(delayMs * 2, 5_000);
    }
  }
}

let runtimeInstalled = false;

/**
 * Routes the SDK's core logs into pino at warn level and above, and turns on its Prometheus
 * exporter when asked (once per process: the SDK allows one runtime, installed before the first
 * NativeConnection, which is why it happens here, just before the worker connects).
 */
export function installTemporalRuntime(logger: Logger, metricsAddress: string | undefined): void {
  if (runtimeInstalled) {
    if (metricsAddress)
      logger.warn(
        { metricsAddress },
        'the Temporal SDK runtime was already installed in this process; its metrics address is unchanged',
      );
    return;
  }
  runtimeInstalled = true;
  const child = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
    ...(metricsAddress
      ? {
          telemetryOptions: {
            metrics: {
              prometheus: {
                bindAddress: metricsAddress,
                countersTotalSuffix: true,
                useSecondsForDurations: true,
              },
            },
          },
        }
      : {}),
    // The composition root owns shutdown order (API, worker, ORM, Temporal, database).
    shutdownSignals: [],
    logger: {
      log: (level, message, meta) => {
        if (level === 'WARN') child.warn(meta ?? {}, message);
        else if (level === 'ERROR') child.error(meta ?? {}, message);
      },
      trace: noop,
      debug: noop,
      info: noop,
      warn: (message, meta) => child.warn(meta ?? {}, message),
      error: (message, meta) => child.error(meta ?? {}, message),
    },
  });
}

export async function startWorker(deps: WorkerDeps): Promise<RunningWorker> {
  installTemporalRuntime(deps.logger, deps.temporalMetricsAddress);
  const connection = await connectToTemporal(deps.address, deps.logger, deps.connectTimeoutMs);
  const worker = await Worker.create({
    connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle ?? (await bundleWorkflows()),
    activities: createActivities(deps.activities),
    shutdownGraceTime: deps.shutdownGraceMs ?? 20_000,
    // A cancellation reaches an activity only in a heartbeat's answer; the SDK would hold
    // heartbeats back for up to 80 % of the heartbeat timeout (16 s), so a cancelled chunk could
    // go on fetching that long. Chunks beat every 5 s anyway: send them.
    maxHeartbeatThrottleInterval: '5 seconds',
  });
  const running = worker.run();
  running.catch((error) => deps.logger.error({ err: error }, 'worker stopped with an error'));
  return {
    worker,
    done: running,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => {});
      await connection.close();
    },
  };
}
