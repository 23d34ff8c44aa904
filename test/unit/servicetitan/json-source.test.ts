import { describe, expect, it } from 'vitest';
import { createSandboxApp } from '../../../src/sandbox/index.js';
import { dataElementTextsOf, parseDataPage, type RecordText } from '../../../src/servicetitan/json-source.js';

function sandboxInvoices(): unknown[] {
  const sandbox = createSandboxApp({ tenants: [{ tenantId: 1, customers: 50, invoices: 80 }] });
  const records = [...sandbox.groundTruth(1, 'invoices'), ...sandbox.groundTruth(1, 'customers')];
  sandbox.dispose();
  return records;
}

const page = (text: string | Uint8Array) =>
  parseDataPage(typeof text === 'string' ? Buffer.from(text) : text);
/** A kept text as a string, whether it was kept as bytes or as a string. */
const asString = (t: RecordText | undefined) => (t instanceof Uint8Array ? Buffer.from(t).toString() : t);
const texts = (text: string) => page(text)?.texts.map(asString);

describe('a page body parsed record by record from its bytes', () => {
  it('when the body is compact JSON, then it parses as JSON.parse does and each record text is exactly JSON.stringify of the record', () => {
    const data = sandboxInvoices();
    const body = JSON.stringify({ hasMore: true, continueFrom: 'a"b\\', data, after: [1, { x: '}' }] });
    const parsed = page(body)!;
    expect(parsed.body).toEqual(JSON.parse(body));
    expect(Object.keys(parsed.body)).toEqual(['hasMore', 'continueFrom', 'data', 'after']);
    expect(parsed.texts.map(asString)).toEqual(data.map((r) => JSON.stringify(r)));
    expect(dataElementTextsOf(parsed.body)).toBe(parsed.texts);
  });

  it('when the body is pretty-printed, then each record text parses back to the record', () => {
    const data = sandboxInvoices().slice(0, 5);
    const body = JSON.stringify({ data, hasMore: false }, null, '\t');
    const parsed = page(body)!;
    expect(parsed.body).toEqual(JSON.parse(body));
    expect(parsed.texts.map((t) => JSON.parse(asString(t)!))).toEqual(data);
  });

  it('when strings hold quotes, backslashes, brackets and non-ASCII text, then records are still cut at the right place', () => {
    const data = [
      { id: 1, note: 'he said "}" and \\' },
      { id: 2, note: '\\"', list: [[], {}, ['"]']] },
      { id: 3, 'key "with" quotes': 'é 😀 \u2028', nested: { a: { b: [null, true, false] } } },
    ];
    const body = `{"data":${JSON.stringify(data)}}`;
    expect(texts(body)).toEqual(data.map((r) => JSON.stringify(r)));
    expect(page(body)?.body.data).toEqual(data);
  });

  it('when a record needs no COPY escaping and is valid UTF-8, then its text is kept as its bytes, else as a string', () => {
    const bytes = Buffer.concat([
      Buffer.from(
        '{"data":[{"id":1,"name":"Zoë"},{"id":2,"name":"a\\"b"},{"id":3,\n"name":"c"},{"id":4,"name":"',
      ),
      Buffer.from([0xff]),
      Buffer.from('"}]}'),
    ]);
    const kept = page(bytes)!.texts;
    expect(kept[0]).toBeInstanceOf(Uint8Array);
    expect(Buffer.from(kept[0] as Uint8Array).toString()).toBe('{"id":1,"name":"Zoë"}');
    // A backslash, a newline between tokens, a byte that is not UTF-8: the text, as a string.
    expect(kept.slice(1)).toEqual([
      '{"id":2,"name":"a\\"b"}',
      '{"id":3,\n"name":"c"}',
      '{"id":4,"name":"\ufffd"}',
    ]);
  });

  it('when bytes are not valid UTF-8, then they read as U+FFFD, as the whole text decoded would', () => {
    const bytes = Buffer.concat([
      Buffer.from('{"data":[{"id":1,"name":"a'),
      Buffer.from([0xff, 0xc3]),
      Buffer.from('"}]}'),
    ]);
    const parsed = page(bytes)!;
    expect(parsed.body).toEqual(JSON.parse(new TextDecoder().decode(bytes)));
    expect((parsed.body.data[0] as { name: string }).name).toBe('a\ufffd\ufffd');
  });

  it('when a number is not written as JSON.stringify writes it, then that record has no text', () => {
    const body =
      '{"data":[{"id":1,"rate":0.0825,"n":-12},{"id":2,"rate":1.50},{"id":3,"n":1e3},' +
      '{"id":12345678901234567890},{"id":4,"n":-0},{"id":5,"n":1E-7},{"id":7,"n":123456789012345}]}';
    expect(texts(body)).toEqual([
      '{"id":1,"rate":0.0825,"n":-12}',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      '{"id":7,"n":123456789012345}',
    ]);
    expect(page(body)?.body).toEqual(JSON.parse(body));
  });

  it('when numbers are decimals of every shape, then a record keeps its text exactly when each reads back as written', () => {
    // Decided without reading the number back for plain decimals: check the shortcut against
    // String(Number(text)) over many shapes, both sides of each limit (15 significant digits,
    // 10^-6, trailing and leading zeros, minus signs, exponents, integers past 15 digits).
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const digits = (n: number, first = '123456789') =>
      Array.from({ length: n }, (_, i) =>
        i === 0 ? first[Math.floor(random() * first.length)] : String(Math.floor(random() * 10)),
      ).join('');
    const numbers = [
      '0',
      '-0',
      '0.5',
      '-0.5',
      '1.5',
      '1.50',
      '2.0',
      '0.0',
      '-0.0',
      '10',
      '100.25',
      '0.000001',
      '0.0000001',
      '-0.000001',
      '0.0000015',
      '123456789012345',
      '1234567890123456',
      '9007199254740993',
      '12345678901234.5',
      '123456789012345.6',
      '0.123456789012345',
      '0.1234567890123456',
      '0.000001234567890123',
      '33.123456',
      '-97.716257',
      '1e3',
      '1E-7',
      '1.5e2',
    ];
    for (let k = 0; k < 3_000; k++) {
      const sign = random() < 0.3 ? '-' : '';
      const whole = random() < 0.3 ? '0' : digits(1 + Math.floor(random() * 17));
      const zeros = whole === '0' ? '0'.repeat(Math.floor(random() * 8)) : '';
      const fraction =
        random() < 0.2 ? '' : `.${zeros}${digits(1 + Math.floor(random() * 16), '0123456789')}`;
      numbers.push(`${sign}${whole}${fraction}`);
    }
    const body = `{"data":[${numbers.map((n) => `{"n":${n}}`).join(',')}]}`;
    expect(texts(body)).toEqual(numbers.map((n) => (String(Number(n)) === n ? `{"n":${n}}` : undefined)));
  });

  it('when a number is very long, then the record only loses its text', () => {
    const body = `{"data":[{"id":1,"n":${'9'.repeat(300_000)}},{"id":2}]}`;
    expect(texts(body)).toEqual([undefined, '{"id":2}']);
    expect(page(body)?.body).toEqual(JSON.parse(body));
  });

  it('when an element is not an object, then it has no text', () => {
    expect(texts('{"data":[1,"x",null,{"id":1}]}')).toEqual([undefined, undefined, undefined, '{"id":1}']);
    expect(texts('{"data":[]}')).toEqual([]);
  });

  it('when the body is not an object with one data array written plainly, then it is left to JSON.parse of the whole text', () => {
    for (const body of [
      '{"hasMore":false}',
      '{"data":null}',
      '[{"data":[]}]',
      // JSON.parse keeps the last of repeated keys, an escaped one included.
      '{"data":[{"id":1}],"data":[{"id":2}]}',
      '{"data":[{"id":1}],"d\\u0061ta":[{"id":2},{"id":3}]}',
      '\ufeff{"data":[{"id":1}]}',
    ]) {
      expect(page(body), body).toBeUndefined();
    }
  });

  it('when the body is not valid JSON, then it is left to JSON.parse of the whole text, which refuses it', () => {
    for (const body of [
      '{"data":[{"id":1},]}',
      '{"data":[,{"id":1}]}',
      '{"data":[{"id":1} {"id":2}]}',
      '{"data":[{"id":1}],}',
      '{"data":[{"id":1}]} x',
      '{"data":[{"id":1},{"id":',
      '{"data":[{"id":tru}]}',
      '{"hasMore":tru,"data":[]}',
      '{"data":[{"id":1}]',
    ]) {
      expect(() => JSON.parse(body), body).toThrow();
      expect(page(body), body).toBeUndefined();
    }
  });
});
