import type { MikroORM } from '@mikro-orm/postgresql';
import type { Pool } from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Company } from '../../../src/db/entities/index.js';
import type { MemberRow } from '../../../src/ingest/maps/types.js';
import { customersSyncStream } from '../../../src/ingest/streams/index.js';
import {
  type KeyLookup,
  refreshDerivationStatistics,
  toJsonbText,
  upsertRows,
} from '../../../src/ingest/upsert.js';
import { rememberRecordText } from '../../../src/servicetitan/json-source.js';
import { connectTestOrm, truncateAll } from '../../support/integration.js';

function member(companyId: number, id: string, modified: string, extra: Partial<MemberRow> = {}): MemberRow {
  return {
    companyId,
    environment: 'production',
    software: 'ServiceTitan',
    externalId: id,
    active: true,
    sourceCreatedOn: null,
    sourceModifiedOn: new Date(modified),
    raw: { id: Number(id) },
    name: `Customer ${id}`,
    firstName: null,
    lastName: null,
    customerType: 'Commercial',
    street: null,
    unit: null,
    city: null,
    state: null,
    zip: null,
    country: null,
    balance: '0.00',
    doNotMail: null,
    doNotService: null,
    mergedToExternalId: null,
    ...extra,
  };
}

describe('the COPY + merge upsert', () => {
  let orm: MikroORM;
  let companyId: number;

  beforeAll(async () => {
    orm = await connectTestOrm();
  });
  afterAll(() => orm?.close());
  beforeEach(async () => {
    await truncateAll(orm);
    const em = orm.em.fork();
    const company = em.create(Company, { name: 'Upsert Co' });
    await em.flush();
    companyId = company.id;
  });

  const pool = async () => (await orm.em.getConnection().getNativeClient()) as unknown as Pool;

  async function write(rows: MemberRow[]): Promise<number> {
    const client = await (await pool()).connect();
    try {
      await client.query('begin');
      const n = await upsertRows(client, customersSyncStream.target, rows, null);
      await client.query('commit');
      return n;
    } finally {
      client.release();
    }
  }

  async function stored() {
    return orm.em
      .fork()
      .getConnection()
      .execute<{ external_id: string; name: string; zip: string | null; raw: unknown }[]>(
        'select external_id, name, zip, raw from members_stream where company_id = ? order by external_id',
        [companyId],
      );
  }

  it('when a page repeats a record, then the newest version is stored once and the page does not fail', async () => {
    await write([
      member(companyId, '1', '2024-01-02T00:00:00Z', { name: 'newer' }),
      member(companyId, '1', '2024-01-01T00:00:00Z', { name: 'older' }),
      member(companyId, '2', '2024-01-01T00:00:00Z'),
    ]);
    expect((await stored()).map((r) => [r.external_id, r.name])).toEqual([
      ['1', 'newer'],
      ['2', 'Customer 2'],
    ]);
  });

  it('when an older version arrives after a newer one, then the newer one stays', async () => {
    await write([member(companyId, '1', '2024-01-02T00:00:00Z', { name: 'newer' })]);
    expect(await write([member(companyId, '1', '2024-01-01T00:00:00Z', { name: 'older' })])).toBe(0);
    expect((await stored())[0]?.name).toBe('newer');
  });

  it('when values carry tabs, newlines, backslashes, NULs, lone surrogates or great length, then they are stored, not rejected', async () => {
    const zip = `9${'0'.repeat(200)}`;
    const name = 'Tab\there\nnew line \\ back\\slash "quoted" 😀';
    await write([
      member(companyId, '1', '2024-01-01T00:00:00Z', {
        name,
        zip,
        raw: { note: 'nul\u0000 and cut \ud83d', name },
      }),
    ]);
    const [row] = await stored();
    expect(row?.name).toBe(name);
    expect(row?.zip).toBe(zip);
    expect(row?.raw).toEqual({ note: 'nul and cut \ufffd', name });
  });

  it('when a batch outgrows the COPY buffer with multi-byte text and smaller batches follow, then every row is stored as written', async () => {
    // ~3 MB of two- and four-byte characters: more than the 1 MB a COPY buffer starts with.
    const long = 'é😀'.repeat(500_000);
    await write([member(companyId, '1', '2024-01-01T00:00:00Z', { name: 'Long', raw: { long } })]);
    // The next COPYs reuse the grown buffer: a shorter batch must not carry the longer one's tail.
    await write([member(companyId, '2', '2024-01-01T00:00:00Z', { name: 'Zoë', raw: { id: 2 } })]);
    await write([member(companyId, '3', '2024-01-01T00:00:00Z', { name: 'Renée', raw: { id: 3 } })]);
    const rows = await stored();
    expect(rows.map((r) => [r.external_id, r.name])).toEqual([
      ['1', 'Long'],
      ['2', 'Zoë'],
      ['3', 'Renée'],
    ]);
    expect(rows[0]?.raw).toEqual({ long });
    expect(rows.map((r) => r.raw).slice(1)).toEqual([{ id: 2 }, { id: 3 }]);
  });

  it('when a record comes with its JSON text, then raw is that text as received, the same JSON value JSON.stringify of the record gives', async () => {
    const texts = [
      // Whitespace between tokens (a tab and a newline, which COPY text must escape), escapes.
      '{ "id" : 1,\t"name": "Quote \\" and back\\\\slash", "rate": 0.0825,\n "list": [1, {"a": null}], "u": "\\u00e9 \\u2028" }',
      // What jsonb refuses, written as escapes: mended, not rejected.
      '{"id":2,"note":"nul\\u0000 and cut \\ud83d","pair":"\\ud83d\\ude00"}',
      '{"id":3,"name":"plain é 😀"}',
      // Kept as its UTF-8 bytes (a page's record that needs no escaping): copied as they are.
      '{"name":"Zoë 😀","id":4,"list":[1,{"a":null}]}',
    ];
    const rows = texts.map((text, i) => {
      const raw = JSON.parse(text) as object;
      rememberRecordText(raw, i === 3 ? Buffer.from(text) : text);
      return member(companyId, String(i + 1), '2024-01-01T00:00:00Z', { raw });
    });
    await write(rows);
    const same = await orm.em
      .fork()
      .getConnection()
      .execute<{ external_id: string; same: boolean; text: string }[]>(
        `select m.external_id, m.raw::jsonb = (e.value ->> 'json')::jsonb as same, m.raw::text as text
           from members_stream m join jsonb_array_elements(?::jsonb) e on e.value ->> 'id' = m.external_id
          where m.company_id = ? order by m.external_id`,
        [JSON.stringify(rows.map((r) => ({ id: r.externalId, json: toJsonbText(r.raw) }))), companyId],
      );
    expect(same.map((r) => r.same)).toEqual([true, true, true, true]);
    // Verbatim, whitespace and key order included, except where jsonb's refusals were mended.
    expect(same[0]?.text).toBe(texts[0]);
    expect(same[1]?.text).toBe(toJsonbText(rows[1]?.raw));
    expect(same[2]?.text).toBe(texts[2]);
    expect(same[3]?.text).toBe(texts[3]);
  });

  it('when a page mixes new and stored records, then new ones are inserted, stored ones updated only when newer, and the count says so', async () => {
    await write([
      member(companyId, '1', '2024-01-02T00:00:00Z', { name: 'one v2' }),
      member(companyId, '2', '2024-01-02T00:00:00Z', { name: 'two v2' }),
    ]);
    const written = await write([
      member(companyId, '1', '2024-01-03T00:00:00Z', { name: 'one v3' }),
      member(companyId, '2', '2024-01-01T00:00:00Z', { name: 'two v1' }),
      member(companyId, '3', '2024-01-01T00:00:00Z', { name: 'three' }),
    ]);
    expect(written).toBe(2);
    expect((await stored()).map((r) => [r.external_id, r.name])).toEqual([
      ['1', 'one v3'],
      ['2', 'two v2'],
      ['3', 'three'],
    ]);
  });

  it("when another transaction inserts a new record's key while the page is copied, then the page is merged instead and the newer version wins", async () => {
    const other = await (await pool()).connect();
    const page = await (await pool()).connect();
    try {
      // The other transaction holds an uncommitted row with key 7: the page's check cannot see it,
      // so the page COPYs straight into the table and waits on the unique index.
      await other.query('begin');
      await other.query(
        `insert into members_stream (company_id, environment, software, external_id, active, source_modified_on, raw)
         values ($1, 'production', 'ServiceTitan', '7', true, '2024-01-01T00:00:00Z', '{}')`,
        [companyId],
      );
      const { rows } = await page.query<{ pid: number }>('select pg_backend_pid() as pid');
      await page.query('begin');
      const writing = upsertRows(
        page,
        customersSyncStream.target,
        [
          member(companyId, '7', '2024-01-05T00:00:00Z', { name: 'page' }),
          member(companyId, '8', '2024-01-05T00:00:00Z'),
        ],
        null,
      );
      // Generous: on a busy machine the page may take a while to reach the lock.
      await expect
        .poll(
          async () => {
            const r = await orm.em
              .fork()
              .getConnection()
              .execute<{ wait: string | null }[]>(
                'select wait_event_type as wait from pg_stat_activity where pid = ?',
                [rows[0]!.pid],
              );
            return r[0]?.wait;
          },
          { timeout: 30_000 },
        )
        .toBe('Lock');
      await other.query('commit');
      expect(await writing).toBe(2);
      await page.query('commit');
    } finally {
      other.release();
      page.release();
    }
    expect((await stored()).map((r) => [r.external_id, r.name])).toEqual([
      ['7', 'page'],
      ['8', 'Customer 8'],
    ]);
  });

  it("when a lookup finds none of a page's keys stored, then the next pages skip it until one meets a stored key, which is merged as a looked-up page would be", async () => {
    await write([
      member(companyId, '5', '2024-01-02T00:00:00Z', { name: 'five v2' }),
      member(companyId, '6', '2024-01-02T00:00:00Z', { name: 'six v2' }),
    ]);
    const lookup: KeyLookup = { skip: false };
    const client = await (await pool()).connect();
    // The real client, its statements counted: a lookup is the one that unnests the keys.
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    let lookups = 0;
    client.query = ((...args: unknown[]) => {
      if (typeof args[0] === 'string' && args[0].includes('unnest(')) lookups++;
      return query(...args);
    }) as typeof client.query;
    const page = async (rows: MemberRow[]) => {
      await client.query('begin');
      const written = await upsertRows(client, customersSyncStream.target, rows, null, lookup);
      await client.query('commit');
      return written;
    };
    try {
      expect(await page([member(companyId, '1', '2024-01-01T00:00:00Z')])).toBe(1);
      expect([lookups, lookup.skip]).toEqual([1, true]);
      expect(await page([member(companyId, '2', '2024-01-01T00:00:00Z')])).toBe(1);
      expect(lookups).toBe(1);
      // Without a lookup the COPY meets 5 and 6 on the unique key: merged, the newer version wins.
      const mixed = [
        member(companyId, '4', '2024-01-01T00:00:00Z'),
        member(companyId, '5', '2024-01-03T00:00:00Z', { name: 'five v3' }),
        member(companyId, '6', '2024-01-01T00:00:00Z', { name: 'six v1' }),
      ];
      expect(await page(mixed)).toBe(2);
      expect([lookups, lookup.skip]).toEqual([1, false]);
      expect(await page([member(companyId, '7', '2024-01-01T00:00:00Z')])).toBe(1);
      expect(lookups).toBe(2);
    } finally {
      client.query = query as typeof client.query;
      client.release();
    }
    expect((await stored()).map((r) => [r.external_id, r.name])).toEqual([
      ['1', 'Customer 1'],
      ['2', 'Customer 2'],
      ['4', 'Customer 4'],
      ['5', 'five v3'],
      ['6', 'six v2'],
      ['7', 'Customer 7'],
    ]);
  });

  it('when a load leaves the statistics far behind, then they are refreshed before the derivation plans its join, and only then', async () => {
    // The derivation's plan on stale statistics (a table thought empty) is a nested loop over
    // every customer and every contact: 127 s for a 20,000-customer first load.
    await write(
      Array.from({ length: 3000 }, (_, i) => member(companyId, String(i + 1), '2024-01-01T00:00:00Z')),
    );
    const em = orm.em.fork();
    // Counters reach the statistics system within a second or so of the commit.
    await expect.poll(() => refreshDerivationStatistics(em), { timeout: 10_000 }).toContain('members_stream');
    const [after] = await em.getConnection().execute<{ analyzed: boolean; tuples: number }[]>(
      `select s.last_analyze is not null as analyzed, c.reltuples as tuples
           from pg_stat_user_tables s join pg_class c on c.oid = s.relid where s.relname = 'members_stream'`,
    );
    expect(after).toEqual({ analyzed: true, tuples: 3000 });
    expect(await refreshDerivationStatistics(em)).not.toContain('members_stream');
  });
});
