// The seed's own examples, as written, one scenario per example: the Java kafka-clients 2.8.0
// producer + consumer (SASL_PLAINTEXT, and the SASL_SSL variant with a truststore), the
// kafka-python producer and consumer, KafkaJS, kafka-node, and Fluent Bit's kafka output with
// the seed's settings. Each runs in its client's own runtime with only the placeholders filled
// from the target, and passes when the documented behaviour happens: the example's own consumer
// prints the records (for Fluent Bit, which has no consumer in the seed, a reference consumer
// reads them). Otherwise it fails, bounded in time, saying what happened and where the example
// stopped (its last progress marker). An example is never adjusted to make it work: what cannot
// work as written is a finding (FINDINGS.md) and a known failure in suites/expectations/.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspect } from 'node:util';
import * as allure from 'allure-js-commons';
import { execa } from 'execa';
import { expect } from 'vitest';
import { createKafkaJsDriver } from '../../harness/clients/kafkajs/kafkajs-driver.js';
import { fluentBitFailure, findFluentBit, FluentBitLog, section } from '../../harness/clients/fluent-bit/fluent-bit-driver.js';
import { JAVA_DRIVER_JVM_OPTS, javaClientId } from '../../harness/clients/java/java-driver.js';
import { JAVA_KAFKA_CLIENTS_SEED } from '../../harness/clients/java/versions.js';
import { ensureVenv, pythonClientSpecs } from '../../harness/clients/python/python-driver.js';
import type { InRecord } from '../../harness/clients/types.js';
import { bootstrap, listenerFor, type TargetInfo } from '../../harness/targets/types.js';
import { mavenBuild } from '../../harness/util/maven.js';
import { runUntil } from '../../harness/util/run-until.js';
import { forEachTargetForClients, requireListener, type Names } from '../../fixtures/conformance.js';
import { seedKafkaJsExample, seedKafkaNodeExample, type ExampleIo } from './node-examples.js';

const here = dirname(fileURLToPath(import.meta.url));
const FAMILY = 'docs-examples';
/** How long an example may take to show the documented behaviour before it counts as hanging. */
const EXAMPLE_BOUND_MS = 40_000;

/** What one run of an example showed: its own output lines and its progress markers, in order. */
class ExampleTrace {
  readonly lines: string[] = [];
  readonly markers: string[] = [];
  died?: string;
  private partial = '';

  /** Program output: `#MARK ` lines are markers, the rest is the example's own output. */
  feed(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    for (const l of parts) this.add(l);
  }

  add(line: string): void {
    if (line.startsWith('#MARK ')) this.markers.push(line.slice(6));
    else if (line.trim()) this.lines.push(line);
  }

  io(): ExampleIo {
    return {
      log: (...args) => this.add(args.map((a) => (typeof a === 'string' ? a : inspect(a))).join(' ')),
      mark: (what) => this.markers.push(what),
      died: (what, err) => {
        this.died ??= `${what}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`;
        this.markers.push(`died: ${this.died}`);
      },
    };
  }

  /** Where the example stopped and what it last printed, for a failure message. */
  where(): string {
    const last = this.markers.at(-1) ?? '(no marker: it did not get to its first call)';
    const out = this.lines.slice(-4).join(' | ') || '(nothing)';
    return `last progress marker: "${last}"; its last output: ${out}`;
  }
}

/** Reads the topic with a reference client (KafkaJS): are the example's records at the broker? */
async function atBroker(target: TargetInfo, topic: string, count: number): Promise<{ records: InRecord[]; note: string }> {
  const reader = createKafkaJsDriver();
  try {
    const records = await reader.consume({ target, protocol: target.listeners[0]!.securityProtocol, principal: target.principals[0]! },
      { topics: [topic], groupId: `kopc-docs-reference-${Date.now()}`, fromBeginning: true, count, timeoutMs: 10_000, commit: 'none' });
    return { records, note: `the reference consumer read ${records.length} record(s) from ${topic}: ${records.map((r) => JSON.stringify(r.value)).join(', ')}` };
  } catch (err) {
    return { records: [], note: `the reference consumer did not find ${count} record(s) in ${topic} (${(err as Error).message.split('\n')[0]})` };
  } finally {
    await reader.close();
  }
}

/** Runs a child program until `done` (or it hangs, dies or ends), feeding placeholders on stdin. */
async function runChild(trace: ExampleTrace, command: string, args: string[], stdin: string, done: () => boolean, timeoutMs = EXAMPLE_BOUND_MS) {
  let stderr = '';
  const r = await runUntil({
    command, args, stdin, endStdin: true, timeoutMs, cwd: here,
    onStdout: (c) => trace.feed(c),
    onStderr: (c) => { stderr = (stderr + c).slice(-4000); },
    decide: () => (done() ? 'stop' : 'continue'),
  });
  return { ...r, stderrTail: stderr.split('\n').filter((l) => /ERROR|WARN|Error|Exception|Traceback|error/.test(l)).slice(-3).join(' | ') };
}

