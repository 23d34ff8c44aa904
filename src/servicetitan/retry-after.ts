/**
 * ServiceTitan's `Retry-After` header is unconfirmed; some gateways say "try again in N seconds"
 * in the body instead. Returns the advised wait in milliseconds, or undefined when there is none.
 */
export function parseRetryAfter(
  header: string | null | undefined,
  bodyText: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  const fromHeader = parseRetryAfterHeader(header, now);
  if (fromHeader !== undefined) return fromHeader;
  return parseRetryAfterMessage(bodyText);
}

/** `Retry-After: <seconds>` or `Retry-After: <HTTP-date>` (RFC 9110 §10.2.3). */
export function parseRetryAfterHeader(header: string | null | undefined, now: number = Date.now()) {
  if (!header) return undefined;
  const value = header.trim();
  if (/^\d+(\.\d+)?$/.test(value)) return Math.round(Number(value) * 1000);
  // Only accept something that looks like a date: Date.parse is lenient with junk such as "5 s".
  if (!/[a-z]{3}/i.test(value)) return undefined;
  const at = Date.parse(value);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

const messagePatterns = [
  /(?:try|retry)(?:\s+again)?\s+(?:in|after)\s+(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?|m|mins?|minutes?)?\b/i,
  /retry[-_ ]?after["']?\s*[:=]\s*["']?(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|secs?|seconds?)?/i,
];

/** "Rate limit is exceeded. Try again in 3 seconds." (in a JSON body or plain text). */
export function parseRetryAfterMessage(bodyText: string | null | undefined): number | undefined {
  if (!bodyText) return undefined;
  const text = bodyText.length > 4096 ? bodyText.slice(0, 4096) : bodyText;
  for (const pattern of messagePatterns) {
    const match = pattern.exec(text);
    if (!match) continue;
    const amount = Number(match[1]);
    const unit = (match[2] ?? 's').toLowerCase();
    if (unit.startsWith('ms') || unit.startsWith('milli')) return Math.round(amount);
    if (unit.startsWith('m')) return Math.round(amount * 60_000);
    return Math.round(amount * 1000);
  }
  return undefined;
}
