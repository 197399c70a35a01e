// How much the Java driver costs over the library itself: its perf_produce next to Apache
// Kafka's own kafka-producer-perf-test (ProducerPerformance) of the same kafka-clients version
// (or the nearest served kafka-tools release), against the same broker, same records, acks and
// login, in alternating rounds. The goal is driver ≥ 0.9 × native tool.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import type { ExternalDriverHandle } from '../clients/external/external-driver.js';
import { wireConnection } from '../clients/external/external-driver.js';
import type { Connection } from '../clients/types.js';
import { bootstrap, listenerFor } from '../targets/types.js';
import { mavenBuild } from '../util/maven.js';
import { ensureDir, projectRoot, workDir } from '../util/paths.js';
import { overheadRatio, type DriverOverhead } from './stats.js';

/** kafka-tools is not served for every kafka-clients release: the nearest earlier one stands in. */
const TOOL_FALLBACK: Record<string, string[]> = { '4.4.0': ['4.3.1'] };

export const OVERHEAD_GOAL = 0.9;

export async function buildProducerPerfTool(version: string): Promise<{ classpath: string; toolVersion: string }> {
  const failures: string[] = [];
  for (const candidate of [version, ...(TOOL_FALLBACK[version] ?? [])]) {
    try {
      const tool = await mavenBuild(`kafka-producer-perf-test-${candidate}`, join(projectRoot, 'harness/bench/producer-perf'), { props: { 'kafka.version': candidate } });
      return { classpath: tool.classpath, toolVersion: candidate };
    } catch (err) {
      failures.push(`kafka-tools ${candidate}: ${(err as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`no kafka-producer-perf-test: ${failures.join('; ')}`);
}

/** The last "N records sent, X records/sec" line of ProducerPerformance's output. */
export function parseProducerPerformance(stdout: string): number {
  const line = stdout.split('\n').filter((x) => x.includes('records sent')).at(-1) ?? '';
  const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(line);
  if (!m) throw new Error(`unexpected ProducerPerformance output:\n${stdout.slice(-500)}`);
  return Number(m[2]);
}

export interface OverheadOptions {
  conn: Connection;
  /** A fresh Java driver per round: a cold JVM, as the tool's own is. */
  startDriver: () => Promise<ExternalDriverHandle>;
  clientVersion: string;
  records: number;
  size: number;
  rounds: number;
  freshTopic: () => Promise<string>;
  onRound?: (what: string) => void;
  signal?: AbortSignal;
}

export async function measureDriverOverhead(o: OverheadOptions): Promise<DriverOverhead> {
  const { classpath, toolVersion } = await buildProducerPerfTool(o.clientVersion);
  const l = listenerFor(o.conn.target, o.conn.protocol);
  const p = o.conn.principal;
  const dir = ensureDir(join(workDir, `bench-${process.pid}`));
  const propsFile = join(dir, 'producer.properties');
  const q = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  // Secrets stay in a 0600 file under .work/, never in argv.
  writeFileSync(propsFile, [
    `bootstrap.servers=${bootstrap(l)}`, 'security.protocol=SASL_PLAINTEXT', 'sasl.mechanism=PLAIN', 'acks=all',
    `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${q(p.username)}" password="${q(p.password)}";`,
  ].join('\n') + '\n', { mode: 0o600 });
  const native: number[] = [];
  const ours: number[] = [];
  for (let r = 1; r <= o.rounds; r++) {
    o.onRound?.(`round ${r}/${o.rounds}: kafka-producer-perf-test ${toolVersion}`);
    const out = await execa('java', ['-Xmx512m', '-cp', classpath, 'org.apache.kafka.tools.ProducerPerformance',
      '--topic', await o.freshTopic(), '--num-records', String(o.records), '--record-size', String(o.size), '--throughput', '-1',
      '--producer.config', propsFile], { timeout: 10 * 60_000, cancelSignal: o.signal, stdin: 'ignore' });
    native.push(parseProducerPerformance(out.stdout));
    o.onRound?.(`round ${r}/${o.rounds}: Java driver perf_produce`);
    const driver = await o.startDriver();
    let d: { records_per_sec: number; failed: number };
    try {
      // No warm-up record: the tool's measurement includes its first metadata round trip too.
      d = await driver.request<{ records_per_sec: number; failed: number }>('perf_produce', {
        conn: wireConnection(o.conn), topic: await o.freshTopic(), num_records: o.records, record_size: o.size, acks: 'all',
      }, 10 * 60_000);
    } finally {
      await driver.close();
    }
    if (d.failed) throw new Error(`driver run had ${d.failed} failed sends`);
    ours.push(d.records_per_sec);
  }
  return {
    clientVersion: o.clientVersion, toolVersion, records: o.records, recordSize: o.size, acks: 'all',
    nativeRecordsPerSec: native.map(Math.round), driverRecordsPerSec: ours.map(Math.round),
    ratio: overheadRatio(ours, native), goal: OVERHEAD_GOAL,
  };
}

