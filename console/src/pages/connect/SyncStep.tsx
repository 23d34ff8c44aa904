import { useMutation, useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../../api/client';
import { Badge, count, runStatus } from '../../components/status';
import { inZone, type SyncRun, streamLabels } from './shared';

const active = new Set(['pending', 'running', 'paused']);

/** Per stream, the live progress of an active run, or the final counts of a finished one. */
function streamRows(run: SyncRun) {
  const live = run.progress?.streams;
  return run.streams.map((stream) => {
    const p = live?.[stream];
    const c = run.counts[stream];
    return {
      stream,
      state: p?.state ?? (c ? 'done' : active.has(run.status) ? 'waiting' : '—'),
      fetched: p?.fetched ?? c?.fetched ?? 0,
      upserted: p?.upserted ?? c?.upserted ?? 0,
      skipped: p?.skipped ?? c?.skipped ?? 0,
    };
  });
}

export function SyncStep({
  credentialId,
  timeZone,
  nextRunAt,
}: {
  credentialId: number;
  timeZone: string;
  nextRunAt: string | null;
}) {
  const id = useId();
  const start = useMutation({
    mutationFn: () =>
      ok(
        api.POST('/api/credentials/{id}/syncs', {
          params: { path: { id: String(credentialId) } },
          body: {},
        }),
      ),
  });
  const runId = start.data?.id;
  const run = useQuery({
    queryKey: ['sync', runId],
    queryFn: () => ok(api.GET('/api/syncs/{id}', { params: { path: { id: String(runId) } } })),
    enabled: runId !== undefined,
    initialData: start.data,
    // Live while the run is active; a finished run does not change.
    refetchInterval: (q) => (q.state.data && active.has(q.state.data.status) ? 1_000 : false),
  });
  const current = run.data ?? start.data;

  return (
    <section className="wizard-step" aria-labelledby={`${id}-h`}>
      <h2 id={`${id}-h`}>Schedule saved</h2>
      <p>
        {nextRunAt ? (
          <>
            The first scheduled sync runs <strong>{inZone(nextRunAt, timeZone)}</strong>.{' '}
          </>
        ) : null}
        To have the data now, start a first sync: it reads every customer and invoice the tenant has.
      </p>
      {!current && (
        <div className="actions">
          <button type="button" onClick={() => start.mutate()} disabled={start.isPending}>
            {start.isPending ? 'Starting…' : 'Sync now'}
          </button>
        </div>
      )}
      {start.isError && (
        <p className="banner banner-bad" role="alert">
          The sync did not start: {start.error.message}
        </p>
      )}
      {current && (
        <section aria-labelledby={`${id}-run`} className="run-progress">
          <h3 id={`${id}-run`}>
            Sync run {current.id}: <Badge {...runStatus[current.status]} />
          </h3>
          <table className="compact">
            <caption>Records per stream</caption>
            <thead>
              <tr>
                <th scope="col">Stream</th>
                <th scope="col">State</th>
                <th scope="col" className="num">
                  Fetched
                </th>
                <th scope="col" className="num">
                  Saved
                </th>
                <th scope="col" className="num">
                  Skipped
                </th>
              </tr>
            </thead>
            <tbody>
              {streamRows(current).map((r) => (
                <tr key={r.stream}>
                  <th scope="row">{streamLabels[r.stream]?.label ?? r.stream}</th>
                  <td>{r.state}</td>
                  <td className="num">{count.format(r.fetched)}</td>
                  <td className="num">{count.format(r.upserted)}</td>
                  <td className="num">{count.format(r.skipped)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p role="status">
            {active.has(current.status)
              ? `In progress: ${count.format(streamRows(current).reduce((n, r) => n + r.upserted, 0))} records saved so far.`
              : current.status === 'completed' || current.status === 'completed_with_warnings'
                ? `First sync finished: ${count.format(current.totals.upserted)} records saved${current.totals.skipped ? `, ${count.format(current.totals.skipped)} skipped` : ''}. The tenant is connected.`
                : `The sync ended ${runStatus[current.status].label.toLowerCase()}${current.error ? `: ${current.error}` : '.'}`}
          </p>
          {current.warnings.length > 0 && (
            <ul className="warnings">
              {current.warnings.map((w) => (
                <li key={w}>{w}</li>
              ))}
            </ul>
          )}
          <p>
            <Link to={`/runs/${current.id}`}>Open the run page</Link> (pause, cancel, skipped records) ·{' '}
            <Link to="/">Back to the dashboard</Link>
          </p>
        </section>
      )}
    </section>
  );
}
