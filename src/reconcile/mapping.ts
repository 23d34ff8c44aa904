import { z } from 'zod';
import { AppError } from '../errors.js';
import type { ColumnMapping, ReportKind } from '../ingest/import/report-columns.js';

const mappingSchema = z.record(z.string(), z.string().nullable());
const perKindSchema = z.strictObject({
  customers: mappingSchema.optional(),
  invoices: mappingSchema.optional(),
});

/**
 * A reconciliation's mapping file: one column mapping (as an import's) for both reports, or one
 * per kind, `{"customers": {…}, "invoices": {…}}`.
 */
export function parseReconcileMapping(json: unknown): Partial<Record<ReportKind, ColumnMapping>> {
  const perKind = perKindSchema.safeParse(json);
  if (perKind.success && Object.keys(perKind.data).length) return perKind.data;
  const one = mappingSchema.safeParse(json);
  if (one.success) return { customers: one.data, invoices: one.data };
  throw new AppError(
    'validation_failed',
    'The mapping is a JSON object of report column → field name (or null to ignore the column), or {"customers": {…}, "invoices": {…}}.',
  );
}
