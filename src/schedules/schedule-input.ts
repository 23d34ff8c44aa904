import { z } from 'zod';

/** Five fields (minute hour day-of-month month day-of-week), the cron Temporal Schedules accept. */
const cronField =
  /^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(\/[0-9]+)?)*$/;

function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5)
    return `cron needs 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  const names = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'];
  const ranges: [number, number][] = [
    [0, 59],
    [0, 23],
    [1, 31],
    [1, 12],
    [0, 7],
  ];
  for (let i = 0; i < 5; i++) {
    const field = fields[i]!;
    if (!cronField.test(field)) return `cron ${names[i]} field "${field}" is not valid`;
    for (const n of field.match(/\d+/g) ?? []) {
      const value = Number(n);
      const [lo, hi] = ranges[i]!;
      if (!/\/\d+/.test(field) || !field.includes(`/${n}`)) {
        if (value < lo || value > hi) return `cron ${names[i]} value ${value} is outside ${lo}-${hi}`;
      }
    }
  }
  return undefined;
}

const time = { hour: z.int().min(0).max(23).default(3), minute: z.int().min(0).max(59).default(0) };
const common = {
  /** Spread start times so many tenants do not all hit ServiceTitan at once. */
  jitterSeconds: z
    .int()
    .min(0)
    .max(6 * 3600)
    .default(900),
};

/** What a user may ask for; every field is checked with a message that says what is wrong. */
export const scheduleInputSchema = z.discriminatedUnion('frequency', [
  z.strictObject({
    frequency: z.literal('weekly'),
    dayOfWeek: z.int().min(0).max(6).default(1),
    ...time,
    ...common,
  }),
  z.strictObject({ frequency: z.literal('daily'), ...time, ...common }),
  z.strictObject({
    frequency: z.literal('monthly'),
    // 1-28: every month has these days.
    dayOfMonth: z.int().min(1).max(28).default(1),
    ...time,
    ...common,
  }),
  z.strictObject({
    frequency: z.literal('hourly'),
    everyHours: z.int().min(1).max(24).default(6),
    ...common,
  }),
  z.strictObject({
    frequency: z.literal('cron'),
    cron: z
      .string()
      .max(128)
      .superRefine((value, ctx) => {
        const problem = cronProblem(value);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    ...common,
  }),
]);

export type ScheduleInput = z.input<typeof scheduleInputSchema>;
export type ScheduleConfig = z.output<typeof scheduleInputSchema>;

/** The product's default: weekly, Monday 03:00 in the company's time zone, 15 min jitter. */
export const defaultSchedule: ScheduleConfig = scheduleInputSchema.parse({ frequency: 'weekly' });
