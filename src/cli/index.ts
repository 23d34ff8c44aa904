import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createSecretBox } from '../crypto/secret-box.js';
import { readInstallationId } from '../db/installation.js';
import { migrateDown, migrateUp } from '../db/migrate.js';
import { closeOrm, createOrm, type MikroORM } from '../db/orm.js';
import { createLogger, type Logger } from '../logger.js';
import { resolveEncryptionKeys } from '../main/encryption-keys.js';
import { resolveInfrastructure } from '../main/infrastructure.js';
import { readRuntime } from '../main/runtime-file.js';
import { connectToTemporalClient, createTemporalClient } from '../temporal/client.js';
import { registerSearchAttributes } from '../temporal/register-search-attributes.js';
import { installationTaskQueue } from '../workflows/definitions.js';
import { flagsCommand, formatFlags } from './flags.command.js';
import { ImportUsageError, importCommand, parseImportOptions } from './import.command.js';
import { rotateKeys } from './keys.command.js';
import { parseSyncOptions, reconcileCommand, syncCommand } from './sync.command.js';
import { createTokenCommand, listTokensCommand, revokeTokenCommand } from './tokens.command.js';

const usage = `Usage: stsync <command>

Commands:
  setup               prepare a deployment: apply migrations and register the search attributes in
                      TEMPORAL_NAMESPACE (waits for Temporal up to TEMPORAL_CONNECT_TIMEOUT_SECONDS);
                      idempotent, the one-shot step before API and workers start
  migrate [up]        apply pending database migrations
  migrate down [--all] revert the last migration (or all of them)
  tokens create --role admin|operator|viewer [--company <id>] [--name <text>]
                      make an admin API token (printed once; only its hash is stored)
  tokens list         list API tokens (never their values)
  tokens revoke <id>  revoke an API token
  flags list [--company <id>]
                      feature flags: what runs see now, and whether it is the default, the global
                      value or the company's own
  flags set <name> <value> [--company <id>]
                      set a flag globally, or for one company (true/false, or a value it takes)
  flags unset <name> [--company <id>]
                      remove a value (the company then follows the global value, the global the default)
  keys rotate         re-encrypt every credential secret with the newest ENCRYPTION_KEYS key
  sync <credential-id> [--mode incremental|full] [--from <date> --to <date>] [--streams a,b] [--wait]
                      start a sync now (needs a running worker); --wait follows its progress
  schedules reconcile make Temporal's schedules match the database
  import --company <id> --kind customers|invoices [--environment production|integration]
         [--mapping <file.json>] [--dry-run] <file.csv>
                      import a ServiceTitan report export into the company's rows (the manual
                      path); exit code 2 when the file or its columns are refused

Without DATABASE_URL/TEMPORAL_ADDRESS, commands use what a running \`npm start\` started (it
leaves DATA_DIR/runtime.json), or else the embedded PostgreSQL under DATA_DIR (.data).
`;

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      all: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
      role: { type: 'string' },
      company: { type: 'string' },
      name: { type: 'string' },
      mode: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      streams: { type: 'string' },
      wait: { type: 'boolean', default: false },
      kind: { type: 'string' },
      environment: { type: 'string' },
      mapping: { type: 'string' },
      'dry-run': { type: 'boolean' },
    },
  });
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(usage);
    return;
  }
  if (command === 'tokens' || command === 'keys') return adminCommand(command, sub, arg, values);
  if (command === 'sync' || command === 'schedules') return temporalCommand(command, sub, values);
  if (command === 'setup') return setupCommand();
  if (command === 'import') return importCliCommand(values, sub);
  if (command === 'flags') return flagsCliCommand(sub, positionals.slice(2), values.company);
  if (command !== 'migrate') throw new Error(`Unknown command "${command}".\n\n${usage}`);
  if (sub !== undefined && sub !== 'up' && sub !== 'down')
    throw new Error(`Unknown migrate step "${sub}".\n\n${usage}`);

  await withDatabase(async ({ orm }) => {
    const names = sub === 'down' ? await migrateDown(orm, values.all ? { to: 0 } : {}) : await migrateUp(orm);
    const verb = sub === 'down' ? 'reverted' : 'applied';
    process.stdout.write(
      names.length ? `${verb}: ${names.join(', ')}\n` : `nothing to ${sub ?? 'up'}: up to date\n`,
    );
  });
}

async function flagsCliCommand(sub: string | undefined, args: string[], company: string | undefined) {
  if (sub !== 'list' && sub !== 'set' && sub !== 'unset')
    throw new Error(`Unknown flags command "${sub ?? ''}".\n\n${usage}`);
  if (company !== undefined && !/^[1-9]\d{0,9}$/.test(company))
    throw new Error('--company must be a company id.');
  await withDatabase(async ({ logger, orm }) => {
    await migrateUp(orm);
    const result = await flagsCommand(
      { orm, logger },
      { sub, key: args[0], value: args[1], ...(company ? { companyId: Number(company) } : {}) },
    );
    process.stdout.write(`${formatFlags(result)}\n`);
  });
}

/** `import`: exit code 2 for a file, mapping or column set it refuses, nothing written. */
async function importCliCommand(values: Parameters<typeof parseImportOptions>[0], file: string | undefined) {
  try {
    const options = parseImportOptions(values, file);
    await withDatabase(async ({ logger, orm }) => {
      await migrateUp(orm);
      await importCommand({ orm, logger, write: (line) => process.stdout.write(`${line}\n`) }, options);
    });
  } catch (error) {
    if (!(error instanceof ImportUsageError)) throw error;
    process.stderr.write(`stsync: ${error.message}\n`);
    process.exitCode = 2;
  }
}

