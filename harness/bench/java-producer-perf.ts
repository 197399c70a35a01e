// Benchmark (not a test): produce throughput of the Java driver next to Apache Kafka's own
// kafka-producer-perf-test (ProducerPerformance) of the same kafka-clients version, against
// the same reference broker, in the same run, alternating runs.
//   npx tsx harness/bench/java-producer-perf.ts [--records 300000] [--size 100] [--rounds 3]
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { kafkaJs } from '../clients/kafkajs/connection.js';
import { JAVA_KAFKA_CLIENTS_VERSIONS } from '../clients/java/versions.js';
import { startJavaDriver } from '../clients/java/java-driver.js';
import { wireConnection } from '../clients/external/external-driver.js';
import { startKafkaBroker } from '../targets/kafka/kafka-target.js';
import { bootstrap, listenerFor } from '../targets/types.js';
import { mavenBuild } from '../util/maven.js';
import { ensureDir, projectRoot, workDir } from '../util/paths.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const records = arg('records', 300_000);
const size = arg('size', 100);
const rounds = arg('rounds', 3);
const TOOL_FALLBACK: Record<string, string[]> = { '4.4.0': ['4.3.1'] };
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const target = await startKafkaBroker();
const dir = ensureDir(join(workDir, `bench-${process.pid}`));
try {
  const l = listenerFor(target, 'SASL_PLAINTEXT');
  const p = target.principals[0]!;
  const propsFile = join(dir, 'producer.properties');
  writeFileSync(propsFile, [
    `bootstrap.servers=${bootstrap(l)}`, 'security.protocol=SASL_PLAINTEXT', 'sasl.mechanism=PLAIN', 'acks=1',
    `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${p.username}" password="${p.password}";`,
  ].join('\n') + '\n', { mode: 0o600 });
  const admin = kafkaJs(target).admin();
  await admin.connect();
  let n = 0;
  const freshTopic = async () => {
    const t = `c8locals.bench-${process.pid}-${n++}`;
    await admin.createTopics({ topics: [{ topic: t, numPartitions: 1 }], waitForLeaders: true });
    return t;
  };
  const results: string[] = [];
  for (const v of JAVA_KAFKA_CLIENTS_VERSIONS) {
    // kafka-tools is not served for every kafka-clients release (4.4.0 is missing here): then
    // the nearest earlier served release stands in, and the result says so.
    let tool;
    let toolVersion: string = v;
    for (const candidate of [v, ...(TOOL_FALLBACK[v] ?? [])]) {
      try {
        tool = await mavenBuild(`kafka-producer-perf-test-${candidate}`, join(projectRoot, 'harness/bench/producer-perf'), { props: { 'kafka.version': candidate } });
        toolVersion = candidate;
        break;
      } catch (err) {
        results.push(`kafka-tools ${candidate}: not available (${(err as Error).message.split('\n')[0]})`);
      }
    }
    if (!tool) continue;
    const driver = await startJavaDriver(v);
    const native: number[] = [];
    const ours: number[] = [];
    try {
      for (let r = 0; r < rounds; r++) {
        const out = await execa('java', ['-Xmx512m', '-cp', tool.classpath, 'org.apache.kafka.tools.ProducerPerformance',
          '--topic', await freshTopic(), '--num-records', String(records), '--record-size', String(size), '--throughput', '-1',
          '--producer.config', propsFile], { timeout: 10 * 60_000 });
        const m = /(\d+) records sent, ([\d.]+) records\/sec/.exec(out.stdout.split('\n').filter((x) => x.includes('records sent')).at(-1) ?? '');
        if (!m) throw new Error(`unexpected ProducerPerformance output:\n${out.stdout.slice(-500)}`);
        native.push(Number(m[2]));
        const d = await driver.request<{ records_per_sec: number; failed: number }>('perf_produce', {
          conn: wireConnection({ target, protocol: 'SASL_PLAINTEXT', principal: p }), topic: await freshTopic(),
          num_records: records, record_size: size, acks: '1',
        }, 10 * 60_000);
        if (d.failed) throw new Error(`driver run had ${d.failed} failed sends`);
        ours.push(d.records_per_sec);
      }
    } finally {
      await driver.close();
    }
    const ratio = median(ours) / median(native);
    results.push(`kafka-clients ${v}: kafka-producer-perf-test${toolVersion === v ? '' : ` ${toolVersion} (nearest served)`} ${median(native).toFixed(0)} rec/s (runs ${native.map((x) => x.toFixed(0)).join(', ')}), ` +
      `Java driver ${median(ours).toFixed(0)} rec/s (runs ${ours.map((x) => x.toFixed(0)).join(', ')}): driver/native = ${(ratio * 100).toFixed(1)} %`);
  }
  await admin.disconnect();
  console.log(`\n${records} records × ${size} B, acks=1, SASL_PLAINTEXT, reference Kafka 3.9.1, medians of ${rounds} alternating runs:`);
  for (const r of results) console.log(`  ${r}`);
} finally {
  await target.stop();
}
