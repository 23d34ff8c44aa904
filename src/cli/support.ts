import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import type { MikroORM } from '@mikro-orm/postgresql';
import type { RouteContext } from '../api/route.js';
import { createAuditLog } from '../audit/index.js';
import type { Principal } from '../auth/index.js';
import type { Logger } from '../logger.js';

/** Bad input on the command line: the CLI exits 2 (work that failed exits 1). */
export class UsageError extends Error {}

/** Who the CLI acts as in the services' checks and the audit trail. */
export const cliPrincipal: Principal = { tokenId: null, name: 'cli', role: 'admin', companyId: null };

/** A RouteContext for the API's services, as the `cli` principal. */
export function cliContext(orm: MikroORM, logger: Logger): RouteContext {
  return {
    principal: cliPrincipal,
    em: orm.em.fork(),
    requestId: 'cli',
    ip: 'cli',
    signal: new AbortController().signal,
    log: logger,
    audit: {},
  };
}

/** Records what the CLI did, as the API records its requests. */
export async function auditCli(
  orm: MikroORM,
  ctx: RouteContext,
  entry: {
    action: string;
    targetType: string;
    targetId: string | number;
    companyId?: number | null;
    outcome?: 'success' | 'failed';
  },
) {
  await createAuditLog().record(orm.em.fork(), {
    actor: cliPrincipal,
    action: entry.action,
    targetType: entry.targetType,
    targetId: String(entry.targetId),
    companyId: entry.companyId ?? null,
    outcome: entry.outcome ?? 'success',
    details: ctx.audit.details ?? {},
  });
}

/**
 * Where output goes: with `--json`, stdout carries only JSON (one document, or JSON lines) and
 * human lines go to stderr; without it, human lines go to stdout.
 */
export interface Output {
  json: boolean;
  /** A human line (stdout, or stderr with --json). */
  line(text: string): void;
  /** Progress and notes: always stderr, so stdout stays what a script reads. */
  note(text: string): void;
  /** A JSON value on stdout (only with --json). */
  data(value: unknown): void;
}

export function createOutput(json: boolean): Output {
  return {
    json,
    line: (text) => (json ? process.stderr : process.stdout).write(`${text}\n`),
    note: (text) => process.stderr.write(`${text}\n`),
    data: (value) => {
      if (json) process.stdout.write(`${JSON.stringify(value)}\n`);
    },
  };
}

/**
 * Asks before a destructive step: `--yes` skips the question; without a terminal to ask on it
 * refuses (exit 2) rather than guessing.
 */
export async function confirm(question: string, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY)
    throw new UsageError(`${question} Refused: stdin is not a terminal; pass --yes to confirm.`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const answer = await new Promise<string>((resolve) => rl.question(`${question} [y/N] `, resolve));
  rl.close();
  if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('Not confirmed: nothing was changed.');
}

/** Reads a secret: the first line of stdin when it is not a terminal, else a prompt that echoes nothing. */
export async function readSecret(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    let data = '';
    for await (const chunk of process.stdin) data += String(chunk);
    const secret = data.split(/\r?\n/)[0]?.trim() ?? '';
    if (!secret) throw new UsageError('No secret on stdin.');
    return secret;
  }
  let muted = false;
  const output = new Writable({
    write(chunk, _encoding, callback) {
      if (!muted) process.stderr.write(chunk);
      callback();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  const secret = await new Promise<string>((resolve) => {
    rl.question(prompt, resolve);
    muted = true;
  });
  rl.close();
  process.stderr.write('\n');
  if (!secret.trim()) throw new UsageError('No secret given.');
  return secret.trim();
}

/** A positive integer id from the command line, or a UsageError naming the option. */
export function parseId(raw: string | undefined, what: string): number {
  if (!raw || !/^[1-9]\d{0,9}$/.test(raw)) throw new UsageError(`${what} must be a positive integer id.`);
  return Number(raw);
}
