import { describe, expect, it } from 'vitest';
import type { ExpectationEntry } from '../expectations.js';
import type { CellResult, CellStatus, RunResults } from '../reporting/model.js';
import { changedCells, renderSoakMarkdown, type SoakSummary } from './soak.js';

const cell = (title: string, status: CellStatus, message?: string): CellResult => ({
  scenarioId: title.split(':')[0]!, title, family: 'f', target: 'kafka', client: 'kafkajs', status, durationMs: 1, file: 'x', rerun: 'x', ...(message ? { message } : {}),
});
const run = (...cells: CellResult[]): RunResults => ({ startedAt: 's', finishedAt: 'f', targets: [], cells });
const none = () => undefined;

describe('soak summary', () => {
  it('lists only the cells whose status changed, with their status in every run and the messages', () => {
    const runs = [
      run(cell('a', 'pass'), cell('b', 'pass'), cell('c', 'known-failure')),
      run(cell('a', 'pass'), cell('b', 'fail', 'Error: delivery FAILED'), cell('c', 'known-failure')),
      run(cell('a', 'pass'), cell('b', 'pass'), cell('c', 'known-failure')),
    ];
    const { cellCount, changed, unexplained } = changedCells(runs, none);
    expect(cellCount).toBe(3);
    expect(unexplained).toBe(1);
    expect(changed).toEqual([{ cell: 'kafka | kafkajs | b', target: 'kafka', client: 'kafkajs', scenarioId: 'b', title: 'b', statuses: ['pass', 'fail', 'pass'], messages: { 2: 'Error: delivery FAILED' } }]);
  });

  it('a pass whose failed try ran while the machine was suspended is unchanged, and listed apart', () => {
    const voided = { ...cell('a', 'pass', 'passed on try 2; the failed try was not counted: the machine was suspended for about 16.1 s during try 1 (…)'), retries: ['try 1 not counted (the machine was suspended for about 16.1 s during try 1 (…))'] };
    const r = changedCells([run(cell('a', 'pass')), run(voided)], none);
    expect(r.changed).toEqual([]);
    expect(r.notCounted).toEqual(['kafka | kafkajs | a, run 2: passed on try 2; the failed try was not counted: the machine was suspended for about 16.1 s during try 1 (…)']);
    const md = renderSoakMarkdown({ runs: 2, stress: false, startedAt: 't0', finishedAt: 't1', selection: [], exitCodes: [0, 0], ...r });
    expect(md).toContain('**0 of 1 cell(s) changed status');
    expect(md).toContain('## Tries not counted: the machine was suspended during them\n\n- kafka | kafkajs | a, run 2: passed on try 2;');
  });

  it('the variants of one scenario that share a title are cells of their own', () => {
    const v = (id: string, status: CellStatus): CellResult => ({ ...cell(`${id}: same title`, status), title: 'same title' });
    const r = changedCells([run(v('s.x.sasl_plaintext', 'pass'), v('s.x.sasl_ssl', 'pass')), run(v('s.x.sasl_plaintext', 'flaky'), v('s.x.sasl_ssl', 'pass'))], none);
    expect(r.cellCount).toBe(2);
    expect(r.changed.map((c) => [c.scenarioId, c.statuses])).toEqual([['s.x.sasl_plaintext', ['pass', 'flaky']]]);
  });

  it('a cell missing from a run counts as changed', () => {
    expect(changedCells([run(cell('a', 'pass')), run()], none).changed.map((c) => c.statuses)).toEqual([['pass', 'absent']]);
  });

  it('renders the count, a table with one column per run, and the messages', () => {
    const runs = [run(cell('b', 'pass')), run(cell('b', 'fail', 'Error: x|y'))];
    const s: SoakSummary = { runs: 2, stress: true, startedAt: 't0', finishedAt: 't1', selection: ['--targets', 'kafka'], exitCodes: [0, 1], ...changedCells(runs, none) };
    const md = renderSoakMarkdown(s);
    expect(md).toContain('# Soak: 2 run(s) under stress');
    expect(md).toContain('**1 of 1 cell(s) changed status: 1 unexplained, 0 the endpoint');
    expect(md).toContain('| target | client | scenario | run 1 | run 2 | |');
    expect(md).toContain('| kafka | kafkajs | b | pass | fail | **unexplained** |');
    expect(md).toContain('- kafka \\| kafkajs \\| b, run 2: Error: x\\|y');
    expect(renderSoakMarkdown({ ...s, changed: [] })).not.toContain('| target |');
  });

  it('a changed cell whose manifest expects it flaky is the endpoint\'s known intermittent defect, counted apart', () => {
    const flaky = { scenario: 'b', client: 'kafkajs', expect: 'flaky', reason: 'KoP appends a connection\'s requests out of order', link: 'FINDINGS.md#16' } as ExpectationEntry;
    const failing = { scenario: 'c', client: 'kafkajs', expect: 'fail', reason: 'r' } as ExpectationEntry;
    const lookup = (_t: string, s: string) => (s === 'b' ? flaky : s === 'c' ? failing : undefined);
    const runs = [run(cell('b', 'pass'), cell('c', 'known-failure'), cell('d', 'pass')), run(cell('b', 'flaky', 'reordered'), cell('c', 'pass'), cell('d', 'fail'))];
    const r = changedCells(runs, lookup);
    expect(r.changed.map((c) => [c.scenarioId, c.knownIntermittent])).toEqual([['b', 'KoP appends a connection\'s requests out of order (FINDINGS.md#16)'], ['c', undefined], ['d', undefined]]);
    expect(r.unexplained).toBe(2);
    const md = renderSoakMarkdown({ runs: 2, stress: false, startedAt: 't0', finishedAt: 't1', selection: [], exitCodes: [0, 0], ...r });
    expect(md).toContain('**3 of 3 cell(s) changed status: 2 unexplained, 1 the endpoint');
    expect(md).toContain('| kafka | kafkajs | b | pass | flaky | known intermittent |');
    expect(md).toContain('## Known intermittent endpoint defects');
  });

  it('looks the cells up in the target manifests by default', () => {
    // kop × sarama × produce.acks.0 is expected flaky in suites/expectations/kop.json
    const c = (status: CellStatus): CellResult => ({ ...cell('produce.acks.0: t', status), target: 'kop', client: 'sarama' });
    expect(changedCells([run(c('pass')), run(c('flaky'))]).changed[0]?.knownIntermittent).toMatch(/FINDINGS/);
  });
});
