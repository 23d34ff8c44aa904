import { Listr, ListrLogger, ProcessOutput } from 'listr2';

export interface ProgressItem<T> {
  title: string;
  /** Does the work; `report` takes each line of progress. */
  run(report: (text: string) => void): Promise<T>;
}

/**
 * Runs items side by side with their progress: on a terminal, a live task list on stderr (listr2,
 * one line per item under its title); otherwise each line is handed to `plain` as it comes.
 * Items must not throw: they report their own failure in their result.
 */
export async function runWithProgress<T>(
  items: ProgressItem<T>[],
  plain: (item: ProgressItem<T>, text: string) => void,
): Promise<T[]> {
  if (!process.stderr.isTTY) return Promise.all(items.map((item) => item.run((text) => plain(item, text))));
  const results: T[] = [];
  await new Listr(
    items.map((item, n) => ({
      title: item.title,
      rendererOptions: { persistentOutput: true, outputBar: 1 },
      task: async (_ctx: unknown, task: { output: string }) => {
        results[n] = await item.run((text) => {
          task.output = text.trim();
        });
      },
    })),
    {
      concurrent: true,
      exitOnError: false,
      renderer: 'default',
      rendererOptions: {
        logger: new ListrLogger({ processOutput: new ProcessOutput(process.stderr, process.stderr) }),
      },
    },
  ).run();
  return results;
}
