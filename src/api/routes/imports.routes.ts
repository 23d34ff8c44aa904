import { route } from '../route.js';
import { idParams, importQuery, importResultView } from '../schemas.js';
import type { createImportService } from '../services/imports.service.js';

export function importRoutes(imports: ReturnType<typeof createImportService>) {
  return [
    route({
      method: 'post',
      path: '/companies/:id/imports',
      tag: 'Imports',
      summary:
        'Import a ServiceTitan report export (multipart/form-data, one CSV file part) into the company’s rows',
      access: 'operate',
      params: idParams,
      query: importQuery,
      status: 201,
      response: importResultView,
      // The rows commit in the import's own transaction, not the route's.
      audit: { action: 'import.create', target: 'sync_run', atomic: false },
      handler: ({ params, query }, ctx, req) => imports.create(ctx, params.id, query, req),
    }),
  ];
}
