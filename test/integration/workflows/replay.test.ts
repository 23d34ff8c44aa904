import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, inject, it } from 'vitest';

// Runs already in flight when a new version of the workflows starts must replay on it. The
// histories in test/fixtures/histories were recorded from real runs of every kind
// (`npm run histories:record`); replaying them with the current code fails the build on a
// non-deterministic change. Change workflows with `patched()` (README: "Changing workflows safely").
const dir = new URL('../../fixtures/histories/', import.meta.url);
const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
const history = (file: string) => historyFromJSON(JSON.parse(readFileSync(new URL(file, dir), 'utf8')));

describe('recorded workflow histories replay with the current code', () => {
  it('when the fixtures are listed, then every kind of run a deployment may have in flight is there', () => {
    const kinds = new Set(files.map((f) => f.replace(/(\.\d+)?\.json$/, '')));
    expect([...kinds].sort()).toEqual([
      'retention',
      'scheduled-sync',
      'scheduled-sync-skipped',
      'sync-backfill',
      'sync-cancelled-by-signal',
      'sync-cancelled-through-temporal',
      'sync-continued-as-new',
      'sync-failed',
      'sync-full',
      'sync-full-windows',
      'sync-incremental',
      'sync-paused-resumed',
    ]);
    // A continue-as-new chain: each execution is replayed on its own.
    expect(files.filter((f) => f.startsWith('sync-continued-as-new.')).length).toBeGreaterThan(1);
  });

  it.each(files)('when %s is replayed, then the workflow makes the same commands', async (file) => {
    await Worker.runReplayHistory(
      { workflowBundle: { codePath: inject('workflowBundlePath') } },
      history(file),
      file.replace(/\.json$/, ''),
    );
  });

  it('when a workflow changes the commands it makes, then replaying a recorded run fails with a determinism violation', async () => {
    const bundle = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(
        new URL('../../fixtures/workflows/reordered-sync.workflow.ts', import.meta.url),
      ),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error },
    });
    const failure = await Worker.runReplayHistory(
      { workflowBundle: bundle },
      history('sync-full.json'),
    ).catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(DeterminismViolationError);
  });
});