function verdict(what: string, ok: boolean, trace: ExampleTrace, ended: string, extra: string[]): void {
  const message = `${what}: ${trace.died ? `the example died (${trace.died})` : ended === 'timeout' ? `the example hangs: no documented result within ${EXAMPLE_BOUND_MS / 1000} s` : `the example ended (${ended}) without the documented result`}; ${trace.where()}${extra.filter(Boolean).map((e) => `; ${e}`).join('')}`;
  void allure.attachment('example run', [`markers:\n${trace.markers.join('\n')}`, `output:\n${trace.lines.join('\n')}`, ...extra].join('\n\n'), 'text/plain');
  expect(ok, message).toBe(true);
}

/** The seed's password placeholder for KafkaJS and kafka-node is `token:<my-api-key>`: an API key where the target has one. */
function apiKeyOrJwt(target: TargetInfo): string {
  return target.principals[0]!.apiKeyPassword ?? target.principals[0]!.password;
}

function javaPlaceholders(target: TargetInfo, names: Names, topic: string, key: string, value: string): string {
  const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
  const p = target.principals[0]!;
  const address = (protocol: 'SASL_PLAINTEXT' | 'SASL_SSL') => target.listeners.some((l) => l.securityProtocol === protocol) ? bootstrap(listenerFor(target, protocol)) : undefined;
  const entries: Record<string, string | undefined> = {
    // The TLS variant replaces the 9092 address before anything connects: a target without
    // that listener gets the TLS one there (Properties refuses a null value).
    'bootstrap.plaintext': address('SASL_PLAINTEXT') ?? address('SASL_SSL'),
    'bootstrap.ssl': address('SASL_SSL'),
    username: p.username, password: p.password,
    'truststore.location': target.tls.truststorePath, 'truststore.password': target.tls.truststorePassword,
    topic, 'local.topic': names.localTopic('docs-java'), group: names.group('docs-java'), key, value,
  };
  return Object.entries(entries).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${esc(v!)}`).join('\n') + '\n';
}

// Java kafka-clients in the seed's version (2.8.0): the example's poll(long) is gone from 4.x.
forEachTargetForClients(FAMILY, [javaClientId(JAVA_KAFKA_CLIENTS_SEED)], (scenario) => {
  for (const variant of ['sasl_plaintext', 'sasl_ssl'] as const) {
    const title = variant === 'sasl_plaintext'
      ? 'the Java example (Properties with the JAAS template, StringSerializer, a producer, then a consumer on a global and a local topic polling with commitAsync) prints the record it produced'
      : 'the Java example\'s SASL_SSL variant (truststore, ssl.endpoint.identification.algorithm="") prints the record it produced';
    scenario(`docs-examples.java.${variant.replace('_', '-')}: ${title}`, async ({ target, names, clientEntry, skip, task }) => {
      const why = await clientEntry.unavailable?.();
      if (why) skip(why);
      requireListener(target, variant === 'sasl_ssl' ? 'SASL_SSL' : 'SASL_PLAINTEXT', skip);
      if (variant === 'sasl_ssl' && !target.tls.truststorePath) skip(`not applicable: target ${target.id} has no truststore for the Java example`);
      if (task.meta.kopc) task.meta.kopc.clientVersion = JAVA_KAFKA_CLIENTS_SEED;
      const { classpath } = await mavenBuild('seed-java-example', join(here, 'java'), { props: { 'kafka.version': JAVA_KAFKA_CLIENTS_SEED } });
      const topic = names.globalTopic('docs-java');
      const key = `message-key-1-${names.suffix}`;
      const value = `message-value-1-${names.suffix}`;
      const expected = `>>> offset = 0, key = ${key}, value = ${value}`;
      const trace = new ExampleTrace();
      const r = await runChild(trace, process.env.KOPC_JAVA ?? 'java', [...JAVA_DRIVER_JVM_OPTS, '-cp', classpath, 'io.kopconformance.docs.SeedJavaExample', variant],
        javaPlaceholders(target, names, topic, key, value), () => trace.lines.includes(expected));
      const ok = trace.lines.includes(expected);
      const broker = ok ? undefined : await atBroker(target, topic, 1);
      verdict(`the example's consumer did not print "${expected}"`, ok, trace, r.ended, [broker?.note ?? '', r.stderrTail && `stderr: ${r.stderrTail}`]);
    });
  }
});

