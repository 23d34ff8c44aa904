import { type ChildProcess, spawn } from 'node:child_process';

/**
 * Runs a command in its own process group, under a small `sh` watchdog that stops it when our
 * end of its stdin closes: when `stop()` is called, and also when this process dies in any way,
 * even SIGKILL, because the kernel closes the pipe then. Being in another group, the server does
 * not get the terminal's Ctrl-C, which goes to the whole foreground group: the composition root
 * can drain the worker against a live Temporal and database, then stop these last.
 *
 * The watchdog reads its stdin (fd 3, since an async list's own stdin is /dev/null) in a
 * subshell with the `read` builtin, so no extra process outlives it; when the read ends, it
 * signals the server, and the shell exits with the server's status once it is gone.
 */
const WATCHDOG = `
sig=$1; shift
exec 3<&0
"$@" </dev/null 3<&- &
server=$!
( while read -r _ <&3; do :; done; kill -s "$sig" "$server" 2>/dev/null ) &
watcher=$!
exec 3<&-
wait "$server"
code=$?
kill "$watcher" 2>/dev/null
exit "$code"
`;

export interface GroupedProcess {
  /** The watchdog's pid, which is also the process group id. */
  readonly pid: number;
  readonly child: ChildProcess;
  /** Whether the server has exited (the watchdog exits with it). */
  exited(): boolean;
  /** Asks the server to stop with its stop signal; SIGKILLs the group after `killAfterMs`. */
  stop(): Promise<void>;
}

export interface GroupedProcessOptions {
  /** How the server is asked to stop (default SIGTERM). */
  stopSignal?: NodeJS.Signals;
  killAfterMs?: number;
  env?: NodeJS.ProcessEnv;
  uid?: number;
  gid?: number;
}

export function spawnInOwnGroup(
  command: string,
  args: string[],
  options: GroupedProcessOptions = {},
): GroupedProcess {
  const stopSignal = (options.stopSignal ?? 'SIGTERM').replace(/^SIG/, '');
  const child = spawn('/bin/sh', ['-c', WATCHDOG, 'stsync-watchdog', stopSignal, command, ...args], {
    detached: true,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.env ? { env: options.env } : {}),
    ...(options.uid !== undefined ? { uid: options.uid } : {}),
    ...(options.gid !== undefined ? { gid: options.gid } : {}),
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${command}`);
  // The pipe is the watchdog's lifeline, never written to; an error on it means the watchdog is gone.
  child.stdin?.on('error', () => {});
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  let stopping: Promise<void> | undefined;
  return {
    pid,
    child,
    exited,
    stop() {
      stopping ??= (async () => {
        if (exited()) return;
        child.stdin?.end();
        const timer = setTimeout(() => {
          try {
            process.kill(-pid, 'SIGKILL');
          } catch {
            // Already gone.
          }
        }, options.killAfterMs ?? 15_000);
        await gone;
        clearTimeout(timer);
      })();
      return stopping;
    },
  };
}
