// Two projects: `harness` tests the suite's own machinery (no broker needed); `conformance`
// runs the scenarios (suites/) for every selected target × client, with the targets started
// once per run by the global setup.
import { rmSync } from 'node:fs';
import { defineConfig } from 'vitest/config';
import SlowFirstSequencer from './harness/util/slow-first-sequencer.js';

// Allure results accumulate file by file: a run starts from an empty directory so that its
// report shows that run only.
const reports = process.env.KOPC_REPORTS_DIR ?? 'reports';
rmSync(`${reports}/allure-results`, { recursive: true, force: true });

export default defineConfig({
  test: {
    reporters: [
      'default',
      ['junit', { outputFile: `${reports}/junit.xml` }],
      ['json', { outputFile: `${reports}/results.json` }],
      ['allure-vitest/reporter', { resultsDir: `${reports}/allure-results` }],
      './harness/reporting/results-reporter.ts',
    ],
    setupFiles: ['allure-vitest/setup'],
    pool: 'forks',
    // Cells mostly wait on brokers and bounded timeouts (a full run keeps 2 cores about half
    // busy), so one worker more than the cores finishes sooner. KOPC_WORKERS sets it.
    maxWorkers: Number(process.env.KOPC_WORKERS ?? 3),
    // The slowest files first, by measured durations (a fresh clone has no vitest cache to go by).
    sequence: { sequencer: SlowFirstSequencer },
    projects: [
      {
        extends: true,
        test: {
          name: 'harness',
          include: ['harness/**/*.test.ts', 'fixtures/**/*.test.ts'],
          setupFiles: ['harness/testing/own-tmpdir.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'conformance',
          include: ['suites/**/*.test.ts'],
          globalSetup: ['fixtures/global-setup.ts'],
          setupFiles: ['allure-vitest/setup', 'fixtures/driver-pool-teardown.ts'],
          testTimeout: 90_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
