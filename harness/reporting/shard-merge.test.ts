// Sharding: two shards of a real conformance slice (each starting its own reference Kafka),
// then `kop-conformance merge`, must give one set of reports holding every cell of both shards:
// results model, matrix, JUnit, Allure. A merge with a shard missing fails fast and says which.
import { copyFileSync, existsSync, mkdtempSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { RunResults } from './model.js';
import { parseShard, planMerge } from './shards.js';
import { errorLines, refusalBound, runCli } from '../cli/cli-process.js';

// A shard of the slice below takes about 1 min on a quiet machine and 4 min at load 60; the
// bound is a hang guard.
const shardEnv = (reports: string) => ({ KOPC_REPORTS_DIR: reports, KOPC_TARGETS: 'kafka', KOPC_CLIENTS: 'kafkajs' });
const cli = (args: string[], reports: string, timeout = 12 * 60_000) => runCli(args, { timeout, env: shardEnv(reports) });

describe('sharded runs', () => {
  it('parses i/n and refuses anything else in one line', () => {
    expect(parseShard('2/3')).toEqual({ index: 2, count: 3 });
    for (const bad of ['0/2', '3/2', '1', 'a/b', '1/0']) expect(() => parseShard(bad)).toThrow(/--shard must be i\/n/);
  });

  it('two shards merge into one report with every cell of both; a missing shard is named', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'kopc-shards-'));
    const files = ['suites/sasl-plain', 'suites/topics'];
    const shards = [];
    for (const i of [1, 2]) {
      const r = await cli(['run', '--shard', `${i}/2`, ...files], reports);
      shards.push(r);
      expect(r.all, `shard ${i}`).toContain(`shard ${i}/2: results in`);
    }
    // Each shard ran a different, non-empty slice of the files.
    const ran = shards.map((r) => new Set([...(r.all ?? '').matchAll(/(suites\/[\w/-]+\.test\.ts)/g)].map((m) => m[1])));
    expect(ran[0]!.size).toBeGreaterThan(0);
    expect(ran[1]!.size).toBeGreaterThan(0);
    expect([...ran[0]!].filter((f) => ran[1]!.has(f))).toEqual([]);
    expect(existsSync(join(reports, 'results-model.json')), 'a shard writes no merged reports').toBe(false);

    const merged = await cli(['merge'], reports);
    const model = JSON.parse(readFileSync(join(reports, 'results-model.json'), 'utf8')) as RunResults;
    // This test is about the merge, not the cells: a cell that failed on a busy machine makes the
    // merge exit 1 and shows in the model; every cell ran (none "not run"), and most passed.
    const failed = model.cells.filter((c) => c.status === 'fail' || c.status === 'unexpected-pass');
    expect(merged.exitCode, merged.all).toBe(failed.length ? 1 : 0);
    expect(new Set(model.cells.map((c) => c.file))).toEqual(new Set([...ran[0]!, ...ran[1]!]));
    expect(model.cells.length).toBeGreaterThan(5);
    expect(model.cells.filter((c) => c.status === 'not-run'), 'every cell of both shards ran').toEqual([]);
    expect(model.cells.filter((c) => c.status === 'pass').length, JSON.stringify(failed)).toBeGreaterThan(model.cells.length / 2);
    expect(model.targets.map((t) => [t.id, t.state])).toEqual([['kafka', 'started']]);
    // The timing breakdown carries both shards' broker starts and driver spawns.
    const kafkaPrep = model.timings?.targets.find((t) => t.id === 'kafka');
    expect(kafkaPrep?.steps.find((s) => s.step === 'start (total)')?.ms, JSON.stringify(model.timings)).toBeGreaterThan(0);
    expect(kafkaPrep?.cells).toBe(model.cells.length);
    expect(model.timings?.clients.find((c) => c.id === 'kafkajs')?.spawns).toBeGreaterThanOrEqual(2);
    expect(readFileSync(join(reports, 'summary.md'), 'utf8')).toContain('## Where the time went');
    // The run's window is the shards' own, not the merge's.
    const metas = readdirSync(join(reports, 'shards', 'targets')).map((f) => JSON.parse(readFileSync(join(reports, 'shards', 'targets', f), 'utf8')) as { startedAt: string });
    expect(model.startedAt).toBe(metas.map((m) => m.startedAt).sort()[0]);
    // The other views hold the same cells.
    const junit = readFileSync(join(reports, 'junit.xml'), 'utf8');
    expect((junit.match(/<testcase /g) ?? []).length).toBe(model.cells.length);
    expect(readFileSync(join(reports, 'index.html'), 'utf8')).toContain(model.cells[0]!.scenarioId);
    const allure = readdirSync(join(reports, 'allure-results')).filter((f) => f.endsWith('-result.json'));
    expect(allure.length).toBe(model.cells.length);
    expect(existsSync(join(reports, 'allure-report', 'index.html'))).toBe(true);

    // Shard 2 missing: a clear one-line error naming it, exit 2, within seconds.
    const partial = mkdtempSync(join(tmpdir(), 'kopc-shards-partial-'));
    mkdirSync(join(partial, 'blobs'));
    copyFileSync(join(reports, 'shards', 'blobs', 'blob-1-2.json'), join(partial, 'blobs', 'blob-1-2.json'));
    expect(() => planMerge(partial)).toThrow('shard results missing in');
    const { boundMs, startupMs } = await refusalBound('merge', shardEnv(reports));
    const t0 = Date.now();
    const bad = await cli(['merge', '--from', partial], reports, 120_000);
    const ms = Date.now() - t0;
    expect(bad.exitCode).toBe(2);
    expect(errorLines(bad.stderr)).toEqual([`merge: shard results missing in ${join(partial, 'blobs')}: blob-2-2.json`]);
    expect(ms, `refused in ${ms} ms; its --help took ${startupMs} ms`).toBeLessThan(boundMs);
  }, 40 * 60_000);
});
