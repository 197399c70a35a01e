// kop-conformance bench: each endpoint next to Apache Kafka, per client, in one run. For every
// selected target × client: producer throughput (acks=all), consumer throughput, and end-to-end
// latency at a fixed rate (producer timestamp → consumer receive, one clock); then the ratio
// table kop/kafka and gdn/kafka per client, and the Java driver's overhead over Apache Kafka's
// own kafka-producer-perf-test. Writes <reports>/bench/bench.json and bench/index.html.
// Exit code: 0 every measurement done, 1 one failed, 2 bad usage, 130 interrupted (Ctrl-C).
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { clientRegistry } from '../clients/registry.js';
import type { ExternalDriverHandle } from '../clients/external/external-driver.js';
import { startJavaDriver } from '../clients/java/java-driver.js';
import { kafkaJs } from '../clients/kafkajs/connection.js';
import type { Connection } from '../clients/types.js';
import type { TargetId } from '../targets/slots.js';
import type { TargetInfo } from '../targets/types.js';
import { startTargets } from '../targets/registry.js';
import { reportsDir } from '../util/paths.js';
import { progress } from '../util/progress.js';
import { renderBenchPage } from '../bench/bench-page.js';
import { measureDriverOverhead } from '../bench/driver-overhead.js';
import { externalPerfClient, kafkaJsPerfClient, type PerfClient } from '../bench/perf-clients.js';
import { ratioTable, summarizeLatency, type BenchReport, type BenchRow } from '../bench/stats.js';

export const BENCH_TARGETS = ['kafka', 'kop', 'gdn'] as const;
/** Clients with the bench operations (PROTOCOL.md "Bench operations", or in process). */
export const BENCH_CLIENTS = clientRegistry.map((c) => c.id).filter((id) => id === 'kafkajs' || id.startsWith('java-') || id.startsWith('kafka-python-') || id === 'confluent-kafka');
export const DEFAULT_CLIENTS = ['kafkajs', 'java-4.4.0', 'confluent-kafka', 'kafka-python-3.0.12'];

export interface BenchOptions {
  records: number;
  size: number;
  rate: number;
  durationMs: number;
  clients: string[];
  targets: TargetId[];
  overheadRecords: number;
  overheadRounds: number;
  overhead: boolean;
}

const USAGE = `usage: kop-conformance bench [--records N] [--size BYTES] [--rate N] [--duration SECONDS]
                             [--clients a,b] [--targets kafka,kop,gdn]
                             [--overhead-records N] [--overhead-rounds N] [--no-overhead]

For each selected target × client, in one run: producer throughput (records/s and MB/s, acks=all,
--records records of --size bytes, one partition), consumer throughput (the same records read
back by a fresh group), and end-to-end latency p50/p95/p99 (--rate records/s for --duration
seconds, producer timestamp → consumer receive, one clock). Then the ratio table kop/kafka and
gdn/kafka per client, and the Java driver's produce rate over kafka-producer-perf-test's on the
kafka target (goal ≥ 0.9; --overhead-records records, --overhead-rounds alternating rounds).

Defaults: --records 20000 --size 100 --rate 100 --duration 5 --targets kafka,kop,gdn
--clients ${DEFAULT_CLIENTS.join(',')} --overhead-records 200000 --overhead-rounds 2
(about 2-3 minutes with warm caches). Clients: ${BENCH_CLIENTS.join(', ')}.

Writes <reports>/bench/bench.json and <reports>/bench/index.html (reports = KOPC_REPORTS_DIR or
reports/). Progress goes to stderr. Ctrl-C stops drivers and brokers and exits 130.
Exit code: 0 every measurement done, 1 one failed, 2 bad usage.`;

export class UsageError extends Error {}

const defaults: BenchOptions = {
  records: 20_000, size: 100, rate: 100, durationMs: 5000, clients: DEFAULT_CLIENTS, targets: [...BENCH_TARGETS],
  overheadRecords: 200_000, overheadRounds: 2, overhead: true,
};

