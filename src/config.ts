import { z } from 'zod';

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
  TASK_QUEUE: z.string().min(1).default('servicetitan-sync'),
  HOST: z.string().min(1).default('127.0.0.1'),
  SANDBOX_PORT: z.coerce.number().int().min(0).max(65535).default(4010),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(logLevels).default('info'),
  ENCRYPTION_KEYS: encryptionKeys.optional(),
  ADMIN_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
  SERVICETITAN_APP_KEY: optionalString,
  SERVICETITAN_INTEGRATION_AUTH_URL: url('https://auth-integration.servicetitan.io'),
  SERVICETITAN_INTEGRATION_API_URL: url('https://api-integration.servicetitan.io'),
  SERVICETITAN_PRODUCTION_AUTH_URL: url('https://auth.servicetitan.io'),
  SERVICETITAN_PRODUCTION_API_URL: url('https://api.servicetitan.io'),
});

type Env = z.infer<typeof configSchema>;

export interface Config {
  readonly env: Env['NODE_ENV'];
  readonly dataDir: string;
  /** Where `npm run sandbox` and the embedded demo's sandbox listen. */
  readonly sandboxPort: number;
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
  };
  readonly api: { readonly host: string; readonly port: number; readonly adminToken: string | undefined };
  readonly logLevel: Env['LOG_LEVEL'];
  readonly encryptionKeys: readonly { readonly version: string; readonly key: Buffer }[] | undefined;
  readonly serviceTitan: {
    readonly appKey: string | undefined;
    readonly integration: { readonly authUrl: string; readonly apiUrl: string };
    readonly production: { readonly authUrl: string; readonly apiUrl: string };
  };
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
    database: { url: e.DATABASE_URL },
    temporal: {
      address: e.TEMPORAL_ADDRESS,
      namespace: e.TEMPORAL_NAMESPACE,
      taskQueue: e.TASK_QUEUE,
      cliPath: e.TEMPORAL_CLI_PATH,
      uiPort: e.TEMPORAL_UI_PORT,
      uiUrl: e.TEMPORAL_UI_URL?.replace(/\/+$/, ''),
      connectTimeoutSeconds: e.TEMPORAL_CONNECT_TIMEOUT_SECONDS,
    },
    api: { host: e.HOST, port: e.PORT, adminToken: e.ADMIN_TOKEN },
    logLevel: e.LOG_LEVEL,
    encryptionKeys: e.ENCRYPTION_KEYS,
    serviceTitan: {
      appKey: e.SERVICETITAN_APP_KEY,
      integration: {
        authUrl: trimSlash(e.SERVICETITAN_INTEGRATION_AUTH_URL),
        apiUrl: trimSlash(e.SERVICETITAN_INTEGRATION_API_URL),
      },
      production: {
        authUrl: trimSlash(e.SERVICETITAN_PRODUCTION_AUTH_URL),
        apiUrl: trimSlash(e.SERVICETITAN_PRODUCTION_API_URL),
      },
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
