import type { Config } from '../config.js';
import { ConfigError } from '../config.js';

/** The worker and API roots run against a real deployment; `npm start` is the embedded one. */
export function requireDeployment(
  config: Config,
  role: string,
): { databaseUrl: string; temporalAddress: string } {
  const missing = [
    ...(config.database.url ? [] : ['DATABASE_URL']),
    ...(config.temporal.address ? [] : ['TEMPORAL_ADDRESS']),
  ];
  if (missing.length) {
    throw new ConfigError(
      `The ${role} needs ${missing.join(' and ')} (an existing PostgreSQL and Temporal). ` +
        'For everything embedded on this machine, run `npm start`.',
    );
  }
  return { databaseUrl: config.database.url!, temporalAddress: config.temporal.address! };
}