/** Parses the flags; a bad one throws UsageError with a one-line message. */
export function parseBenchArgs(argv: string[]): BenchOptions | 'help' {
  const o: BenchOptions = { ...defaults, clients: [...defaults.clients], targets: [...defaults.targets] };
  const value = (i: number, flag: string) => {
    const v = argv[i];
    if (v === undefined || v.startsWith('--')) throw new UsageError(`${flag} needs a value`);
    return v;
  };
  const whole = (v: string, flag: string, min: number) => {
    if (!/^\d+$/.test(v) || Number(v) < min) throw new UsageError(`${flag} needs a whole number ≥ ${min} (got "${v}")`);
    return Number(v);
  };
  const positive = (v: string, flag: string) => {
    const n = Number(v);
    if (!/^\d+(\.\d+)?$/.test(v) || !(n > 0)) throw new UsageError(`${flag} needs a number > 0 (got "${v}")`);
    return n;
  };
  const list = (v: string) => v.split(',').map((s) => s.trim()).filter(Boolean);
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const next = () => inline ?? value(++i, flag);
    switch (flag) {
      case '--help': case '-h': return 'help';
      case '--records': o.records = whole(next(), flag, 1); break;
      case '--size': o.size = whole(next(), flag, 16); break;
      case '--rate': o.rate = positive(next(), flag); break;
      case '--duration': o.durationMs = Math.round(positive(next(), flag) * 1000); break;
      case '--overhead-records': o.overheadRecords = whole(next(), flag, 1); break;
      case '--overhead-rounds': o.overheadRounds = whole(next(), flag, 1); break;
      case '--no-overhead': o.overhead = false; break;
      case '--clients': {
        const ids = list(next());
        const bad = ids.filter((c) => !BENCH_CLIENTS.includes(c));
        if (!ids.length || bad.length) throw new UsageError(`--clients: unknown or unsupported client(s) ${bad.join(', ') || '(none given)'}; bench clients: ${BENCH_CLIENTS.join(', ')}`);
        o.clients = [...new Set(ids)];
        break;
      }
      case '--targets': {
        const ids = list(next());
        const bad = ids.filter((t) => !(BENCH_TARGETS as readonly string[]).includes(t));
        if (!ids.length || bad.length) throw new UsageError(`--targets: unknown target(s) ${bad.join(', ') || '(none given)'}; bench targets: ${BENCH_TARGETS.join(', ')}`);
        o.targets = [...new Set(ids)] as TargetId[];
        break;
      }
      default: throw new UsageError(`unknown option ${a} (see kop-conformance bench --help)`);
    }
  }
  if (o.durationMs * o.rate < 1000) throw new UsageError(`--rate × --duration gives fewer than 1 latency record`);
  return o;
}

/** Progress on stderr: a redrawn bar on a terminal, plain timestamped lines otherwise. */
export class BenchProgress {
  private done = 0;
  private readonly tty: boolean;
  constructor(private total: number, private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = Boolean(out.isTTY) && process.env.CI === undefined;
  }
  step(what: string): void {
    this.done = Math.min(this.total, this.done + 1);
    this.show(what);
  }
  note(what: string): void {
    if (this.tty) this.out.write('\r\x1b[K');
    progress('bench', what);
  }
  show(what: string): void {
    if (!this.tty) return progress('bench', `[${this.done}/${this.total}] ${what}`);
    const width = 30;
    const fill = Math.round((this.done / Math.max(1, this.total)) * width);
    this.out.write(`\r\x1b[K[${'#'.repeat(fill)}${'-'.repeat(width - fill)}] ${this.done}/${this.total} ${what.slice(0, 80)}`);
  }
  end(): void {
    if (this.tty) this.out.write('\n');
  }
}

async function createPerfClient(id: string): Promise<{ perf: PerfClient; external?: ExternalDriverHandle }> {
  const entry = clientRegistry.find((c) => c.id === id)!;
  const why = await entry.unavailable?.();
  if (why) throw new Error(why);
  const driver = await entry.create();
  if (id === 'kafkajs') return { perf: kafkaJsPerfClient(driver) };
  const external = driver as ExternalDriverHandle;
  return { perf: externalPerfClient(external), external };
}

const msg = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Creates the bench topics; a first refusal with a retriable code is tried once more after 2 s
 * (a busy broker can answer a create with UNKNOWN_TOPIC_OR_PARTITION), and the retry is said.
 */
