import {
  AppNotApproved,
  InvalidAppKey,
  InvalidCredentials,
  isAbortError,
  ModuleNotLicensed,
  ServiceTitanError,
  ServiceTitanUnavailable,
} from './errors.js';
import type { StreamName } from './streams/index.js';

export type ConnectionStatus = 'connected' | 'awaiting_approval' | 'invalid_credentials' | 'unreachable';
export type StreamAccess = 'ok' | 'module_not_licensed' | 'error';

export interface ConnectionTestResult {
  status: ConnectionStatus;
  streams: Record<StreamName, StreamAccess>;
  /** One or two sentences a client's administrator can act on. */
  message: string;
  /** Per stream, the error code of a failed probe (absent for ok streams). */
  errors: Partial<Record<StreamName, string>>;
}

export interface ConnectionProbe {
  getToken(signal?: AbortSignal): Promise<unknown>;
  /** One cheap read of a stream (list, pageSize=1). */
  probe(stream: StreamName, signal?: AbortSignal): Promise<unknown>;
  streamNames: readonly StreamName[];
  moduleOf(stream: StreamName): string;
}

/**
 * Gets a token, then reads one record of every stream, and turns what happened into a status.
 * Approval is per application, so as soon as one stream reads fine, a 403 elsewhere is a module
 * the tenant has not licensed, whatever its body says. A refused app key is reported as
 * `invalid_credentials` (the app key is one of the three credentials of a request) with a message
 * naming SERVICETITAN_APP_KEY, since the client ID / secret are then not at fault.
 */
export async function runConnectionTest(
  probe: ConnectionProbe,
  signal?: AbortSignal,
): Promise<ConnectionTestResult> {
  const allError = Object.fromEntries(probe.streamNames.map((s) => [s, 'error'])) as Record<
    StreamName,
    StreamAccess
  >;
  try {
    await probe.getToken(signal);
  } catch (err) {
    if (isAbortError(err) || signal?.aborted) throw err;
    if (err instanceof InvalidCredentials) {
      return { status: 'invalid_credentials', streams: allError, message: err.message, errors: {} };
    }
    return {
      status: 'unreachable',
      streams: allError,
      message: `Could not obtain a ServiceTitan access token: ${describe(err)} Check the environment (integration or production) and try again later.`,
      errors: {},
    };
  }

  const outcomes = await Promise.all(
    probe.streamNames.map(async (stream) => {
      try {
        await probe.probe(stream, signal);
        return { stream, error: undefined };
      } catch (err) {
        if (isAbortError(err) || signal?.aborted) throw err;
        return { stream, error: err };
      }
    }),
  );

  const streams = { ...allError };
  const errors: Partial<Record<StreamName, string>> = {};
  const anyOk = outcomes.some((o) => o.error === undefined);
  for (const { stream, error } of outcomes) {
    if (error === undefined) streams[stream] = 'ok';
    else if (error instanceof ModuleNotLicensed || (anyOk && error instanceof AppNotApproved)) {
      streams[stream] = 'module_not_licensed';
      errors[stream] = 'servicetitan_module_not_licensed';
    } else {
      streams[stream] = 'error';
      errors[stream] = error instanceof ServiceTitanError ? error.code : 'unknown';
    }
  }

  const notLicensed = probe.streamNames.filter((s) => streams[s] === 'module_not_licensed');
  const failed = outcomes.filter((o) => o.error !== undefined && streams[o.stream] === 'error');
  if (anyOk) {
    const parts = ['Connected to ServiceTitan.'];
    if (notLicensed.length) {
      const modules = [...new Set(notLicensed.map((s) => probe.moduleOf(s)))].join(', ');
      parts.push(
        `Not available to this app (module not licensed or not granted): ${notLicensed.join(', ')} (${modules}); these are skipped.`,
      );
    }
    if (failed.length)
      parts.push(
        `Could not read ${failed.map((o) => o.stream).join(', ')} right now: ${describe(failed[0]?.error)}`,
      );
    return { status: 'connected', streams, message: parts.join(' '), errors };
  }

  // Nothing read. A refused app key or credential is the cause whatever else failed, and says
  // exactly what to fix; only then does a 401/403 mean "not approved yet".
  const refused = outcomes.find(
    (o) => o.error instanceof InvalidAppKey || o.error instanceof InvalidCredentials,
  )?.error as ServiceTitanError | undefined;
  if (refused) return { status: 'invalid_credentials', streams, message: refused.message, errors };
  const forbidden = outcomes.every(
    (o) => o.error instanceof AppNotApproved || o.error instanceof ModuleNotLicensed,
  );
  if (forbidden || outcomes.some((o) => o.error instanceof AppNotApproved)) {
    return { status: 'awaiting_approval', streams, message: new AppNotApproved().message, errors };
  }
  const first = failed[0]?.error;
  const transient =
    first instanceof ServiceTitanUnavailable || (first instanceof ServiceTitanError && first.retryable);
  return {
    status: 'unreachable',
    streams,
    message: transient
      ? `ServiceTitan did not answer properly (${describe(first)}) Try again in a few minutes.`
      : `ServiceTitan refused every read: ${describe(first)}`,
    errors,
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
