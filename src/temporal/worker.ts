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

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Bundles the workflow code once (webpack: seconds on 2 cores); workers then reuse the bundle. */
export async function bundleWorkflows(): Promise<WorkflowBundle> {
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
}

export interface RunningWorker {
  readonly worker: Worker;
  /** Drains in-flight tasks, then closes the connection. */
  stop(): Promise<void>;
}

let runtimeInstalled = false;

/** Routes the SDK's core logs into pino at warn level and above (once per process). */
function installRuntime(logger: Logger) {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  const child = logger.child({ component: 'temporal-sdk' });
  Runtime.install({
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
  installRuntime(deps.logger);
  const connection = await NativeConnection.connect({ address: deps.address });
  const worker = await Worker.create({
    connection,
    namespace: deps.namespace,
    taskQueue: deps.taskQueue,
    workflowBundle: deps.workflowBundle ?? (await bundleWorkflows()),
    activities: createActivities(deps.activities),
    shutdownGraceTime: '20 seconds',
  });
  const running = worker.run();
  running.catch((error) => deps.logger.error({ err: error }, 'worker stopped with an error'));
  return {
    worker,
    async stop() {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running.catch(() => {});
      await connection.close();
    },
  };
}
