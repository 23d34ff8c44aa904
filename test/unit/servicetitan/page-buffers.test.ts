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

  it('when more large pages are released than the spares may hold (64 MB), then only those that fit are kept', () => {
    const mb = 1024 * 1024;
    const pages = [1, 2, 3, 4].map((n) => {
      const page = takePageBuffer(20 * mb);
      page.fill(n, 0, 8);
      return page;
    });
    for (const page of pages) releasePageBuffer(page);
    const again = [1, 2, 3, 4].map(() => takePageBuffer(20 * mb));
    const reused = again.map((page) => page[0]).filter((n) => n !== undefined && n >= 1 && n <= 4);
    // Three of 20 MB fit in 64 MB; the fourth was left to the garbage collector.
    expect(reused.sort()).toEqual([1, 2, 3]);
    for (const page of again) releasePageBuffer(page);
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
