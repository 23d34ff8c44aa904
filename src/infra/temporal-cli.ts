import { spawn, spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../logger.js';

/** The last Temporal CLI that `go install` can build (later ones use replace directives). */
export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal@v1.5.1';

/** Binaries the project builds for itself live here, outside the repository. */
export function toolCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache');
  return path.join(base, 'servicetitan-sync', 'bin');
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, command);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Finds the `temporal` CLI: TEMPORAL_CLI_PATH, then PATH, then the project's tool cache, then
 * Go's bin directory. Returns undefined when none is there.
 */
export function findTemporalCli(explicitPath?: string): string | undefined {
  if (explicitPath) {
    if (!isExecutable(explicitPath)) {
      throw new Error(`TEMPORAL_CLI_PATH=${explicitPath} is not an executable file`);
    }
    return explicitPath;
  }
  const gopath = process.env.GOPATH ?? path.join(os.homedir(), 'go');
  for (const candidate of [
    onPath('temporal'),
    path.join(toolCacheDir(), 'temporal'),
    path.join(gopath, 'bin', 'temporal'),
  ]) {
    if (candidate && isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/**
 * Builds the CLI with `go install` into the tool cache. Only where Go exists; elsewhere the
 * caller falls back to the SDK's cached download (which needs internet).
 */
export async function installTemporalCliWithGo(logger: Logger): Promise<string | undefined> {
  const go = onPath('go') ?? (existsSync('/usr/local/go/bin/go') ? '/usr/local/go/bin/go' : undefined);
  if (!go || spawnSync(go, ['version']).status !== 0) return undefined;
  const bin = toolCacheDir();
  await mkdir(bin, { recursive: true });
  logger.info(
    { module: TEMPORAL_CLI_MODULE, into: bin },
    'building the Temporal CLI with go install (first run only; a few minutes)',
  );
  await new Promise<void>((resolve, reject) => {
    const child = spawn(go, ['install', TEMPORAL_CLI_MODULE], {
      env: { ...process.env, GOBIN: bin, CGO_ENABLED: '0' },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve() : reject(new Error(`go install ${TEMPORAL_CLI_MODULE} exited with ${code}`)),
    );
  });
  const built = path.join(bin, 'temporal');
  return isExecutable(built) ? built : undefined;
}
