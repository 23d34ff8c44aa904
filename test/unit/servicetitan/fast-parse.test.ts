import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createSandboxApp } from '../../../src/sandbox/index.js';
import type { SandboxStream } from '../../../src/sandbox/types.js';
import { fastParser } from '../../../src/servicetitan/fast-parse.js';
import { type StreamName, streams } from '../../../src/servicetitan/streams/index.js';

const fixtures: Record<StreamName, string> = {
  customers: 'export-customers.json',
  customerContacts: 'export-customer-contacts.json',
  locations: 'list-locations.json',
  invoices: 'export-invoices.json',
};
const sandboxStreams: Record<StreamName, SandboxStream> = {
  customers: 'customers',
  customerContacts: 'contacts',
  locations: 'locations',
  invoices: 'invoices',
};

/** Sandbox records (with their legacy oddities) and the fixtures (with their drift and bad records). */
function samples(stream: StreamName): unknown[] {
  const sandbox = createSandboxApp({ tenants: [{ tenantId: 1, customers: 150, invoices: 200 }] });
  const generated = [...sandbox.groundTruth(1, sandboxStreams[stream])];
  sandbox.dispose();
  const fixture = JSON.parse(
    readFileSync(new URL(`../../fixtures/servicetitan/${fixtures[stream]}`, import.meta.url), 'utf8'),
  ) as { data: unknown[] };
  return [...JSON.parse(JSON.stringify(generated)), ...fixture.data];
}

/** Values that sit on either side of what the schemas take. */
const odd: unknown[] = [
  null,
  '',
  ' ',
  'text',
  '12.50',
  '1e3',
  '-0.5',
  '2024-01-15T10:00:00Z',
  0,
  -1,
  1.5,
  12.5,
  2 ** 60,
  true,
  false,
  [],
  [null],
  [1, 2],
  ['a'],
  [{}],
  {},
  { id: 1 },
  { id: -1, name: 3 },
];

/** The record with the value at `path` replaced (or removed when `value` is undefined). */
function variant(record: unknown, path: (string | number)[], value: unknown): unknown {
  const copy = structuredClone(record) as Record<string | number, unknown>;
  let target = copy;
  for (const key of path.slice(0, -1)) target = target[key] as Record<string | number, unknown>;
  const last = path[path.length - 1]!;
  if (value === undefined) delete target[last];
  else target[last] = value;
  return copy;
}

/** Paths to every value in the record, nested objects and the first element of arrays included. */
function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) {
    return value.length > 0 ? [[...prefix, 0], ...paths(value[0], [...prefix, 0])] : [];
  }
  if (typeof value !== 'object' || value === null) return [];
  return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
}

/** The fast parser gives zod's verdict, or none (zod decides); when it accepts, zod's output. */
function expectAgreement(
  parse: NonNullable<ReturnType<typeof fastParser>>,
  schema: z.ZodType,
  record: unknown,
) {
  const byZod = schema.safeParse(structuredClone(record));
  const input = structuredClone(record);
  const fast = parse(input);
  if (fast === undefined) {
    // A record it does not take is left as it came, for zod and the skipped-record report.
    expect(input).toStrictEqual(record);
    return false;
  }
  expect(byZod.success).toBe(true);
  expect(fast.value).toStrictEqual(byZod.data);
  return true;
}

describe('fast record parser', () => {
  for (const stream of Object.keys(streams) as StreamName[]) {
    const schema = streams[stream].schema as z.ZodType;

    it(`${stream}: accepts every record zod accepts, with zod's output, and no record zod refuses`, () => {
      const parse = fastParser(schema);
      expect(parse).toBeDefined();
      let accepted = 0;
      let valid = 0;
      for (const record of samples(stream)) {
        if (schema.safeParse(structuredClone(record)).success) valid++;
        if (expectAgreement(parse!, schema, record)) accepted++;
      }
      expect(valid).toBeGreaterThan(100);
      expect(accepted).toBe(valid);
    });

    it(`${stream}: agrees with zod when any one field is removed or given an odd value`, () => {
      const parse = fastParser(schema)!;
      const base = samples(stream).filter((r) => schema.safeParse(structuredClone(r)).success);
      // The richest records: the most fields to vary.
      const pick = base.sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length).slice(0, 2);
      let refusedByZod = 0;
      for (const record of pick) {
        for (const path of paths(record)) {
          for (const value of [undefined, ...odd]) {
            const changed = variant(record, path, value);
            if (!schema.safeParse(structuredClone(changed)).success) refusedByZod++;
            expectAgreement(parse, schema, changed);
          }
        }
      }
      // The variants did reach records zod refuses, so the agreement above was tested both ways.
      expect(refusedByZod).toBeGreaterThan(0);
    }, 120_000);
  }

  it('when a record carries an own __proto__ key, then it is left to zod', () => {
    const parse = fastParser(streams.customerContacts.schema)!;
    const record = JSON.parse(
      '{"id":1,"customerId":2,"modifiedOn":"2024-01-15T10:00:00Z","__proto__":{"x":1}}',
    ) as unknown;
    expect(parse(record)).toBeUndefined();
  });

  it('when a schema uses what it does not know (a stripping object, a string format), then there is no fast parser', () => {
    expect(fastParser(z.object({ a: z.string() }))).toBeUndefined();
    expect(fastParser(z.looseObject({ a: z.email() }))).toBeUndefined();
    expect(fastParser(z.looseObject({ a: z.string().min(2) }))).toBeUndefined();
    expect(fastParser(z.looseObject({ a: z.int() }))).toBeUndefined();
    expect(fastParser(z.looseObject({ a: z.coerce.number() }))).toBeUndefined();
  });

  it('when a refinement or transform fails, then the record is refused and left untouched', () => {
    const schema = z.looseObject({
      list: z
        .array(z.number())
        .nullish()
        .transform((v) => v ?? []),
      amount: z.union([z.string(), z.number().transform((n) => String(n))]).refine((v) => v !== '0'),
    });
    const parse = fastParser(schema)!;
    expect(parse({ list: null, amount: 1 })).toEqual({ value: { list: [], amount: '1' }, changed: true });
    expect(parse({ list: [], amount: '1' })).toEqual({ value: { list: [], amount: '1' }, changed: false });
    const refused = { list: null, amount: 0 };
    expect(parse(refused)).toBeUndefined();
    expect(refused).toEqual({ list: null, amount: 0 });
  });
});
