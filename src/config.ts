import { isIP } from 'node:net';
import { z } from 'zod';
import type { AlertPolicy } from './alerts/policy.js';
import { eventTypeSchema } from './notifications/events.js';

/**
 * The environment, validated once at start-up. This is the only module that reads process.env;
 * everything else receives a frozen Config.
 */

const optionalString = z
  .string()
  .trim()
  .transform((v) => (v === '' ? undefined : v))
  .optional();

const url = (fallback: string) => z.url({ protocol: /^https?$/ }).default(fallback);

/** Days to keep something; 0 keeps it forever. */
const retentionDays = (fallback: number) => z.coerce.number().int().min(0).max(36_500).default(fallback);

const booleanFlag = (fallback: boolean) =>
  z
    .enum(['true', 'false', '1', '0'])
    .transform((v) => v === 'true' || v === '1')
    .default(fallback);

/** A comma-separated list; blanks dropped. */
const commaList = z.string().transform((raw) =>
  raw
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean),
);

/** What email recipients get unless they choose: failures and alerts, not every success. */
export const defaultEmailEvents = [
  'sync.failed',
  'sync.completed_with_warnings',
  'credential.status_changed',
  'schedule.auto_paused',
  'data_quality.anomaly',
  'freshness.stale',
] as const;

const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** `v2:<base64>,v1:<base64>`: the first key encrypts, any decrypts. Each key must be 32 bytes. */
const encryptionKeys = z
  .string()
  .trim()
  .transform((raw, ctx) => {
    const keys: { version: string; key: Buffer }[] = [];
    for (const part of raw
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean)) {
      const match = /^([A-Za-z0-9_-]+):(.+)$/.exec(part);
      if (!match) {
        ctx.addIssue({ code: 'custom', message: 'each key must look like "<version>:<base64 of 32 bytes>"' });
        return z.NEVER;
      }
      const [, version, base64] = match as unknown as [string, string, string];
      const key = Buffer.from(base64, 'base64');
      if (key.length !== 32) {
        ctx.addIssue({
          code: 'custom',
          message: `key "${version}" is ${key.length} bytes; AES-256 needs 32`,
        });
        return z.NEVER;
      }
      if (keys.some((k) => k.version === version)) {
        ctx.addIssue({ code: 'custom', message: `key version "${version}" appears twice` });
        return z.NEVER;
      }
      keys.push({ version, key });
    }
    return keys;
  });

/**
 * Express's `trust proxy`: which hops in X-Forwarded-For to believe when taking the client's
 * address (the failed-login throttle counts per address). `false` = the socket's peer, `true` =
 * any (only behind a proxy that overwrites the header), a number = that many hops, otherwise a
 * comma-separated list of addresses, CIDR ranges or `loopback`/`linklocal`/`uniquelocal`.
 */
export type TrustProxy = boolean | number | readonly string[];
const trustProxy = z
  .string()
  .trim()
  .transform((raw, ctx): TrustProxy => {
    const lower = raw.toLowerCase();
    if (lower === 'true') return true;
    if (lower === 'false') return false;
    if (/^\d+$/.test(raw)) return Number(raw);
    const entries = raw
      .split(',')
      .map((p) => p.trim())
      .filter(Boolean);
    for (const entry of entries) {
      const [address, bits, extra] = entry.split('/');
      const named = ['loopback', 'linklocal', 'uniquelocal'].includes(entry);
      const version = isIP(address ?? '');
      const maxBits = version === 6 ? 128 : 32;
      const validBits = bits === undefined || (/^\d+$/.test(bits) && Number(bits) <= maxBits);
      if (!named && (version === 0 || !validBits || extra !== undefined)) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}" is not an address, a CIDR range, loopback, linklocal or uniquelocal (or use true, false, or a number of hops)`,
        });
        return z.NEVER;
      }
    }
    return entries;
  });

