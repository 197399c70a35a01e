// The timing breakdown: built from the recorded preparation steps and the cells, shown in
// summary.md; and the throttled progress lines a run prints on stderr.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from './markdown.js';
import type { CellResult, RunResults } from './model.js';
import { RunProgress } from './progress-lines.js';
import { buildBreakdown, clearTimings, DRIVER_READY, readTimings, TARGET_TOTAL, type TimingEntry } from './timings.js';

const cell = (target: string, client: string, scenarioId: string, startTime: number, durationMs: number, extra: Partial<CellResult> = {}): CellResult => ({
  scenarioId, title: scenarioId, family: scenarioId.split('.')[0]!, target, client, status: 'pass', durationMs, startTime,
  file: 'suites/x.test.ts', rerun: 'npx vitest run', ...extra,
});

const at = '2026-12-02T10:00:00Z';
const entries: TimingEntry[] = [
  { scope: 'target', id: 'kafka', step: 'reference Kafka: format KRaft storage', ms: 800, at, pid: 1 },
  { scope: 'target', id: 'kafka', step: TARGET_TOTAL, ms: 6000, at, pid: 1 },
  { scope: 'client', id: 'java-2.8.0', step: 'maven build java-driver-2.8.0', ms: 30_000, at, pid: 2 },
  { scope: 'client', id: 'java-2.8.0', step: DRIVER_READY, ms: 31_000, at, pid: 2 },
  { scope: 'client', id: 'java-2.8.0', step: DRIVER_READY, ms: 900, at, pid: 3 },
  { scope: 'client', id: 'kafkajs', step: DRIVER_READY, ms: 5, at, pid: 2 },
];

describe('timing breakdown', () => {
  const cells = [
    cell('kafka', 'kafkajs', 'sasl-plain.login', 1000, 300),
    cell('kafka', 'java-2.8.0', 'sasl-plain.login', 1100, 4000, { waits: ['driver java-2.8.0 started: 31.0 s'], retries: ['GROUP_LOAD_IN_PROGRESS after 120 ms'] }),
    cell('kafka', 'kafkajs', 'produce-consume.order', 6000, 1000, { canonicalError: 'TIMEOUT', status: 'fail' }),
    cell('kop', 'kafkajs', 'produce-consume.order', 2000, 200),
  ];

  it('sums preparation per target and client, wall time per family and target, and the slowest cells with their waits', () => {
    const b = buildBreakdown(cells, entries, at, '2026-12-02T10:01:30Z', 2);
    expect(b.wallMs).toBe(90_000);
    expect(b.targets).toEqual([
      { id: 'kafka', prepMs: 6000, steps: [{ step: TARGET_TOTAL, ms: 6000 }, { step: 'reference Kafka: format KRaft storage', ms: 800 }], cells: 3, cellsWallMs: 6000, cellsSumMs: 5300 },
      { id: 'kop', prepMs: 0, steps: [], cells: 1, cellsWallMs: 200, cellsSumMs: 200 },
    ]);
    expect(b.clients.map((c) => [c.id, c.prepMs, c.spawns, c.maxSpawnMs])).toEqual([['java-2.8.0', 31_900, 2, 31_000], ['kafkajs', 5, 1, 5]]);
    expect(b.clients[0]!.steps[0]).toEqual({ step: DRIVER_READY, ms: 31_900 });
    expect(b.families).toEqual([
      { family: 'sasl-plain', cells: 2, wallMs: 4100, sumMs: 4300 },
      { family: 'produce-consume', cells: 2, wallMs: 5000, sumMs: 1200 },
    ].sort((x, y) => y.wallMs - x.wallMs));
    expect(b.slowest).toEqual([
      { scenarioId: 'sasl-plain.login', family: 'sasl-plain', target: 'kafka', client: 'java-2.8.0', durationMs: 4000, waitedFor: ['driver java-2.8.0 started: 31.0 s', 'retry: GROUP_LOAD_IN_PROGRESS after 120 ms'] },
      { scenarioId: 'produce-consume.order', family: 'produce-consume', target: 'kafka', client: 'kafkajs', durationMs: 1000, waitedFor: ['timed out'] },
    ]);
  });

  it('summary.md shows the breakdown, and says so when a model has none', () => {
    const run: RunResults = { startedAt: at, finishedAt: '2026-12-02T10:01:30Z', targets: [], cells };
    expect(renderMarkdown(run)).toContain('No timing breakdown in this results model');
    run.timings = buildBreakdown(cells, entries, run.startedAt, run.finishedAt);
    const md = renderMarkdown(run);
    expect(md).toContain('## Where the time went');
    expect(md).toContain('Run wall time: 1 min 30 s.');
    expect(md).toContain('| kafka | 6.0 s | start (total) 6.0 s; reference Kafka: format KRaft storage 800 ms | 3 | 6.0 s | 5.3 s |');
    expect(md).toContain('| java-2.8.0 | 31.9 s | 2 | 31.0 s |');
    expect(md).toContain('| sasl-plain | 2 | 4.1 s | 4.3 s |');
    expect(md).toContain('### The 4 slowest cells');
    expect(md).toContain('| kafka × java-2.8.0 × `sasl-plain.login` (sasl-plain) | 4.0 s | driver java-2.8.0 started: 31.0 s; retry: GROUP_LOAD_IN_PROGRESS after 120 ms |');
  });

  it('reads back what was recorded, one JSON line each; a cleared file reads empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'kopc-timings-'));
    expect(readTimings(dir)).toEqual([]);
    clearTimings(dir);
    expect(readTimings(dir)).toEqual([]);
  });
});

describe('run progress on stderr', () => {
  it('prints at most one line per interval, one when a target finishes, with counts, elapsed time and an estimate', () => {
    let now = 0;
    const lines: string[] = [];
    const p = new RunProgress({ intervalMs: 15_000, now: () => now, write: (l) => lines.push(l) });
    p.pendingFiles = 2;
    p.plan('kafka', 4);
    p.plan('kop', 2);
    p.pendingFiles = 0;
    now = 5_000;
    p.finish('kafka');
    p.tick();
    expect(lines).toEqual([]);
    now = 10_000;
    p.finish('kafka');
    p.tick();
    expect(lines).toEqual([]);
    now = 15_000;
    p.tick();
    expect(lines).toEqual(['[kop-conformance progress] 2/6 cells, 15.0 s elapsed, about 30.0 s left — kafka 2/4, kop 0/2']);
    now = 16_000;
    p.finish('kafka');
    p.tick();
    expect(lines).toHaveLength(1);
    p.finish('kafka');
    expect(lines.at(-1)).toBe('[kop-conformance progress] target kafka finished: 4/4 cells; 4/6 cells, 16.0 s elapsed, about 8.0 s left — kafka 4/4, kop 0/2');
    p.tick();
    expect(lines).toHaveLength(2);
  });

  it('does not call a target finished while files are still being collected', () => {
    const lines: string[] = [];
    const p = new RunProgress({ intervalMs: 15_000, now: () => 0, write: (l) => lines.push(l) });
    p.pendingFiles = 1;
    p.plan('kafka', 1);
    p.finish('kafka');
    expect(lines).toEqual([]);
    expect(p.line()).toContain('1/1+ cells');
  });
});
