import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useId, useState } from 'react';
import { Link, useParams } from 'react-router';
import { ApiError, api, ok, retryUnlessRefused } from '../api/client';
import type { components } from '../api/schema';
import { Pager } from '../components/pager';
import {
  absolute,
  Badge,
  count,
  duration,
  isActive,
  modeLabel,
  runStatus,
  streamNames,
  triggers,
} from '../components/status';
import { liveTotals, StreamTable } from '../components/stream-progress';
import { useCan, useMayReadPersonalData } from '../session';
import './detail.css';

type SyncEvent = components['schemas']['SyncEvent'];

const SKIPPED_PAGE_SIZE = 20;

/** A sync run: live progress per stream (server-sent events), controls, counts, errors and skipped records. */
export function Run() {
  const id = useId();
  const runId = useParams().id ?? '';
  const queryClient = useQueryClient();
  const operate = useCan('operate');
  const [live, setLive] = useState<'off' | 'live' | 'lost'>('off');
  const key = ['run', runId];

  const query = useQuery({
    queryKey: key,
    queryFn: () => ok(api.GET('/api/syncs/{id}', { params: { path: { id: runId } } })),
    retry: retryUnlessRefused,
    // The event stream carries progress; polling only stands in when the stream is lost.
    refetchInterval: (q) =>
      q.state.data && isActive(q.state.data.status) && live !== 'live' ? 2_000 : false,
  });
  const run = query.data;
  const active = run ? isActive(run.status) : false;

  // Server-sent events while the run may still move: the session cookie authenticates the
  // same-origin EventSource. The server ends the stream with an `end` event holding the final row.
  useEffect(() => {
    if (!active) return;
    const source = new EventSource(`/api/syncs/${encodeURIComponent(runId)}/events`);
    const onEvent = (e: MessageEvent<string>) => {
      const event = JSON.parse(e.data) as SyncEvent;
      setLive('live');
      queryClient.setQueryData(['run', runId], event.run);
      if (event.type === 'end') {
        source.close();
        setLive('off');
        void queryClient.invalidateQueries({ queryKey: ['run', runId, 'skipped'] });
      }
    };
    source.addEventListener('progress', onEvent);
    source.addEventListener('end', onEvent);
    // The browser reconnects by itself; meanwhile the page polls.
    source.onerror = () => setLive('lost');
    return () => source.close();
  }, [active, runId, queryClient]);

  const company = useQuery({
    queryKey: ['company', run?.companyId],
    queryFn: () => ok(api.GET('/api/companies/{id}', { params: { path: { id: String(run?.companyId) } } })),
    enabled: run !== undefined,
    staleTime: 60_000,
  });

  const control = useMutation({
    mutationFn: (action: 'pause' | 'resume' | 'cancel') => {
      const params = { params: { path: { id: runId } } };
      if (action === 'pause') return ok(api.POST('/api/syncs/{id}/pause', params));
      if (action === 'resume') return ok(api.POST('/api/syncs/{id}/resume', params));
      return ok(api.POST('/api/syncs/{id}/cancel', params));
    },
    onSuccess: (updated) => queryClient.setQueryData(key, updated),
  });

  if (query.isPending) return <p>Loading the sync run…</p>;
  if (query.isError || !run)
    return (
      <section>
        <h1>Sync run {runId}</h1>
        <p className="banner banner-bad" role="alert">
          {query.error instanceof ApiError && [400, 404].includes(query.error.status)
            ? `Sync run ${runId} does not exist, or this token may not see it.`
            : `The sync run could not be loaded: ${query.error?.message}`}
        </p>
        <p>
          <Link to="/">Back to the dashboard</Link>
        </p>
      </section>
    );

  const paused = run.status === 'paused' || run.progress?.paused === true;
  const started = run.startedAt ?? run.createdAt;
  const elapsed =
    (run.finishedAt ? new Date(run.finishedAt).getTime() : Date.now()) - new Date(started).getTime();

  return (
    <section aria-labelledby={`${id}-title`} className="detail">
      <p className="crumbs">
        <Link to="/">Dashboard</Link> ›{' '}
        <Link to={`/credentials/${run.credentialId}`}>
          {company.data?.name ?? `Credential ${run.credentialId}`}
        </Link>{' '}
        › Run {run.id}
      </p>
      <div className="section-head">
        <h1 id={`${id}-title`}>Sync run {run.id}</h1>
        <Badge {...runStatus[run.status]} />
        {run.progress?.cancelRequested && run.status !== 'cancelled' && (
          <Badge label="Cancelling…" tone="warn" />
        )}
        <p className="muted" aria-live="polite">
          {active
            ? live === 'live'
              ? 'Live'
              : live === 'lost'
                ? 'Reconnecting… (refreshing every 2 s)'
                : 'Connecting…'
            : ''}
        </p>
      </div>

      {operate && active && (
        <div className="actions">
          {paused ? (
            <button type="button" onClick={() => control.mutate('resume')} disabled={control.isPending}>
              Resume
            </button>
          ) : (
            <button type="button" onClick={() => control.mutate('pause')} disabled={control.isPending}>
              Pause
            </button>
          )}
          <button
            type="button"
            className="danger"
            onClick={() => control.mutate('cancel')}
            disabled={control.isPending || run.progress?.cancelRequested === true}
          >
            Cancel run
          </button>
        </div>
      )}
      {control.isError && (
        <p className="banner banner-bad" role="alert">
          {control.error.message}
        </p>
      )}

      <dl className="facts">
        <div>
          <dt>Trigger</dt>
          <dd>{triggers[run.trigger] ?? run.trigger}</dd>
        </div>
        <div>
          <dt>Mode</dt>
          <dd>{modeLabel(run.mode)}</dd>
        </div>
        <div>
          <dt>Started</dt>
          <dd>{run.startedAt ? absolute.format(new Date(run.startedAt)) : 'Not yet'}</dd>
        </div>
        <div>
          <dt>{run.finishedAt ? 'Duration' : 'Running for'}</dt>
          <dd>{run.startedAt ? duration(elapsed) : '—'}</dd>
        </div>
        <div>
          <dt>Records saved</dt>
          <dd>{count.format(liveTotals(run).upserted)}</dd>
        </div>
        <div>
          <dt>Skipped</dt>
          <dd>{count.format(liveTotals(run).skipped)}</dd>
        </div>
      </dl>

      {run.temporalUrl && (
        <p>
          <a href={run.temporalUrl} target="_blank" rel="noreferrer">
            Open this run in the Temporal Web UI
          </a>
        </p>
      )}

      {run.error && (
        <div className="banner banner-bad" role="alert">
          <strong>Error:</strong> {run.error}
        </div>
      )}
      {run.warnings.length > 0 && (
        <div className="banner banner-warn">
          <strong>Warnings</strong>
          <ul>
            {run.warnings.map((w) => (
              <li key={w}>{w}</li>
            ))}
          </ul>
        </div>
      )}

      <StreamTable run={run} />
      <Skipped runId={runId} total={liveTotals(run).skipped} />
    </section>
  );
}

