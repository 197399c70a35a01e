// Where a run's time goes. Preparation steps (broker builds and starts in the global setup,
// driver builds, venvs and spawns in the test workers) are appended, one JSON line each, to
// <reports>/timings.jsonl by whichever process ran them; the results reporter reads that file
// and, with the cells' own start times and durations, builds the run's timing breakdown.
import { AsyncLocalStorage } from 'node:async_hooks';
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CellResult } from './model.js';
import { reportsDir } from '../util/paths.js';

export const TIMINGS_FILE = 'timings.jsonl';

export interface TimingEntry {
  /** What was being prepared: a target (broker build/start) or a client (driver build/spawn). */
  scope: 'target' | 'client';
  id: string;
  step: string;
  ms: number;
  /** When the step ended (ISO). */
  at: string;
  pid: number;
}

export interface TimingBreakdown {
  /** Wall time of the whole run, startedAt → finishedAt. */
  wallMs: number;
  /** Per target: its preparation (every recorded step; `start (total)` covers build and start), and its cells' wall time. */
  targets: { id: string; prepMs: number; steps: { step: string; ms: number }[]; cells: number; cellsWallMs: number; cellsSumMs: number }[];
  /** Per client: builds (Maven, venv) and driver spawns, over every test worker. */
  clients: { id: string; prepMs: number; spawns: number; maxSpawnMs: number; steps: { step: string; ms: number }[] }[];
  /** Per family: cells, wall time (first cell start → last cell end) and summed cell time. */
  families: { family: string; cells: number; wallMs: number; sumMs: number }[];
  /** The slowest cells, with what each waited for where the cell recorded it. */
  slowest: { scenarioId: string; family: string; target: string; client: string; durationMs: number; waitedFor: string[] }[];
}

const scope = new AsyncLocalStorage<{ scope: TimingEntry['scope']; id: string }>();

/** Runs `fn` with every recorded step in it attributed to this target or client. */
export function withTimingScope<T>(kind: TimingEntry['scope'], id: string, fn: () => Promise<T>): Promise<T> {
  return scope.run({ scope: kind, id }, fn);
}

function timingsFile(): string {
  return join(reportsDir, TIMINGS_FILE);
}

/** Records one step of the current scope (outside any scope: nothing, e.g. a harness test). */
export function recordTiming(step: string, ms: number): void {
  const s = scope.getStore();
  if (!s) return;
  const entry: TimingEntry = { scope: s.scope, id: s.id, step, ms: Math.round(ms), at: new Date().toISOString(), pid: process.pid };
  try {
    const f = timingsFile();
    mkdirSync(join(f, '..'), { recursive: true });
    // One short line per append: concurrent writers (workers) do not interleave within it.
    appendFileSync(f, JSON.stringify(entry) + '\n');
  } catch {
    // Timing is for the report only; it never fails a run.
  }
}

/** Times `fn` as one step of the current scope. */
export async function timed<T>(step: string, fn: () => Promise<T>): Promise<T> {
  const t0 = Date.now();
  try {
    return await fn();
  } finally {
    recordTiming(step, Date.now() - t0);
  }
}

export function clearTimings(dir: string): void {
  rmSync(join(dir, TIMINGS_FILE), { force: true });
}

export function readTimings(dir: string): TimingEntry[] {
  const p = join(dir, TIMINGS_FILE);
  if (!existsSync(p)) return [];
  return readFileSync(p, 'utf8').split('\n').filter(Boolean).flatMap((l) => {
    try {
      return [JSON.parse(l) as TimingEntry];
    } catch {
      return [];
    }
  });
}

/** Spawns are recorded as this step (per worker and test file: the pool closes drivers after each file). */
export const DRIVER_READY = 'driver ready (build + spawn)';
export const TARGET_TOTAL = 'start (total)';

export function buildBreakdown(cells: CellResult[], entries: TimingEntry[], startedAt: string, finishedAt: string, slowest = 10): TimingBreakdown {
  const sumSteps = (es: TimingEntry[]) => {
    const m = new Map<string, number>();
    for (const e of es) m.set(e.step, (m.get(e.step) ?? 0) + e.ms);
    return [...m.entries()].map(([step, ms]) => ({ step, ms })).sort((a, b) => b.ms - a.ms);
  };
  const wall = (cs: CellResult[]) => {
    const timed = cs.filter((c) => c.startTime !== undefined);
    if (!timed.length) return 0;
    return Math.max(...timed.map((c) => c.startTime! + c.durationMs)) - Math.min(...timed.map((c) => c.startTime!));
  };
  const sum = (cs: CellResult[]) => cs.reduce((n, c) => n + c.durationMs, 0);
  const targetIds = [...new Set([...entries.filter((e) => e.scope === 'target').map((e) => e.id), ...cells.map((c) => c.target)])];
  const targets = targetIds.map((id) => {
    const es = entries.filter((e) => e.scope === 'target' && e.id === id);
    const total = es.filter((e) => e.step === TARGET_TOTAL).reduce((n, e) => n + e.ms, 0);
    const cs = cells.filter((c) => c.target === id);
    return { id, prepMs: total || es.reduce((n, e) => n + e.ms, 0), steps: sumSteps(es), cells: cs.length, cellsWallMs: wall(cs), cellsSumMs: sum(cs) };
  });
  const clientIds = [...new Set(entries.filter((e) => e.scope === 'client').map((e) => e.id))];
  const clients = clientIds.map((id) => {
    const es = entries.filter((e) => e.scope === 'client' && e.id === id);
    const spawns = es.filter((e) => e.step === DRIVER_READY);
    return {
      id, prepMs: spawns.reduce((n, e) => n + e.ms, 0), spawns: spawns.length, maxSpawnMs: Math.max(0, ...spawns.map((e) => e.ms)), steps: sumSteps(es),
    };
  }).sort((a, b) => b.prepMs - a.prepMs);
  const families = [...new Set(cells.map((c) => c.family))].map((family) => {
    const cs = cells.filter((c) => c.family === family);
    return { family, cells: cs.length, wallMs: wall(cs), sumMs: sum(cs) };
  }).sort((a, b) => b.wallMs - a.wallMs || b.sumMs - a.sumMs);
  const slow = [...cells].sort((a, b) => b.durationMs - a.durationMs).slice(0, slowest).map((c) => ({
    scenarioId: c.scenarioId, family: c.family, target: c.target, client: c.client, durationMs: c.durationMs,
    waitedFor: [...(c.waits ?? []), ...(c.retries ?? []).map((r) => `retry: ${r}`), ...(c.canonicalError === 'TIMEOUT' ? ['timed out'] : [])],
  }));
  return { wallMs: Math.max(0, Date.parse(finishedAt) - Date.parse(startedAt)) || 0, targets, clients, families, slowest: slow };
}

export const fmtMs = (ms: number) => (ms >= 60_000 ? `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s` : ms >= 1000 ? `${(ms / 1000).toFixed(1)} s` : `${ms} ms`);
