import { describe, expect, it } from 'vitest';
import {
  parseRetryAfter,
  parseRetryAfterHeader,
  parseRetryAfterMessage,
} from '../../../src/servicetitan/retry-after.js';

const now = Date.parse('2025-01-01T00:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['3', 3000],
    ['0', 0],
    [' 1.5 ', 1500],
    ['Wed, 01 Jan 2025 00:00:07 GMT', 7000],
    ['Tue, 31 Dec 2024 23:59:00 GMT', 0],
  ])('when the header is %j, then the wait is %i ms', (header, expected) => {
    expect(parseRetryAfterHeader(header, now)).toBe(expected);
  });

  it.each([[''], ['soon'], ['-1'], ['5 s']])('when the header is %j, then it is ignored', (header) => {
    expect(parseRetryAfterHeader(header, now)).toBeUndefined();
  });

  it.each([
    ['{"message":"Rate limit is exceeded. Try again in 4 seconds."}', 4000],
    ['Too many requests, try again in 2s', 2000],
    ['{"title":"Too Many Requests","detail":"Please retry after 1500 ms"}', 1500],
    ['Rate limit exceeded. Retry in 1 minute', 60_000],
    ['{"retryAfter": 3}', 3000],
  ])('when the body says %j, then the wait is %i ms', (body, expected) => {
    expect(parseRetryAfterMessage(body)).toBe(expected);
  });

  it('when the body says nothing about waiting, then there is no hint', () => {
    expect(parseRetryAfterMessage('<html><body>Too Many Requests</body></html>')).toBeUndefined();
    expect(parseRetryAfter(null, undefined, now)).toBeUndefined();
  });

  it('when both are present, then the header wins', () => {
    expect(parseRetryAfter('1', 'try again in 9 seconds', now)).toBe(1000);
    expect(parseRetryAfter(null, 'try again in 9 seconds', now)).toBe(9000);
  });
});