// kafka-python, both versions the suite pins (the seed names none).
forEachTargetForClients(FAMILY, pythonClientSpecs().filter((s) => s.id.startsWith('kafka-python')).map((s) => s.id), (scenario, clientId) => {
  scenario('docs-examples.kafka-python: the kafka-python producer (SASL_SSL, ssl_context with CERT_NONE plus ssl_cafile, a JSON value_serializer) sends 5 messages and the consumer iterator (earliest, auto-commit) prints them', async ({ target, names, clientEntry, skip, task }) => {
    const why = await clientEntry.unavailable?.();
    if (why) skip(why);
    requireListener(target, 'SASL_SSL', skip);
    const spec = pythonClientSpecs().find((s) => s.id === clientId)!;
    if (task.meta.kopc) task.meta.kopc.clientVersion = clientId.replace(/^kafka-python-/, '');
    const python = join(await ensureVenv(spec), 'bin', 'python');
    const topic = names.globalTopic('docs-py');
    const placeholders = JSON.stringify({
      bootstrap: bootstrap(listenerFor(target, 'SASL_SSL')), username: target.principals[0]!.username, password: target.principals[0]!.password,
      ca_file: target.tls.caPemPath ?? null, topic, group: names.group('docs-py'),
    }) + '\n';
    const produced = [0, 1, 2, 3, 4].map((e) => `${e} added`);
    const consumed = [0, 1, 2, 3, 4].map((e) => `{'number': ${e}} added`);
    const producer = new ExampleTrace();
    const p = await runChild(producer, python, ['-u', join(here, 'python', 'seed_producer.py')], placeholders, () => false);
    const printed = produced.every((l) => producer.lines.includes(l)) && p.ended === 'exited' && p.exitCode === 0;
    // "Sends 5 messages": what the program printed and its exit code are not delivery; the broker is.
    const sent = await atBroker(target, topic, 5);
    verdict(printed ? 'the producer example printed "0 added" … "4 added" and exited 0, but the broker does not hold its 5 messages'
      : 'the producer example did not print "0 added" … "4 added" and exit', printed && sent.records.length === 5, producer, p.ended, [sent.note, p.stderrTail && `stderr: ${p.stderrTail}`]);
    const consumer = new ExampleTrace();
    const c = await runChild(consumer, python, ['-u', join(here, 'python', 'seed_consumer.py')], placeholders, () => consumed.every((l) => consumer.lines.includes(l)));
    const ok = consumed.every((l) => consumer.lines.includes(l));
    const broker = ok ? undefined : await atBroker(target, topic, 5);
    verdict(`the consumer example did not print "{'number': 0} added" … "{'number': 4} added"`, ok, consumer, c.ended, [broker?.note ?? '', c.stderrTail && `stderr: ${c.stderrTail}`]);
    expect(consumer.lines.filter((l) => l.endsWith(' added')), 'each message printed once, in order').toEqual(consumed);
  });
});

/** Waits (bounded) until `cond` or the example died. */
async function until(trace: ExampleTrace, cond: () => boolean, ms = EXAMPLE_BOUND_MS): Promise<'done' | 'died' | 'timeout'> {
  const t0 = Date.now();
  while (Date.now() - t0 < ms) {
    if (cond()) return 'done';
    if (trace.died) return 'died';
    await new Promise((r) => setTimeout(r, 100));
  }
  return cond() ? 'done' : 'timeout';
}

const packageVersion = (name: string) => (createRequire(import.meta.url)(`${name}/package.json`) as { version: string }).version;

/** The two in-process examples: what each is called, and the line its consumer prints. */
const NODE_EXAMPLES = [
  {
    client: 'kafkajs', start: seedKafkaJsExample, expected: inspect({ value: 'Hello KafkaJS user!' }),
    title: 'docs-examples.kafkajs: the KafkaJS example (sasl plain, ssl rejectUnauthorized false; producer.send with a value only; consumer.run with eachMessage, fromBeginning) logs the message',
  },
  {
    client: 'kafka-node', start: seedKafkaNodeExample, expected: 'Received a message: <my-message-value>',
    title: 'docs-examples.kafka-node: the kafka-node example (KafkaClient with sasl and ssl, createTopics first, HighLevelProducer sending on ready, a Consumer with a groupId and autoCommit every 500 ms) receives the message',
  },
] as const;

