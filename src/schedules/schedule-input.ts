import { z } from 'zod';

const fieldNames = ['minute', 'hour', 'day-of-month', 'month', 'day-of-week'] as const;
const fieldRanges: [number, number][] = [
  [0, 59],
  [0, 23],
  [1, 31],
  [1, 12],
  [0, 7],
];
const monthNames = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const dayNames = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const part = /^(\*|([0-9A-Za-z]+)(?:-([0-9A-Za-z]+))?)(?:\/([0-9]+))?$/;

/** A field value: a number in range, or a month/day name where the field takes names. */
function fieldValue(token: string, field: number): number | undefined {
  if (/^\d+$/.test(token)) return Number(token);
  const names = field === 3 ? monthNames : field === 4 ? dayNames : undefined;
  const index = names?.indexOf(token.toUpperCase()) ?? -1;
  if (index < 0) return undefined;
  return field === 3 ? index + 1 : index;
}

/**
 * Why a five-field cron (minute hour day-of-month month day-of-week) is not valid, or undefined.
 * Checked here so a bad expression is a 400 that says what is wrong, never a Temporal error.
 */
function cronProblem(cron: string): string | undefined {
  const fields = cron.trim().split(/\s+/);
  if (fields.length !== 5)
    return `cron needs 5 fields (minute hour day-of-month month day-of-week), got ${fields.length}`;
  for (let i = 0; i < 5; i++) {
    const name = fieldNames[i]!;
    const [lo, hi] = fieldRanges[i]!;
    for (const piece of fields[i]!.split(',')) {
      const m = part.exec(piece);
      if (!m) return `cron ${name} field "${fields[i]}" is not valid`;
      const [, , from, to, step] = m;
      if (step !== undefined && Number(step) < 1) return `cron ${name} step must be at least 1`;
      if (from === undefined) continue;
      const start = fieldValue(from, i);
      const end = to === undefined ? start : fieldValue(to, i);
      if (start === undefined || end === undefined) return `cron ${name} field "${fields[i]}" is not valid`;
      for (const v of [start, end])
        if (v < lo || v > hi) return `cron ${name} value ${v} is outside ${lo}-${hi}`;
      if (start > end) return `cron ${name} range ${from}-${to} runs backwards`;
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
