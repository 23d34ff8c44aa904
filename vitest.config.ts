import { defineConfig, type TestProjectInlineConfiguration } from 'vitest/config';

/**
 * Records the workflow histories that the replay test replays (`npm run histories:record`); not
 * part of `npm test`: recording is a deliberate act, done once per incompatible workflow change.
 */
const recordHistories: TestProjectInlineConfiguration[] = process.env.RECORD_HISTORIES
  ? [
      {
        extends: true,
        test: {
          name: 'histories',
          include: ['test/histories/**/*.record.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 600_000,
          hookTimeout: 180_000,
        },
      },
    ]
  : [];

export default defineConfig({
  test: {
    pool: 'forks',
    reporters: ['default'],
    // Off unless asked for (--coverage, npm run test:coverage); scripts/coverage-summary.mjs
    // prints it per folder of src/.
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['json-summary', 'text-summary'],
      reportsDirectory: 'coverage',
      // CI prints the figure even when a test failed.
      reportOnFailure: true,
    },
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          testTimeout: 10_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
      ...recordHistories,
    ],
  },
});
