import { Context } from '@temporalio/activity';
import { loadCredential } from '../db/repositories/credential.repository.js';
import { ServiceTitanError, type TenantApi } from '../servicetitan/index.js';
import {
  boundariesFromSamples,
  minWindowRecords,
  readersFor,
  type StreamSize,
  sampleSpan,
  windowCounts,
} from '../sync/full-load-plan.js';
import type { FullLoadPlan, SyncStreamName } from '../workflows/definitions.js';
import type { ActivityDeps } from './deps.js';
import { toActivityFailure } from './failures.js';

export interface PlanFullLoadInput {
  credentialId: number;
  streams: SyncStreamName[];
}

/**
 * Plans a full load's windows (src/sync/full-load-plan.ts). Requests, all through the tenant's
 * rate budget: the token, then per stream a count and the export feed's first page together (the
 * oldest modifiedOn and the page size; unused for a stream too small to split), and for a stream
 * big enough to split, two to four counts per window, in two rounds. Far from the server that is
 * four round trips before the windows start. Returns dates and counts (and the readers planned
 * for, with the server's distance), never records.
 */
export function createFullLoadPlanActivities(deps: ActivityDeps) {
  const { orm, logger, serviceTitan, secrets, metrics } = deps;
  const rateLimitPerSecond = deps.rateLimitPerSecond ?? 60;

  return {
    async planFullLoad(input: PlanFullLoadInput): Promise<FullLoadPlan> {
      const signal = Context.current().cancellationSignal;
      const log = logger.child({ credentialId: input.credentialId });
      try {
        const credential = await loadCredential(orm.em.fork(), secrets, input.credentialId);
        const api: TenantApi = serviceTitan.tenant(credential.tenant);

        /**
         * How far the server is, for the number of readers: the quickest count's time from sending
         * to the answer's headers. Neither the wait for the budget's slot nor this worker's own
         * busyness (reading and parsing a body, a late callback) counts: timed around the whole
         * call, a busy moment read a server next door as 54–162 ms away, and runs were planned for
         * up to 9 readers where 4 keep the machine busy.
         */
        let roundTripMs = Number.POSITIVE_INFINITY;
        const answered = (ms: number) => {
          roundTripMs = Math.min(roundTripMs, ms);
        };
        const probe = async (stream: SyncStreamName): Promise<StreamSize & { oldest: number | null }> => {
          // One round trip rather than two: the count does not wait for the page, nor the page for it.
          const [records, first] = await Promise.all([
            api.countRecords(stream, { signal, onAnswered: answered }),
            api.exportPage(stream, { signal }),
          ]);
          if (records === null || records < 2 * minWindowRecords)
            return { records, exportPageSize: null, oldest: null };
          let oldest: number | null = null;
          for (const r of first.records) {
            const t = Date.parse(r.modifiedOn ?? '');
            if (!Number.isNaN(t) && (oldest === null || t < oldest)) oldest = t;
          }
          const exportPageSize = first.hasMore ? first.records.length + first.invalid.length : null;
          return { records, exportPageSize: oldest === null ? null : exportPageSize, oldest };
        };
        // A stream the planner cannot size or split is read in one piece: its chunk meets the same
        // error and reports it as it always has (a module not licensed, credentials refused).
        const readInOnePiece =
          <T>(stream: SyncStreamName | 'all', fallback: T) =>
          (error: unknown): T => {
            if (!(error instanceof ServiceTitanError)) throw error;
            log.info({ stream, code: error.code }, 'full load planning: stream read in one piece');
            return fallback;
          };
        // Where planning's time goes, step by step (stsync_full_load_plan_seconds_total).
        const stepMs: Record<'token' | 'probes' | 'boundaries', number> = {
          token: 0,
          probes: 0,
          boundaries: 0,
        };
        let stepStart = performance.now();
        const stepDone = (step: keyof typeof stepMs) => {
          const now = performance.now();
          stepMs[step] = Math.round(now - stepStart);
          metrics?.fullLoadPlanSeconds.inc({ step }, (now - stepStart) / 1000);
          stepStart = now;
        };
        // The probes are timed without the token's own round trip.
        const authorized = await api
          .authorize({ signal })
          .then(() => true, readInOnePiece<false>('all', false));
        stepDone('token');
        if (!authorized) {
          const plan: FullLoadPlan = { streams: {} };
          for (const stream of input.streams) plan.streams[stream] = { records: null, boundaries: [] };
          return plan;
        }
        const sizes = await Promise.all(
          input.streams.map((stream) =>
            probe(stream).catch(
              readInOnePiece(stream, { records: null, exportPageSize: null, oldest: null }),
            ),
          ),
        );
        stepDone('probes');
        const byStream = {} as Record<SyncStreamName, StreamSize>;
        input.streams.forEach((stream, i) => {
          byStream[stream] = sizes[i]!;
        });
        // Readers for the probes' distance first: the windows the counts sample for. The distance
        // in whole ms, as the plan reports it: planned from 249.6 ms, a run got 11 readers where
        // its plan's 250 ms calls for 12.
        const distance = () => (Number.isFinite(roundTripMs) ? Math.round(roundTripMs) : 0);
        const sampledFor = windowCounts(byStream, readersFor(rateLimitPerSecond, distance()));

        const sample = async (stream: SyncStreamName, size: (typeof sizes)[number]) => {
          const windows = sampledFor[stream];
          const { records, oldest } = size;
          if (windows < 2 || records === null || oldest === null) return null;
          // The sampled span ends at this worker's clock; a record dated later (a server clock
          // ahead of ours) only makes the last window bigger.
          const span = { oldest, newest: Math.max(Date.now(), oldest + 1000), total: records, windows };
          const countBefore = async (at: number) =>
            (await api.countRecords(stream, {
              modifiedBefore: new Date(at).toISOString(),
              signal,
              onAnswered: answered,
            })) ?? 0;
          return { span, samples: await sampleSpan(countBefore, span) };
        };
        const sampled = await Promise.all(
          input.streams.map((stream, i) => sample(stream, sizes[i]!).catch(readInOnePiece(stream, null))),
        );
        // Then for the quickest of every count: the probes' counts can come late behind the
        // first pages the server renders at the same moment (the sandbox: 162 ms next door),
        // the boundary counts are sent alone. Fewer readers only merge windows, whose samples
        // are then denser than needed.
        const readers = readersFor(rateLimitPerSecond, distance());
        const counts = windowCounts(byStream, readers);
        const plan: FullLoadPlan = {
          streams: {},
          readers,
          ...(Number.isFinite(roundTripMs) ? { serverMs: distance() } : {}),
        };
        input.streams.forEach((stream, i) => {
          const found = sampled[i];
          const windows = Math.min(counts[stream], sampledFor[stream]);
          const boundaries =
            found && windows >= 2 ? boundariesFromSamples(found.samples, { ...found.span, windows }) : [];
          plan.streams[stream] = {
            records: sizes[i]!.records,
            boundaries: boundaries.map((t) => new Date(t).toISOString()),
          };
        });
        stepDone('boundaries');
        log.info({ plan, stepMs }, 'full load planned');
        return plan;
      } catch (error) {
        throw toActivityFailure(error, log);
      }
    },
  };
}