export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  DATABASE_URL: z
    .url({ protocol: /^postgres(ql)?$/, error: 'must be a postgres:// or postgresql:// URL' })
    .optional()
    .or(z.literal('').transform(() => undefined)),
  DATA_DIR: z.string().default('.data'),
  TEMPORAL_ADDRESS: optionalString,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_CLI_PATH: optionalString,
  TEMPORAL_UI_URL: z.url({ protocol: /^https?$/ }).optional(),
  TEMPORAL_UI_PORT: z.coerce.number().int().min(1).max(65535).default(8233),
  TEMPORAL_CONNECT_TIMEOUT_SECONDS: z.coerce.number().int().min(0).max(86_400).default(60),
  WORKER_SHUTDOWN_GRACE_SECONDS: z.coerce.number().int().min(0).max(3_600).default(20),
  TASK_QUEUE: z.string().min(1).default('servicetitan-sync'),
  HOST: z.string().min(1).default('127.0.0.1'),
  TRUST_PROXY: trustProxy.default(['loopback']),
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  SANDBOX_LATENCY_MS: z.coerce.number().int().min(0).max(60_000).default(0),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  LOG_FORMAT: z.enum(['json', 'pretty']).optional(),
  ENCRYPTION_KEYS: encryptionKeys.optional(),
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(500 * 1024 * 1024),
  SESSION_TTL_HOURS: z.coerce
    .number()
    .int()
    .min(1)
    .max(24 * 30)
    .default(12),
  SERVICETITAN_APP_KEY: optionalString,
  SERVICETITAN_RATE_LIMIT: z.coerce.number().positive().max(1000).default(60),
  SERVICETITAN_INTEGRATION_AUTH_URL: url('https://auth-integration.servicetitan.io'),
  SERVICETITAN_INTEGRATION_API_URL: url('https://api-integration.servicetitan.io'),
  SERVICETITAN_PRODUCTION_AUTH_URL: url('https://auth.servicetitan.io'),
  SERVICETITAN_PRODUCTION_API_URL: url('https://api.servicetitan.io'),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  TEMPORAL_METRICS_PORT: z.coerce.number().int().min(1).max(65535).optional(),
  METRICS_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  SERVICETITAN_BREAKER_FAILURE_THRESHOLD: z.coerce.number().int().min(0).max(10_000).default(10),
  SERVICETITAN_BREAKER_COOLDOWN_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  RETENTION_SKIPPED_RAW_DAYS: retentionDays(30),
  RETENTION_AUDIT_DAYS: retentionDays(365),
  RETENTION_OUTBOX_DAYS: retentionDays(30),
  RETENTION_RUNS_DAYS: retentionDays(365),
  WEBHOOK_ALLOW_PRIVATE_NETWORKS: booleanFlag(false),
  WEBHOOK_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(120).default(10),
  SMTP_URL: z.url({ protocol: /^smtps?$/, error: 'must be an smtp:// or smtps:// URL' }).optional(),
  NOTIFY_EMAIL_FROM: z.string().trim().min(3).max(320).default('servicetitan-sync <stsync@localhost>'),
  NOTIFY_EMAIL_TO: commaList.pipe(z.array(z.email())).optional(),
  NOTIFY_EMAIL_EVENTS: commaList.pipe(z.array(eventTypeSchema)).optional(),
  DOWNSTREAM_NOTIFY_CHANNEL: z
    .string()
    .trim()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case PostgreSQL identifier')
    .default('stsync_company_data'),
  NOTIFY_UNDELIVERED_ALERT_MINUTES: z.coerce.number().int().min(1).max(10_080).default(30),
  PUBLIC_URL: z.url({ protocol: /^https?$/ }).optional(),
  ALERT_AUTO_PAUSE_AFTER_FAILURES: z.coerce.number().int().min(0).max(1_000).default(3),
  ALERT_FULL_RUN_MIN_PERCENT: z.coerce.number().min(0).max(100).default(50),
  ALERT_SKIPPED_PERCENT: z.coerce.number().min(0).max(100).default(1),
  ALERT_QUIET_INCREMENTAL_RUNS: z.coerce.number().int().min(0).max(1_000).default(5),
  FRESHNESS_GRACE_MINUTES: z.coerce.number().int().min(0).max(525_600).default(60),
  FRESHNESS_CHECK_MINUTES: z.coerce.number().int().min(1).max(1_440).default(15),
});

