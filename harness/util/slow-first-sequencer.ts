// The order of a run's test files: the slowest first, by their measured durations
// (file-durations.json beside this file). A scenario file runs every selected target × client in
// one worker, so one long file started late keeps a worker busy alone at the end of the run
// (sasl-plain.test.ts: 17 min of a 33 min run). Vitest's own order needs its cache of an earlier
// run, which a fresh clone lacks, and falls back to file size, which says little here
// (faults.test.ts is the largest file and one of the quickest). Files not in the table go first,
// as vitest runs unknown files first. Sharding is vitest's own (BaseSequencer.shard).
//
// Refresh the table from a full run: npx tsx harness/util/slow-first-sequencer.ts <reports>/results-model.json
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const TABLE = join(dirname(fileURLToPath(import.meta.url)), 'file-durations.json');

interface DurationTable { _about: string; seconds: Record<string, number> }

export function readDurations(file = TABLE): Record<string, number> {
  return (JSON.parse(readFileSync(file, 'utf8')) as DurationTable).seconds;
}

/** `files` (paths relative to the project root) slowest first; unknown ones before all others, in their given order. */
export function slowestFirst<T>(files: T[], pathOf: (f: T) => string, seconds: Record<string, number>): T[] {
  const weight = (f: T) => seconds[pathOf(f)] ?? Number.POSITIVE_INFINITY;
  return files.map((f, i) => ({ f, i, w: weight(f) }))
    .sort((a, b) => (b.w === a.w ? a.i - b.i : b.w > a.w ? 1 : -1))
    .map((x) => x.f);
}

export default class SlowFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const root = this.ctx.config.root;
    const seconds = readDurations();
    return slowestFirst(files, (s) => relative(root, s.moduleId), seconds)
      .sort((a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder);
  }
}

/** The seconds per file of a run's results model (its cells' durations summed), over the table's. */
export function refreshedTable(model: { cells: { file: string; durationMs: number }[] }, old: Record<string, number>): Record<string, number> {
  const sums = new Map<string, number>();
  for (const c of model.cells) sums.set(c.file, (sums.get(c.file) ?? 0) + c.durationMs);
  const next = { ...old };
  for (const [file, ms] of sums) next[file] = Math.round(ms / 1000);
  return Object.fromEntries(Object.entries(next).sort((a, b) => b[1] - a[1]));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const modelFile = process.argv[2];
  if (!modelFile) {
    console.error('usage: npx tsx harness/util/slow-first-sequencer.ts <reports>/results-model.json');
    process.exit(2);
  }
  const table = JSON.parse(readFileSync(TABLE, 'utf8')) as DurationTable;
  const model = JSON.parse(readFileSync(modelFile, 'utf8')) as { cells: { file: string; durationMs: number }[]; startedAt?: string };
  table.seconds = refreshedTable(model, table.seconds);
  writeFileSync(TABLE, `${JSON.stringify(table, null, 2)}\n`);
  console.log(`file-durations.json: ${Object.keys(table.seconds).length} files, from ${modelFile}`);
}