for (const example of NODE_EXAMPLES) {
  forEachTargetForClients(FAMILY, [example.client], (scenario) => {
    scenario(example.title, async ({ target, names, skip, task }) => {
      requireListener(target, 'SASL_SSL', skip);
      if (task.meta.kopc) task.meta.kopc.clientVersion = packageVersion(example.client);
      const topic = names.globalTopic(`docs-${example.client}`);
      const trace = new ExampleTrace();
      const stop = await example.start({
        bootstrap: bootstrap(listenerFor(target, 'SASL_SSL')), username: target.principals[0]!.username, password: apiKeyOrJwt(target),
        topic, groupId: names.group(`docs-${example.client}`), clientId: `kopc-docs-${names.suffix}`,
      }, trace.io());
      try {
        const ended = await until(trace, () => trace.lines.includes(example.expected));
        const broker = ended === 'done' ? undefined : await atBroker(target, topic, 1);
        verdict(`the example did not print ${example.expected}`, ended === 'done', trace, ended, [broker?.note ?? '']);
      } finally {
        await stop();
      }
    });
  });
}

// Fluent Bit: the seed lists it as a supported client but gives no example; this is its kafka
// output with the seed's connection settings (SASL_SSL on the 9093 listener, PLAIN,
// <tenant>/<fabric>, token:<jwt>, the endpoint CA as the Python example passes ssl_cafile),
// fed by a dummy input, and judged at the broker: Fluent Bit's exit code says nothing.
forEachTargetForClients(FAMILY, ['fluent-bit'], (scenario) => {
  scenario('docs-examples.fluent-bit: Fluent Bit\'s kafka output with the seed\'s settings (SASL_SSL, PLAIN, tenant/fabric, token:<jwt>, the endpoint CA) delivers a record', async ({ target, names, clientEntry, skip, task }) => {
    const why = await clientEntry.unavailable?.();
    if (why) skip(why);
    requireListener(target, 'SASL_SSL', skip);
    const bin = findFluentBit()!;
    const topic = names.globalTopic('docs-fluent-bit');
    const message = `hello from fluent-bit ${names.suffix}`;
    const p = target.principals[0]!;
    const config = section('SERVICE', { Flush: 1, Log_Level: 'info' })
      + section('INPUT', { Name: 'dummy', Tag: 'seed', Dummy: JSON.stringify({ message }), Samples: 1 })
      + section('OUTPUT', {
        Name: 'kafka', Match: 'seed', Brokers: bootstrap(listenerFor(target, 'SASL_SSL')), Topics: topic,
        'rdkafka.security.protocol': 'SASL_SSL', 'rdkafka.sasl.mechanism': 'PLAIN',
        'rdkafka.sasl.username': p.username, 'rdkafka.sasl.password': p.password,
        ...(target.tls.caPemPath ? { 'rdkafka.ssl.ca.location': target.tls.caPemPath } : {}),
      });
    const dir = mkdtempSync(join(tmpdir(), 'kopc-docs-fluent-bit-'));
    writeFileSync(join(dir, 'fluent-bit.conf'), config, { mode: 0o600 });
    const trace = new ExampleTrace();
    const log = new FluentBitLog();
    // The broker is asked while Fluent Bit runs; its answer ends the run.
    let delivered: InRecord | undefined;
    let reading = true;
    const reader = (async () => {
      const t0 = Date.now();
      while (reading && !delivered && Date.now() - t0 < EXAMPLE_BOUND_MS) {
        const { records } = await atBroker(target, topic, 1);
        delivered = records[0];
        if (!delivered) await new Promise((r) => setTimeout(r, 1000));
      }
    })();
    try {
      const r = await runUntil({
        command: bin, args: ['-c', join(dir, 'fluent-bit.conf')], timeoutMs: EXAMPLE_BOUND_MS,
        onStdout: (c) => trace.feed(c),
        onStderr: (c) => { log.feed(c); for (const l of c.split('\n')) if (/\[(error|\s*warn)\]/.test(l)) trace.markers.push(l.replace(/^\[[^\]]*\]\s*/, '').slice(0, 300)); },
        decide: () => (delivered ? 'stop' : 'continue'), checkEveryMs: 250,
      });
      reading = false;
      await reader;
      if (task.meta.kopc) task.meta.kopc.clientVersion = /v(\d+\.\d+\.\d+)/.exec((await execa(bin, ['--version'], { reject: false })).stdout)?.[1] ?? 'unknown';
      const failure = fluentBitFailure(log.excerpt(40));
      const ok = delivered !== undefined && (delivered.value ?? '').includes(message);
      verdict(`no record with "${message}" reached ${topic}`, ok, trace, r.ended === 'stopped' ? 'stopped' : r.ended,
        [failure ? `fluent-bit's log names ${failure}` : '', `fluent-bit's log: ${log.excerpt(3).replace(/\n/g, ' | ')}`]);
    } finally {
      reading = false;
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
