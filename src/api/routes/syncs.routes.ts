import { route } from '../route.js';
import {
  idParams,
  skippedPage,
  skippedQuery,
  syncEventData,
  syncListQuery,
  syncRunPage,
  syncRunView,
  syncStartSchema,
} from '../schemas.js';
import type { createSyncService } from '../services/syncs.service.js';

export function syncRoutes(syncs: ReturnType<typeof createSyncService>) {
  const tag = 'Syncs';
  const control = (action: 'pause' | 'resume' | 'cancel') =>
    route({
      method: 'post',
      path: `/syncs/:id/${action}`,
      tag,
      summary: `${action[0]!.toUpperCase()}${action.slice(1)} a running sync`,
      access: 'operate',
      params: idParams,
      status: 200,
      response: syncRunView,
      audit: { action: `sync.${action}`, target: 'sync_run', atomic: false },
      handler: ({ params }, ctx) => syncs[action](ctx, params.id),
    });
  return [
    route({
      method: 'post',
      path: '/credentials/:id/syncs',
      tag,
      summary: 'Start a sync now',
      access: 'operate',
      params: idParams,
      body: syncStartSchema,
      status: 202,
      response: syncRunView,
      audit: { action: 'sync.start', target: 'sync_run', atomic: false },
      handler: ({ params, body }, ctx) => syncs.start(ctx, params.id, body),
    }),
    route({
      method: 'get',
      path: '/syncs',
      tag,
      summary: 'List sync runs',
      access: 'read',
      query: syncListQuery,
      status: 200,
      response: syncRunPage,
      handler: ({ query }, ctx) => syncs.list(ctx, query),
    }),
    route({
      method: 'get',
      path: '/syncs/:id',
      tag,
      summary: 'Get a sync run with live progress',
      access: 'read',
      params: idParams,
      status: 200,
      response: syncRunView,
      handler: ({ params }, ctx) => syncs.get(ctx, params.id),
    }),
    control('pause'),
    control('resume'),
    control('cancel'),
    route({
      method: 'get',
      path: '/syncs/:id/skipped',
      tag,
      summary: 'List skipped records of a run',
      access: 'read',
      params: idParams,
      query: skippedQuery,
      status: 200,
      response: skippedPage,
      handler: ({ params, query }, ctx) => syncs.skipped(ctx, params.id, query),
    }),
    route({
      kind: 'sse',
      method: 'get',
      path: '/syncs/:id/events',
      tag,
      summary: 'Stream live progress of a run',
      access: 'read',
      params: idParams,
      event: syncEventData,
      handler: ({ params }, ctx, res) => syncs.events(ctx, params.id, res),
    }),
  ];
}
