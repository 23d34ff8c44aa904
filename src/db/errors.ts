import { AppError } from '../errors.js';
import type { Logger } from '../logger.js';

/**
 * The fields of a PostgreSQL error (node-postgres' DatabaseError, also copied onto MikroORM's
 * DriverException) that name the schema, never a row. `message` and `detail` are not among them:
 * they can quote a record's value (`Key (external_id)=(…)`, `invalid input syntax for type
 * numeric: "…"`), and MikroORM appends the detail to the message.
 */
interface PgErrorLike {
  code: string;
  message?: string;
  detail?: string;
  severity?: string;
  schema?: string;
  table?: string;
  column?: string;
  constraint?: string;
  dataType?: string;
  routine?: string;
}

/**
 * A database failure told without values: `code` is ours (the API maps it to a status),
 * `sqlState` the server's, `details` only schema names. Safe for workflow history, `run.error`
 * and API answers.
 */
export class DatabaseError extends AppError {
  constructor(
    code: string,
    message: string,
    readonly sqlState: string,
    /** True when the same statement may succeed later (connection loss, deadlock, lock timeout). */
    readonly retryable: boolean,
    details: Record<string, unknown>,
  ) {
    super(code, message, details);
  }
}

const SQLSTATE = /^[0-9A-Z]{5}$/;

/** The PostgreSQL error inside `error` (itself or a cause, a few levels down), if any. */
export function findPgError(error: unknown): PgErrorLike | undefined {
  let current: unknown = error;
  for (let depth = 0; current && typeof current === 'object' && depth < 5; depth++) {
    const candidate = current as Partial<PgErrorLike> & { cause?: unknown; name?: unknown };
    // `routine`/`severity` are set by the server on every error it sends; a bare SQLSTATE-shaped
    // `code` is not enough (Node's own errors have codes like ECONNRESET, not 5 characters, but be sure).
    if (
      typeof candidate.code === 'string' &&
      SQLSTATE.test(candidate.code) &&
      (typeof candidate.routine === 'string' ||
        typeof candidate.severity === 'string' ||
        candidate.name === 'DatabaseError' ||
        String(candidate.name).endsWith('Exception'))
    )
      return candidate as PgErrorLike;
    current = candidate.cause;
  }
  return undefined;
}

interface Mapping {
  code: string;
  message: string;
  retryable: boolean;
}

/** SQLSTATE (exact, then class) → our code and a plain sentence. Values never enter these. */
function mappingOf(pg: PgErrorLike): Mapping {
  const where = pg.table ? ` (table ${pg.table}${pg.constraint ? `, constraint ${pg.constraint}` : ''})` : '';
  switch (pg.code) {
    case '23505':
      return {
        code: 'database_conflict',
        message: `A record with the same key already exists${where}.`,
        retryable: false,
      };
    case '23503':
      return {
        code: 'database_conflict',
        message: `The change refers to a record that does not exist, or removes one still referred to${where}.`,
        retryable: false,
      };
    case '23502':
      return {
        code: 'database_invalid_value',
        message: `A required value is missing${pg.column ? ` (column ${pg.column}${pg.table ? ` of ${pg.table}` : ''})` : where}.`,
        retryable: false,
      };
    case '23514':
      return {
        code: 'database_invalid_value',
        message: `A value breaks a rule of the table${where}.`,
        retryable: false,
      };
    case '40001':
    case '40P01':
      return {
        code: 'database_busy',
        message: 'The database aborted the transaction because of a concurrent one; try again.',
        retryable: true,
      };
    case '55P03':
    case '57014':
      return {
        code: 'database_busy',
        message:
          'The database did not complete the statement in time (lock or statement timeout); try again.',
        retryable: true,
      };
  }
  switch (pg.code.slice(0, 2)) {
    case '22':
      return {
        code: 'database_invalid_value',
        message: `A value does not fit its column's type or range (SQLSTATE ${pg.code})${where}.`,
        retryable: false,
      };
    case '23':
      return {
        code: 'database_conflict',
        message: `The change breaks an integrity rule of the database (SQLSTATE ${pg.code})${where}.`,
        retryable: false,
      };
    case '08':
    case '53':
    case '57':
    case '58':
      return {
        code: 'database_unavailable',
        message: `The database is unavailable or out of resources (SQLSTATE ${pg.code}); try again later.`,
        retryable: true,
      };
    case '42':
      return {
        code: 'database_schema_mismatch',
        message: `The database schema does not match this version of the product (SQLSTATE ${pg.code}); run the migrations (stsync migrate).`,
        retryable: false,
      };
    default:
      return {
        code: 'database_error',
        message: `The database refused the operation (SQLSTATE ${pg.code}).`,
        retryable: false,
      };
  }
}

