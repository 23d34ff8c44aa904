import type { EntityManager } from '@mikro-orm/postgresql';

export interface DifferenceView {
  stream: string;
  kind: string;
  externalId: string | null;
  groupKey: string | null;
  field: string | null;
  reportValue: string | null;
  storedValue: string | null;
  line: number | null;
}

const PAGE = 5000;

/** RFC 4180: a cell with a comma, quote, line break or edge space is quoted, quotes doubled. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** A reconciliation's differences in the order they were found, read a page at a time. */
export async function* readDifferences(
  em: EntityManager,
  reconciliationId: number,
): AsyncGenerator<DifferenceView> {
  let after = '0';
  for (;;) {
    const page = await em.getConnection().execute<(DifferenceView & { id: string })[]>(
      `select id, stream, kind, external_id as "externalId", group_key as "groupKey", field,
              report_value as "reportValue", stored_value as "storedValue", line
       from reconciliation_differences where reconciliation_id = ? and id > ? order by id limit ${PAGE}`,
      [reconciliationId, after],
    );
    for (const { id: _id, ...row } of page) yield row;
    if (page.length < PAGE) return;
    after = page.at(-1)!.id;
  }
}

const columns: (keyof DifferenceView)[] = [
  'stream',
  'kind',
  'externalId',
  'groupKey',
  'field',
  'reportValue',
  'storedValue',
  'line',
];
const header = [
  'stream',
  'kind',
  'external_id',
  'group_key',
  'field',
  'report_value',
  'stored_value',
  'line',
];

/** The differences as CSV lines (header first). */
export async function* differencesCsv(rows: AsyncIterable<DifferenceView>): AsyncGenerator<string> {
  yield `${header.join(',')}\r\n`;
  for await (const row of rows) yield `${columns.map((c) => csvCell(row[c])).join(',')}\r\n`;
}

/** The differences as one JSON array, written an element at a time. */
export async function* differencesJson(rows: AsyncIterable<DifferenceView>): AsyncGenerator<string> {
  let first = true;
  yield '[';
  for await (const row of rows) {
    yield `${first ? '\n' : ',\n'}${JSON.stringify(row)}`;
    first = false;
  }
  yield first ? ']\n' : '\n]\n';
}