const RETRIABLE_CREATE = new Set(['UNKNOWN_TOPIC_OR_PARTITION', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'NOT_LEADER_FOR_PARTITION', 'NOT_CONTROLLER', 'REQUEST_TIMED_OUT']);

async function createTopicsOnce(perf: PerfClient, conn: Connection, topics: string[], say: (why: string) => void): Promise<void> {
  for (const t of topics) {
    try {
      await perf.createTopic(conn, t);
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === 'UNSUPPORTED_VERSION') {
        // The client's admin cannot create topics here (gdn: CreateTopics v2 only, and the Java
        // AdminClient will not send a default replication factor below v4, gdn FINDINGS F4):
        // KafkaJS's admin creates them, so the client's produce and consume are still measured.
        say(`its admin cannot create ${t} here (${msg(err).split('\n')[0]!.slice(0, 120)}); created with KafkaJS's admin instead`);
        const admin = kafkaJs(conn.target, { protocol: conn.protocol, principal: conn.principal, clientId: 'kop-conformance-bench' }).admin();
        await admin.connect();
        try {
          await admin.createTopics({ topics: [{ topic: t, numPartitions: 1 }], waitForLeaders: true });
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
        continue;
      }
      if (!code || !RETRIABLE_CREATE.has(code)) throw err;
      say(`creating ${t} failed (${msg(err).split('\n')[0]!.slice(0, 160)}); once more in 2 s`);
      await new Promise((r) => setTimeout(r, 2000));
      await perf.createTopic(conn, t);
    }
  }
}

export interface BenchRunState {
  /** Set on Ctrl-C: every loop stops at its next step. */
  stopping: boolean;
  clients: Map<string, { perf: PerfClient; external?: ExternalDriverHandle }>;
  stopTargets?: () => Promise<void>;
  abort: AbortController;
}

