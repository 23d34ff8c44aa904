import type { RecordOf } from '../../servicetitan/streams/index.js';
import type { SyncStreamName } from '../../workflows/definitions.js';
import type { MapContext, MapResult } from '../maps/types.js';

/** How a row property becomes COPY text: as is (String), as JSON, or as an ISO timestamp. */
export type ColumnEncoding = 'text' | 'json' | 'date';

export interface TargetColumn {
  name: string;
  /** The row property it comes from. */
  from: string;
  encode?: ColumnEncoding;
}

/** The table a stream's rows land in, and the columns that identify a row. */
export interface TargetTable {
  table: string;
  /** Column names of the unique key the merge conflicts on. */
  key: readonly string[];
  /** Whether rows record the run that last wrote them (`sync_run_id`). */
  runColumn: boolean;
  columns: readonly TargetColumn[];
}

/**
 * A synced stream is one declaration: the ServiceTitan feed it reads (which also names it), the
 * map from a source record to a row, and the table and key the rows are merged into. Paging,
 * commits, cursors and counts are the sync path's, the same for every stream: adding a stream is
 * one new file here and its name in `syncStreamNames`.
 */
export interface SyncStream<S extends SyncStreamName = SyncStreamName, Row = unknown> {
  name: S;
  map(record: RecordOf<S>, context: MapContext): MapResult<Row>;
  target: TargetTable;
}

export function defineSyncStream<S extends SyncStreamName, Row>(
  stream: SyncStream<S, Row>,
): SyncStream<S, Row> {
  return Object.freeze(stream);
}

/** The columns every synced source record carries, whatever the stream. */
export const sourceRecordColumns: readonly TargetColumn[] = [
  { name: 'company_id', from: 'companyId' },
  { name: 'environment', from: 'environment' },
  { name: 'software', from: 'software' },
  { name: 'external_id', from: 'externalId' },
  { name: 'active', from: 'active' },
  { name: 'source_created_on', from: 'sourceCreatedOn', encode: 'date' },
  { name: 'source_modified_on', from: 'sourceModifiedOn', encode: 'date' },
  { name: 'raw', from: 'raw', encode: 'json' },
];

/** The key of a synced source record: Integration and Production ids overlap, so it names both. */
export const sourceRecordKey = ['company_id', 'environment', 'software', 'external_id'] as const;
