import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { createSecretBox } from '../crypto/secret-box.js';
import { readInstallationId } from '../db/installation.js';
import { migrateDown, migrateUp } from '../db/migrate.js';
import { closeOrm, createOrm, type MikroORM } from '../db/orm.js';
import { AppError } from '../errors.js';
import { createLogger, type Logger } from '../logger.js';
import { resolveEncryptionKeys } from '../main/encryption-keys.js';
import { resolveInfrastructure } from '../main/infrastructure.js';
import { readRuntime } from '../main/runtime-file.js';
import { connectToTemporalClient, createTemporalClient } from '../temporal/client.js';
import { registerSearchAttributes } from '../temporal/register-search-attributes.js';
import { installationTaskQueue } from '../workflows/definitions.js';
import { companiesCommand } from './companies.command.js';
import { credentialsCommand } from './credentials.command.js';
import { flagsCommand, formatFlags } from './flags.command.js';
import { ImportUsageError, importCommand, parseImportOptions } from './import.command.js';
import { rotateKeys } from './keys.command.js';
import { runWithProgress } from './progress.js';
import { parseReconcileOptions, reconcileReportsCommand } from './reconcile.command.js';
import { confirm, createOutput, type Output, parseId, UsageError } from './support.js';
import {
  dryRunSync,
  formatDryRun,
  parseSyncOptions,
  reconcileCommand,
  selectCredentials,
  syncCommand,
} from './sync.command.js';
import { createTokenCommand, listTokensCommand, revokeTokenCommand } from './tokens.command.js';

const usage = `Usage: stsync <command>

Commands:
  setup               prepare a deployment: apply migrations and register the search attributes in
                      TEMPORAL_NAMESPACE (waits for Temporal up to TEMPORAL_CONNECT_TIMEOUT_SECONDS);
                      idempotent, the one-shot step before API and workers start
  migrate [up]        apply pending database migrations
  migrate down [--all] [--yes]
                      revert the last migration (or all of them; asks first unless --yes)
  tokens create --role admin|operator|viewer [--company <id>] [--name <text>]
                      make an admin API token (printed once; only its hash is stored)
  tokens list         list API tokens (never their values)
  tokens revoke <id> [--yes]
                      revoke an API token (asks first unless --yes)
  flags list [--company <id>]
                      feature flags: what runs see now, and whether it is the default, the global
                      value or the company's own
  flags set <name> <value> [--company <id>]
                      set a flag globally, or for one company (true/false, or a value it takes)
  flags unset <name> [--company <id>]
                      remove a value (the company then follows the global value, the global the default)
  keys rotate         re-encrypt every credential secret with the newest ENCRYPTION_KEYS key
  sync <credential-id>... | --all | --company <id> [--environment integration|production]
       [--status <status>] [--mode incremental|full] [--from <date> --to <date>]
       [--streams a,b] [--wait] [--dry-run]
                      start a sync now, of one credential or a batch (a batch leaves disabled
                      credentials out; needs a running worker); --wait follows each run to its end
                      (exit 1 when one fails); --dry-run says what would run (credentials, streams,
                      mode, records and pages from ServiceTitan's totals, time at
                      SERVICETITAN_RATE_LIMIT) and writes and starts nothing
  schedules reconcile [--dry-run]
                      make Temporal's schedules match the database (--dry-run: only say what it
                      would create, update and delete)
  companies list      list companies
  companies add --name <text> [--time-zone <IANA zone>]
                      add a company
  credentials list [--company <id>] [--environment <env>] [--status <status>]
                      list credentials (client ids masked, never secrets)
  credentials add --company <id> --tenant <tenant-id> --client-id <id> [--environment <env>]
       [--skip-test]  add a credential; the client secret is read from a hidden prompt, or from
                      stdin when it is not a terminal; tested first (not saved when it fails)
  credentials test <id>
                      test a credential's connection (exit 1 when it does not connect)
  credentials disable <id> [--yes]
                      disable a credential: its schedule goes, a run in progress is cancelled,
                      synced data is kept (asks first unless --yes)
  credentials import <file.csv>
                      add many tenants from a CSV with the header
                      company,environment,tenant_id,client_id,client_secret (company: an id, or a
                      name, created when unknown); each line is tested and reported; exit 1 when a
                      line failed. Delete the file afterwards: it holds secrets.
  import --company <id> --kind customers|invoices [--environment production|integration]
       [--mapping <file.json>] [--dry-run] <file.csv>
                      import a ServiceTitan report export into the company's rows (the manual
                      path); progress (rows read) live on a terminal, else a line per 10,000 rows
                      on stderr; --dry-run parses, maps and validates and writes nothing; --json
                      prints the result; exit code 2 when the file or its columns are refused
  reconcile --credential <id> [--customers <file.csv>] [--invoices <file.csv>]
       [--mapping <file.json>] [--from <date> --to <date>] [--out <dir>]
                      compare ServiceTitan report exports with what the credential's syncs stored:
                      records missing on either side, field mismatches (names, amounts to the
                      cent, dates, active state: the fields the report carries), invoice totals per
                      day and per business unit; an invoice report covers its first to last invoice
                      date, or the invoice dates --from --to (YYYY-MM-DD) when given; --mapping names other columns, for both reports or per kind
                      ({"customers": {…}, "invoices": {…}}). Prints the summary, writes the
                      details to <dir> (default
                      ./reconciliations) as reconciliation-<id>.csv and .json, and keeps it (GET
                      /api/reconciliations/<id>). Exit code 0 when they match, 1 when they differ,
                      2 on bad input (nothing is written)

Options for every command:
  --json              print JSON on stdout (one document, or JSON lines for a stream of results)
                      and nothing else; human lines and progress go to stderr
  -h, --help          this help, or a command's (stsync <command> --help)

Exit codes: 0 ok, 1 the work failed (a sync failed, a bulk line failed) or a reconciliation found
differences, 2 bad input.

Without DATABASE_URL/TEMPORAL_ADDRESS, commands use what a running \`npm start\` started (it
leaves DATA_DIR/runtime.json), or else the embedded PostgreSQL under DATA_DIR (.data).
`;

