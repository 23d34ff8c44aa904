import { describe, expect, it } from 'vitest';
import { createSandboxApp } from '../../../src/sandbox/index.js';
import { dataElementTexts } from '../../../src/servicetitan/json-source.js';

function sandboxInvoices(): unknown[] {
  const sandbox = createSandboxApp({ tenants: [{ tenantId: 1, customers: 50, invoices: 80 }] });
  const records = [...sandbox.groundTruth(1, 'invoices'), ...sandbox.groundTruth(1, 'customers')];
  sandbox.dispose();
  return records;
}

describe('record texts of a page body', () => {
  it('when the body is compact JSON, then each record text is exactly JSON.stringify of the record', () => {
    const data = sandboxInvoices();
    const body = JSON.stringify({ hasMore: true, continueFrom: 'a"b\\', data, after: [1, { x: '}' }] });
    expect(dataElementTexts(body)).toEqual(data.map((r) => JSON.stringify(r)));
  });

  it('when the body is pretty-printed, then each record text parses back to the record', () => {
    const data = sandboxInvoices().slice(0, 5);
    const body = JSON.stringify({ data, hasMore: false }, null, '\t');
    const texts = dataElementTexts(body)!;
    expect(texts.map((t) => JSON.parse(t!))).toEqual(data);
  });

  it('when strings hold quotes, backslashes and brackets, then records are still cut at the right place', () => {
    const data = [
      { id: 1, note: 'he said "}" and \\' },
      { id: 2, note: '\\"', list: [[], {}, ['"]']] },
      { id: 3, 'key "with" quotes': 'é 😀 \u2028', nested: { a: { b: [null, true, false] } } },
    ];
    const body = `{"data":${JSON.stringify(data)}}`;
    expect(dataElementTexts(body)).toEqual(data.map((r) => JSON.stringify(r)));
  });

  it('when a number is not written as JSON.stringify writes it, then that record has no text', () => {
    const body =
      '{"data":[{"id":1,"rate":0.0825,"n":-12},{"id":2,"rate":1.50},{"id":3,"n":1e3},' +
      '{"id":12345678901234567890},{"id":4,"n":-0},{"id":5,"n":007},{"id":6,"n":1E-7},{"id":7,"n":123456789012345}]}';
    expect(dataElementTexts(body)).toEqual([
      '{"id":1,"rate":0.0825,"n":-12}',
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      '{"id":7,"n":123456789012345}',
    ]);
  });

  it('when an element is not an object, then it has no text; when there is no data array, there are no texts', () => {
    expect(dataElementTexts('{"data":[1,"x",null,{"id":1}]}')).toEqual([
      undefined,
      undefined,
      undefined,
      '{"id":1}',
    ]);
    expect(dataElementTexts('{"hasMore":false}')).toBeUndefined();
    expect(dataElementTexts('{"data":null}')).toBeUndefined();
    expect(dataElementTexts('[{"data":[]}]')).toBeUndefined();
  });

  it('when the body repeats "data" (also escaped), then the last one counts, as in JSON.parse', () => {
    const body = '{"data":[{"id":1}],"d\\u0061ta":[{"id":2},{"id":3}]}';
    expect((JSON.parse(body) as { data: unknown[] }).data).toHaveLength(2);
    expect(dataElementTexts(body)).toEqual(['{"id":2}', '{"id":3}']);
  });
});