function Skipped({ runId, total }: { runId: string; total: number }) {
  const mayRead = useMayReadPersonalData();
  const [page, setPage] = useState(1);
  const query = useQuery({
    queryKey: ['run', runId, 'skipped', page, total],
    queryFn: () =>
      ok(
        api.GET('/api/syncs/{id}/skipped', {
          params: { path: { id: runId }, query: { page: String(page), pageSize: String(SKIPPED_PAGE_SIZE) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const data = query.data;
  const pages = data ? Math.max(1, Math.ceil(data.total / data.pageSize)) : 1;
  return (
    <section className="panel" aria-labelledby={`skipped-${runId}`}>
      <h2 id={`skipped-${runId}`}>Skipped records</h2>
      <p className="muted">
        Records that could not be saved, with the reason.
        {mayRead
          ? ' Their payloads are as ServiceTitan sent them.'
          : ' Payloads (personal data) are shown to operators and admins only.'}
      </p>
      {query.isError && (
        <p className="banner banner-bad" role="alert">
          The skipped records could not be loaded: {query.error.message}
        </p>
      )}
      {data && data.total === 0 && <p>No record was skipped.</p>}
      {data && data.total > 0 && (
        <>
          <div className="table-wrap">
            <table aria-label="Skipped records">
              <caption>
                {count.format(data.total)} skipped record{data.total === 1 ? '' : 's'}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Stream</th>
                  <th scope="col">Record ID</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Payload</th>
                </tr>
              </thead>
              <tbody>
                {data.items.map((r) => (
                  <tr key={r.id}>
                    <td>{streamNames[r.stream] ?? r.stream}</td>
                    <td className="mono">{r.externalId ?? '—'}</td>
                    <td>{r.reason}</td>
                    <td>
                      {r.rawWithheld ? (
                        <span className="muted">Withheld</span>
                      ) : r.raw == null ? (
                        <span className="muted">None</span>
                      ) : (
                        <details>
                          <summary>Show payload</summary>
                          <pre className="payload">{JSON.stringify(r.raw, null, 2)}</pre>
                        </details>
                      )}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <Pager page={page} pages={pages} onPage={setPage} label="Skipped records pages" />
        </>
      )}
    </section>
  );
}
