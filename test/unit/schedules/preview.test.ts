import { describe, expect, it } from 'vitest';
import { scheduleInputSchema } from '../../../src/schedules/index.js';
import { cronFor, previewRunTimes } from '../../../src/schedules/preview.js';

const from = new Date('2026-11-30T12:00:00Z'); // a Monday

/** Weekday, date and time of an instant in a time zone, e.g. "Mon 12/07 03:00". */
function local(iso: string, timeZone: string): string {
  return new Intl.DateTimeFormat('en-US', {
    timeZone,
    weekday: 'short',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
    .format(new Date(iso))
    .replaceAll(',', '');
}

const preview = (input: unknown, timeZone: string, count = 5) =>
  previewRunTimes(scheduleInputSchema.parse(input), timeZone, { from, count }).map((t) => local(t, timeZone));

describe('schedule preview', () => {
  it('when the default weekly schedule is previewed, then it lists the next five Mondays 03:00 in the company time zone', () => {
    expect(preview({ frequency: 'weekly' }, 'America/Chicago')).toEqual([
      'Mon 12/07 03:00',
      'Mon 12/14 03:00',
      'Mon 12/21 03:00',
      'Mon 12/28 03:00',
      'Mon 01/04 03:00',
    ]);
  });

  it('when a daily schedule is previewed in a zone ahead of UTC, then today is skipped once its time has passed', () => {
    // 12:00 UTC is 17:30 in Kolkata: 09:15 today has passed.
    expect(preview({ frequency: 'daily', hour: 9, minute: 15 }, 'Asia/Kolkata', 2)).toEqual([
      'Tue 12/01 09:15',
      'Wed 12/02 09:15',
    ]);
  });

  it('when an hourly schedule is previewed, then the steps restart at midnight as Temporal’s hour range does', () => {
    expect(preview({ frequency: 'hourly', everyHours: 5 }, 'UTC', 4)).toEqual([
      'Mon 11/30 15:00',
      'Mon 11/30 20:00',
      'Tue 12/01 00:00',
      'Tue 12/01 05:00',
    ]);
  });

  it('when a monthly schedule is previewed, then it runs on that day of each month', () => {
    expect(preview({ frequency: 'monthly', dayOfMonth: 28, hour: 4 }, 'Europe/Berlin', 3)).toEqual([
      'Mon 12/28 04:00',
      'Thu 01/28 04:00',
      'Sun 02/28 04:00',
    ]);
  });

  it('when a cron names both a day range and a weekday, then both must match (Temporal’s AND, not classic OR)', () => {
    // The first Monday of each month.
    expect(preview({ frequency: 'cron', cron: '0 6 1-7 * MON' }, 'UTC', 3)).toEqual([
      'Mon 12/07 06:00',
      'Mon 01/04 06:00',
      'Mon 02/01 06:00',
    ]);
    expect(cronFor(scheduleInputSchema.parse({ frequency: 'cron', cron: '  0 6 * * 7 ' }))).toBe('0 6 * * 7');
    expect(preview({ frequency: 'cron', cron: '0 6 * * 7' }, 'UTC', 1)).toEqual(['Sun 12/06 06:00']);
  });

  it('when the clock crosses into summer time, then a preview keeps the local wall time', () => {
    const times = previewRunTimes(
      scheduleInputSchema.parse({ frequency: 'weekly', dayOfWeek: 1 }),
      'America/Chicago',
      {
        from: new Date('2027-03-01T00:00:00Z'),
        count: 2,
      },
    );
    // 03:00 CST is 09:00Z; after the change on 14 March, 03:00 CDT is 08:00Z.
    expect(times).toEqual(['2027-03-01T09:00:00.000Z', '2027-03-08T09:00:00.000Z']);
    const later = previewRunTimes(scheduleInputSchema.parse({ frequency: 'weekly' }), 'America/Chicago', {
      from: new Date('2027-03-14T12:00:00Z'),
      count: 1,
    });
    expect(later).toEqual(['2027-03-15T08:00:00.000Z']);
  });
});
