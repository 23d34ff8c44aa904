import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { migrateDown, migrateUp } from '../db/migrate.js';
import { createOrm } from '../db/orm.js';
import { createLogger } from '../logger.js';
import { resolveInfrastructure } from '../main/infrastructure.js';
import { failStartup } from '../main/lifecycle.js';

const usage = `Usage: stsync <command>

Commands:
  migrate [up]        apply pending database migrations
  migrate down [--all] revert the last migration (or all of them)

Without DATABASE_URL the embedded PostgreSQL under DATA_DIR (.data) is used.
`;

async function main(argv: string[]) {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { all: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, sub] = positionals;
  if (values.help || !command) {
    process.stdout.write(usage);
    return;
  }
  if (command !== 'migrate') throw new Error(`Unknown command "${command}".\n\n${usage}`);
  if (sub !== undefined && sub !== 'up' && sub !== 'down')
    throw new Error(`Unknown migrate step "${sub}".\n\n${usage}`);

  const config = loadConfig();
  const logger = createLogger({
    level: config.logLevel === 'info' ? 'warn' : config.logLevel,
    name: 'stsync',
  });
  const infra = await resolveInfrastructure(config, logger, { needTemporal: false });
  try {
    const orm = await createOrm({ url: infra.databaseUrl, logger });
    try {
      const names =
        sub === 'down' ? await migrateDown(orm, values.all ? { to: 0 } : {}) : await migrateUp(orm);
      const verb = sub === 'down' ? 'reverted' : 'applied';
      process.stdout.write(
        names.length ? `${verb}: ${names.join(', ')}\n` : `nothing to ${sub ?? 'up'}: up to date\n`,
      );
    } finally {
      await orm.close();
    }
  } finally {
    await infra.stop();
  }
}

await main(process.argv.slice(2)).catch(failStartup);
