import type { components } from '../api/schema';
import { Badge, count, isActive, streamNames, streamState } from './status';

type SyncRun = components['schemas']['SyncRun'];
export type Counts = { pages: number; fetched: number; upserted: number; skipped: number };

/** The live progress while the workflow answers, else the counts the run row holds. */
export function streamRows(run: SyncRun): { stream: string; state: string; counts: Counts }[] {
  const finalState = run.status === 'cancelled' ? 'cancelled' : run.status === 'failed' ? 'failed' : 'done';
  return run.streams.map((stream) => {
    const live = run.progress?.streams[stream];
    if (live) return { stream, state: live.state, counts: live };
    const counts = run.counts[stream] ?? { pages: 0, fetched: 0, upserted: 0, skipped: 0 };
    return { stream, state: isActive(run.status) ? 'pending' : finalState, counts };
  });
}

export function liveTotals(run: SyncRun): Counts {
  if (!run.progress) return run.totals;
  const totals = { pages: 0, fetched: 0, upserted: 0, skipped: 0 };
  for (const { counts } of streamRows(run))
    for (const k of ['pages', 'fetched', 'upserted', 'skipped'] as const) totals[k] += counts[k];
  return totals;
}

/**
 * A run's state and counts per stream (the run page; `compact` without pages, for the wizard's
 * first sync).
 */
export function StreamTable({
  run,
  caption = 'Progress per stream',
  compact = false,
}: {
  run: SyncRun;
  caption?: string;
  compact?: boolean;
}) {
  const rows = streamRows(run);
  return (
    <div className="table-wrap">
      <table aria-label={caption} className={compact ? 'compact' : undefined}>
        <caption>{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Stream</th>
            <th scope="col">State</th>
            {!compact && (
              <th scope="col" className="num">
                Pages
              </th>
            )}
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
          {rows.map(({ stream, state, counts }) => (
            <tr key={stream}>
              <th scope="row">{streamNames[stream] ?? stream}</th>
              <td>
                <Badge {...(streamState[state] ?? { label: state, tone: 'neutral' })} />
              </td>
              {!compact && <td className="num">{count.format(counts.pages)}</td>}
              <td className="num">{count.format(counts.fetched)}</td>
              <td className="num">{count.format(counts.upserted)}</td>
              <td className="num">{count.format(counts.skipped)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