/**
 * The server's message and detail with every quoted value replaced: double-quoted words stay
 * only when they are the error's own schema names (table, constraint, column, type), and a
 * key's or a failing row's values are cut. What is left says which rule broke, not on what.
 */
export function redactPgError(pg: PgErrorLike): Record<string, unknown> {
  const names = [pg.schema, pg.table, pg.column, pg.constraint, pg.dataType].filter(
    (n): n is string => !!n && !n.includes('"'),
  );
  let detail: string | undefined;
  if (pg.detail) {
    const key = /^Key \(([^)]*)\)=/.exec(pg.detail);
    const tail =
      /\) (already exists|is not present in table "[^"]*"|is still referenced from table "[^"]*")\.?$/.exec(
        pg.detail,
      )?.[1];
    if (key) detail = redactQuoted(`Key (${key[1]})=([redacted])${tail ? ` ${tail}` : ''}.`, names);
    else if (pg.detail.startsWith('Failing row contains')) detail = 'Failing row contains ([redacted]).';
    else detail = '[redacted]';
  }
  return {
    sqlState: pg.code,
    // Only the first line: MikroORM appends the detail (with its values) as "\n - detail: …".
    message: pg.message === undefined ? undefined : redactQuoted(pg.message.split('\n')[0] ?? '', names),
    detail,
    table: pg.table,
    column: pg.column,
    constraint: pg.constraint,
    dataType: pg.dataType,
    routine: pg.routine,
  };
}

/**
 * Keeps `"name"` for the given schema names; everything from the first other double quote to
 * the last one becomes `"[redacted]"`. PostgreSQL does not escape quotes inside a quoted value
 * (`"a"b"`), so quote pairs cannot be trusted: cutting to the last quote can over-redact, never leak.
 */
export function redactQuoted(text: string, names: readonly string[]): string {
  const kept: string[] = [];
  let masked = text;
  for (const name of names) {
    masked = masked.split(`"${name}"`).join(`\u0000${kept.length}\u0000`);
    kept.push(`"${name}"`);
  }
  const first = masked.indexOf('"');
  const last = masked.lastIndexOf('"');
  if (first !== -1) {
    masked =
      last > first
        ? `${masked.slice(0, first)}"[redacted]"${masked.slice(last + 1)}`
        : `${masked.slice(0, first)}"[redacted]`;
  }
  // biome-ignore lint/suspicious/noControlCharactersInRegex: the placeholders are NUL-delimited on purpose
  return masked.replace(/\u0000(\d+)\u0000/g, (_, i: string) => kept[Number(i)] ?? '');
}

/**
 * A PostgreSQL error (however wrapped) as a DatabaseError whose message and details hold no
 * record values; the redacted server text goes to `logger`. Anything else is returned unchanged,
 * so callers can write `throw toSafeDatabaseError(error, log)`.
 */
export function toSafeDatabaseError(error: unknown, logger?: Logger): unknown {
  if (error instanceof DatabaseError) return error;
  const pg = findPgError(error);
  if (!pg) return error;
  const mapping = mappingOf(pg);
  const redacted = redactPgError(pg);
  logger?.error({ db: redacted, code: mapping.code }, 'database error');
  return new DatabaseError(mapping.code, mapping.message, pg.code, mapping.retryable, {
    sqlState: pg.code,
    ...(pg.table ? { table: pg.table } : {}),
    ...(pg.column ? { column: pg.column } : {}),
    ...(pg.constraint ? { constraint: pg.constraint } : {}),
  });
}
