import { keepPreviousData, useMutation, useQuery } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { api, ok } from '../../api/client';
import { inZone } from './shared';

type Frequency = 'weekly' | 'daily' | 'monthly' | 'hourly';

const days = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const everyHours = [1, 2, 3, 4, 6, 8, 12];
/** The API's default spread of start times (src/schedules/schedule-input.ts). */
const JITTER_SECONDS = 900;

/** The schedule body for the API, from the form's fields. */
function configOf(f: { frequency: Frequency; day: number; dayOfMonth: number; time: string; hours: number }) {
  const [hour = 3, minute = 0] = f.time.split(':').map(Number);
  const jitterSeconds = JITTER_SECONDS;
  switch (f.frequency) {
    case 'weekly':
      return { frequency: 'weekly' as const, dayOfWeek: f.day, hour, minute, jitterSeconds };
    case 'daily':
      return { frequency: 'daily' as const, hour, minute, jitterSeconds };
    case 'monthly':
      return { frequency: 'monthly' as const, dayOfMonth: f.dayOfMonth, hour, minute, jitterSeconds };
    case 'hourly':
      return { frequency: 'hourly' as const, everyHours: f.hours, jitterSeconds };
  }
}

export function ScheduleStep({
  credentialId,
  timeZone,
  onSaved,
}: {
  credentialId: number;
  timeZone: string;
  onSaved: (nextRunTimes: string[]) => void;
}) {
  const id = useId();
  const [frequency, setFrequency] = useState<Frequency>('weekly');
  const [day, setDay] = useState(1);
  const [dayOfMonth, setDayOfMonth] = useState(1);
  const [time, setTime] = useState('03:00');
  const [hours, setHours] = useState(6);
  const config = configOf({ frequency, day, dayOfMonth, time: time || '03:00', hours });

  const preview = useQuery({
    queryKey: ['schedule-preview', config, timeZone],
    queryFn: () => ok(api.POST('/api/schedules/preview', { body: { config, timeZone } })),
    placeholderData: keepPreviousData,
  });
  const save = useMutation({
    mutationFn: () =>
      ok(
        api.PUT('/api/credentials/{id}/schedule', {
          params: { path: { id: String(credentialId) } },
          body: config,
        }),
      ),
    onSuccess: (saved) => onSaved(saved.nextRunTimes),
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };

  return (
    <form onSubmit={submit} className="wizard-step" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>When should it sync?</h2>
      <p className="muted">
        Each run fetches what changed since the last one. Times are in the company’s time zone,{' '}
        <strong>{timeZone}</strong>.
      </p>
      <div className="field-row">
        <div className="field">
          <label htmlFor={`${id}-freq`}>Frequency</label>
          <select
            id={`${id}-freq`}
            value={frequency}
            onChange={(e) => setFrequency(e.target.value as Frequency)}
          >
            <option value="weekly">Weekly</option>
            <option value="daily">Daily</option>
            <option value="monthly">Monthly</option>
            <option value="hourly">Every few hours</option>
          </select>
        </div>
        {frequency === 'weekly' && (
          <div className="field">
            <label htmlFor={`${id}-day`}>Day</label>
            <select id={`${id}-day`} value={day} onChange={(e) => setDay(Number(e.target.value))}>
              {days.map((d, i) => (
                <option key={d} value={i}>
                  {d}
                </option>
              ))}
            </select>
          </div>
        )}
        {frequency === 'monthly' && (
          <div className="field">
            <label htmlFor={`${id}-dom`}>Day of the month</label>
            <select
              id={`${id}-dom`}
              value={dayOfMonth}
              onChange={(e) => setDayOfMonth(Number(e.target.value))}
            >
              {Array.from({ length: 28 }, (_, i) => i + 1).map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
          </div>
        )}
        {frequency === 'hourly' ? (
          <div className="field">
            <label htmlFor={`${id}-hours`}>Every</label>
            <select id={`${id}-hours`} value={hours} onChange={(e) => setHours(Number(e.target.value))}>
              {everyHours.map((h) => (
                <option key={h} value={h}>
                  {h === 1 ? 'hour' : `${h} hours`}
                </option>
              ))}
            </select>
          </div>
        ) : (
          <div className="field">
            <label htmlFor={`${id}-time`}>Time</label>
            <input
              id={`${id}-time`}
              type="time"
              value={time}
              required
              onChange={(e) => setTime(e.target.value)}
            />
          </div>
        )}
      </div>

      <section className="next-runs" aria-labelledby={`${id}-next`} aria-live="polite">
        <h3 id={`${id}-next`}>Next run times</h3>
        {preview.isError ? (
          <p className="field-error">The next run times could not be worked out: {preview.error.message}</p>
        ) : !preview.data ? (
          <p className="muted">Working out the next run times…</p>
        ) : (
          <>
            <ol>
              {preview.data.nextRunTimes.map((t) => (
                <li key={t}>
                  <time dateTime={t}>{inZone(t, timeZone)}</time>
                </li>
              ))}
            </ol>
            <p className="hint">
              Each run starts between the time shown and {Math.round(preview.data.jitterSeconds / 60)} min
              later (a random spread, so that many tenants do not all call ServiceTitan at the same moment).
            </p>
          </>
        )}
      </section>

      {save.isError && (
        <p className="banner banner-bad" role="alert">
          The schedule was not saved: {save.error.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}
