// The bench's numbers and flags without a broker: percentiles, CDF, the ratio table, the
// driver-overhead ratio, ProducerPerformance's output, and the bench's flag parsing.
import { describe, expect, it } from 'vitest';
import { BenchProgress, parseBenchArgs, renderBenchText, UsageError } from '../cli/bench.js';
import { parseProducerPerformance } from './driver-overhead.js';
import { median, overheadRatio, percentile, ratioTable, summarizeLatency, type BenchReport, type BenchRow } from './stats.js';

describe('bench statistics', () => {
  it('nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1); // 1..100
    expect(percentile(xs, 50)).toBe(50);
    expect(percentile(xs, 95)).toBe(95);
    expect(percentile(xs, 99)).toBe(99);
    expect(percentile(xs, 100)).toBe(100);
    expect(percentile(xs, 0)).toBe(1);
    expect(percentile([7], 99)).toBe(7);
    expect(() => percentile([], 50)).toThrow(/no samples/);
  });

  it('latency summary from unsorted microseconds: ms percentiles, mean, max and a monotone CDF ending at 1', () => {
    const us = [5000, 1000, 3000, 2000, 4000, 10_000, 6000, 7000, 8000, 9000];
    const s = summarizeLatency(us, 12, 5);
    expect(s).toMatchObject({ sent: 12, received: 10, p50Ms: 5, p95Ms: 10, p99Ms: 10, maxMs: 10, meanMs: 5.5 });
    expect(s.cdf).toEqual([[2, 0.2], [4, 0.4], [6, 0.6], [8, 0.8], [10, 1]]);
    expect(summarizeLatency([1500], 1).cdf).toEqual([[1.5, 1]]);
  });

  it('median and the overhead ratio', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 2, 3])).toBe(2.5);
    expect(overheadRatio([90, 100, 95], [100, 110, 105])).toBe(0.905);
  });

  it('ratio table: every other target over kafka per client; a missing phase gives no ratio', () => {
    const row = (target: string, client: string, prod?: number, cons?: number, p50?: number): BenchRow => ({
      target, client, errors: [],
      ...(prod ? { produce: { records: 1, recordsPerSec: prod, mbPerSec: 1, elapsedMs: 1 } } : {}),
      ...(cons ? { consume: { records: 1, recordsPerSec: cons, mbPerSec: 1, elapsedMs: 1 } } : {}),
      ...(p50 ? { latency: { sent: 1, received: 1, p50Ms: p50, p95Ms: p50 * 2, p99Ms: p50 * 3, maxMs: p50 * 4, meanMs: p50, cdf: [] } } : {}),
    });
    const rows = [
      row('kafka', 'kafkajs', 1000, 2000, 2), row('kop', 'kafkajs', 500, 3000, 5), row('gdn', 'kafkajs', 250, undefined, 4),
      row('kafka', 'java-4.4.0', 4000, 8000, 1), row('kop', 'java-4.4.0', 2000, 4000, 1.5),
      row('kop', 'confluent-kafka', 10, 10, 1), // no kafka row: no ratio
    ];
    expect(ratioTable(rows)).toEqual([
      { client: 'kafkajs', target: 'kop', pair: 'kop/kafka', produceRecords: 0.5, consumeRecords: 1.5, p50: 2.5, p95: 2.5, p99: 2.5 },
      { client: 'kafkajs', target: 'gdn', pair: 'gdn/kafka', produceRecords: 0.25, consumeRecords: undefined, p50: 2, p95: 2, p99: 2 },
      { client: 'java-4.4.0', target: 'kop', pair: 'kop/kafka', produceRecords: 0.5, consumeRecords: 0.5, p50: 1.5, p95: 1.5, p99: 1.5 },
    ]);
  });

  it("reads kafka-producer-perf-test's closing line", () => {
    const out = '49996 records sent, 9999.2 records/sec (0.95 MB/sec), 3.2 ms avg latency, 200.0 ms max latency.\n' +
      '200000 records sent, 81234.5 records/sec (7.75 MB/sec), 20.1 ms avg latency, 310.0 ms max latency, 15 ms 50th, 40 ms 95th, 60 ms 99th, 90 ms 99.9th.\n';
    expect(parseProducerPerformance(out)).toBe(81234.5);
    expect(() => parseProducerPerformance('nothing')).toThrow(/unexpected ProducerPerformance output/);
  });
});

