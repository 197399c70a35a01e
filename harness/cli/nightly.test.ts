// The nightly job against a "live" endpoint: an embedded reference Kafka reached only through
// its own client.properties, as a remote endpoint would be. Two nightlies: both write the
// reports, the second compares itself with the first, and each deletes what it created.
// A wrong endpoint stops the job in seconds with one line and exit 2.
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaJs } from '../clients/kafkajs/connection.js';
import { diffRuns, loadRun, renderDiff } from '../reporting/diff.js';
import type { RunResults } from '../reporting/model.js';
import { startKafkaBroker } from '../targets/kafka/kafka-target.js';
import { writeSelfTestProperties } from '../targets/registry.js';
import type { StartedTarget } from '../targets/types.js';
import { errorLines, refusalBound, runCli } from './cli-process.js';

// One nightly of the slice below takes about 2 min on a quiet machine and 6 min at load 60; the
// bound is a hang guard.
const nightly = (args: string[], timeout = 15 * 60_000) => runCli(['nightly', ...args], { timeout, env: { KOPC_PROPERTIES: '' } });

describe('nightly job', () => {
  let target: StartedTarget | undefined;
  let properties: string;
  const reports = mkdtempSync(join(tmpdir(), 'kopc-nightly-'));
  beforeAll(async () => {
    target = await startKafkaBroker({ heap: '384m' });
    properties = writeSelfTestProperties(target);
  }, 180_000);
  afterAll(async () => {
    await target?.stop();
  }, 60_000);

  const slice = ['--clients', 'kafkajs,java-4.4.0', 'suites/topics/global-local.test.ts', 'suites/consumer-groups/commits.test.ts'];

  it('runs twice against the endpoint: reports, a diff against the previous nightly, everything it created deleted', async () => {
    const topicsBefore = await listTopics();
    // This test is about the job, not the cells: a cell that failed on a busy machine makes the
    // job exit 1, and the job must say so in its counts and its diff. The exit code must follow
    // from what the job found (failed cells, regressions, leftovers), nothing else.
    const first = await nightly(['--properties', properties, '--reports', reports, ...slice]);
    expect(first.all).toContain('nightly: live target OK:');
    expect(first.all).toContain('first nightly in this reports directory');
    expect(first.all).toMatch(/nightly: cleanup: deleted [1-9]\d* topic\(s\) and [1-9]\d* group\(s\) the run created; nothing left behind/);
    const firstModel = JSON.parse(readFileSync(join(reports, 'results-model.json'), 'utf8')) as RunResults;
    expect(first.exitCode, first.all?.slice(-3000)).toBe(exitCodeFor(firstModel, 0, first.all ?? ''));
    const second = await nightly(['--properties', properties, '--reports', reports, ...slice]);
    expect(second.all).toMatch(/nightly: cleanup: deleted [1-9]\d* topic\(s\) and [1-9]\d* group\(s\) the run created; nothing left behind/);
    // The diff the job printed is the one between the two runs it kept.
    const kept = readdirSync(join(reports, 'history')).filter((f) => f.endsWith('.json')).sort();
    const expectedDiff = diffRuns(loadRun(join(reports, 'history', kept[0]!)), loadRun(join(reports, 'history', kept[1]!)));
    expect(second.all).toContain(`nightly: against the previous nightly (${kept[0]}):\n${renderDiff(expectedDiff)}`);

    const model = JSON.parse(readFileSync(join(reports, 'results-model.json'), 'utf8')) as RunResults;
    expect(second.exitCode, second.all?.slice(-3000)).toBe(exitCodeFor(model, expectedDiff.regressions.length, second.all ?? ''));
    expect(model.targets.map((t) => [t.id, t.state])).toEqual([['live', 'started']]);
    expect(model.cells.filter((c) => c.status === 'pass').length).toBeGreaterThan(5);
    expect(model.cells.every((c) => c.target === 'live')).toBe(true);
    for (const f of ['index.html', 'summary.md', 'junit.xml', 'diff.txt', 'allure-report/index.html', 'live-cleanup.json']) {
      expect(existsSync(join(reports, f)), f).toBe(true);
    }
    expect(readdirSync(join(reports, 'history')).length).toBe(2);
    // Nothing the nightlies created is left on the endpoint.
    const after = await listTopics();
    expect(after.filter((t) => !topicsBefore.includes(t) && /^c8(globals|locals)\./.test(t))).toEqual([]);
  }, 35 * 60_000);

  it('a wrong endpoint or a missing configuration: one line, exit 2, in seconds', async () => {
    const bad = join(reports, 'bad.properties');
    writeFileSync(bad, readFileSync(properties, 'utf8').replace(/bootstrap\.servers=.*/, 'bootstrap.servers=127.0.0.1:1'));
    const { boundMs, startupMs } = await refusalBound('nightly', { KOPC_PROPERTIES: '' });
    const t0 = Date.now();
    const r = await nightly(['--properties', bad, '--reports', join(reports, 'bad')], 120_000);
    const ms = Date.now() - t0;
    expect(r.exitCode).toBe(2);
    const lines = errorLines(r.stderr);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^nightly: .*127\.0\.0\.1:1/);
    expect(ms, `refused in ${ms} ms; its --help took ${startupMs} ms`).toBeLessThan(boundMs);
    const none = await nightly(['--reports', join(reports, 'none')], 120_000);
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain('nightly: no live endpoint configured');
  }, 300_000);

  /** What the job must exit with: 1 for a failed cell, a regression or anything left behind. */
  function exitCodeFor(model: RunResults, regressions: number, output: string): number {
    const failed = model.cells.some((c) => c.status === 'fail' || c.status === 'unexpected-pass');
    return failed || regressions > 0 || output.includes('LEFT BEHIND') ? 1 : 0;
  }

  async function listTopics(): Promise<string[]> {
    const admin = kafkaJs(target!, { protocol: 'SASL_PLAINTEXT', principal: target!.principals[0]! }).admin();
    await admin.connect();
    try {
      return await admin.listTopics();
    } finally {
      await admin.disconnect();
    }
  }
});
