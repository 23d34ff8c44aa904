import { route } from '../route.js';
import {
  differenceCsv,
  differenceList,
  idParams,
  reconcileQuery,
  reconciliationList,
  reconciliationView,
} from '../schemas.js';
import type { createReconciliationService } from '../services/reconciliations.service.js';

export function reconciliationRoutes(reconciliations: ReturnType<typeof createReconciliationService>) {
  const tag = 'Reconciliations';
  const download = (format: 'csv' | 'json') =>
    route({
      method: 'get',
      kind: 'download',
      path: `/reconciliations/:id/differences.${format}`,
      tag,
      summary: `Download a reconciliation's differences as ${format.toUpperCase()}`,
      // Differences show customers' names, emails and phones: for those who see the data.
      access: 'operate',
      params: idParams,
      contentType: format === 'csv' ? 'text/csv' : 'application/json',
      response: format === 'csv' ? differenceCsv : differenceList,
      handler: ({ params }, ctx, res) => reconciliations.download(ctx, params.id, format, res),
    });
  return [
    route({
      method: 'post',
      path: '/credentials/:id/reconciliations',
      tag,
      summary:
        'Reconcile ServiceTitan report exports (multipart/form-data: customers and/or invoices file parts) with the credential’s stored rows',
      access: 'operate',
      params: idParams,
      query: reconcileQuery,
      status: 201,
      response: reconciliationView,
      // The reconciliation commits in its own transaction, not the route's.
      audit: { action: 'reconciliation.create', target: 'reconciliation', atomic: false },
      handler: ({ params, query }, ctx, req) =>
        reconciliations.create(
          ctx,
          params.id,
          req,
          query.from && query.to ? { from: query.from, to: query.to } : undefined,
        ),
    }),
    route({
      method: 'get',
      path: '/credentials/:id/reconciliations',
      tag,
      summary: 'List a credential’s reconciliations, newest first (the last 100)',
      access: 'read',
      params: idParams,
      status: 200,
      response: reconciliationList,
      handler: ({ params }, ctx) => reconciliations.list(ctx, params.id),
    }),
    route({
      method: 'get',
      path: '/reconciliations/:id',
      tag,
      summary: 'Get a reconciliation’s summary',
      access: 'read',
      params: idParams,
      status: 200,
      response: reconciliationView,
      handler: ({ params }, ctx) => reconciliations.get(ctx, params.id),
    }),
    download('csv'),
    download('json'),
  ];
}