export async function runBench(o: BenchOptions, command: string, state: BenchRunState): Promise<BenchReport> {
  const startedAt = new Date().toISOString();
  const loadStart = loadavg();
  const javaForOverhead = o.overhead && o.targets.includes('kafka') ? (o.clients.find((c) => c === 'java-4.4.0') ?? o.clients.find((c) => c.startsWith('java-'))) : undefined;
  const bar = new BenchProgress(o.targets.length * (1 + o.clients.length * 3) + (javaForOverhead ? o.overheadRounds * 2 : 0));
  const report: BenchReport = {
    startedAt, finishedAt: startedAt, command,
    settings: { records: o.records, size: o.size, rate: o.rate, durationMs: o.durationMs, acks: 'all', partitions: 1, protocol: 'SASL_PLAINTEXT' },
    machine: { cpus: availableParallelism(), loadAvgStart: loadStart, loadAvgEnd: loadStart, node: process.version },
    targets: [], clients: o.clients, rows: [], ratios: [],
  };
  const startErrors = new Map<string, string>();
  let n = 0;
  const unique = (what: string) => `${what}-${process.pid}-${Date.now().toString(36)}-${n++}`;
  for (const targetId of o.targets) {
    if (state.stopping) break;
    bar.show(`${targetId}: starting the broker`);
    const { slots, stopAll } = await startTargets([targetId]);
    state.stopTargets = stopAll;
    try {
      const slot = slots[0]!;
      bar.step(`${targetId}: ${slot.state}`);
      if (slot.state !== 'started') {
        report.targets.push({ id: targetId, state: slot.state, reason: slot.state === 'not-run' ? slot.reason : slot.error.split('\n')[0] });
        bar.note(`${targetId}: ${slot.state === 'not-run' ? slot.reason : `start failed: ${slot.error.split('\n')[0]}`}`);
        continue;
      }
      const info: TargetInfo = slot.info;
      report.targets.push({ id: targetId, state: 'started', description: info.description });
      const conn: Connection = { target: info, protocol: 'SASL_PLAINTEXT', principal: info.principals[0]! };
      const topicName = (what: string) => `${info.topics.localPrefix}${unique(`bench-${what}`)}`;
      for (const clientId of o.clients) {
        if (state.stopping) break;
        const row: BenchRow = { target: targetId, client: clientId, errors: [] };
        report.rows.push(row);
        let c = state.clients.get(clientId);
        if (!c && !startErrors.has(clientId)) {
          try {
            c = await createPerfClient(clientId);
            state.clients.set(clientId, c);
          } catch (err) {
            startErrors.set(clientId, msg(err));
          }
        }
        if (!c) {
          row.errors.push({ phase: 'start', message: startErrors.get(clientId)! });
          bar.step(`${targetId} × ${clientId}: driver did not start`);
          bar.step('');
          bar.step('');
          continue;
        }
        row.clientVersion = c.perf.version;
        const topic = topicName(clientId);
        const phase = async (name: 'produce' | 'consume' | 'latency', fn: () => Promise<void>) => {
          if (state.stopping) return;
          try {
            await fn();
          } catch (err) {
            if (!state.stopping) {
              row.errors.push({ phase: name, message: msg(err) });
              bar.note(`${targetId} × ${clientId}: ${name} failed: ${msg(err).split('\n')[0]}`);
            }
          }
          bar.step(`${targetId} × ${clientId}: ${name} done`);
        };
        const ltopic = topicName(`${clientId}-latency`);
        try {
          await createTopicsOnce(c.perf, conn, [topic, ltopic], (why) => bar.note(`${targetId} × ${clientId}: ${why}`));
        } catch (err) {
          // A client that cannot even create a topic here (a refused login, an API version the
          // endpoint cannot answer) would only time out in every phase: one error, next client.
          row.errors.push({ phase: 'start', message: `creating the bench topics: ${msg(err)}` });
          bar.note(`${targetId} × ${clientId}: not measured: creating the bench topics failed: ${msg(err).split('\n')[0]}`);
          bar.step(`${targetId} × ${clientId}: not measured`);
          bar.step('');
          bar.step('');
          continue;
        }
        bar.show(`${targetId} × ${clientId}: producing ${o.records} records`);
        await phase('produce', async () => {
          const r = await c.perf.produce(conn, { topic, records: o.records, size: o.size });
          row.produce = { records: r.records, recordsPerSec: r.recordsPerSec, mbPerSec: r.mbPerSec, elapsedMs: r.elapsedMs };
        });
        await phase('consume', async () => {
          if (!row.produce) throw new Error('nothing to consume: the produce phase failed');
          // The produce phase's warm-up record is in the topic too.
          const r = await c.perf.consume(conn, { topic, records: o.records + 1, size: o.size, groupId: unique('bench-group'), timeoutMs: 60_000 + o.records * 2 });
          row.consume = { records: r.records, recordsPerSec: r.recordsPerSec, mbPerSec: r.mbPerSec, elapsedMs: r.elapsedMs };
        });
        bar.show(`${targetId} × ${clientId}: latency at ${o.rate}/s for ${o.durationMs / 1000} s`);
        await phase('latency', async () => {
          const r = await c.perf.latency(conn, { topic: ltopic, groupId: unique('bench-latency'), rate: o.rate, durationMs: o.durationMs, size: o.size });
          if (!r.latenciesUs.length) throw new Error(`no latency record received (${r.sent} sent)`);
          row.latency = summarizeLatency(r.latenciesUs, r.sent);
        });
      }
      if (targetId === 'kafka' && javaForOverhead && !state.stopping) {
        const c = state.clients.get(javaForOverhead);
        if (!c?.external) report.driverOverhead = { skipped: `${javaForOverhead} did not start` };
        else {
          try {
            const version = javaForOverhead.slice('java-'.length);
            report.driverOverhead = await measureDriverOverhead({
              conn, startDriver: () => startJavaDriver(version), clientVersion: version, records: o.overheadRecords, size: o.size,
              rounds: o.overheadRounds, signal: state.abort.signal,
              freshTopic: async () => { const t = topicName('overhead'); await c.perf.createTopic(conn, t); return t; },
              onRound: (what) => bar.step(`driver overhead ${what}`),
            });
            bar.note(`driver overhead: ${report.driverOverhead.ratio} × kafka-producer-perf-test (goal ≥ ${report.driverOverhead.goal})`);
          } catch (err) {
            if (!state.stopping) report.driverOverhead = { skipped: `failed: ${msg(err).split('\n')[0]}` };
          }
        }
      }
    } finally {
      if (!state.stopping) {
        bar.show(`${targetId}: stopping the broker`);
        await stopAll();
        state.stopTargets = undefined;
      }
    }
  }
  bar.end();
  report.ratios = ratioTable(report.rows);
  report.finishedAt = new Date().toISOString();
  report.machine.loadAvgEnd = loadavg();
  return report;
}

