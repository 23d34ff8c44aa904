import { spawn } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { spawnInOwnGroup } from '../../../src/infra/process-group.js';

const root = path.resolve(import.meta.dirname, '../../..');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until(what: string, check: () => boolean, timeoutMs = 8_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The pid of the server (`sleep`) under a watchdog: the watchdog's child running sleep. */
async function serverPid(watchdog: number): Promise<number> {
  const { execFileSync } = await import('node:child_process');
  let pid: number | undefined;
  await until('the server to start', () => {
    const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(watchdog)], { encoding: 'utf8' });
    const line = out.split('\n').find((l) => l.trim().endsWith('sleep'));
    pid = line ? Number(line.trim().split(/\s+/)[0]) : undefined;
    return pid !== undefined;
  });
  return pid!;
}

describe('spawnInOwnGroup', () => {
  it('when started, then the server is in a process group of its own; stop() ends it with its stop signal', async () => {
    const server = spawnInOwnGroup('sleep', ['300'], { stopSignal: 'SIGTERM' });
    const pid = await serverPid(server.pid);
    const { execFileSync } = await import('node:child_process');
    const pgid = Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(pid)], { encoding: 'utf8' }).trim());
    expect(pgid).toBe(server.pid);
    expect(pgid).not.toBe(
      Number(execFileSync('ps', ['-o', 'pgid=', '-p', String(process.pid)], { encoding: 'utf8' }).trim()),
    );
    await server.stop();
    expect(server.exited()).toBe(true);
    await until('the server to end', () => !alive(pid));
  });

  it('when the parent is killed with SIGKILL, then its server stops too', async () => {
    // A parent that starts a server in its own group, says the watchdog's pid, and waits.
    const script = `
      import { spawnInOwnGroup } from './src/infra/process-group.ts';
      const s = spawnInOwnGroup('sleep', ['300']);
      process.stdout.write(String(s.pid) + '\\n');
      setInterval(() => {}, 1000);
    `;
    const parent = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    parent.stdout.on('data', (c) => {
      out += c;
    });
    await until('the parent to start its server', () => /\d+\n/.test(out), 30_000);
    const watchdog = Number(out.trim());
    const pid = await serverPid(watchdog);
    parent.kill('SIGKILL');
    await until('the orphaned server to stop', () => !alive(pid) && !alive(watchdog));
  }, 40_000);
});
