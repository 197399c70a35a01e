// Run-to-run diff: every run's results model is kept under reports/history/; comparing a run
// with the one before lists new failures (regressions), fixes and flaky cells. Regressions make
// `kop-conformance diff` exit non-zero.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult, CellStatus, RunResults } from './model.js';

const BAD: CellStatus[] = ['fail', 'unexpected-pass'];
const GOOD: CellStatus[] = ['pass', 'known-failure'];

export interface RunDiff {
  regressions: { cell: string; was: CellStatus; now: CellStatus; message?: string }[];
  fixes: { cell: string; was: CellStatus; now: CellStatus }[];
  flaky: string[];
  /** Cells present in only one of the runs. */
  added: string[];
  removed: string[];
}

const key = (c: CellResult) => `${c.target} × ${c.client} × ${c.scenarioId}`;

export function diffRuns(previous: RunResults, current: RunResults): RunDiff {
  const before = new Map(previous.cells.map((c) => [key(c), c]));
  const after = new Map(current.cells.map((c) => [key(c), c]));
  const d: RunDiff = { regressions: [], fixes: [], flaky: [], added: [], removed: [] };
  for (const [k, now] of after) {
    const was = before.get(k);
    if (now.status === 'flaky') d.flaky.push(k);
    if (!was) {
      d.added.push(k);
      if (BAD.includes(now.status)) d.regressions.push({ cell: k, was: 'not-run', now: now.status, message: now.message });
      continue;
    }
    if (BAD.includes(now.status) && !BAD.includes(was.status)) d.regressions.push({ cell: k, was: was.status, now: now.status, message: now.message });
    if (GOOD.includes(now.status) && BAD.includes(was.status)) d.fixes.push({ cell: k, was: was.status, now: now.status });
  }
  for (const k of before.keys()) if (!after.has(k)) d.removed.push(k);
  return d;
}

export function renderDiff(d: RunDiff): string {
  const out = [`regressions: ${d.regressions.length}, fixes: ${d.fixes.length}, flaky: ${d.flaky.length}, new cells: ${d.added.length}, gone cells: ${d.removed.length}`];
  for (const r of d.regressions) out.push(`  REGRESSION ${r.cell}: ${r.was} → ${r.now}${r.message ? ` (${r.message.split('\n')[0]!.slice(0, 200)})` : ''}`);
  for (const f of d.fixes) out.push(`  fixed      ${f.cell}: ${f.was} → ${f.now}`);
  for (const f of d.flaky) out.push(`  flaky      ${f}`);
  return out.join('\n');
}

/** Keeps a run's model as reports/history/<time>.json; returns the previous run's file, if any. */
export function archiveRun(reportsDir: string, modelFile: string, startedAt: string): string | undefined {
  const dir = join(reportsDir, 'history');
  mkdirSync(dir, { recursive: true });
  const name = `${startedAt.replace(/[:.]/g, '-')}.json`;
  const previous = readdirSync(dir).filter((f) => f.endsWith('.json') && f < name).sort().at(-1);
  if (existsSync(modelFile)) copyFileSync(modelFile, join(dir, name));
  return previous ? join(dir, previous) : undefined;
}

export function loadRun(path: string): RunResults {
  return JSON.parse(readFileSync(path, 'utf8')) as RunResults;
}
