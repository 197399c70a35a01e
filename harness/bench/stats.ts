// The bench's numbers, kept pure so they can be tested without a broker: latency percentiles
// and CDF points from raw samples, and the ratio table (each endpoint next to Apache Kafka, per
// client).

/** Nearest-rank percentile (p in 0..100) of samples already sorted ascending. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) throw new Error('percentile of no samples');
  if (p <= 0) return sorted[0]!;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1]!;
}

export interface LatencySummary {
  /** Records the producer sent and the consumer received. */
  sent: number;
  received: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  meanMs: number;
  /** The CDF at (at most) `points` quantiles: [latency ms, fraction of records ≤ it]. */
  cdf: [number, number][];
}

const ms = (us: number) => Math.round(us) / 1000;

/** Latency summary from raw microsecond samples (receive − send, one clock). */
export function summarizeLatency(latenciesUs: readonly number[], sent: number, points = 100): LatencySummary {
  const sorted = [...latenciesUs].sort((a, b) => a - b);
  const cdf: [number, number][] = [];
  const steps = Math.min(points, sorted.length);
  for (let i = 1; i <= steps; i++) {
    const frac = i / steps;
    cdf.push([ms(percentile(sorted, frac * 100)), Math.round(frac * 10_000) / 10_000]);
  }
  return {
    sent, received: sorted.length,
    p50Ms: ms(percentile(sorted, 50)), p95Ms: ms(percentile(sorted, 95)), p99Ms: ms(percentile(sorted, 99)),
    maxMs: ms(sorted.at(-1)!), meanMs: ms(sorted.reduce((a, b) => a + b, 0) / sorted.length),
    cdf,
  };
}

export interface Throughput {
  records: number;
  recordsPerSec: number;
  mbPerSec: number;
  elapsedMs: number;
}

/** One client × target row of the bench. A phase that failed carries its error instead. */
export interface BenchRow {
  target: string;
  client: string;
  clientVersion?: string;
  produce?: Throughput;
  consume?: Throughput;
  latency?: LatencySummary;
  errors: { phase: 'start' | 'produce' | 'consume' | 'latency'; message: string }[];
}

export interface RatioRow {
  client: string;
  /** `kop/kafka` or `gdn/kafka`. */
  pair: string;
  target: string;
  produceRecords?: number;
  consumeRecords?: number;
  p50?: number;
  p95?: number;
  p99?: number;
}

const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined || !(b > 0) ? undefined : Math.round((a / b) * 1000) / 1000;

/**
 * Each non-reference target's figures divided by the reference's, per client: throughput
 * ratios above 1 mean faster than Kafka, latency ratios above 1 mean slower.
 */
export function ratioTable(rows: readonly BenchRow[], reference = 'kafka'): RatioRow[] {
  const out: RatioRow[] = [];
  const targets = [...new Set(rows.map((r) => r.target))].filter((t) => t !== reference);
  const clients = [...new Set(rows.map((r) => r.client))];
  for (const client of clients) {
    const ref = rows.find((r) => r.target === reference && r.client === client);
    if (!ref) continue;
    for (const target of targets) {
      const row = rows.find((r) => r.target === target && r.client === client);
      if (!row) continue;
      out.push({
        client, target, pair: `${target}/${reference}`,
        produceRecords: ratio(row.produce?.recordsPerSec, ref.produce?.recordsPerSec),
        consumeRecords: ratio(row.consume?.recordsPerSec, ref.consume?.recordsPerSec),
        p50: ratio(row.latency?.p50Ms, ref.latency?.p50Ms),
        p95: ratio(row.latency?.p95Ms, ref.latency?.p95Ms),
        p99: ratio(row.latency?.p99Ms, ref.latency?.p99Ms),
      });
    }
  }
  return out;
}

export function median(xs: readonly number[]): number {
  if (!xs.length) throw new Error('median of nothing');
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export interface DriverOverhead {
  /** kafka-clients version of the Java driver. */
  clientVersion: string;
  /** kafka-producer-perf-test's kafka-tools version (the nearest served one when the same is not). */
  toolVersion: string;
  records: number;
  recordSize: number;
  acks: string;
  nativeRecordsPerSec: number[];
  driverRecordsPerSec: number[];
  /** median(driver) / median(native); the goal is ≥ 0.9. */
  ratio: number;
  goal: number;
}

export function overheadRatio(driver: readonly number[], native: readonly number[]): number {
  return Math.round((median(driver) / median(native)) * 1000) / 1000;
}

/** The whole bench.json. */
export interface BenchReport {
  startedAt: string;
  finishedAt: string;
  command: string;
  settings: { records: number; size: number; rate: number; durationMs: number; acks: 'all'; partitions: 1; protocol: 'SASL_PLAINTEXT' };
  machine: { cpus: number; loadAvgStart: number[]; loadAvgEnd: number[]; node: string };
  targets: { id: string; state: 'started' | 'not-run' | 'start-failed'; description?: string; reason?: string }[];
  clients: string[];
  rows: BenchRow[];
  ratios: RatioRow[];
  driverOverhead?: DriverOverhead | { skipped: string };
  /** true when the run was stopped by Ctrl-C before it finished. */
  interrupted?: boolean;
}