export function writeBenchReport(report: BenchReport, dir = join(reportsDir, 'bench')): { json: string; html: string } {
  mkdirSync(dir, { recursive: true });
  const json = join(dir, 'bench.json');
  const html = join(dir, 'index.html');
  writeFileSync(json, `${JSON.stringify(report, null, 2)}\n`);
  writeFileSync(html, renderBenchPage(report));
  return { json, html };
}

/** The ratio table and the overhead as plain text for the terminal. */
export function renderBenchText(r: BenchReport): string {
  const f = (x: number | undefined, d = 2) => (x === undefined ? '–' : x.toFixed(d));
  const lines = ['target | client | produce rec/s | produce MB/s | consume rec/s | consume MB/s | p50 ms | p95 ms | p99 ms | errors'];
  for (const row of r.rows) {
    lines.push([row.target, row.client, f(row.produce?.recordsPerSec, 0), f(row.produce?.mbPerSec), f(row.consume?.recordsPerSec, 0), f(row.consume?.mbPerSec),
      f(row.latency?.p50Ms), f(row.latency?.p95Ms), f(row.latency?.p99Ms), row.errors.map((e) => `${e.phase}: ${e.message.split('\n')[0]!.slice(0, 120)}`).join('; ') || '-'].join(' | '));
  }
  lines.push('', 'client | ratio | produce | consume | p50 | p95 | p99');
  for (const x of r.ratios) lines.push([x.client, x.pair, f(x.produceRecords), f(x.consumeRecords), f(x.p50), f(x.p95), f(x.p99)].join(' | '));
  const o = r.driverOverhead;
  if (o) lines.push('', 'skipped' in o ? `driver overhead: not measured (${o.skipped})` : `driver overhead: Java driver ${o.clientVersion} / kafka-producer-perf-test ${o.toolVersion} = ${o.ratio.toFixed(3)} (goal ≥ ${o.goal}; native ${o.nativeRecordsPerSec.join(', ')} rec/s, driver ${o.driverRecordsPerSec.join(', ')} rec/s)`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  let o: BenchOptions | 'help';
  try {
    o = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`kop-conformance bench: ${err.message}`);
      return 2;
    }
    throw err;
  }
  if (o === 'help') {
    console.log(USAGE);
    return 0;
  }
  const state: BenchRunState = { stopping: false, clients: new Map(), abort: new AbortController() };
  const stopEverything = async () => {
    state.abort.abort();
    for (const c of state.clients.values()) c.perf.kill();
    await state.stopTargets?.().catch(() => undefined);
    await Promise.all([...state.clients.values()].map((c) => c.perf.close().catch(() => undefined)));
  };
  const onSignal = (sig: NodeJS.Signals, code: number) => () => {
    if (state.stopping) process.exit(code);
    state.stopping = true;
    process.stderr.write(`\nbench: ${sig}: stopping drivers and brokers (again to exit at once)\n`);
    void stopEverything().finally(() => process.exit(code));
  };
  process.on('SIGINT', onSignal('SIGINT', 130));
  process.on('SIGTERM', onSignal('SIGTERM', 143));
  const command = `kop-conformance bench ${argv.join(' ')}`.trim();
  let report: BenchReport;
  try {
    report = await runBench(o, command, state);
  } finally {
    if (!state.stopping) await Promise.all([...state.clients.values()].map((c) => c.perf.close().catch(() => undefined)));
  }
  if (state.stopping) return new Promise<number>(() => undefined); // the signal handler exits
  const { json, html } = writeBenchReport(report);
  console.log(`${renderBenchText(report)}\n\nbench: ${json}, ${html}`);
  const failed = report.rows.some((r) => r.errors.length) || report.targets.some((t) => t.state === 'start-failed');
  return failed ? 1 : 0;
}

if (process.argv[1] && /bench\.ts$/.test(process.argv[1])) process.exitCode = await main(process.argv.slice(2));
