import { Context } from '@temporalio/activity';
import { loadCredential } from '../db/repositories/credential.repository.js';
import { ServiceTitanError, type TenantApi } from '../servicetitan/index.js';
import {
  minWindowRecords,
  planBoundaries,
  readersFor,
  type StreamSize,
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
 * four round trips before the windows start. Returns dates and counts, never records.
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
         * call, a busy moment read a server next door as 60–130 ms away, and a run planned up to
         * 9 readers where 4 keep the machine busy.
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
        const readers = readersFor(rateLimitPerSecond, Number.isFinite(roundTripMs) ? roundTripMs : 0);
        const counts = windowCounts(byStream, readers);

        const split = async (stream: SyncStreamName, size: (typeof sizes)[number]): Promise<string[]> => {
          const windows = counts[stream];
          const { records, oldest } = size;
          if (windows < 2 || records === null || oldest === null) return [];
          // The sampled span ends at this worker's clock; a record dated later (a server clock
          // ahead of ours) only makes the last window bigger.
          const newest = Math.max(Date.now(), oldest + 1000);
          const countBefore = async (at: number) =>
            (await api.countRecords(stream, { modifiedBefore: new Date(at).toISOString(), signal })) ?? 0;
          const boundaries = await planBoundaries(countBefore, { oldest, newest, total: records, windows });
          return boundaries.map((t) => new Date(t).toISOString());
        };
        const plan: FullLoadPlan = {
          streams: {},
          readers,
          ...(Number.isFinite(roundTripMs) ? { serverMs: Math.round(roundTripMs) } : {}),
        };
        await Promise.all(
          input.streams.map(async (stream, i) => {
            const size = sizes[i]!;
            const boundaries = await split(stream, size).catch(readInOnePiece(stream, []));
            plan.streams[stream] = { records: size.records, boundaries };
          }),
        );
        stepDone('boundaries');
        log.info({ plan, stepMs }, 'full load planned');
        return plan;
      } catch (error) {
        throw toActivityFailure(error, log);
      }
    },
  };
}
