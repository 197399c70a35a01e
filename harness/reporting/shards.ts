// Sharded runs: `--shard i/n` runs a slice of the scenario files (vitest's own sharding), each
// shard on its own machine with its own embedded brokers (or the shared live target). A shard
// writes a vitest blob plus the targets it saw; `kop-conformance merge` turns all of them into
// the one set of reports a full run writes (matrix, summary, JUnit, Allure, results model).
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunResults } from './model.js';
import { TARGETS_FILE } from './results-reporter.js';
import { readTimings, type TimingEntry } from './timings.js';

export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n` (1 ≤ i ≤ n); throws a one-line error otherwise. */
export function parseShard(s: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(s.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index < 1 || index > count) throw new Error(`--shard must be i/n with 1 ≤ i ≤ n (got "${s}")`);
  return { index, count };
}

export const shardDirs = (root: string) => ({ blobs: join(root, 'blobs'), targets: join(root, 'targets') });

export interface ShardMeta {
  shard: string;
  startedAt: string;
  finishedAt: string;
  targets: RunResults['targets'];
  /** The shard's preparation timings (broker starts, driver starts), for the merged breakdown. */
  timings?: TimingEntry[];
}

/** After a shard ran: records its targets and time window beside its blob. */
export function writeShardMeta(root: string, shard: Shard, reportsDir: string, startedAt: string): string {
  const { targets } = shardDirs(root);
  mkdirSync(targets, { recursive: true });
  const p = join(reportsDir, TARGETS_FILE);
  const meta: ShardMeta = {
    shard: `${shard.index}/${shard.count}`, startedAt, finishedAt: new Date().toISOString(),
    targets: existsSync(p) ? (JSON.parse(readFileSync(p, 'utf8')) as RunResults['targets']) : [],
    timings: readTimings(reportsDir),
  };
  const out = join(targets, `shard-${shard.index}-${shard.count}.json`);
  writeFileSync(out, JSON.stringify(meta, null, 2));
  return out;
}

export interface MergePlan {
  blobDir: string;
  blobs: string[];
  shards: ShardMeta[];
  /** One entry per target: started on any shard wins over not run / failed to start. */
  targets: RunResults['targets'];
  /** Every shard's preparation timings (a target started on two shards counts both starts). */
  timings: TimingEntry[];
  startedAt: string;
  finishedAt: string;
}

const rank = (state: string) => (state === 'started' ? 2 : state === 'start-failed' ? 1 : 0);

/** Reads a shards directory; throws a one-line error naming what is missing or inconsistent. */
export function planMerge(root: string): MergePlan {
  const { blobs: blobDir, targets: targetDir } = shardDirs(root);
  if (!existsSync(blobDir)) throw new Error(`no shard results in ${root}: expected ${blobDir}/blob-*.json (run with --shard i/n first)`);
  const blobs = readdirSync(blobDir).filter((f) => /^blob-\d+-\d+\.json$/.test(f)).sort();
  if (!blobs.length) throw new Error(`no blob-*.json in ${blobDir}`);
  const shards = existsSync(targetDir)
    ? readdirSync(targetDir).filter((f) => f.endsWith('.json')).sort().map((f) => JSON.parse(readFileSync(join(targetDir, f), 'utf8')) as ShardMeta)
    : [];
  const counts = new Set(blobs.map((b) => b.replace(/^blob-\d+-(\d+)\.json$/, '$1')));
  if (counts.size > 1) throw new Error(`blobs of different shard counts in ${blobDir}: ${blobs.join(', ')}`);
  const n = Number([...counts][0]);
  const missing = Array.from({ length: n }, (_, i) => `blob-${i + 1}-${n}.json`).filter((b) => !blobs.includes(b));
  if (missing.length) throw new Error(`shard results missing in ${blobDir}: ${missing.join(', ')}`);
  const byId = new Map<string, RunResults['targets'][number]>();
  for (const t of shards.flatMap((s) => s.targets)) {
    const had = byId.get(t.id);
    if (!had || rank(t.state) > rank(had.state)) byId.set(t.id, t);
  }
  const times = shards.flatMap((s) => [s.startedAt, s.finishedAt]).sort();
  const now = new Date().toISOString();
  const timings = shards.flatMap((s) => s.timings ?? []);
  return { blobDir, blobs, shards, targets: [...byId.values()], timings, startedAt: times[0] ?? now, finishedAt: times.at(-1) ?? now };
}
