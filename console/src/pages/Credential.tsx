import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useRef, useState } from 'react';
import { Link, useNavigate, useParams } from 'react-router';
import { ApiError, api, ok, retryUnlessRefused } from '../api/client';
import type { components } from '../api/schema';
import { Pager } from '../components/pager';
import {
  absolute,
  Badge,
  count,
  credentialStatus,
  duration,
  environments,
  modeLabel,
  runStatus,
  type SyncStream,
  streamNames,
  syncStreams,
  triggers,
} from '../components/status';
import { useCan } from '../session';
import './detail.css';

type CredentialView = components['schemas']['Credential'];
type Schedule = components['schemas']['Schedule'];
type ScheduleConfig = Schedule['config'];
type RunStatus = components['schemas']['SyncRun']['status'];

const HISTORY_PAGE_SIZE = 10;
const weekdays = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

/** A credential: status and tests, secret rotation, disabling, its schedule, sync now and its run history. */
export function Credential() {
  const id = useId();
  const credentialId = useParams().id ?? '';
  const path = { params: { path: { id: credentialId } } };
  const credential = useQuery({
    queryKey: ['credential', credentialId],
    queryFn: () => ok(api.GET('/api/credentials/{id}', path)),
    retry: retryUnlessRefused,
  });
  const c = credential.data;
  const company = useQuery({
    queryKey: ['company', c?.companyId],
    queryFn: () => ok(api.GET('/api/companies/{id}', { params: { path: { id: String(c?.companyId) } } })),
    enabled: c !== undefined,
    staleTime: 60_000,
  });

  if (credential.isPending) return <p>Loading the credential…</p>;
  if (credential.isError || !c)
    return (
      <section>
        <h1>Credential {credentialId}</h1>
        <p className="banner banner-bad" role="alert">
          {credential.error instanceof ApiError && [400, 404].includes(credential.error.status)
            ? `Credential ${credentialId} does not exist, or this token may not see it.`
            : `The credential could not be loaded: ${credential.error?.message}`}
        </p>
        <p>
          <Link to="/">Back to the dashboard</Link>
        </p>
      </section>
    );

  const companyName = company.data?.name ?? `Company ${c.companyId}`;
  const name = `${companyName}, ${environments[c.environment]} tenant ${c.tenantId}`;
  const disabled = c.disabledAt !== null;

  return (
    <section aria-labelledby={`${id}-title`} className="detail">
      <p className="crumbs">
        <Link to="/">Dashboard</Link> › {companyName}
      </p>
      <div className="section-head">
        <h1 id={`${id}-title`}>{companyName}</h1>
        <Badge {...credentialStatus[c.status]} />
      </div>

      <dl className="facts">
        <div>
          <dt>Environment</dt>
          <dd>{environments[c.environment]}</dd>
        </div>
        <div>
          <dt>Tenant ID</dt>
          <dd className="mono">{c.tenantId}</dd>
        </div>
        <div>
          <dt>Client ID</dt>
          <dd className="mono">{c.clientIdMasked}</dd>
        </div>
        <div>
          <dt>Last test</dt>
          <dd>{c.lastTestedAt ? absolute.format(new Date(c.lastTestedAt)) : 'Never tested'}</dd>
        </div>
        <div>
          <dt>Company time zone</dt>
          <dd>{company.data?.timeZone ?? '…'}</dd>
        </div>
      </dl>
      {c.statusMessage && <p className="status-message">{c.statusMessage}</p>}
      {disabled && (
        <p className="banner banner-neutral">
          This credential was disabled on {absolute.format(new Date(c.disabledAt as string))}. Its data is
          kept; no sync of it starts again.
        </p>
      )}

      <div className="columns">
        {!disabled && <SyncNow credentialId={credentialId} />}
        <ScheduleSection
          credentialId={credentialId}
          disabled={disabled}
          companyTimeZone={company.data?.timeZone ?? null}
        />
      </div>
      <History credentialId={credentialId} />
      {!disabled && <AdminSection credential={c} name={name} />}
    </section>
  );
}

