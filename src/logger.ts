import { type Logger, pino } from 'pino';

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

export function createLogger(options: { level: string; name?: string }): Logger {
  return pino({
    level: options.level,
    name: options.name ?? 'stsync',
    redact: { paths: redactedPaths, censor: '[redacted]' },
  });
}

export type { Logger };
