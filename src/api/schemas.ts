/** Request and response schemas of the admin API; the OpenAPI document is generated from these. */
import { z } from 'zod';
import {
  apiRoles,
  auditOutcomes,
  credentialStatuses,
  deliveryStatuses,
  serviceTitanEnvironments,
  syncRunStatuses,
  syncTriggers,
} from '../db/entities/index.js';
import { eventTypeSchema, eventTypes } from '../notifications/events.js';
import { scheduleInputSchema } from '../schedules/index.js';
import { syncStreamNames } from '../workflows/definitions.js';

const dateTime = z.iso.datetime({ offset: true });
const isoDateOrTime = z.union([z.iso.datetime({ offset: true }), z.iso.date()]);

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

export const timeZoneSchema = z
  .string()
  .max(64)
  .refine(isTimeZone, { message: 'must be an IANA time zone, e.g. "America/Chicago"' })
  .transform((tz) => new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone);

/** Path ids: positive 32-bit integers written in digits. */
const idString = z
  .string()
  .regex(/^[1-9]\d{0,9}$/, 'must be a positive integer')
  .transform(Number)
  .refine((n) => n <= 2_147_483_647, 'is too large');
export const idParams = z.strictObject({ id: idString });

const queryInt = z
  .string()
  .regex(/^\d{1,10}$/, 'must be a non-negative integer')
  .transform(Number)
  .refine((n) => n <= 2_147_483_647, 'is too large');
const paging = {
  page: queryInt.pipe(z.number().min(1)).default(1),
  pageSize: queryInt.pipe(z.number().min(1).max(200)).default(50),
};
const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), page: z.int(), pageSize: z.int(), total: z.int() });

