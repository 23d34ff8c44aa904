import { randomUUID } from 'node:crypto';
import type { EntityManager } from '@mikro-orm/postgresql';
import {
  type EvaluationContext,
  type JsonValue,
  OpenFeature,
  type Provider,
  type ResolutionDetails,
  StandardResolutionReasons,
} from '@openfeature/server-sdk';
import { AppError } from '../errors.js';
import type { SyncStreamName } from '../workflows/definitions.js';

/**
 * Feature flags for a gradual rollout and a way back (seeds §8.1, ST-023): global values with
 * per-company overrides, kept in PostgreSQL (`feature_flags`) and read through the OpenFeature
 * server SDK, so the flags could move to another provider (flagd, a SaaS) without touching the
 * code that reads them. A run reads its flags once, when it is created, and keeps them on its row.
 */
export const flagDefinitions = {
  'scheduled-syncs': {
    type: 'boolean',
    default: true,
    description: 'Scheduled syncs run (off: a schedule that fires records a skipped run).',
  },
  'stream.customers': { type: 'boolean', default: true, description: 'The customers stream runs.' },
  'stream.customerContacts': {
    type: 'boolean',
    default: true,
    description: "The customers' contacts stream runs (members' email and phone).",
  },
  'stream.invoices': { type: 'boolean', default: true, description: 'The invoices stream runs.' },
  notifications: {
    type: 'boolean',
    default: true,
    description: 'Webhooks and email go out for this company (off: events are kept, not sent).',
  },
  'data-source': {
    type: 'string',
    values: ['api', 'manual'],
    default: 'api',
    description:
      "Where the company's data comes from: the ServiceTitan API (syncs), or the manual path (report imports; syncs are refused) — the rollback.",
  },
} as const satisfies Record<
  string,
  | { type: 'boolean'; default: boolean; description: string }
  | {
      type: 'string';
      values: readonly string[];
      default: string;
      description: string;
    }
>;
export type FlagKey = keyof typeof flagDefinitions;
export type FlagValue = boolean | string;
export const flagKeys = Object.keys(flagDefinitions) as FlagKey[];

/** What a run is started with, every flag resolved for its company. */
export type RunFlags = {
  [K in FlagKey]: (typeof flagDefinitions)[K]['default'] extends boolean ? boolean : string;
};

export function isFlagKey(key: string): key is FlagKey {
  return Object.hasOwn(flagDefinitions, key);
}

/** Refuses a value its flag does not take, with a message saying what it takes. */
export function checkFlagValue(key: FlagKey, value: unknown): FlagValue {
  const def = flagDefinitions[key];
  if (def.type === 'boolean') {
    if (typeof value !== 'boolean') throw new AppError('invalid_flag_value', `${key} takes true or false.`);
    return value;
  }
  if (typeof value !== 'string' || !(def.values as readonly string[]).includes(value))
    throw new AppError('invalid_flag_value', `${key} takes one of: ${def.values.join(', ')}.`);
  return value;
}

export const globalScope = 'global';
export const companyScope = (companyId: number) => `company:${companyId}`;

type Sql = (sql: string, params: unknown[]) => Promise<{ value: unknown; scope: string }[]>;

/** OpenFeature's provider over `feature_flags`: a company's value, else the global one, else the default. */
class PostgresFlagProvider implements Provider {
  readonly metadata = { name: 'servicetitan-sync PostgreSQL flags' } as const;
  readonly runsOn = 'server' as const;

  constructor(private readonly sql: Sql) {}

  private async resolve<T extends JsonValue>(
    key: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    const companyId = typeof context.companyId === 'number' ? context.companyId : null;
    const rows = await this.sql(
      `select value, scope from feature_flags where key = ? and scope in (?, ?)
        order by scope = ? desc limit 1`,
      [key, globalScope, companyId === null ? globalScope : companyScope(companyId), globalScope],
    );
    const row = rows[0];
    if (!row) return { value: defaultValue, reason: StandardResolutionReasons.DEFAULT };
    if (typeof row.value !== typeof defaultValue)
      return {
        value: defaultValue,
        reason: StandardResolutionReasons.ERROR,
        errorMessage: 'stored value of another type',
      };
    return {
      value: row.value as T,
      reason:
        row.scope === globalScope
          ? StandardResolutionReasons.STATIC
          : StandardResolutionReasons.TARGETING_MATCH,
      variant: row.scope,
    };
  }

  resolveBooleanEvaluation(key: string, defaultValue: boolean, context: EvaluationContext) {
    return this.resolve(key, defaultValue, context);
  }
  resolveStringEvaluation(key: string, defaultValue: string, context: EvaluationContext) {
    return this.resolve(key, defaultValue, context);
  }
  resolveNumberEvaluation(key: string, defaultValue: number, context: EvaluationContext) {
    return this.resolve(key, defaultValue, context);
  }
  resolveObjectEvaluation<T extends JsonValue>(key: string, defaultValue: T, context: EvaluationContext) {
    return this.resolve(key, defaultValue, context);
  }
}

export interface FlagReader {
  /** Every flag for a company, as a run started now would see them. */
  forCompany(companyId: number): Promise<RunFlags>;
}

// One OpenFeature domain per database connection (the SDK's registry is process-wide).
const readers = new WeakMap<object, FlagReader>();

/** The flag reader of the database `em` belongs to. */
export function flagsOf(em: EntityManager): FlagReader {
  const connection = em.getConnection();
  let reader = readers.get(connection);
  if (!reader) {
    const domain = `stsync-flags-${randomUUID()}`;
    OpenFeature.setProvider(
      domain,
      new PostgresFlagProvider(
        async (sql, params) =>
          (await connection.execute(sql, params, 'all')) as { value: unknown; scope: string }[],
      ),
    );
    const client = OpenFeature.getClient(domain);
    reader = {
      async forCompany(companyId) {
        const context = { targetingKey: `company:${companyId}`, companyId };
        const entries = await Promise.all(
          flagKeys.map(async (key) => {
            const def = flagDefinitions[key];
            const value =
              def.type === 'boolean'
                ? await client.getBooleanValue(key, def.default, context)
                : await client.getStringValue(key, def.default, context);
            return [key, value] as const;
          }),
        );
        return Object.fromEntries(entries) as RunFlags;
      },
    };
    readers.set(connection, reader);
  }
  return reader;
}

/** The streams a run may take under its flags. */
export function streamsAllowed(flags: RunFlags, streams: SyncStreamName[]): SyncStreamName[] {
  return streams.filter((s) => flags[`stream.${s}` as FlagKey] !== false);
}
