import { AppError } from '../../errors.js';
import type { ScheduleInput, ScheduleService } from '../../schedules/index.js';
import type { RouteContext } from '../route.js';
import { visibleCredential } from './scope.js';

/** The schedule service behind the caller's company scope. */
export function createScheduleRoutesService(deps: { schedules: ScheduleService | undefined }) {
  const schedules = (): ScheduleService => {
    if (!deps.schedules) throw new AppError('not_configured', 'Schedules are not available on this server.');
    return deps.schedules;
  };
  return {
    async get(ctx: RouteContext, credentialId: number) {
      await visibleCredential(ctx, credentialId);
      const view = await schedules().get(credentialId);
      if (!view) throw new AppError('not_found', `Credential ${credentialId} has no schedule.`);
      return view;
    },
    async put(ctx: RouteContext, credentialId: number, input: ScheduleInput) {
      await visibleCredential(ctx, credentialId);
      return schedules().put(credentialId, input);
    },
    async remove(ctx: RouteContext, credentialId: number) {
      await visibleCredential(ctx, credentialId);
      await schedules().remove(credentialId);
    },
    async pause(ctx: RouteContext, credentialId: number) {
      await visibleCredential(ctx, credentialId);
      return schedules().pause(credentialId);
    },
    async unpause(ctx: RouteContext, credentialId: number) {
      await visibleCredential(ctx, credentialId);
      return schedules().unpause(credentialId);
    },
  };
}