/** A deployment's one-shot preparation (compose's `setup` service, `npm run deploy:local`). */
async function setupCommand() {
  await withDatabase(async ({ config, logger, orm }) => {
    const applied = await migrateUp(orm);
    process.stdout.write(
      applied.length ? `migrations applied: ${applied.join(', ')}\n` : 'migrations: up to date\n',
    );
    if (!config.temporal.address)
      throw new Error('setup needs TEMPORAL_ADDRESS (the Temporal frontend, host:port).');
    const connection = await connectToTemporalClient(
      config.temporal.address,
      logger,
      config.temporal.connectTimeoutSeconds * 1000,
    );
    try {
      const added = await registerSearchAttributes(connection, config.temporal.namespace);
      process.stdout.write(
        added.length
          ? `search attributes registered in ${config.temporal.namespace}: ${added.join(', ')}\n`
          : `search attributes: already registered in ${config.temporal.namespace}\n`,
      );
    } finally {
      await connection.close();
    }
  });
}

/**
 * Runs a command against the configured database, or the embedded one under DATA_DIR (started
 * for the command and stopped after it).
 */
async function withDatabase(
  fn: (ctx: { config: ReturnType<typeof loadConfig>; logger: Logger; orm: MikroORM }) => Promise<void>,
): Promise<void> {
  const config = loadConfig();
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    name: 'stsync',
    format: config.logFormat,
  });
  const infra = await resolveInfrastructure(config, logger, { needTemporal: false, shareRunning: true });
  try {
    const orm = await createOrm({ url: infra.databaseUrl, logger });
    try {
      await fn({ config, logger, orm });
    } finally {
      await closeOrm(orm);
    }
  } finally {
    await infra.stop();
  }
}

/** `tokens …` and `keys rotate`: against the configured (or embedded) database, migrated first. */
async function adminCommand(
  command: 'tokens' | 'keys',
  sub: string | undefined,
  arg: string | undefined,
  values: { role?: string | undefined; company?: string | undefined; name?: string | undefined },
) {
  const known = command === 'keys' ? ['rotate'] : ['create', 'list', 'revoke'];
  if (!sub || !known.includes(sub)) throw new Error(`Unknown ${command} command "${sub ?? ''}".\n\n${usage}`);
  await withDatabase(async ({ config, logger, orm }) => {
    await migrateUp(orm);
    if (command === 'keys') {
      const report = await rotateKeys(orm, createSecretBox(await resolveEncryptionKeys(config, logger)));
      process.stdout.write(
        `keys rotated to "${report.keyVersion}": ${report.credentials} credentials, ${report.reencrypted} values re-encrypted, ${report.current} already current\n`,
      );
    } else if (sub === 'create') {
      const created = await createTokenCommand(orm, {
        role: values.role as 'admin',
        ...(values.company ? { company: values.company } : {}),
        ...(values.name ? { name: values.name } : {}),
      });
      process.stdout.write(
        `token ${created.id} (${created.role}${created.companyId ? `, company ${created.companyId}` : ''}) "${created.name}":\n${created.token}\nShown once: store it now.\n`,
      );
    } else if (sub === 'list') {
      for (const t of await listTokensCommand(orm))
        process.stdout.write(
          `${t.id}\t${t.role}\t${t.companyId ?? 'all companies'}\t${t.revokedAt ? 'revoked' : 'active'}\t${t.name}\n`,
        );
    } else {
      if (!arg || !/^\d+$/.test(arg)) throw new Error('tokens revoke needs a token id');
      const revoked = await revokeTokenCommand(orm, Number(arg));
      process.stdout.write(`token ${revoked.id} revoked\n`);
    }
  });
}

await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`stsync: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});

/** `sync …` and `schedules reconcile`: they need Temporal (configured, or the one `npm start` runs). */
async function temporalCommand(
  command: 'sync' | 'schedules',
  sub: string | undefined,
  values: Parameters<typeof parseSyncOptions>[0] & { wait?: boolean | undefined },
) {
  if (command === 'schedules' && sub !== 'reconcile')
    throw new Error(`Unknown schedules command "${sub ?? ''}".\n\n${usage}`);
  if (command === 'sync' && (!sub || !/^[1-9]\d{0,8}$/.test(sub)))
    throw new Error(`sync needs a credential id.\n\n${usage}`);
  const syncOptions = command === 'sync' ? parseSyncOptions(values) : undefined;
  await withDatabase(async ({ config, logger, orm }) => {
    const temporal = createTemporalClient({
      address: config.temporal.address ?? readRuntime(config.dataDir)?.temporalAddress ?? '127.0.0.1:7233',
      namespace: config.temporal.namespace,
    });
    try {
      // The task queue and ids of this database's installation, as the worker and API use them.
      const installationId = await readInstallationId(orm);
      const taskQueue = installationTaskQueue(config.temporal.taskQueue, installationId);
      const deps = { orm, temporal: temporal.client, taskQueue, installationId, logger };
      if (command === 'schedules') {
        const report = await reconcileCommand(deps);
        process.stdout.write(
          `schedules reconciled: ${report.created.length} created, ${report.updated.length} updated, ${report.deleted.length} deleted, ${report.unchanged.length} unchanged${report.failed.length ? `, ${report.failed.length} failed (see the log)` : ''}\n`,
        );
      } else {
        const status = await syncCommand(
          { ...deps, write: (line) => process.stdout.write(`${line}\n`) },
          { credentialId: Number(sub), ...syncOptions!, wait: values.wait ?? false },
        );
        if (status === 'failed') process.exitCode = 1;
      }
    } finally {
      await temporal.close();
    }
  });
}