/** "Sync now" with its mode and streams (operators and admins). */
function SyncNow({ credentialId }: { credentialId: string }) {
  const id = useId();
  const operate = useCan('operate');
  const navigate = useNavigate();
  const [mode, setMode] = useState<'incremental' | 'full' | 'range'>('incremental');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [streams, setStreams] = useState<SyncStream[]>(Object.keys(syncStreams) as SyncStream[]);
  const start = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/credentials/{id}/syncs', {
          params: { path: { id: credentialId } },
          body: {
            mode: mode === 'range' ? { from, to } : mode,
            ...(streams.length < Object.keys(syncStreams).length ? { streams } : {}),
          },
        }),
      ),
    onSuccess: (run) => navigate(`/runs/${run.id}`),
  });
  if (!operate) return null;
  const rangeProblem =
    mode === 'range' && (!from || !to)
      ? 'Choose both dates.'
      : mode === 'range' && from >= to
        ? 'The start must be before the end.'
        : null;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!rangeProblem && streams.length > 0) start.mutate();
  };
  return (
    <form className="panel" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Sync now</h2>
      <fieldset>
        <legend>Mode</legend>
        {(
          [
            ['incremental', 'Incremental (what changed since the last sync)'],
            ['full', 'Full (every record again)'],
            ['range', 'Date range (records modified between two dates, UTC)'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="choice">
            <input
              type="radio"
              name={`${id}-mode`}
              value={value}
              checked={mode === value}
              onChange={() => setMode(value)}
            />
            {label}
          </label>
        ))}
        {mode === 'range' && (
          <div className="inline-fields">
            <label>
              From
              <input type="date" value={from} onChange={(e) => setFrom(e.target.value)} required />
            </label>
            <label>
              To
              <input type="date" value={to} onChange={(e) => setTo(e.target.value)} required />
            </label>
          </div>
        )}
        {rangeProblem && (from || to) && <p className="field-error">{rangeProblem}</p>}
      </fieldset>
      <fieldset>
        <legend>Streams</legend>
        {Object.entries(syncStreams).map(([stream, label]) => (
          <label key={stream} className="choice">
            <input
              type="checkbox"
              checked={streams.includes(stream as SyncStream)}
              onChange={(e) =>
                setStreams((s) =>
                  e.target.checked ? [...s, stream as SyncStream] : s.filter((x) => x !== stream),
                )
              }
            />
            {label}
          </label>
        ))}
        {streams.length === 0 && <p className="field-error">Choose at least one stream.</p>}
      </fieldset>
      <button type="submit" disabled={start.isPending || streams.length === 0 || rangeProblem !== null}>
        {start.isPending ? 'Starting…' : 'Sync now'}
      </button>
      {start.isError && (
        <p className="banner banner-bad" role="alert">
          {start.error.message}
        </p>
      )}
    </form>
  );
}