type Env = z.infer<typeof configSchema>;

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly dataDir: string;
  /** Where `npm run sandbox` and the embedded demo's sandbox listen. */
  readonly sandboxPort: number;
  /** Added before every answer of the demo's sandbox: a demo sync slow enough to watch. */
  readonly sandboxLatencyMs: number;
  readonly database: { readonly url: string | undefined };
  readonly temporal: {
    readonly address: string | undefined;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly cliPath: string | undefined;
    readonly uiPort: number;
    /** Where a deployment's Temporal Web UI is, for links to runs (the embedded one is known). */
    readonly uiUrl: string | undefined;
    /** How long a worker waits at start for Temporal to answer before it gives up. */
    readonly connectTimeoutSeconds: number;
    /** On SIGTERM, how long a worker lets the chunks in hand finish before cancelling them. */
    readonly shutdownGraceSeconds: number;
  };
  readonly api: {
    readonly host: string;
    readonly port: number;
    readonly adminToken: string | undefined;
    readonly trustProxy: TrustProxy;
    /** How long a console session lasts after sign-in (absolute, not renewed by use). */
    readonly sessionTtlHours: number;
    /** The largest report POST /api/companies/:id/imports accepts (streamed, never held whole). */
    readonly importMaxBytes: number;
  };
  readonly logLevel: Env['LOG_LEVEL'];
  /** Unset: pretty on a terminal, JSON otherwise (src/logger.ts). */
  readonly logFormat: Env['LOG_FORMAT'];
  readonly encryptionKeys: readonly { readonly version: string; readonly key: Buffer }[] | undefined;
  readonly serviceTitan: {
    readonly appKey: string | undefined;
    /** Requests per second per tenant, all processes together (ServiceTitan allows 60). */
    readonly rateLimitPerSecond: number;
    readonly integration: { readonly authUrl: string; readonly apiUrl: string };
    readonly production: { readonly authUrl: string; readonly apiUrl: string };
  };
  readonly metrics: {
    /** A worker's Prometheus port (GET /metrics); unset: none (`npm start` picks a free one). */
    readonly port: number | undefined;
    /** The Temporal SDK's own Prometheus exporter port on a worker; unset: none (`npm start` picks one). */
    readonly temporalPort: number | undefined;
    /** When set, every /metrics wants it as a bearer token. */
    readonly token: string | undefined;
  };
  /** Per ServiceTitan environment and worker process (src/servicetitan/circuit-breaker.ts). */
  readonly breaker: { readonly failureThreshold: number; readonly cooldownMs: number };
  /** How long old data is kept (days, 0 = forever); applied daily by the retention schedule. */
  readonly retention: {
    readonly skippedRawDays: number;
    readonly auditDays: number;
    readonly outboxDays: number;
    readonly runsDays: number;
  };
  /** Webhooks, email and the downstream NOTIFY (src/notifications). */
  readonly notifications: {
    /** Webhook URLs may resolve to private, loopback or link-local addresses, and use http. */
    readonly allowPrivateNetworks: boolean;
    readonly webhookTimeoutMs: number;
    /** Holds a password: never log it. */
    readonly smtpUrl: string | undefined;
    readonly emailFrom: string;
    /** Global recipients, who get `emailEvents` of every company. */
    readonly emailTo: readonly string[];
    readonly emailEvents: readonly string[];
    readonly downstreamChannel: string;
    /** Events still undelivered after this long are reported. */
    readonly undeliveredAlertMinutes: number;
  };
  /** Where the console is reached from outside (for links in notifications); unset: no links. */
  readonly publicUrl: string | undefined;
  /** When a run, a credential or a schedule raises an alert (src/alerts). */
  readonly alerts: AlertPolicy;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses an environment; the error names every offending variable and what is wrong with it. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // An empty variable (`ADMIN_TOKEN=` copied from .env.example) means unset, not invalid.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v.trim() !== ''),
  );
  const parsed = configSchema.safeParse(present);
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${issue.path.join('.') || '(environment)'}: ${issue.message}`,
    );
    throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
  }
  const e = parsed.data;
  const trimSlash = (u: string) => u.replace(/\/+$/, '');
  return deepFreeze({
    env: e.NODE_ENV,
    dataDir: e.DATA_DIR,
    sandboxPort: e.SANDBOX_PORT,
    sandboxLatencyMs: e.SANDBOX_LATENCY_MS,
    database: { url: e.DATABASE_URL },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TASK_QUEUE,
      cliPath: e.TEMPORAL_CLI_PATH,
      uiPort: e.TEMPORAL_UI_PORT,
      uiUrl: e.TEMPORAL_UI_URL?.replace(/\/+$/, ''),
      connectTimeoutSeconds: e.TEMPORAL_CONNECT_TIMEOUT_SECONDS,
      shutdownGraceSeconds: e.WORKER_SHUTDOWN_GRACE_SECONDS,
    },
    api: {
      host: e.HOST,
      port: e.PORT,
      adminToken: e.ADMIN_TOKEN,
      trustProxy: e.TRUST_PROXY,
      sessionTtlHours: e.SESSION_TTL_HOURS,
      importMaxBytes: e.IMPORT_MAX_BYTES,
    },
    logLevel: e.LOG_LEVEL,
    logFormat: e.LOG_FORMAT,
    encryptionKeys: e.ENCRYPTION_KEYS,
    serviceTitan: {
      appKey: e.SERVICETITAN_APP_KEY,
      rateLimitPerSecond: e.SERVICETITAN_RATE_LIMIT,
      integration: {
        authUrl: trimSlash(e.SERVICETITAN_INTEGRATION_AUTH_URL),
        apiUrl: trimSlash(e.SERVICETITAN_INTEGRATION_API_URL),
      },
      production: {
        authUrl: trimSlash(e.SERVICETITAN_PRODUCTION_AUTH_URL),
        apiUrl: trimSlash(e.SERVICETITAN_PRODUCTION_API_URL),
      },
    },
    metrics: { port: e.METRICS_PORT, temporalPort: e.TEMPORAL_METRICS_PORT, token: e.METRICS_TOKEN },
    breaker: {
      failureThreshold: e.SERVICETITAN_BREAKER_FAILURE_THRESHOLD,
      cooldownMs: e.SERVICETITAN_BREAKER_COOLDOWN_SECONDS * 1000,
    },
    retention: {
      skippedRawDays: e.RETENTION_SKIPPED_RAW_DAYS,
      auditDays: e.RETENTION_AUDIT_DAYS,
      outboxDays: e.RETENTION_OUTBOX_DAYS,
      runsDays: e.RETENTION_RUNS_DAYS,
    },
    notifications: {
      allowPrivateNetworks: e.WEBHOOK_ALLOW_PRIVATE_NETWORKS,
      webhookTimeoutMs: e.WEBHOOK_TIMEOUT_SECONDS * 1000,
      smtpUrl: e.SMTP_URL,
      emailFrom: e.NOTIFY_EMAIL_FROM,
      emailTo: e.NOTIFY_EMAIL_TO ?? [],
      emailEvents: e.NOTIFY_EMAIL_EVENTS ?? [...defaultEmailEvents],
      downstreamChannel: e.DOWNSTREAM_NOTIFY_CHANNEL,
      undeliveredAlertMinutes: e.NOTIFY_UNDELIVERED_ALERT_MINUTES,
    },
    publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    alerts: {
      autoPauseAfterFailures: e.ALERT_AUTO_PAUSE_AFTER_FAILURES,
      fullRunMinPercent: e.ALERT_FULL_RUN_MIN_PERCENT,
      skippedPercent: e.ALERT_SKIPPED_PERCENT,
      quietIncrementalRuns: e.ALERT_QUIET_INCREMENTAL_RUNS,
      freshnessGraceMinutes: e.FRESHNESS_GRACE_MINUTES,
      freshnessCheckMinutes: e.FRESHNESS_CHECK_MINUTES,
      publicUrl: e.PUBLIC_URL?.replace(/\/+$/, ''),
    },
  });
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Buffer.isBuffer(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
