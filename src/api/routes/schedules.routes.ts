import { z } from 'zod';
import { previewRunTimes } from '../../schedules/preview.js';
import { route } from '../route.js';
import {
  idParams,
  scheduleBodySchema,
  schedulePreviewSchema,
  schedulePreviewView,
  scheduleView,
} from '../schemas.js';
import type { createScheduleRoutesService } from '../services/schedules.service.js';

export function scheduleRoutes(schedules: ReturnType<typeof createScheduleRoutesService>) {
  const tag = 'Schedules';
  const target = 'schedule';
  const path = '/credentials/:id/schedule';
  return [
    route({
      method: 'post',
      path: '/schedules/preview',
      tag,
      summary: 'Preview a schedule',
      access: 'read',
      body: schedulePreviewSchema,
      status: 200,
      response: schedulePreviewView,
      // Computed here, without Temporal: a schedule being edited does not exist there yet.
      handler: async ({ body }) => ({
        nextRunTimes: previewRunTimes(body.config, body.timeZone),
        jitterSeconds: body.config.jitterSeconds,
        timeZone: body.timeZone,
      }),
    }),
    route({
      method: 'get',
      path,
      tag,
      summary: 'Get a credential schedule',
      access: 'read',
      params: idParams,
      status: 200,
      response: scheduleView,
      handler: ({ params }, ctx) => schedules.get(ctx, params.id),
    }),
    route({
      method: 'put',
      path,
      tag,
      summary: 'Set a credential schedule',
      access: 'operate',
      params: idParams,
      body: scheduleBodySchema,
      status: 200,
      response: scheduleView,
      audit: { action: 'schedule.put', target, atomic: false },
      handler: ({ params, body }, ctx) => schedules.put(ctx, params.id, body),
    }),
    route({
      method: 'delete',
      path,
      tag,
      summary: 'Remove a credential schedule',
      access: 'operate',
      params: idParams,
      status: 204,
      response: z.undefined(),
      audit: { action: 'schedule.delete', target, atomic: false },
      handler: ({ params }, ctx) => schedules.remove(ctx, params.id),
    }),
    route({
      method: 'post',
      path: `${path}/pause`,
      tag,
      summary: 'Pause a credential schedule',
      access: 'operate',
      params: idParams,
      status: 200,
      response: scheduleView,
      audit: { action: 'schedule.pause', target, atomic: false },
      handler: ({ params }, ctx) => schedules.pause(ctx, params.id),
    }),
    route({
      method: 'post',
      path: `${path}/unpause`,
      tag,
      summary: 'Unpause a credential schedule',
      access: 'operate',
      params: idParams,
      status: 200,
      response: scheduleView,
      audit: { action: 'schedule.unpause', target, atomic: false },
      handler: ({ params }, ctx) => schedules.unpause(ctx, params.id),
    }),
  ];
}
