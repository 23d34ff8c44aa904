import { Migration20261122001Initial } from './20261122-001-initial.migration.js';
import { Migration20261122002Ingest } from './20261122-002-ingest.migration.js';
import { Migration20261122003UnboundedSourceText } from './20261122-003-unbounded-source-text.migration.js';
import { Migration20261122101AdminApi } from './20261122-101-admin-api.migration.js';
import { Migration20261130101RowEnvironment } from './20261130-101-row-environment.migration.js';
import { Migration20261130401Installation } from './20261130-401-installation.migration.js';
import { Migration20261130501Retention } from './20261130-501-retention.migration.js';
import { Migration20261130601ConsoleSessions } from './20261130-601-console-sessions.migration.js';
import { Migration20261201301TokenLastUsed } from './20261201-301-token-last-used.migration.js';
import { Migration20261201401Notifications } from './20261201-401-notifications.migration.js';
import { Migration20261201501Alerts } from './20261201-501-alerts.migration.js';
import { Migration20261201601ServiceTitanBreakers } from './20261201-601-servicetitan-breakers.migration.js';
import { Migration20261201701RateBudget } from './20261201-701-rate-budget.migration.js';
import { Migration20261201702FeatureFlags } from './20261201-702-feature-flags.migration.js';
import { Migration20261201801Imports } from './20261201-801-imports.migration.js';
import { Migration20261201901Reconciliations } from './20261201-901-reconciliations.migration.js';
import { Migration20261202101IngestStorage } from './20261202-101-ingest-storage.migration.js';
import { Migration20261202201RunPositions } from './20261202-201-run-positions.migration.js';
import { Migration20261202301RateBudgetWindow } from './20261202-301-rate-budget-window.migration.js';

/**
 * Every migration, in order. Listed explicitly (not discovered from the file system) so they run
 * the same from TypeScript sources, a bundle, or a test.
 */
export const migrations = [
  { name: 'Migration20261122001Initial', class: Migration20261122001Initial },
  { name: 'Migration20261122002Ingest', class: Migration20261122002Ingest },
  { name: 'Migration20261122101AdminApi', class: Migration20261122101AdminApi },
  { name: 'Migration20261122003UnboundedSourceText', class: Migration20261122003UnboundedSourceText },
  { name: 'Migration20261130101RowEnvironment', class: Migration20261130101RowEnvironment },
  { name: 'Migration20261130501Retention', class: Migration20261130501Retention },
  { name: 'Migration20261130401Installation', class: Migration20261130401Installation },
  { name: 'Migration20261130601ConsoleSessions', class: Migration20261130601ConsoleSessions },
  { name: 'Migration20261201601ServiceTitanBreakers', class: Migration20261201601ServiceTitanBreakers },
  { name: 'Migration20261201701RateBudget', class: Migration20261201701RateBudget },
  { name: 'Migration20261201702FeatureFlags', class: Migration20261201702FeatureFlags },
  { name: 'Migration20261201401Notifications', class: Migration20261201401Notifications },
  { name: 'Migration20261201301TokenLastUsed', class: Migration20261201301TokenLastUsed },
  { name: 'Migration20261201501Alerts', class: Migration20261201501Alerts },
  { name: 'Migration20261201801Imports', class: Migration20261201801Imports },
  { name: 'Migration20261201901Reconciliations', class: Migration20261201901Reconciliations },
  { name: 'Migration20261202101IngestStorage', class: Migration20261202101IngestStorage },
  { name: 'Migration20261202201RunPositions', class: Migration20261202201RunPositions },
  { name: 'Migration20261202301RateBudgetWindow', class: Migration20261202301RateBudgetWindow },
];
