import { describe, expect, it } from 'vitest';
import { toJsonbText } from '../../../src/ingest/upsert.js';

describe('toJsonbText', () => {
  it('when a record is ordinary, then it is plain JSON', () => {
    const record = { id: 1, name: 'Ann "Tab"\tO\'Neil \\ 😀', items: [{ q: '1.00' }] };
    expect(toJsonbText(record)).toBe(JSON.stringify(record));
  });

  it('when strings hold NULs or lone surrogates, then NULs are dropped and surrogates replaced, nothing else changes', () => {
    const text = toJsonbText({ a: 'x\u0000y', b: 'cut \ud83d', c: '\\\u0000', d: 'fine 😀', n: 3 });
    expect(JSON.parse(text)).toEqual({ a: 'xy', b: 'cut \ufffd', c: '\\', d: 'fine 😀', n: 3 });
    expect(text).not.toMatch(/\\u0000|\\ud83d/);
  });
});
