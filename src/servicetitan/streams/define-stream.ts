import type { z } from 'zod';

/**
 * A stream is a declaration, not code: where its two feeds live, what a record looks like, how
 * records are keyed and which field moves forward. Paging, auth and state are elsewhere.
 */
export interface StreamDefinition<Schema extends z.ZodType = z.ZodType> {
  name: string;
  /** ServiceTitan API module; also what ModuleNotLicensed names. */
  module: 'crm' | 'accounting';
  /** Path of the export (change feed) endpoint, after `/tenant/{tenant}`. */
  exportPath: string;
  /** Path of the page-numbered list endpoint, after `/tenant/{tenant}`. */
  listPath: string;
  /** Extra list query parameters so that inactive records are returned too. */
  listParams: Record<string, string>;
  schema: Schema;
  primaryKey: 'id';
  cursorField: 'modifiedOn';
}

export function defineStream<Schema extends z.ZodType>(
  def: StreamDefinition<Schema>,
): StreamDefinition<Schema> {
  return Object.freeze(def);
}

export function modulePath(def: StreamDefinition, tenantId: string, kind: 'export' | 'list'): string {
  return `/${def.module}/v2/tenant/${encodeURIComponent(tenantId)}${kind === 'export' ? def.exportPath : def.listPath}`;
}
