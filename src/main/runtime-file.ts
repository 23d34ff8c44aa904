import { existsSync, readFileSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** Where a running `npm start` says what it started, so CLI commands can use the same services. */
export interface Runtime {
  pid: number;
  databaseUrl: string;
  temporalAddress: string;
}

const fileOf = (dataDir: string) => path.join(dataDir, 'runtime.json');

export async function writeRuntime(dataDir: string, runtime: Runtime): Promise<() => Promise<void>> {
  await mkdir(dataDir, { recursive: true });
  // The embedded database's URL carries its (local) password: readable by this user only.
  await writeFile(fileOf(dataDir), JSON.stringify(runtime), { mode: 0o600 });
  return () => rm(fileOf(dataDir), { force: true });
}

/** The runtime of a `npm start` that is still alive, if any. */
export function readRuntime(dataDir: string): Runtime | undefined {
  const file = fileOf(dataDir);
  if (!existsSync(file)) return undefined;
  try {
    const runtime = JSON.parse(readFileSync(file, 'utf8')) as Runtime;
    process.kill(runtime.pid, 0);
    return runtime;
  } catch {
    return undefined;
  }
}