/** A command's lines of the usage (its own help). */
function helpFor(command: string): string {
  const lines = usage.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`  ${command} `) || l === `  ${command}`);
  if (start === -1) return usage;
  const own: string[] = [];
  for (let i = start; i < lines.length; i++) {
    const line = lines[i]!;
    if (!line.trim()) break;
    if (i > start && /^ {2}[a-z]/.test(line) && !line.startsWith(`  ${command} `)) break;
    own.push(line);
  }
  const options = lines.slice(lines.indexOf('Options for every command:'));
  return `Usage: stsync ${command} …\n\n${own.join('\n')}\n\n${options.join('\n')}`;
}

function parse(argv: string[]) {
  try {
    return parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        all: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h' },
        json: { type: 'boolean', default: false },
        yes: { type: 'boolean', short: 'y', default: false },
        'dry-run': { type: 'boolean', default: false },
        role: { type: 'string' },
        company: { type: 'string' },
        environment: { type: 'string' },
        status: { type: 'string' },
        tenant: { type: 'string' },
        'client-id': { type: 'string' },
        'skip-test': { type: 'boolean', default: false },
        'time-zone': { type: 'string' },
        name: { type: 'string' },
        mode: { type: 'string' },
        from: { type: 'string' },
        to: { type: 'string' },
        streams: { type: 'string' },
        wait: { type: 'boolean', default: false },
        kind: { type: 'string' },
        mapping: { type: 'string' },
        credential: { type: 'string' },
        customers: { type: 'string' },
        invoices: { type: 'string' },
        out: { type: 'string' },
      },
    });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n\n${usage}`);
  }
}

type Values = ReturnType<typeof parse>['values'];

async function main(argv: string[]) {
  const { positionals, values } = parse(argv);
  const [command, sub, arg] = positionals;
  if (values.help || !command) {
    process.stdout.write(command ? helpFor(command) : usage);
    return;
  }
  const out = createOutput(values.json);
  // A --dry-run a command does not honour must not run it for real.
  if (values['dry-run'] && !['sync', 'schedules', 'import'].includes(command))
    throw new UsageError(`stsync ${command} has no --dry-run.`);
  if (command === 'tokens' || command === 'keys') return adminCommand(command, sub, arg, values, out);
  if (command === 'sync' || command === 'schedules')
    return temporalCommand(command, positionals.slice(1), values, out);
  if (command === 'credentials' || command === 'companies')
    return catalogCommand(command, positionals, values, out);
  if (command === 'setup') return setupCommand(out);
  if (command === 'import') return importCliCommand(values, sub, out);
  if (command === 'reconcile') return reconcileCliCommand(values, out);
  if (command === 'flags') return flagsCliCommand(sub, positionals.slice(2), values.company, out);
  if (command !== 'migrate') throw new UsageError(`Unknown command "${command}".\n\n${usage}`);
  if (sub !== undefined && sub !== 'up' && sub !== 'down')
    throw new UsageError(`Unknown migrate step "${sub}".\n\n${usage}`);

  if (sub === 'down')
    await confirm(
      values.all ? 'Revert every migration (drops all tables and data)?' : 'Revert the last migration?',
      values.yes,
    );
  await withDatabase(async ({ orm }) => {
    const names = sub === 'down' ? await migrateDown(orm, values.all ? { to: 0 } : {}) : await migrateUp(orm);
    const verb = sub === 'down' ? 'reverted' : 'applied';
    out.data({ [verb]: names });
    out.line(names.length ? `${verb}: ${names.join(', ')}` : `nothing to ${sub ?? 'up'}: up to date`);
  });
}

/** `credentials …` and `companies …`: the API's services as the `cli` principal. */
async function catalogCommand(
  command: 'credentials' | 'companies',
  positionals: string[],
  values: Values,
  out: Output,
) {
  await withDatabase(async ({ config, logger, orm }) => {
    await migrateUp(orm);
    if (command === 'companies') {
      process.exitCode = await companiesCommand(
        { orm, logger, out },
        { sub: positionals[1], name: values.name, timeZone: values['time-zone'] },
      );
      return;
    }
    const temporal = temporalOf(config);
    try {
      const installationId = await readInstallationId(orm);
      process.exitCode = await credentialsCommand(
        {
          orm,
          logger,
          config,
          out,
          temporal: temporal.client,
          taskQueue: installationTaskQueue(config.temporal.taskQueue, installationId),
          installationId,
        },
        {
          sub: positionals[1],
          args: positionals.slice(2),
          company: values.company,
          environment: values.environment,
          status: values.status,
          tenant: values.tenant,
          clientId: values['client-id'],
          skipTest: values['skip-test'],
          yes: values.yes,
        },
      );
    } finally {
      await temporal.close();
    }
  });
}

function temporalOf(config: ReturnType<typeof loadConfig>) {
  return createTemporalClient({
    address: config.temporal.address ?? readRuntime(config.dataDir)?.temporalAddress ?? '127.0.0.1:7233',
    namespace: config.temporal.namespace,
  });
}

async function flagsCliCommand(
  sub: string | undefined,
  args: string[],
  company: string | undefined,
  out: Output,
) {
  if (sub !== 'list' && sub !== 'set' && sub !== 'unset')
    throw new UsageError(`Unknown flags command "${sub ?? ''}".\n\n${usage}`);
  if (company !== undefined && !/^[1-9]\d{0,9}$/.test(company))
    throw new UsageError('--company must be a company id.');
  await withDatabase(async ({ logger, orm }) => {
    await migrateUp(orm);
    const result = await flagsCommand(
      { orm, logger },
      { sub, key: args[0], value: args[1], ...(company ? { companyId: Number(company) } : {}) },
    );
    out.data(result);
    out.line(formatFlags(result));
  });
}

/** `import`: exit code 2 for a file, mapping or column set it refuses, nothing written. */
async function importCliCommand(
  values: Parameters<typeof parseImportOptions>[0],
  file: string | undefined,
  out: Output,
) {
  try {
    const options = parseImportOptions(values, file);
    await withDatabase(async ({ logger, orm }) => {
      await migrateUp(orm);
      await importCommand({ orm, logger, out }, options);
    });
  } catch (error) {
    if (!(error instanceof ImportUsageError)) throw error;
    process.stderr.write(`stsync: ${error.message}\n`);
    process.exitCode = 2;
  }
}

/** `reconcile`: every input is checked before the comparison; exit 0 matched, 1 differs, 2 bad input. */
async function reconcileCliCommand(values: Values, out: Output) {
  const options = parseReconcileOptions(values);
  await withDatabase(async ({ logger, orm }) => {
    await migrateUp(orm);
    process.exitCode = await reconcileReportsCommand({ orm, logger, out }, options);
  });
}

/** A deployment's one-shot preparation (compose's `setup` service, `npm run deploy:local`). */
async function setupCommand(out: Output) {
  await withDatabase(async ({ config, logger, orm }) => {
    const applied = await migrateUp(orm);
    out.line(applied.length ? `migrations applied: ${applied.join(', ')}` : 'migrations: up to date');
    if (!config.temporal.address)
      throw new Error('setup needs TEMPORAL_ADDRESS (the Temporal frontend, host:port).');
    const connection = await connectToTemporalClient(
      config.temporal.address,
      logger,
      config.temporal.connectTimeoutSeconds * 1000,
    );
    try {
      const added = await registerSearchAttributes(connection, config.temporal.namespace);
      out.data({ migrationsApplied: applied, searchAttributesRegistered: added });
      out.line(
        added.length
          ? `search attributes registered in ${config.temporal.namespace}: ${added.join(', ')}`
          : `search attributes: already registered in ${config.temporal.namespace}`,
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
  values: {
    role?: string | undefined;
    company?: string | undefined;
    name?: string | undefined;
    yes?: boolean;
  },
  out: Output,
) {
  if (command === 'tokens' && sub === 'revoke') {
    if (!arg || !/^\d+$/.test(arg)) throw new UsageError('tokens revoke needs a token id');
    await confirm(`Revoke token ${arg}? Whatever uses it stops working.`, values.yes ?? false);
  }
  const known = command === 'keys' ? ['rotate'] : ['create', 'list', 'revoke'];
  if (!sub || !known.includes(sub))
    throw new UsageError(`Unknown ${command} command "${sub ?? ''}".\n\n${usage}`);
  await withDatabase(async ({ config, logger, orm }) => {
    await migrateUp(orm);
    if (command === 'keys') {
      const box = createSecretBox(await resolveEncryptionKeys(config, logger));
      const [report] = await runWithProgress(
        [
          {
            title: 'keys rotate',
            run: (progress) =>
              rotateKeys(orm, box, (done, total) => progress(`  ${done}/${total} credentials`)),
          },
        ],
        (_item, text) => out.note(`keys rotate: ${text.trim()}`),
      );
      out.data(report);
      out.line(
        `keys rotated to "${report!.keyVersion}": ${report!.credentials} credentials, ${report!.reencrypted} values re-encrypted, ${report!.current} already current`,
      );
    } else if (sub === 'create') {
      const created = await createTokenCommand(orm, {
        role: values.role as 'admin',
        ...(values.company ? { company: values.company } : {}),
        ...(values.name ? { name: values.name } : {}),
      });
      out.data(created);
      out.line(
        `token ${created.id} (${created.role}${created.companyId ? `, company ${created.companyId}` : ''}) "${created.name}":\n${created.token}\nShown once: store it now.`,
      );
    } else if (sub === 'list') {
      const tokens = await listTokensCommand(orm);
      out.data(tokens);
      if (!out.json)
        for (const t of tokens)
          out.line(
            `${t.id}\t${t.role}\t${t.companyId ?? 'all companies'}\t${t.revokedAt ? 'revoked' : 'active'}\t${t.name}`,
          );
    } else {
      const revoked = await revokeTokenCommand(orm, Number(arg));
      out.data(revoked);
      out.line(`token ${revoked.id} revoked`);
    }
  });
}

await main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`stsync: ${error instanceof Error ? error.message : String(error)}\n`);
  // Bad input (usage, and the services' validation and not-found answers) exits 2; failed work 1.
  const badInput =
    error instanceof UsageError ||
    (error instanceof AppError &&
      ['validation_failed', 'not_found', 'conflict', 'credential_disabled'].includes(error.code));
  process.exit(badInput ? 2 : 1);
});

/** `sync …` and `schedules reconcile`: they need Temporal (configured, or the one `npm start` runs). */
async function temporalCommand(command: 'sync' | 'schedules', args: string[], values: Values, out: Output) {
  if (command === 'schedules' && args[0] !== 'reconcile')
    throw new UsageError(`Unknown schedules command "${args[0] ?? ''}".\n\n${helpFor('schedules')}`);
  const ids = command === 'sync' ? args.map((a) => parseId(a, 'a credential id')) : [];
  const companyId = values.company ? parseId(values.company, '--company') : undefined;
  const syncOptions = command === 'sync' ? parseSyncOptions(values) : undefined;
  const dryRun = values['dry-run'];
  await withDatabase(async ({ config, logger, orm }) => {
    const temporal = temporalOf(config);
    try {
      // The task queue and ids of this database's installation, as the worker and API use them.
      const installationId = await readInstallationId(orm);
      const taskQueue = installationTaskQueue(config.temporal.taskQueue, installationId);
      const deps = { orm, temporal: temporal.client, taskQueue, installationId, logger };
      if (command === 'schedules') {
        const report = await reconcileCommand(deps, { dryRun });
        out.data({ dryRun, ...report });
        out.line(
          `${dryRun ? 'dry run: schedules reconcile would leave' : 'schedules reconciled:'} ${report.created.length} created, ${report.updated.length} updated, ${report.deleted.length} deleted, ${report.unchanged.length} unchanged${report.failed.length ? `, ${report.failed.length} failed (see the log)` : ''}`,
        );
        if (dryRun)
          for (const [what, list] of Object.entries(report))
            for (const item of list as (number | string)[])
              if (what !== 'unchanged')
                out.line(
                  `  would ${what === 'created' ? 'create' : what === 'updated' ? 'update' : what === 'deleted' ? 'delete' : 'fail on'} ${typeof item === 'number' ? `the schedule of credential ${item}` : `stray schedule ${item}`}`,
                );
        if (report.failed.length) process.exitCode = 1;
        return;
      }
      const credentials = await selectCredentials(orm, {
        ids,
        all: values.all,
        companyId,
        environment: values.environment,
        status: values.status,
      });
      if (!credentials.length) {
        out.data(dryRun ? [] : { runs: [] });
        out.line('no credential matches');
        return;
      }
      if (dryRun) {
        const keys = config.encryptionKeys?.length ? await resolveEncryptionKeys(config, logger) : undefined;
        const plans = await dryRunSync(
          {
            orm,
            secrets: keys?.length ? createSecretBox(keys) : undefined,
            serviceTitan: config.serviceTitan.appKey
              ? {
                  appKey: config.serviceTitan.appKey,
                  environments: config.serviceTitan,
                  rateLimitPerSecond: config.serviceTitan.rateLimitPerSecond,
                  logger,
                }
              : undefined,
          },
          credentials,
          syncOptions!,
        );
        out.data({ dryRun: true, credentials: plans });
        for (const line of formatDryRun(plans)) out.line(line);
        return;
      }
      const wait = values.wait;
      const batch = credentials.length > 1;
      const results = await runWithProgress(
        credentials.map((credential) => ({
          title: `credential ${credential.id} (company ${credential.company.id}, tenant ${credential.tenantId})`,
          async run(report: (text: string) => void) {
            try {
              const status = await syncCommand(
                { ...deps, write: report },
                { credentialId: credential.id, ...syncOptions!, wait },
              );
              return { credentialId: credential.id, status };
            } catch (error) {
              const message = error instanceof Error ? error.message : String(error);
              report(`not started: ${message}`);
              return { credentialId: credential.id, status: 'not_started', error: message };
            }
          },
        })),
        // Plain lines: events (started, ended) as output, progress as notes on stderr.
        (item, text) => {
          const prefix = batch ? `${item.title.replace(/ \(.*$/, '')}: ` : '';
          if (text.startsWith('  ')) out.note(`${prefix}${text.trim()}`);
          else out.line(`${prefix}${text}`);
        },
      );
      if (process.stderr.isTTY)
        for (const r of results)
          out.line(`credential ${r.credentialId}: ${r.status}${'error' in r ? ` (${r.error})` : ''}`);
      out.data({ runs: results });
      if (results.some((r) => r.status === 'failed' || r.status === 'not_started')) process.exitCode = 1;
    } finally {
      await temporal.close();
    }
  });
}
