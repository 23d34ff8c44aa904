import { ServiceTitanConfigError } from './errors.js';

/** 127.0.0.0/8, ::1 and localhost: the only hosts we talk to over plain http (the sandbox). */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return (
    host === 'localhost' || host.endsWith('.localhost') || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host)
  );
}

/**
 * Parses a configured base URL and refuses plain http unless it points at this machine.
 * Certificate validation is never relaxed: https always goes through Node's default trust store.
 */
export function requireSecureBaseUrl(raw: string, what: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ServiceTitanConfigError(`${what} "${raw}" is not a valid URL.`, { what });
  }
  if (url.protocol === 'https:') return url;
  if (url.protocol === 'http:' && isLoopbackHost(url.hostname)) return url;
  throw new ServiceTitanConfigError(
    `${what} must use https:// (plain http is only accepted for a loopback sandbox); got "${url.origin}".`,
    { what, origin: url.origin },
  );
}

/** Base URL without trailing slashes, so that `${base}/path` never doubles a slash. */
export function trimBase(url: URL): string {
  return url.href.replace(/\/+$/, '');
}