// Companies -----------------------------------------------------------------------------------
export const companyCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  timeZone: timeZoneSchema.default('UTC'),
  syncEnabled: z.boolean().default(true),
});
export const companyPatchSchema = z
  .strictObject({
    name: z.string().trim().min(1).max(200).optional(),
    timeZone: timeZoneSchema.optional(),
    syncEnabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'name, timeZone or syncEnabled is required');
export const companyListQuery = z.strictObject({ ...paging });
export const companyView = z
  .object({
    id: z.int(),
    name: z.string(),
    timeZone: z.string(),
    syncEnabled: z.boolean(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Company' });
export const companyPage = pageOf(companyView);
export const companyDeleteQuery = z.strictObject({
  /** The company's name or id, repeated: a deletion cannot be undone. */
  confirm: z.string().trim().min(1).max(200).optional(),
});
export const companyDeletedView = z
  .object({
    id: z.int(),
    name: z.string(),
    deleted: z.object({
      credentials: z.int(),
      schedules: z.int(),
      runs: z.int(),
      skippedRecords: z.int(),
      members: z.int(),
      invoices: z.int(),
      contacts: z.int(),
      outboxEvents: z.int(),
      tokens: z.int(),
    }),
  })
  .meta({ id: 'CompanyDeleted' });

// Credentials ---------------------------------------------------------------------------------
const tenantId = z
  .union([z.string(), z.int().positive()])
  .transform(String)
  .pipe(z.string().regex(/^\d{1,18}$/, 'must be digits only (the ServiceTitan tenant ID)'));
const clientId = z.string().trim().min(1).max(200);
const clientSecret = z.string().min(1).max(500);

export const credentialCreateSchema = z.strictObject({
  companyId: z.int().positive(),
  environment: z.enum(serviceTitanEnvironments),
  tenantId,
  clientId,
  clientSecret,
  test: z.boolean().default(false),
});
export const credentialPatchSchema = z.strictObject({ clientSecret, clientId: clientId.optional() });
export const credentialListQuery = z.strictObject({
  companyId: queryInt.optional(),
  environment: z.enum(serviceTitanEnvironments).optional(),
  status: z.enum(credentialStatuses).optional(),
  ...paging,
});
export const streamAccessSchema = z.record(z.string(), z.enum(['ok', 'module_not_licensed', 'error']));
export const credentialView = z
  .object({
    id: z.int(),
    companyId: z.int(),
    environment: z.enum(serviceTitanEnvironments),
    tenantId: z.string(),
    /** The client id's last 4 characters; the secret is never returned. */
    clientIdMasked: z.string(),
    status: z.enum(credentialStatuses),
    statusMessage: z.string().nullable(),
    lastTestedAt: dateTime.nullable(),
    createdAt: dateTime,
    updatedAt: dateTime,
    disabledAt: dateTime.nullable(),
  })
  .meta({ id: 'Credential' });
export const credentialPage = pageOf(credentialView);
export const credentialDisabledView = credentialView
  .extend({
    /** The run in progress whose cancellation was requested (it ends `cancelled`), or null. */
    cancelledSyncRunId: z.int().nullable(),
    /** Whether the credential had a schedule, now removed. */
    scheduleRemoved: z.boolean(),
  })
  .meta({ id: 'DisabledCredential' });
export const connectionTestView = z
  .object({
    status: z.enum(['connected', 'awaiting_approval', 'invalid_credentials', 'unreachable']),
    streams: streamAccessSchema,
    message: z.string(),
    testedAt: dateTime,
  })
  .meta({ id: 'ConnectionTest' });
export const credentialCreatedView = credentialView.extend({ test: connectionTestView.nullable() });

// Syncs ---------------------------------------------------------------------------------------
export const syncModeSchema = z.union([
  z.literal('incremental'),
  z.literal('full'),
  z
    .strictObject({ from: isoDateOrTime, to: isoDateOrTime })
    .transform((w) => ({ from: new Date(w.from).toISOString(), to: new Date(w.to).toISOString() }))
    .refine((w) => w.from < w.to, 'from must be before to'),
]);
export const syncStartSchema = z.strictObject({
  streams: z
    .array(z.enum(syncStreamNames as [string, ...string[]]))
    .min(1)
    .refine((s) => new Set(s).size === s.length, 'streams must not repeat')
    .optional(),
  mode: syncModeSchema.optional(),
});
export const syncListQuery = z.strictObject({
  companyId: queryInt.optional(),
  credentialId: queryInt.optional(),
  status: z.enum(syncRunStatuses).optional(),
  from: isoDateOrTime.optional(),
  to: isoDateOrTime.optional(),
  ...paging,
});
const streamCounts = z.object({
  pages: z.number(),
  fetched: z.number(),
  upserted: z.number(),
  skipped: z.number(),
});
const streamProgress = z.object({
  state: z.string(),
  pages: z.number(),
  fetched: z.number(),
  upserted: z.number(),
  skipped: z.number(),
  position: z.string().nullable(),
  chunks: z.number(),
  newestModifiedOn: dateTime.optional().meta({ description: 'The newest modifiedOn the run stored so far.' }),
});
export const syncProgressView = z
  .object({
    syncRunId: z.number(),
    paused: z.boolean(),
    cancelRequested: z.boolean(),
    streams: z.record(z.string(), streamProgress),
  })
  .meta({ id: 'SyncProgress' });
export const syncRunView = z
  .object({
    id: z.int(),
    credentialId: z.int(),
    companyId: z.int(),
    trigger: z.enum(syncTriggers),
    streams: z.array(z.string()),
    mode: z.union([
      z.literal('incremental'),
      z.literal('full'),
      z.object({ from: z.string(), to: z.string() }),
    ]),
    status: z.enum(syncRunStatuses),
    counts: z.record(z.string(), streamCounts),
    totals: streamCounts,
    warnings: z.array(z.string()),
    /** The feature flags the run was started with (null for runs from before flags). */
    flags: z.record(z.string(), z.union([z.boolean(), z.string()])).nullable(),
    /** Where an import's records came from (`report:invoices invoices.csv`); null for API syncs. */
    source: z.string().nullable(),
    error: z.string().nullable(),
    workflowId: z.string().nullable(),
    runId: z.string().nullable(),
    createdAt: dateTime,
    startedAt: dateTime.nullable(),
    finishedAt: dateTime.nullable(),
    /** Live progress from the workflow while the run is active. */
    progress: syncProgressView.nullable(),
    temporalUrl: z.string().nullable(),
  })
  .meta({ id: 'SyncRun' });
export const syncRunPage = pageOf(syncRunView);
export const skippedQuery = z.strictObject({ ...paging });
export const skippedView = z
  .object({
    id: z.string(),
    stream: z.string(),
    externalId: z.string().nullable(),
    reason: z.string(),
    /** The record as ServiceTitan sent it; null for viewers (personal data). */
    raw: z.unknown(),
    /** True when a payload exists but the caller's role may not see it (viewers). */
    rawWithheld: z.boolean(),
    createdAt: dateTime,
  })
  .meta({ id: 'SkippedRecord' });
export const skippedPage = pageOf(skippedView);
export const syncEventData = z
  .object({ type: z.enum(['progress', 'end']), run: syncRunView })
  .meta({ id: 'SyncEvent' });

// Schedules -----------------------------------------------------------------------------------
export const scheduleBodySchema = scheduleInputSchema;
const schedulePause = z
  .object({
    by: z.enum(['auto', 'manual']),
    reason: z.string(),
    at: dateTime.nullable(),
  })
  .nullable()
  .describe(
    'Why the schedule is paused, while it is: by an operator, or automatically after failed runs in a row.',
  );
export const scheduleView = z
  .object({
    credentialId: z.int(),
    config: scheduleInputSchema,
    timeZone: z.string(),
    paused: z.boolean(),
    pause: schedulePause,
    nextRunTimes: z.array(dateTime),
  })
  .meta({ id: 'Schedule' });
export const schedulePreviewSchema = z.strictObject({
  config: scheduleInputSchema,
  timeZone: timeZoneSchema,
});
export const schedulePreviewView = z
  .object({
    /** The next 5 start times before jitter: each run starts up to `jitterSeconds` later. */
    nextRunTimes: z.array(dateTime),
    jitterSeconds: z.int(),
    timeZone: z.string(),
  })
  .meta({ id: 'SchedulePreview' });

// Dashboard -----------------------------------------------------------------------------------
export const dashboardView = z
  .object({
    credentials: z.array(
      z.object({
        credentialId: z.int(),
        companyId: z.int(),
        companyName: z.string(),
        environment: z.enum(serviceTitanEnvironments),
        tenantId: z.string(),
        status: z.enum(credentialStatuses),
        lastRun: z
          .object({
            id: z.int(),
            status: z.enum(syncRunStatuses),
            createdAt: dateTime,
            finishedAt: dateTime.nullable(),
            totals: streamCounts,
          })
          .nullable(),
        nextRunAt: dateTime.nullable(),
        schedulePaused: z.boolean().nullable(),
        pause: schedulePause,
        dataFreshAt: dateTime.nullable(),
        failuresInARow: z.int(),
      }),
    ),
    totals: z.object({
      credentials: z.int(),
      byStatus: z.record(z.string(), z.int()),
      running: z.int(),
      failing: z.int(),
      neverSynced: z.int(),
    }),
    /**
     * The ServiceTitan circuit breakers, as the workers last reported them (one row per
     * environment that ever tripped). `open` with `retryAt` ahead: requests paused until then.
     */
    breakers: z.array(
      z
        .object({
          environment: z.enum(serviceTitanEnvironments),
          state: z.enum(['closed', 'half_open', 'open']),
          failures: z.int(),
          openedAt: dateTime.nullable(),
          retryAt: dateTime.nullable(),
          updatedAt: dateTime,
        })
        .meta({ id: 'ServiceTitanBreaker' }),
    ),
  })
  .meta({ id: 'Dashboard' });

// Tokens and audit ----------------------------------------------------------------------------
export const tokenCreateSchema = z.strictObject({
  name: z.string().trim().min(1).max(200),
  role: z.enum(apiRoles),
  companyId: z.int().positive().nullable().optional(),
});
export const tokenView = z
  .object({
    id: z.int(),
    name: z.string(),
    role: z.enum(apiRoles),
    companyId: z.int().nullable(),
    createdAt: dateTime,
    revokedAt: dateTime.nullable(),
    /** When it last authenticated a request (to the minute); null if never. */
    lastUsedAt: dateTime.nullable(),
  })
  .meta({ id: 'Token' });
export const tokenCreatedView = tokenView.extend({ token: z.string() });
export const tokenList = z.object({ items: z.array(tokenView) });
export const auditQuery = z.strictObject({
  action: z.string().max(64).optional(),
  targetType: z.string().max(32).optional(),
  targetId: z.string().max(64).optional(),
  companyId: queryInt.optional(),
  actorTokenId: queryInt.optional(),
  outcome: z.enum(auditOutcomes).optional(),
  from: isoDateOrTime.optional(),
  to: isoDateOrTime.optional(),
  ...paging,
});
export const auditView = z
  .object({
    id: z.string(),
    at: dateTime,
    actor: z.object({ tokenId: z.int().nullable(), name: z.string(), role: z.string() }),
    action: z.string(),
    target: z.object({ type: z.string(), id: z.string().nullable() }),
    companyId: z.int().nullable(),
    ip: z.string().nullable(),
    requestId: z.string().nullable(),
    outcome: z.enum(auditOutcomes),
    details: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'AuditEvent' });
export const auditPage = pageOf(auditView);

// Setup (src/api/services/setup.service.ts) -----------------------------------------------------
export const setupView = z
  .object({
    checkedAt: dateTime,
    /** Where the ServiceTitan app key comes from (never its value). */
    appKey: z.enum(['configured', 'sandbox', 'missing']),
    environments: z.array(
      z.object({
        environment: z.enum(['integration', 'production']),
        authUrl: z.string(),
        apiUrl: z.string(),
      }),
    ),
    checks: z.array(
      z
        .object({
          id: z.string(),
          label: z.string(),
          status: z.enum(['ok', 'warning', 'failed']),
          detail: z.string(),
          fix: z.string().nullable(),
        })
        .meta({ id: 'SetupCheck' }),
    ),
  })
  .meta({ id: 'Setup' });

// Console sessions (src/api/routes/session.routes.ts) ---------------------------------------------
export const sessionCreateSchema = z.strictObject({
  token: z.string().min(1, 'an API token is required').max(512),
});
export const sessionView = z
  .object({
    principal: z.object({
      role: z.enum(apiRoles),
      companyId: z.int().nullable(),
      tokenName: z.string(),
    }),
    /** Sent back as the `X-CSRF-Token` header on every cookie-authenticated change. */
    csrfToken: z.string(),
    expiresAt: dateTime,
  })
  .meta({ id: 'Session' });

// Feature flags (src/flags) ------------------------------------------------------------------------
const flagValue = z.union([z.boolean(), z.string()]);
export const flagKeyParams = z.strictObject({ key: z.string().min(1).max(64) });
export const flagListQuery = z.strictObject({ companyId: queryInt.optional() });
export const flagSetSchema = z.strictObject({
  value: flagValue,
  /** Omitted or null: the global value. */
  companyId: z.int().positive().nullable().optional(),
});
export const flagsView = z
  .object({
    flags: z.array(
      z.object({
        key: z.string(),
        type: z.enum(['boolean', 'string']),
        values: z.array(z.string()).nullable(),
        default: flagValue,
        description: z.string(),
        global: flagValue.nullable(),
        company: flagValue.nullable(),
        effective: flagValue,
      }),
    ),
  })
  .meta({ id: 'Flags' });
// Notifications ---------------------------------------------------------------------------------
const eventTypeList = z
  .array(eventTypeSchema)
  .min(1)
  .max(eventTypes.length)
  .transform((list) => [...new Set(list)]);
export const webhookCreateSchema = z.strictObject({
  url: z.string().trim().min(1).max(2048),
  events: eventTypeList,
  /** Only this company's events; omitted: every company's (a company-limited token: its own). */
  companyId: z.int().positive().optional(),
  description: z.string().trim().max(500).optional(),
});
export const webhookPatchSchema = z
  .strictObject({
    url: z.string().trim().min(1).max(2048).optional(),
    events: eventTypeList.optional(),
    description: z.string().trim().max(500).nullable().optional(),
    enabled: z.boolean().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, 'url, events, description or enabled is required');
export const webhookView = z
  .object({
    id: z.int(),
    companyId: z.int().nullable(),
    url: z.string(),
    events: z.array(z.string()),
    description: z.string().nullable(),
    enabled: z.boolean(),
    createdAt: dateTime,
    updatedAt: dateTime,
  })
  .meta({ id: 'Webhook' });
export const webhookCreatedView = webhookView
  .extend({
    /** The signing secret, `whsec_<base64>`: shown in this answer only. */
    secret: z.string(),
  })
  .meta({ id: 'WebhookCreated' });
export const webhookList = z.object({ items: z.array(webhookView) });
export const webhookDeliveryView = z
  .object({
    id: z.string(),
    eventType: z.string(),
    outboxEventId: z.string().nullable(),
    /** The `webhook-id` header: the same on every attempt. */
    messageId: z.string(),
    status: z.enum(deliveryStatuses),
    attempts: z.int(),
    lastResponseCode: z.int().nullable(),
    lastError: z.string().nullable(),
    nextAttemptAt: dateTime.nullable(),
    createdAt: dateTime,
    deliveredAt: dateTime.nullable(),
  })
  .meta({ id: 'WebhookDelivery' });
export const webhookDeliveryQuery = z.strictObject({ ...paging });
export const webhookDeliveryPage = pageOf(webhookDeliveryView);
export const recipientsBodySchema = z.strictObject({
  recipients: z
    .array(
      z.strictObject({
        email: z.email().max(320),
        /** Default: failures and alerts (not every success). */
        events: eventTypeList.optional(),
      }),
    )
    .max(50),
});
export const recipientsView = z
  .object({
    companyId: z.int(),
    recipients: z.array(z.object({ email: z.string(), events: z.array(z.string()) })),
  })
  .meta({ id: 'NotificationRecipients' });
export const notificationStatusView = z
  .object({
    thresholdMinutes: z.int(),
    undispatchedEvents: z.int(),
    oldestUndispatchedAt: dateTime.nullable(),
    lateDeliveries: z.int(),
    failedDeliveries: z.int(),
  })
  .meta({ id: 'NotificationStatus' });

// The embedded sandbox (src/sandbox/directory.ts) ---------------------------------------------------
export const sandboxView = z
  .object({
    url: z.string(),
    /** The sandbox's stand-in for ServiceTitan's Settings > Integrations > API Application Access. */
    approvalsUrl: z.string(),
    tenants: z.array(
      z.object({
        tenantId: z.string(),
        environment: z.enum(serviceTitanEnvironments),
        /** The simulator's own credentials (public, derived in src/sandbox/demo-tenants.ts). */
        clientId: z.string(),
        clientSecret: z.string(),
        approved: z.boolean(),
        demonstrates: z.string(),
        approvalUrl: z.string(),
      }),
    ),
  })
  .meta({ id: 'Sandbox' });

export const importQuery = z.strictObject({
  kind: z.enum(['customers', 'invoices']),
  environment: z.enum(['production', 'integration']).default('production'),
  dryRun: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => v === 'true'),
});

export const importResultView = z
  .object({
    syncRunId: z.int().nullable(),
    status: z.enum(['completed', 'completed_with_warnings', 'dry_run']),
    rows: z.int(),
    upserted: z.int(),
    skipped: z.int(),
    skippedSample: z.array(
      z.object({ line: z.int(), externalId: z.string().nullable(), reason: z.string() }),
    ),
  })
  .meta({ id: 'ImportResult' });

// Reconciliations -----------------------------------------------------------------------------
const differenceCounts = z.object({
  missing_in_store: z.int().optional(),
  missing_in_report: z.int().optional(),
  field_mismatch: z.int().optional(),
  day_totals: z.int().optional(),
  business_unit_totals: z.int().optional(),
  duplicate_in_report: z.int().optional(),
  unreadable_row: z.int().optional(),
});
const reconciledStream = z
  .object({
    file: z.string(),
    reportRows: z.int(),
    storedRows: z.int(),
    fields: z.array(z.string()),
    period: z.object({ from: z.string(), to: z.string() }).nullable(),
    reportTotal: z.string().nullable(),
    storedTotal: z.string().nullable(),
    differences: differenceCounts,
    fieldMismatches: z.record(z.string(), z.int()),
  })
  .meta({ id: 'ReconciledStream' });
export const reconciliationView = z
  .object({
    id: z.int(),
    credentialId: z.int(),
    companyId: z.int(),
    environment: z.enum(['production', 'integration']),
    startedBy: z.string(),
    startedAt: dateTime,
    finishedAt: dateTime,
    status: z.enum(['matched', 'differs']),
    differences: z.int(),
    streams: z.object({ customers: reconciledStream.optional(), invoices: reconciledStream.optional() }),
  })
  .meta({ id: 'Reconciliation' });
const day = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date, YYYY-MM-DD');
export const reconcileQuery = z
  .strictObject({ from: day.optional(), to: day.optional() })
  .refine((q) => (q.from === undefined) === (q.to === undefined), 'from and to go together')
  .describe('The invoice dates an invoice report covers (default: its first to last invoice date).');
export const reconciliationList = z.object({ items: z.array(reconciliationView) });
export const differenceView = z
  .object({
    stream: z.enum(['customers', 'invoices']),
    kind: z.enum([
      'missing_in_store',
      'missing_in_report',
      'field_mismatch',
      'day_totals',
      'business_unit_totals',
      'duplicate_in_report',
      'unreadable_row',
    ]),
    externalId: z.string().nullable(),
    groupKey: z.string().nullable(),
    field: z.string().nullable(),
    reportValue: z.string().nullable(),
    storedValue: z.string().nullable(),
    line: z.int().nullable(),
  })
  .meta({ id: 'ReconciliationDifference' });
export const differenceList = z.array(differenceView);
/** The CSV download: a header line, then one line per difference with differenceView's fields. */
export const differenceCsv = z
  .string()
  .describe('stream,kind,external_id,group_key,field,report_value,stored_value,line (RFC 4180)');
