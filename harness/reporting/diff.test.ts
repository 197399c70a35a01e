import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { archiveRun, diffRuns, renderDiff } from './diff.js';
import type { CellResult, CellStatus, RunResults } from './model.js';

const cell = (client: string, scenarioId: string, status: CellStatus): CellResult => ({
  scenarioId, title: '', family: 'f', target: 'kafka', client, status, durationMs: 1, file: 'x', rerun: 'r', message: `${status} because`,
});
const run = (startedAt: string, cells: CellResult[]): RunResults => ({ startedAt, finishedAt: startedAt, targets: [], cells });

describe('run-to-run diff', () => {
  const before = run('2026-11-23T00:00:00Z', [cell('a', 's1', 'pass'), cell('a', 's2', 'fail'), cell('b', 's1', 'known-failure'), cell('b', 's3', 'pass')]);
  const after = run('2026-11-24T00:00:00Z', [cell('a', 's1', 'fail'), cell('a', 's2', 'pass'), cell('b', 's1', 'unexpected-pass'), cell('c', 's1', 'flaky')]);
  const d = diffRuns(before, after);

  it('lists new failures and unexpected passes as regressions, and fixes', () => {
    expect(d.regressions.map((r) => `${r.cell} ${r.was}→${r.now}`)).toEqual([
      'kafka × a × s1 pass→fail', 'kafka × b × s1 known-failure→unexpected-pass',
    ]);
    expect(d.fixes.map((f) => f.cell)).toEqual(['kafka × a × s2']);
    expect(d.flaky).toEqual(['kafka × c × s1']);
    expect(d.removed).toEqual(['kafka × b × s3']);
    expect(renderDiff(d)).toMatch(/^regressions: 2, fixes: 1, flaky: 1/);
  });

  it('an identical run has nothing to report', () => {
    expect(diffRuns(after, after).regressions).toEqual([]);
  });

  it('archives runs in time order and finds the previous one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kopc-hist-'));
    const model = join(dir, 'results-model.json');
    writeFileSync(model, JSON.stringify(before));
    expect(archiveRun(dir, model, before.startedAt)).toBeUndefined();
    writeFileSync(model, JSON.stringify(after));
    expect(archiveRun(dir, model, after.startedAt)).toMatch(/2026-11-23T00-00-00Z\.json$/);
  });
});
