// How the results reporter decides a cell that failed a try and passed a later one: flaky, or a
// pass when every failed try ran while the machine was suspended (harness/util/suspension.ts).
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { TestCase } from 'vitest/node';
import ResultsReporter from './results-reporter.js';
import type { RunResults } from './model.js';
import type { SuspendedTry } from '../util/suspension.js';

function testCase(name: string, state: 'passed' | 'failed', retryCount: number, suspendedTries?: SuspendedTry[]): TestCase {
  const errors = Array.from({ length: state === 'failed' ? retryCount + 1 : retryCount }, (_, i) => ({ name: 'ClientError', message: `UNKNOWN (kafka-python-2.0.2): try ${i + 1}` }));
  return {
    name: `${name}: what it proves`,
    project: { name: 'conformance' },
    options: { mode: 'run' },
    module: { moduleId: join(process.cwd(), 'suites/x/x.test.ts') },
    meta: () => ({ kopc: { family: 'x', target: 'kop', client: 'kafka-python-2.0.2', ...(suspendedTries ? { suspendedTries } : {}) } }),
    result: () => ({ state, errors }),
    diagnostic: () => ({ retryCount, duration: 10, startTime: 1 }),
  } as unknown as TestCase;
}

function cellsOf(cases: TestCase[]): RunResults['cells'] {
  const outDir = mkdtempSync(join(tmpdir(), 'kopc-reporter-'));
  const r = new ResultsReporter({ outDir });
  for (const c of cases) r.onTestCaseResult(c);
  r.onTestRunEnd([]);
  return (JSON.parse(readFileSync(join(outDir, 'results-model.json'), 'utf8')) as RunResults).cells;
}

describe('a cell that passed on a later try', () => {
  const suspended16 = { try: 1, jumpMs: 16_100 };
  const [voided, flaky, partly, failed, twice] = cellsOf([
    testCase('a.voided', 'passed', 1, [suspended16]),
    testCase('a.flaky', 'passed', 1),
    testCase('a.partly', 'passed', 2, [suspended16]),
    testCase('a.failed', 'failed', 1, [suspended16]),
    testCase('a.twice', 'passed', 2, [suspended16, { try: 2, jumpMs: 3_000 }]),
  ]);

  it('passes when its only failed try ran while the machine was suspended, and says so', () => {
    expect(voided!.status).toBe('pass');
    expect(voided!.message).toMatch(/^passed on try 2; the failed try was not counted: the machine was suspended for about 16\.1 s during try 1 .*First error: ClientError: UNKNOWN \(kafka-python-2\.0\.2\): try 1$/);
    expect(voided!.retries).toEqual([expect.stringMatching(/^try 1 not counted \(the machine was suspended for about 16\.1 s during try 1/)]);
  });

  it('is flaky when a failed try ran on a machine that was not suspended', () => {
    expect(flaky!.status).toBe('flaky');
    expect(flaky!.message).toBe('passed on try 2; failed before with ClientError: UNKNOWN (kafka-python-2.0.2): try 1');
    expect(partly!.status).toBe('flaky');
    expect(partly!.message).toMatch(/failed before with .*try 1 \(note: the machine was suspended for about 16\.1 s during try 1/);
  });

  it('passes when every failed try was suspended', () => {
    expect(twice!.status).toBe('pass');
    expect(twice!.message).toMatch(/^passed on try 3; the failed tries were not counted: .*during try 1 .*; the machine was suspended for about 3\.0 s during try 2 /);
  });

  it('fails when its last try fails, suspended tries or not, with the suspension noted', () => {
    expect(failed!.status).toBe('fail');
    expect(failed!.message).toMatch(/^ClientError: UNKNOWN .*try 1 \(note: the machine was suspended for about 16\.1 s during try 1/);
  });
});
