/**
 * Paces the summaries of runs' rows (src/sync/run-positions.ts, summariseRunSql) for the chunks
 * one process runs. A run's row shows its committed progress at most `intervalMs` late without
 * every page updating it: a summary is due `intervalMs` after the run's last (any chunk's, in
 * this process), or at once after a quiet spell, and a chunk whose last commit a later summary
 * took up has nothing left to show. With a summary per chunk instead, a full load's 17 windows
 * at 300 ms sent ~17 summaries a second, ~20 % of the run's statements (154 summaries in a run
 * of 283 pages, 26 now).
 */
export function createRunSummaries(options: { intervalMs?: number; now?: () => number } = {}) {
  const intervalMs = options.intervalMs ?? 1_000;
  const now = options.now ?? (() => performance.now());
  /** When each run's latest summary started. */
  const started = new Map<number, number>();

  return {
    /**
     * One chunk's pacer. `summarise` updates the run's row (and deals with its own failure);
     * `committed` follows each page's commit, `flush` summarises at once (before the chunk
     * returns), `stop` drops a summary still waiting.
     */
    forChunk(syncRunId: number, summarise: () => Promise<void>) {
      let committedAt = Number.NEGATIVE_INFINITY;
      let timer: NodeJS.Timeout | undefined;

      const flush = async () => {
        clearTimeout(timer);
        timer = undefined;
        const at = now();
        started.set(syncRunId, at);
        // Runs long over leave their entries: they go once there are many.
        if (started.size > 100)
          for (const [run, t] of started) if (at - t > 60 * intervalMs) started.delete(run);
        await summarise();
      };
      const whenDue = async (): Promise<void> => {
        const last = started.get(syncRunId) ?? Number.NEGATIVE_INFINITY;
        // A summary that started after the commit reads it (its snapshot is later still).
        if (timer !== undefined || last > committedAt) return;
        const wait = last + intervalMs - now();
        if (wait <= 0) return flush();
        timer = setTimeout(() => {
          timer = undefined;
          void whenDue();
        }, wait);
      };

      return {
        async committed() {
          committedAt = now();
          await whenDue();
        },
        flush,
        stop() {
          clearTimeout(timer);
          timer = undefined;
        },
      };
    },
  };
}
