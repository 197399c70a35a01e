import { describe, expect, it } from 'vitest';
import type { CellResult, CellStatus, RunResults } from '../reporting/model.js';
import { changedCells, renderSoakMarkdown, type SoakSummary } from './soak.js';

const cell = (title: string, status: CellStatus, message?: string): CellResult => ({
  scenarioId: title.split(':')[0]!, title, family: 'f', target: 'kafka', client: 'kafkajs', status, durationMs: 1, file: 'x', rerun: 'x', ...(message ? { message } : {}),
});
const run = (...cells: CellResult[]): RunResults => ({ startedAt: 's', finishedAt: 'f', targets: [], cells });

describe('soak summary', () => {
  it('lists only the cells whose status changed, with their status in every run and the messages', () => {
    const runs = [
      run(cell('a', 'pass'), cell('b', 'pass'), cell('c', 'known-failure')),
      run(cell('a', 'pass'), cell('b', 'fail', 'Error: delivery FAILED'), cell('c', 'known-failure')),
      run(cell('a', 'pass'), cell('b', 'pass'), cell('c', 'known-failure')),
    ];
    const { cellCount, changed } = changedCells(runs);
    expect(cellCount).toBe(3);
    expect(changed).toEqual([{ cell: 'kafka | kafkajs | b', target: 'kafka', client: 'kafkajs', scenarioId: 'b', title: 'b', statuses: ['pass', 'fail', 'pass'], messages: { 2: 'Error: delivery FAILED' } }]);
  });

  it('a cell missing from a run counts as changed', () => {
    expect(changedCells([run(cell('a', 'pass')), run()]).changed.map((c) => c.statuses)).toEqual([['pass', 'absent']]);
  });

  it('renders the count, a table with one column per run, and the messages', () => {
    const runs = [run(cell('b', 'pass')), run(cell('b', 'fail', 'Error: x|y'))];
    const s: SoakSummary = { runs: 2, stress: true, startedAt: 't0', finishedAt: 't1', selection: ['--targets', 'kafka'], exitCodes: [0, 1], ...changedCells(runs) };
    const md = renderSoakMarkdown(s);
    expect(md).toContain('# Soak: 2 run(s) under stress');
    expect(md).toContain('**1 of 1 cell(s) changed status.**');
    expect(md).toContain('| target | client | scenario | run 1 | run 2 |');
    expect(md).toContain('| kafka | kafkajs | b | pass | fail |');
    expect(md).toContain('- kafka \\| kafkajs \\| b, run 2: Error: x\\|y');
    expect(renderSoakMarkdown({ ...s, changed: [] })).not.toContain('| target |');
  });
});
