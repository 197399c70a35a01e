// kop-conformance bench end to end, kept cheap: bad flags refused in one line (exit 2) before
// anything starts; ONE tiny real run (reference Kafka, KafkaJS, a few hundred records) that
// writes bench.json and the page; and Ctrl-C in the middle of a run, which must stop the driver
// and the broker and exit 130.
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { BenchReport } from '../bench/stats.js';
import { runCli } from './cli-process.js';

const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(['bench', ...args], { env, timeout: 180_000 });

/** Live processes (pid: command) whose environment holds `entry` (every child inherits it). */
function processesWithEnv(entry: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(entry)) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (/\) Z /.test(stat)) continue; // a zombie has ended already
      found.push(`${pid}: ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return found;
}

describe('kop-conformance bench', () => {
  it.each([
    [['--records', 'many'], /^kop-conformance bench: --records needs a whole number ≥ 1 \(got "many"\)$/],
    [['--targets', 'moon'], /^kop-conformance bench: --targets: unknown target\(s\) moon; bench targets: kafka, kop, gdn$/],
    [['--clients', 'fluent-bit'], /^kop-conformance bench: --clients: unknown or unsupported client\(s\) fluent-bit; /],
  ])('%j: one line, exit 2, nothing started', async (args, message) => {
    const reports = mkdtempSync(join(tmpdir(), 'kopc-bench-bad-'));
    const r = await cli(args, { KOPC_REPORTS_DIR: reports });
    expect(r.exitCode).toBe(2);
    const lines = r.stderr.trim().split('\n').filter((l) => l && !l.startsWith('npm warn'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(existsSync(join(reports, 'bench'))).toBe(false);
  }, 60_000);

  it('a tiny real run on the reference Kafka with KafkaJS writes bench.json and the page', async () => {
    const reports = mkdtempSync(join(tmpdir(), 'kopc-bench-run-'));
    const r = await cli(['--targets', 'kafka', '--clients', 'kafkajs', '--records', '300', '--rate', '100', '--duration', '1', '--no-overhead'],
      { KOPC_REPORTS_DIR: reports, CI: 'true' });
    expect(r.exitCode, r.stderr.slice(-2000)).toBe(0);
    // Plain timestamped progress lines off a terminal.
    expect(r.stderr).toMatch(/\[kop-conformance \d\d:\d\d:\d\d\] bench: \[\d+\/4\] kafka × kafkajs: latency done/);
    const report = JSON.parse(readFileSync(join(reports, 'bench', 'bench.json'), 'utf8')) as BenchReport;
    expect(report.targets).toEqual([expect.objectContaining({ id: 'kafka', state: 'started' })]);
    expect(report.rows).toHaveLength(1);
    const row = report.rows[0]!;
    expect(row).toMatchObject({ target: 'kafka', client: 'kafkajs', errors: [] });
    expect(row.produce!.records).toBe(300);
    expect(row.produce!.recordsPerSec).toBeGreaterThan(0);
    expect(row.consume!.records).toBe(301); // with the produce phase's warm-up record
    expect(row.consume!.mbPerSec).toBeGreaterThan(0);
    expect(row.latency!.sent).toBe(100);
    expect(row.latency!.received).toBe(100);
    const l = row.latency!;
    expect(0 < l.p50Ms && l.p50Ms <= l.p95Ms && l.p95Ms <= l.p99Ms && l.p99Ms <= l.maxMs).toBe(true);
    expect(l.p99Ms).toBeLessThan(30_000);
    expect(l.cdf.at(-1)![1]).toBe(1);
    expect(report.ratios).toEqual([]); // one target: nothing to compare with
    const html = readFileSync(join(reports, 'bench', 'index.html'), 'utf8');
    expect(html).toContain('<canvas id="chart-produce">');
    expect(html).not.toMatch(/<script[^>]+src=/);
    expect(r.stdout).toContain('kafka | kafkajs | ');
  }, 180_000);

  it('Ctrl-C in the middle of a run stops the driver and the broker and exits 130', async () => {
    const work = mkdtempSync(join(tmpdir(), 'kopc-bench-int-'));
    // A run far too long to finish: interrupted once the Java driver is producing.
    const child = runCli(['bench', '--targets', 'kafka', '--clients', 'java-4.4.0', '--records', '50000000', '--no-overhead'], {
      detached: true, timeout: 180_000,
      env: { CI: 'true', KOPC_REPORTS_DIR: join(work, 'reports'), KOP_CONFORMANCE_WORK: join(work, 'work') },
    });
    let stderr = '';
    const producing = new Promise<void>((resolve) => {
      child.stderr!.on('data', (d: Buffer) => {
        stderr += d.toString();
        if (/kafka × java-4\.4\.0: producing/.test(stderr)) resolve();
      });
    });
    await Promise.race([producing, child]);
    expect(stderr).toMatch(/producing/);
    const mark = `KOP_CONFORMANCE_WORK=${join(work, 'work')}`;
    const running = processesWithEnv(mark);
    const brief = running.map((p) => p.slice(0, 100)).join('; ');
    expect(running.some((p) => p.includes('kafka.Kafka')), `broker running: ${brief}`).toBe(true);
    expect(running.some((p) => p.includes('io.kopconformance.driver.KafkaDriver')), `driver running: ${brief}`).toBe(true);
    // What a terminal's Ctrl-C does: SIGINT to the whole foreground process group.
    await new Promise((r) => setTimeout(r, 500));
    process.kill(-child.pid!, 'SIGINT');
    const r = await child;
    expect(r.exitCode, stderr.slice(-2000)).toBe(130);
    expect(stderr).toContain('SIGINT: stopping drivers and brokers');
    expect(existsSync(join(work, 'reports', 'bench', 'bench.json'))).toBe(false);
    // Nothing left: no broker, no driver.
    const deadline = Date.now() + 10_000;
    while (processesWithEnv(mark).length && Date.now() < deadline) await new Promise((res) => setTimeout(res, 250));
    expect(processesWithEnv(mark)).toEqual([]);
  }, 180_000);
});
