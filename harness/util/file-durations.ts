// How long each test file took in a full run (file-durations.json beside this file), and what the
// run's scheduling takes from it: the order of the files (slow-first-sequencer.ts) and the target
// each scenario file visits first (fixtures/conformance.ts).
//
// Refresh the table from a full run: npx tsx harness/util/file-durations.ts <reports>/results-model.json
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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

/** The place of a scenario file in the run's order (0: the slowest), or undefined for a file the table lacks. */
export function fileRank(path: string, seconds: Record<string, number> = readDurations()): number | undefined {
  const order = slowestFirst(Object.keys(seconds).filter((f) => f.startsWith('suites/')), (f) => f, seconds);
  const i = order.indexOf(path);
  return i < 0 ? undefined : i;
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
    console.error('usage: npx tsx harness/util/file-durations.ts <reports>/results-model.json (of a full run)');
    process.exit(2);
  }
  const table = JSON.parse(readFileSync(TABLE, 'utf8')) as DurationTable;
  const model = JSON.parse(readFileSync(modelFile, 'utf8')) as { cells: { file: string; durationMs: number }[] };
  table.seconds = refreshedTable(model, table.seconds);
  writeFileSync(TABLE, `${JSON.stringify(table, null, 2)}\n`);
  console.log(`file-durations.json: ${Object.keys(table.seconds).length} files, from ${modelFile}`);
}
