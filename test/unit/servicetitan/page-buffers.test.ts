import { describe, expect, it } from 'vitest';
import { parseDataPage, releasePageBody } from '../../../src/servicetitan/json-source.js';
import { releasePageBuffer, takePageBuffer } from '../../../src/servicetitan/page-buffers.js';

describe('buffers page bodies are read into', () => {
  it('when a page is released, then its buffer serves the next page and every view of it reads as empty', () => {
    const first = takePageBuffer(300_000);
    expect(first.byteLength).toBeGreaterThanOrEqual(300_000);
    first.set([7, 8, 9], 0);
    const text = first.subarray(0, 3);

    releasePageBuffer(text);
    expect(first.byteLength).toBe(0);
    expect(text.byteLength).toBe(0);

    // The same memory again (what was written in it is still there), not a new buffer.
    const next = takePageBuffer(200_000);
    expect([...next.subarray(0, 3)]).toEqual([7, 8, 9]);
    releasePageBuffer(next);
  });

  it('when a buffer is released twice, or was never taken from the spares, then nothing happens to it', () => {
    const taken = takePageBuffer(100_000);
    releasePageBuffer(taken);
    expect(() => releasePageBuffer(taken)).not.toThrow();

    const own = new Uint8Array(100_000);
    own[0] = 1;
    releasePageBuffer(own);
    expect(own.byteLength).toBe(100_000);
    expect(own[0]).toBe(1);
  });

  it('when a parsed page body is released, then its records keep their values and their texts read as empty', () => {
    const json = JSON.stringify({ data: [{ id: 1, name: 'Ann' }], hasMore: false });
    const buffer = takePageBuffer(json.length);
    const length = Buffer.from(buffer.buffer).write(json);
    const page = parseDataPage(buffer.subarray(0, length));
    const record = page?.body.data[0] as object;
    const text = page?.texts[0] as Uint8Array;
    expect(Buffer.from(text).toString()).toBe('{"id":1,"name":"Ann"}');

    releasePageBody(page?.body);
    expect(record).toEqual({ id: 1, name: 'Ann' });
    expect(text.byteLength).toBe(0);
  });
});