describe('bench flags', () => {
  it('defaults, and every flag read', () => {
    const d = parseBenchArgs([]);
    expect(d).toMatchObject({ records: 20_000, size: 100, rate: 100, durationMs: 5000, targets: ['kafka', 'kop', 'gdn'], overhead: true });
    expect(d !== 'help' && d.clients).toEqual(['kafkajs', 'java-4.4.0', 'confluent-kafka', 'kafka-python-3.0.12']);
    expect(parseBenchArgs(['--records', '300', '--size=64', '--rate', '50', '--duration', '1.5', '--clients', 'kafkajs', '--targets', 'kafka', '--no-overhead']))
      .toMatchObject({ records: 300, size: 64, rate: 50, durationMs: 1500, clients: ['kafkajs'], targets: ['kafka'], overhead: false });
    expect(parseBenchArgs(['--help'])).toBe('help');
  });

  it.each([
    [['--records', '0'], /^--records needs a whole number ≥ 1 \(got "0"\)$/],
    [['--records'], /^--records needs a value$/],
    [['--size', '8'], /^--size needs a whole number ≥ 16/],
    [['--rate', 'fast'], /^--rate needs a number > 0 \(got "fast"\)$/],
    [['--duration', '-1'], /^--duration needs a number > 0 \(got "-1"\)$/],
    [['--clients', 'kafka-node'], /^--clients: unknown or unsupported client\(s\) kafka-node; bench clients: kafkajs, /],
    [['--targets', 'kafka,live'], /^--targets: unknown target\(s\) live; bench targets: kafka, kop, gdn$/],
    [['--rate', '0.1', '--duration', '1'], /fewer than 1 latency record/],
    [['--frobnicate'], /^unknown option --frobnicate/],
  ])('%j is refused in one line', (args, message) => {
    let err: unknown;
    try {
      parseBenchArgs(args);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as Error).message).toMatch(message);
    expect((err as Error).message).not.toContain('\n');
  });

  it('progress: plain lines with step counts when stderr is not a terminal', () => {
    const lines: string[] = [];
    const out = { isTTY: false, write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WriteStream;
    const p = new BenchProgress(3, out);
    const original = process.stderr.write.bind(process.stderr);
    const seen: string[] = [];
    process.stderr.write = ((s: string) => { seen.push(s); return true; }) as typeof process.stderr.write;
    try {
      p.step('kafka: started');
      p.show('kafka × kafkajs: producing');
    } finally {
      process.stderr.write = original;
    }
    expect(lines).toEqual([]);
    expect(seen.join('')).toMatch(/^\[kop-conformance \d\d:\d\d:\d\d\] bench: \[1\/3\] kafka: started\n\[kop-conformance \d\d:\d\d:\d\d\] bench: \[1\/3\] kafka × kafkajs: producing\n$/);
  });

  it('progress: a redrawn bar on a terminal', () => {
    const lines: string[] = [];
    const out = { isTTY: true, write: (s: string) => { lines.push(s); return true; } } as unknown as NodeJS.WriteStream;
    const ci = process.env.CI;
    delete process.env.CI;
    try {
      const p = new BenchProgress(4, out);
      p.step('a');
      p.step('b');
      p.end();
    } finally {
      if (ci !== undefined) process.env.CI = ci;
    }
    expect(lines[1]).toBe(`\r\x1b[K[${'#'.repeat(15)}${'-'.repeat(15)}] 2/4 b`);
    expect(lines.at(-1)).toBe('\n');
  });

  it('terminal summary names failed phases', () => {
    const r = {
      rows: [{ target: 'kop', client: 'kafkajs', errors: [{ phase: 'consume', message: 'TIMEOUT: consumed 3 of 5\nstack' }] }],
      ratios: [], driverOverhead: { skipped: 'no java client' },
    } as unknown as BenchReport;
    const text = renderBenchText(r);
    expect(text).toContain('kop | kafkajs | – | – | – | – | – | – | – | consume: TIMEOUT: consumed 3 of 5');
    expect(text).toContain('driver overhead: not measured (no java client)');
  });
});
