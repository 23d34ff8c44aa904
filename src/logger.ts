import { type DestinationStream, type Logger, pino } from 'pino';
import { PinoPretty } from 'pino-pretty';

/** Paths whose values are secrets wherever they appear in a log object. */
export const redactedPaths = [
  'password',
  'secret',
  'token',
  'accessToken',
  'access_token',
  'clientSecret',
  'client_secret',
  'authorization',
  '*.password',
  '*.secret',
  '*.token',
  '*.accessToken',
  '*.access_token',
  '*.clientSecret',
  '*.client_secret',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["st-app-key"]',
  'req.headers.cookie',
];

export type LogFormat = 'json' | 'pretty';

/**
 * LOG_FORMAT when set; otherwise pretty for a person at a terminal and JSON lines for
 * everything else (a file, a pipe, a log collector), which machines parse.
 */
export function chooseLogFormat(setting: LogFormat | undefined, isTty: boolean | undefined): LogFormat {
  return setting ?? (isTty ? 'pretty' : 'json');
}

export interface LoggerOptions {
  level: string;
  name?: string;
  /** Unset: chosen by whether stdout is a terminal (chooseLogFormat). */
  format?: LogFormat | undefined;
  /** Default stdout. */
  destination?: DestinationStream | NodeJS.WritableStream;
}

export function createLogger(options: LoggerOptions): Logger {
  const format = chooseLogFormat(options.format, options.destination ? false : process.stdout.isTTY);
  const settings = {
    level: options.level,
    name: options.name ?? 'stsync',
    // Redaction runs before either format serialises, so pretty output hides the same values.
    redact: { paths: redactedPaths, censor: '[redacted]' },
  };
  if (format === 'json') {
    return options.destination ? pino(settings, options.destination as DestinationStream) : pino(settings);
  }
  // In-process and synchronous (no transport thread): the last lines before an exit are not lost.
  const pretty = PinoPretty({
    colorize: options.destination ? false : process.stdout.isTTY === true,
    sync: true,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname',
    ...(options.destination ? { destination: options.destination } : {}),
  });
  return pino(settings, pretty);
}

export type { Logger };
