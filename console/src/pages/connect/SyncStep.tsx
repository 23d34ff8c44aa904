import { useMutation, useQuery } from '@tanstack/react-query';
import { useId } from 'react';
import { Link } from 'react-router';
import { api, ok } from '../../api/client';
import { Badge, count, runStatus } from '../../components/status';
import { liveTotals, StreamTable } from '../../components/stream-progress';
import { inZone } from './shared';

const active = new Set(['pending', 'running', 'paused']);

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
          <StreamTable run={current} caption="Records per stream" compact />
          <p role="status">
            {active.has(current.status)
              ? `In progress: ${count.format(liveTotals(current).upserted)} records saved so far.`
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
