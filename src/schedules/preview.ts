import { Cron } from 'croner';
import type { ScheduleConfig } from './schedule-input.js';

/**
 * The same configuration as `specFor` gives Temporal, as a five-field cron. Temporal's calendar
 * specs and cron strings match a time only when every field matches (day of month AND day of
 * week, unlike classic cron's OR), hence `domAndDow` below.
 */
export function cronFor(config: ScheduleConfig): string {
  switch (config.frequency) {
    case 'weekly':
      return `${config.minute} ${config.hour} * * ${config.dayOfWeek}`;
    case 'daily':
      return `${config.minute} ${config.hour} * * *`;
    case 'monthly':
      return `${config.minute} ${config.hour} ${config.dayOfMonth} * *`;
    case 'hourly':
      return `0 0-23/${config.everyHours} * * *`;
    case 'cron':
      return config.cron.trim();
  }
}

/**
 * The next `count` run times of a configuration in a time zone, computed here without asking
 * Temporal (a schedule being edited does not exist there yet). Jitter is not applied: each real
 * run starts up to `jitterSeconds` after the time shown.
 */
export function previewRunTimes(
  config: ScheduleConfig,
  timeZone: string,
  options: { count?: number; from?: Date } = {},
): string[] {
  const cron = new Cron(cronFor(config), { timezone: timeZone, domAndDow: true, mode: '5-part' });
  return cron.nextRuns(options.count ?? 5, options.from ?? new Date()).map((d) => d.toISOString());
}