function describeSchedule(config: ScheduleConfig): string {
  const at = (h: number, m: number) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`;
  switch (config.frequency) {
    case 'weekly':
      return `Every ${weekdays[config.dayOfWeek]} at ${at(config.hour, config.minute)}`;
    case 'daily':
      return `Every day at ${at(config.hour, config.minute)}`;
    case 'monthly':
      return `On day ${config.dayOfMonth} of every month at ${at(config.hour, config.minute)}`;
    case 'hourly':
      return config.everyHours === 1 ? 'Every hour' : `Every ${config.everyHours} hours`;
    case 'cron':
      return `Cron "${config.cron}"`;
  }
}

/** The schedule: what it is, its next run times, and (operators) the editor and pause/unpause. */
function ScheduleSection({
  credentialId,
  disabled,
  companyTimeZone,
}: {
  credentialId: string;
  disabled: boolean;
  companyTimeZone: string | null;
}) {
  const id = useId();
  const operate = useCan('operate') && !disabled;
  const queryClient = useQueryClient();
  const key = ['schedule', credentialId];
  const path = { params: { path: { id: credentialId } } };
  const query = useQuery({
    queryKey: key,
    queryFn: async (): Promise<Schedule | null> => {
      try {
        return await ok(api.GET('/api/credentials/{id}/schedule', path));
      } catch (error) {
        // No schedule yet is an answer, not an error.
        if (error instanceof ApiError && error.status === 404) return null;
        throw error;
      }
    },
  });
  const [editing, setEditing] = useState(false);
  const onSaved = (s: Schedule | null) => {
    queryClient.setQueryData(key, s);
    void queryClient.invalidateQueries({ queryKey: ['dashboard'] });
  };
  const pause = useMutation({
    mutationFn: (paused: boolean) =>
      ok(
        paused
          ? api.POST('/api/credentials/{id}/schedule/pause', path)
          : api.POST('/api/credentials/{id}/schedule/unpause', path),
      ),
    onSuccess: onSaved,
  });
  const remove = useMutation({
    mutationFn: () => ok(api.DELETE('/api/credentials/{id}/schedule', path)),
    onSuccess: () => onSaved(null),
  });

  const s = query.data;
  const when = s
    ? new Intl.DateTimeFormat(undefined, { dateStyle: 'full', timeStyle: 'short', timeZone: s.timeZone })
    : null;
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Schedule</h2>
      {query.isPending && <p>Loading the schedule…</p>}
      {query.isError && (
        <p className="banner banner-bad" role="alert">
          The schedule could not be loaded: {query.error.message}
        </p>
      )}
      {s === null && <p>No schedule: this tenant syncs only when someone starts a sync.</p>}
      {s && (
        <>
          <p>
            <strong>{describeSchedule(s.config)}</strong> ({s.timeZone}),{' '}
            {s.paused ? <Badge label="Paused" tone="warn" /> : <Badge label="Active" tone="good" />}
          </p>
          {s.paused ? (
            <p className="muted">Paused: no scheduled run starts until it is unpaused.</p>
          ) : (
            <>
              <h3>Next runs ({s.timeZone})</h3>
              <ul className="next-runs" aria-label="Next run times">
                {s.nextRunTimes.map((t) => (
                  <li key={t}>
                    <time dateTime={t}>{when?.format(new Date(t))}</time>
                  </li>
                ))}
              </ul>
              {s.config.jitterSeconds > 0 && (
                <p className="muted">
                  Each run starts at a random moment up to {Math.round(s.config.jitterSeconds / 60)} min after
                  the set time, to spread the load on ServiceTitan.
                </p>
              )}
            </>
          )}
        </>
      )}
      {operate && query.data !== undefined && !editing && (
        <div className="actions">
          <button type="button" className="secondary" onClick={() => setEditing(true)}>
            {s ? 'Edit schedule' : 'Add a schedule'}
          </button>
          {s && (
            <button
              type="button"
              className="secondary"
              onClick={() => pause.mutate(!s.paused)}
              disabled={pause.isPending}
            >
              {s.paused ? 'Unpause schedule' : 'Pause schedule'}
            </button>
          )}
          {s && (
            <button
              type="button"
              className="secondary"
              onClick={() => remove.mutate()}
              disabled={remove.isPending}
            >
              Remove schedule
            </button>
          )}
        </div>
      )}
      {(pause.isError || remove.isError) && (
        <p className="banner banner-bad" role="alert">
          {(pause.error ?? remove.error)?.message}
        </p>
      )}
      {operate && editing && query.data !== undefined && (
        <ScheduleEditor
          credentialId={credentialId}
          current={s?.config ?? null}
          timeZone={s?.timeZone ?? companyTimeZone}
          onDone={(saved) => {
            if (saved) onSaved(saved);
            setEditing(false);
          }}
        />
      )}
    </section>
  );
}

function ScheduleEditor({
  credentialId,
  current,
  timeZone,
  onDone,
}: {
  credentialId: string;
  current: ScheduleConfig | null;
  timeZone: string | null;
  onDone: (saved: Schedule | null) => void;
}) {
  const id = useId();
  const [frequency, setFrequency] = useState<ScheduleConfig['frequency']>(current?.frequency ?? 'weekly');
  const [dayOfWeek, setDayOfWeek] = useState(current?.frequency === 'weekly' ? current.dayOfWeek : 1);
  const [dayOfMonth, setDayOfMonth] = useState(current?.frequency === 'monthly' ? current.dayOfMonth : 1);
  const hm = current && 'hour' in current ? current : { hour: 3, minute: 0 };
  const [time, setTime] = useState(
    `${String(hm.hour).padStart(2, '0')}:${String(hm.minute).padStart(2, '0')}`,
  );
  const [everyHours, setEveryHours] = useState(current?.frequency === 'hourly' ? current.everyHours : 6);
  const [cron, setCron] = useState(current?.frequency === 'cron' ? current.cron : '0 3 * * 1');
  const jitterSeconds = current?.jitterSeconds ?? 900;

  const save = useMutation({
    mutationFn: () => {
      const [hour, minute] = time.split(':').map(Number) as [number, number];
      const body: ScheduleConfig =
        frequency === 'weekly'
          ? { frequency, dayOfWeek, hour, minute, jitterSeconds }
          : frequency === 'daily'
            ? { frequency, hour, minute, jitterSeconds }
            : frequency === 'monthly'
              ? { frequency, dayOfMonth, hour, minute, jitterSeconds }
              : frequency === 'hourly'
                ? { frequency, everyHours, jitterSeconds }
                : { frequency, cron, jitterSeconds };
      return ok(api.PUT('/api/credentials/{id}/schedule', { params: { path: { id: credentialId } }, body }));
    },
    onSuccess: (saved) => onDone(saved),
  });
  const zone = timeZone ?? "the company's time zone";
  return (
    <form
      className="editor"
      aria-labelledby={`${id}-title`}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <h3 id={`${id}-title`}>{current ? 'Edit the schedule' : 'New schedule'}</h3>
      <label>
        Frequency
        <select
          value={frequency}
          onChange={(e) => setFrequency(e.target.value as ScheduleConfig['frequency'])}
        >
          <option value="weekly">Weekly</option>
          <option value="daily">Daily</option>
          <option value="monthly">Monthly</option>
          <option value="hourly">Every few hours</option>
          <option value="cron">Cron expression</option>
        </select>
      </label>
      {frequency === 'weekly' && (
        <label>
          Day of the week
          <select value={dayOfWeek} onChange={(e) => setDayOfWeek(Number(e.target.value))}>
            {weekdays.map((d, i) => (
              <option key={d} value={i}>
                {d}
              </option>
            ))}
          </select>
        </label>
      )}
      {frequency === 'monthly' && (
        <label>
          Day of the month (1–28)
          <input
            type="number"
            min={1}
            max={28}
            value={dayOfMonth}
            onChange={(e) => setDayOfMonth(Number(e.target.value))}
            required
          />
        </label>
      )}
      {(frequency === 'weekly' || frequency === 'daily' || frequency === 'monthly') && (
        <label>
          Time ({zone})
          <input type="time" value={time} onChange={(e) => setTime(e.target.value)} required />
        </label>
      )}
      {frequency === 'hourly' && (
        <label>
          Every how many hours (1–24)
          <input
            type="number"
            min={1}
            max={24}
            value={everyHours}
            onChange={(e) => setEveryHours(Number(e.target.value))}
            required
          />
        </label>
      )}
      {frequency === 'cron' && (
        <label>
          Cron expression (minute hour day-of-month month day-of-week, {zone})
          <input className="mono" value={cron} onChange={(e) => setCron(e.target.value)} required />
        </label>
      )}
      {save.isError && (
        <p className="field-error" role="alert">
          {save.error.message}
        </p>
      )}
      <div className="actions">
        <button type="submit" disabled={save.isPending}>
          {save.isPending ? 'Saving…' : 'Save schedule'}
        </button>
        <button type="button" className="secondary" onClick={() => onDone(null)}>
          Cancel
        </button>
      </div>
    </form>
  );
}

/** Every run of this credential, newest first, with filters and paging. */
function History({ credentialId }: { credentialId: string }) {
  const id = useId();
  const [status, setStatus] = useState('');
  const [from, setFrom] = useState('');
  const [to, setTo] = useState('');
  const [page, setPage] = useState(1);
  // A new filter starts at the first page.
  const filter = (set: (v: string) => void) => (e: { target: { value: string } }) => {
    set(e.target.value);
    setPage(1);
  };
  const query = useQuery({
    queryKey: ['runs', credentialId, status, from, to, page],
    queryFn: () =>
      ok(
        api.GET('/api/syncs', {
          params: {
            query: {
              credentialId,
              page: String(page),
              pageSize: String(HISTORY_PAGE_SIZE),
              ...(status ? { status: status as RunStatus } : {}),
              ...(from ? { from } : {}),
              ...(to ? { to } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 5_000,
  });
  const data = query.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / data.pageSize)) : 1;
  const filtered = status !== '' || from !== '' || to !== '';
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Run history</h2>
      <fieldset className="filters">
        <legend>Filters</legend>
        <label>
          Run status
          <select value={status} onChange={filter(setStatus)}>
            <option value="">All statuses</option>
            {Object.entries(runStatus).map(([value, { label }]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          Started from
          <input type="date" value={from} onChange={filter(setFrom)} />
        </label>
        <label>
          Started before
          <input type="date" value={to} onChange={filter(setTo)} />
        </label>
      </fieldset>
      {query.isError && (
        <p className="banner banner-bad" role="alert">
          The run history could not be loaded: {query.error.message}
        </p>
      )}
      {data && (
        <div className="table-wrap">
          <table aria-label="Run history">
            <caption>
              {data.total === 0
                ? filtered
                  ? 'No run matches the filters.'
                  : 'No run yet.'
                : `${count.format(data.total)} run${data.total === 1 ? '' : 's'}${filtered ? (data.total === 1 ? ' matches the filters' : ' match the filters') : ''}`}
            </caption>
            <thead>
              <tr>
                <th scope="col">Run</th>
                <th scope="col">Status</th>
                <th scope="col">Trigger</th>
                <th scope="col">Mode</th>
                <th scope="col">Started</th>
                <th scope="col">Duration</th>
                <th scope="col" className="num">
                  Saved
                </th>
                <th scope="col" className="num">
                  Skipped
                </th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((r) => (
                <tr key={r.id}>
                  <th scope="row">
                    <Link to={`/runs/${r.id}`}>Run {r.id}</Link>
                  </th>
                  <td>
                    <Badge {...runStatus[r.status]} />
                  </td>
                  <td>{triggers[r.trigger] ?? r.trigger}</td>
                  <td>{modeLabel(r.mode)}</td>
                  <td>{absolute.format(new Date(r.startedAt ?? r.createdAt))}</td>
                  <td>
                    {r.startedAt && r.finishedAt
                      ? duration(new Date(r.finishedAt).getTime() - new Date(r.startedAt).getTime())
                      : '—'}
                  </td>
                  <td className="num">{count.format(r.totals.upserted)}</td>
                  <td className="num">{count.format(r.totals.skipped)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager page={page} pages={pages} onPage={setPage} label="Run history pages" />
    </section>
  );
}

/** Test connection, rotate the secret, disable (admins). */
function AdminSection({ credential, name }: { credential: CredentialView; name: string }) {
  const id = useId();
  const admin = useCan('admin');
  const queryClient = useQueryClient();
  const path = { params: { path: { id: String(credential.id) } } };
  const refresh = () => {
    void queryClient.invalidateQueries({ queryKey: ['credential', String(credential.id)] });
    void queryClient.invalidateQueries({ queryKey: ['dashboard'] });
  };
  const test = useMutation({
    mutationFn: () => ok(api.POST('/api/credentials/{id}/test', path)),
    onSuccess: refresh,
  });

  const [secret, setSecret] = useState('');
  const [shown, setShown] = useState(false);
  const rotate = useMutation({
    mutationFn: (clientSecret: string) =>
      ok(api.PATCH('/api/credentials/{id}', { ...path, body: { clientSecret } })),
    onSuccess: (updated) => {
      queryClient.setQueryData(['credential', String(credential.id)], updated);
      refresh();
    },
    // The secret leaves the page either way: it is never kept once sent.
    onSettled: () => {
      setSecret('');
      setShown(false);
    },
  });

  const dialog = useRef<HTMLDialogElement>(null);
  const disable = useMutation({
    mutationFn: () => ok(api.DELETE('/api/credentials/{id}', path)),
    onSuccess: (result) => {
      dialog.current?.close();
      queryClient.setQueryData(['credential', String(credential.id)], result);
      void queryClient.invalidateQueries({ queryKey: ['schedule', String(credential.id)] });
      refresh();
    },
  });

  if (!admin) return null;
  return (
    <section className="panel" aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>Administration</h2>
      <div className="admin-grid">
        <div>
          <h3>Connection</h3>
          <button type="button" className="secondary" onClick={() => test.mutate()} disabled={test.isPending}>
            {test.isPending ? 'Testing…' : 'Test connection'}
          </button>
          {test.isError && (
            <p className="banner banner-bad" role="alert">
              {test.error.message}
            </p>
          )}
          {test.data && (
            <div className="test-result" role="status">
              <p>
                <Badge {...credentialStatus[test.data.status]} /> {test.data.message}
              </p>
              <ul aria-label="Access per stream">
                {Object.entries(test.data.streams).map(([stream, access]) => (
                  <li key={stream}>
                    {streamNames[stream] ?? stream}:{' '}
                    {access === 'ok'
                      ? 'readable'
                      : access === 'module_not_licensed'
                        ? 'module not licensed'
                        : 'error'}
                  </li>
                ))}
              </ul>
            </div>
          )}
        </div>

        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (secret) rotate.mutate(secret);
          }}
        >
          <h3>Rotate the client secret</h3>
          <label htmlFor={`${id}-secret`}>New client secret</label>
          <div className="secret-field">
            <input
              id={`${id}-secret`}
              type={shown ? 'text' : 'password'}
              autoComplete="new-password"
              spellCheck={false}
              value={secret}
              onChange={(e) => setSecret(e.target.value)}
              required
            />
            <button
              type="button"
              className="secondary"
              aria-pressed={shown}
              aria-controls={`${id}-secret`}
              onClick={() => setShown((v) => !v)}
            >
              {shown ? 'Hide' : 'Show'}
            </button>
          </div>
          <button type="submit" disabled={rotate.isPending || secret === ''}>
            {rotate.isPending ? 'Saving…' : 'Rotate secret'}
          </button>
          {rotate.isError && (
            <p className="field-error" role="alert">
              {rotate.error.message}
            </p>
          )}
          {rotate.isSuccess && (
            <p role="status">The secret was replaced. Test the connection to check the new one.</p>
          )}
        </form>

        <div>
          <h3>Disable</h3>
          <p className="muted">Stops every sync of this tenant; its data is kept.</p>
          <button type="button" className="danger" onClick={() => dialog.current?.showModal()}>
            Disable…
          </button>
        </div>
      </div>

      <dialog ref={dialog} aria-labelledby={`${id}-confirm`} aria-describedby={`${id}-confirm-text`}>
        <h2 id={`${id}-confirm`}>Disable this credential?</h2>
        <p id={`${id}-confirm-text`}>
          <strong>{name}</strong> will not sync again, manually or on schedule: its schedule is removed and a
          run in progress is cancelled. Its data is kept.
        </p>
        {disable.isError && (
          <p className="field-error" role="alert">
            {disable.error.message}
          </p>
        )}
        <div className="actions">
          <button
            type="button"
            className="danger"
            onClick={() => disable.mutate()}
            disabled={disable.isPending}
          >
            {disable.isPending ? 'Disabling…' : 'Disable credential'}
          </button>
          <button type="button" className="secondary" onClick={() => dialog.current?.close()}>
            Keep it enabled
          </button>
        </div>
      </dialog>
    </section>
  );
}
