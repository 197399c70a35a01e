// Fluent Bit as a Kafka client: for each operation the driver writes a Fluent Bit
// configuration (the kafka output or input plugin with the `rdkafka.*` SASL/SSL properties) and
// runs the real `fluent-bit` binary once. Fluent Bit's exit code says nothing (it exits 0 after
// losing every record), so a run is judged from its own log: the kafka output's delivery
// reports (`message delivered (… bytes, partition N)`, logged at debug level), librdkafka's
// errors (mapped to canonical codes as soon as they appear), and the records the kafka input
// prints. A run is stopped by SIGTERM once the outcome is known (SIGKILL when it does not exit
// within a bound), never by GNU `timeout`, whose SIGCONT makes Fluent Bit dump its state.
// Where the binary is absent, every cell reads "not run: fluent-bit not installed".
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa } from 'execa';
import { runUntil } from '../../util/run-until.js';
import { ClientError, type CanonicalCode } from '../../errors/canonical.js';
import { bootstrap } from '../../targets/types.js';
import { kafkaJs } from '../kafkajs/connection.js';
import { createKafkaJsDriver } from '../kafkajs/kafkajs-driver.js';
import { addressOf, type Capability, type ClientDriver, type Connection, type ConsumeRequest, type InRecord, type OutRecord, type ProduceOptions, type ProducedRecord } from '../types.js';

/** Where the binary is looked for: FLUENT_BIT_BIN, then PATH, then the packages' default prefix. */
export function findFluentBit(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const candidates = [
    env.FLUENT_BIT_BIN,
    ...(env.PATH ?? '').split(delimiter).filter(Boolean).map((d) => join(d, 'fluent-bit')),
    '/opt/fluent-bit/bin/fluent-bit',
  ].filter((c): c is string => Boolean(c));
  return candidates.find((c) => existsSync(c));
}

export function fluentBitUnavailable(): string | undefined {
  return findFluentBit() ? undefined : 'not run: fluent-bit not installed (set FLUENT_BIT_BIN, or put fluent-bit on PATH)';
}

/**
 * What Fluent Bit can do as a Kafka client, each checked against the real binary
 * (fluent-bit-driver.test.ts): librdkafka's acks and idempotence through `rdkafka.*`
 * properties, and the compression codecs this build's librdkafka has (`builtin.features`,
 * probed once per binary: the shared v5.1.1 build has gzip, snappy and lz4, not zstd). Absent:
 * headers (out_kafka has no setting for them and in_kafka does not report them), producer
 * timestamps, choosing a partition, admin calls, and commits a scenario could count on
 * (in_kafka commits everything it polls, not just the records a scenario asked for).
 */
export const FLUENT_BIT_BASE_CAPABILITIES: readonly Capability[] = ['produce.acks', 'produce.idempotent'];

const CODECS = ['gzip', 'snappy', 'lz4', 'zstd'] as const;

/** Capabilities of a binary whose librdkafka has these builtin features. */
export function fluentBitCapabilities(features: readonly string[]): Set<Capability> {
  return new Set<Capability>([...FLUENT_BIT_BASE_CAPABILITIES, ...CODECS.filter((c) => features.includes(c)).map((c) => `compression.${c}` as const)]);
}

/** librdkafka settings for a connection, as Fluent Bit's kafka plugins take them (`rdkafka.<name>`). */
export function rdkafkaProperties(conn: Connection): Record<string, string> {
  if (conn.tlsServerName) throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit (librdkafka) cannot be told a TLS server name other than the host it dials', 'fluent-bit');
  const tls = conn.protocol === 'SASL_SSL';
  const verify = conn.verifyTls ?? conn.target.tls.verify;
  const ca = conn.caPemPath ?? conn.target.tls.caPemPath;
  const hostname = conn.verifyTls === undefined ? conn.target.tls.verifyHostname !== false : verify;
  const sasl = conn.sasl !== false;
  return {
    'rdkafka.security.protocol': sasl ? conn.protocol : tls ? 'SSL' : 'PLAINTEXT',
    ...(sasl
      ? {
          'rdkafka.sasl.mechanism': conn.saslMechanism ?? 'PLAIN',
          'rdkafka.sasl.username': conn.username ?? conn.principal.username,
          'rdkafka.sasl.password': conn.password ?? conn.principal.password,
        }
      : {}),
    ...(tls
      ? {
          ...(ca && verify ? { 'rdkafka.ssl.ca.location': ca } : {}),
          'rdkafka.enable.ssl.certificate.verification': verify ? 'true' : 'false',
          'rdkafka.ssl.endpoint.identification.algorithm': verify && hostname ? 'https' : 'none',
        }
      : {}),
  };
}

/** One section of Fluent Bit's classic configuration format. */
export function section(name: string, props: Record<string, string | number>): string {
  for (const [k, v] of Object.entries(props)) {
    if (/[\r\n]/.test(`${k}${v}`)) throw new ClientError('UNSUPPORTED_SETTING', `fluent-bit configuration value for ${k} contains a line break`, 'fluent-bit');
  }
  return `[${name}]\n${Object.entries(props).map(([k, v]) => `    ${k} ${v}`).join('\n')}\n`;
}

/**
 * librdkafka's and Fluent Bit's own failure lines, mapped to canonical codes. `definite` ones
 * end the run at once (librdkafka would retry them forever); the others count only once every
 * broker is down.
 */
const FAILURES: { re: RegExp; code: CanonicalCode; definite: boolean }[] = [
  { re: /SASL authentication error|Authentication failed/i, code: 'SASL_AUTHENTICATION_FAILED', definite: true },
  { re: /Unsupported SASL mechanism|SASL mechanism \S+ not supported/i, code: 'UNSUPPORTED_SASL_MECHANISM', definite: true },
  { re: /SSL handshake failed|certificate verify failed|ssl\.ca\.location failed/i, code: 'TLS_HANDSHAKE_FAILED', definite: true },
  // Refused by librdkafka before sending ("Failed to produce …") or by the broker ("message delivery failed: Broker: …").
  { re: /Message size too large|MSG_SIZE_TOO_LARGE/i, code: 'MESSAGE_TOO_LARGE', definite: true },
  { re: /Topic authorization failed|TOPIC_AUTHORIZATION_FAILED/i, code: 'TOPIC_AUTHORIZATION_FAILED', definite: true },
  { re: /Group authorization failed|GROUP_AUTHORIZATION_FAILED/i, code: 'GROUP_AUTHORIZATION_FAILED', definite: true },
  { re: /Failed to resolve /i, code: 'HOST_UNRESOLVABLE', definite: true },
  { re: /Connection refused/i, code: 'CONNECTION_REFUSED', definite: true },
  // Fluent Bit drops a record whose Raw_Log_Key is nil (a null value), with the rest of its chunk.
  { re: /missing raw_log_key/i, code: 'UNSUPPORTED_SETTING', definite: true },
  { re: /Disconnected|connection closed by peer/i, code: 'CONNECTION_CLOSED', definite: false },
  { re: /message delivery failed/i, code: 'UNKNOWN', definite: true },
];
const ALL_BROKERS_DOWN = /\b(\d+)\/\1 brokers are down/;

/** The canonical code a Fluent Bit log names, if any (the first failure line in it). */
export function fluentBitFailure(log: string): string | undefined {
  for (const line of log.split('\n')) {
    const f = FAILURES.find((x) => x.re.test(line));
    if (f) return f.code;
  }
  return undefined;
}

/** What one run's log has said so far, read line by line as it arrives. */
export class FluentBitLog {
  enqueued = 0;
  /** Partition of each delivery report, in the order Fluent Bit logged them. */
  readonly delivered: number[] = [];
  metadataReceived = false;
  /** librdkafka's `builtin.features`, when its generic debug line was seen. */
  features?: string[];
  /** The failure that ends the run, once one is definite. */
  failure?: { code: CanonicalCode; line: string };
  private lastCause?: { code: CanonicalCode; line: string };
  private readonly tail: string[] = [];
  private partial = '';

  feed(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) this.line(line);
  }

  /** The last lines (for error messages and reports). */
  excerpt(n = 6): string {
    return this.tail.slice(-n).join('\n');
  }

  private line(raw: string): void {
    const line = raw.trimEnd();
    if (!line) return;
    this.tail.push(line.length > 400 ? `${line.slice(0, 400)}…` : line);
    if (this.tail.length > 40) this.tail.shift();
    if (/\] enqueued message \(\d+ bytes\)/.test(line)) this.enqueued++;
    const d = /\] message delivered \(\d+ bytes, partition (-?\d+)\)/.exec(line);
    if (d) this.delivered.push(Number(d[1]));
    if (/===== Received metadata/.test(line)) this.metadataReceived = true;
    const feat = /\(builtin\.features ([a-z0-9_,]+)/.exec(line);
    if (feat) this.features = feat[1]!.split(',').filter(Boolean);
    if (this.failure) return;
    const f = FAILURES.find((x) => x.re.test(line));
    if (f) {
      this.lastCause = { code: f.code, line };
      if (f.definite) this.failure = this.lastCause;
    }
    if (ALL_BROKERS_DOWN.test(line) && this.lastCause) this.failure = this.lastCause;
  }
}

interface RunOptions {
  what: string;
  /** Records for the stdin input (JSON lines); stdin stays open until the run is stopped. */
  stdin?: string;
  /** True once the run has what it came for: it is then stopped with SIGTERM. */
  done: (log: FluentBitLog, stdout: string) => boolean;
  timeoutMs: number;
  /** false: a failure line does not end the run (the feature probe expects connection errors). */
  failFast?: boolean;
}

interface RunResult {
  log: FluentBitLog;
  stdout: string;
  /** Why the run ended: its goal reached, a definite failure, its own exit, or the bound. */
  ended: 'done' | 'failed' | 'timeout' | 'exited';
  /** How the process went: its exit code or signal, and how long it ran. */
  exit: string;
}

/**
 * Runs fluent-bit once with `config` (written to a private temporary file: it holds the
 * password) until `done`, a definite failure, its own exit or the bound; then SIGTERM (so that
 * the kafka output flushes and logs its delivery reports), SIGKILL when it lingers. After a
 * definite failure there is nothing left to flush: SIGKILL at once.
 */
export async function runFluentBit(config: string, opts: RunOptions): Promise<RunResult> {
  const bin = findFluentBit();
  if (!bin) throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit not installed', 'fluent-bit');
  const dir = mkdtempSync(join(tmpdir(), 'kopc-fluent-bit-'));
  const confPath = join(dir, 'fluent-bit.conf');
  writeFileSync(confPath, config, { mode: 0o600 });
  const log = new FluentBitLog();
  let stdout = '';
  const failed = () => log.failure !== undefined && opts.failFast !== false;
  try {
    const r = await runUntil({
      command: bin, args: ['-c', confPath], stdin: opts.stdin, timeoutMs: opts.timeoutMs,
      onStdout: (c) => { stdout += c; },
      onStderr: (c) => log.feed(c),
      decide: () => (failed() ? 'kill' : opts.done(log, stdout) ? 'stop' : 'continue'),
      // SIGKILL only once the shutdown flush has had its Grace seconds.
      stopGraceMs: (FLUSH_GRACE_S + 5) * 1000,
    });
    const ended = r.ended === 'killed' ? 'failed' : r.ended === 'stopped' ? 'done' : r.ended;
    const exit = `${r.signal ? `ended by ${r.signal}` : `exit code ${r.exitCode ?? '?'}`} after ${(r.durationMs / 1000).toFixed(1)} s`;
    return { log, stdout, ended, exit };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function failWith(what: string, r: RunResult, fallback: { code: CanonicalCode; message: string }): never {
  const f = r.log.failure;
  if (f) throw new ClientError(f.code, `${what}: ${f.line.replace(/^\[[^\]]*\]\s*/, '')}`, 'fluent-bit');
  throw new ClientError(fallback.code, `${what}: ${fallback.message}; fluent-bit ${r.exit}\n${r.log.excerpt()}`, 'fluent-bit');
}

/**
 * Fluent Bit writes records out per flushed chunk, and its chunks are not always flushed in the
 * order they were filled (seen on kop in CI: offsets 0, 2, 3 came out before 1). librdkafka hands
 * in_kafka each partition's records in offset order, and every line carries the broker's
 * partition and offset, so the driver reports them in that order again. This hides nothing the
 * broker did: offsets are the broker's, and a broker that stored records out of order still
 * shows them out of order by key and value.
 */
export function inOffsetOrder(records: InRecord[]): InRecord[] {
  // Within each topic-partition, offset order, back in the slots that partition's records came
  // out in; the interleaving across partitions stays as it arrived.
  const slots = new Map<string, number[]>();
  records.forEach((r, i) => {
    const k = `${r.topic}\u0000${r.partition}`;
    (slots.get(k) ?? slots.set(k, []).get(k)!).push(i);
  });
  const out = [...records];
  for (const idx of slots.values()) {
    const sorted = idx.map((i) => records[i]!).sort((a, b) => (BigInt(a.offset) < BigInt(b.offset) ? -1 : BigInt(a.offset) > BigInt(b.offset) ? 1 : 0));
    idx.forEach((slot, j) => { out[slot] = sorted[j]!; });
  }
  return out;
}

/**
 * Seconds Fluent Bit's shutdown may take: out_kafka's exit flushes librdkafka for `Grace`
 * seconds, and the delivery reports come out in that flush. It had 5 s, and execa SIGKILLed the
 * process 5 s after SIGTERM anyway (turned off in runUntil): a produce the broker acknowledged
 * later than that read "0 of N delivered", with no line in the log (seen in a CI run at load
 * 100+; reproduced by pausing the broker with SIGSTOP for 9 s after the enqueue, which now
 * delivers in 10.1 s). A run that delivers at once still stops within a second.
 */
export const FLUSH_GRACE_S = 15;

const SERVICE = section('SERVICE', { Flush: '0.2', Grace: FLUSH_GRACE_S, Log_Level: 'info' });

/**
 * An input that reads nothing but stdin: when the driver's process goes away, stdin closes and
 * Fluent Bit shuts down on its own (the watchdog the long-lived drivers have).
 */
const PARENT_WATCH = section('INPUT', { Name: 'stdin', Tag: 'kopc.parent' });

const probes = new Map<string, Promise<string[]>>();

/**
 * librdkafka's builtin features in this binary (once per binary and process): a kafka output
 * pointed at a closed port, with librdkafka's generic debug on, logs them as it starts.
 */
export function librdkafkaFeatures(bin: string): Promise<string[]> {
  let p = probes.get(bin);
  if (!p) {
    const config = SERVICE + section('INPUT', { Name: 'stdin', Tag: 'kopc.none' })
      + section('OUTPUT', { Name: 'kafka', Match: 'kopc.none', Brokers: '127.0.0.1:1', Topics: 'kopc-probe', Log_Level: 'debug', 'rdkafka.debug': 'generic' });
    p = runFluentBit(config, { what: 'feature probe', timeoutMs: 10_000, failFast: false, done: (log) => log.features !== undefined })
      .then((r) => {
        if (!r.log.features) throw new ClientError('UNKNOWN', `fluent-bit: librdkafka's builtin.features not reported (run ${r.ended})\n${r.log.excerpt()}`, 'fluent-bit');
        return r.log.features;
      });
    p.catch(() => probes.delete(bin));
    probes.set(bin, p);
  }
  return p;
}

export async function createFluentBitDriver(): Promise<ClientDriver> {
  const bin = findFluentBit();
  if (!bin) throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit not installed', 'fluent-bit');
  const version = /v?(\d+\.\d+\.\d+)/.exec((await execa(bin, ['--version'], { reject: false, timeout: 10_000 })).stdout ?? '')?.[1] ?? 'unknown';
  const capabilities = fluentBitCapabilities(await librdkafkaFeatures(bin));
  // Offsets are the broker's: Fluent Bit's delivery reports name only the partition.
  const reader = createKafkaJsDriver();
  const reference = (conn: Connection) => kafkaJs(conn.target, { protocol: conn.protocol, principal: conn.principal, retries: 3, clientId: 'kop-conformance-fluent-bit-offsets' });

  async function offsetsOf(conn: Connection, topic: string, records: OutRecord[], partitions: number[]): Promise<ProducedRecord[]> {
    const admin = reference(conn).admin();
    await admin.connect();
    let high: Map<number, bigint>;
    try {
      high = new Map((await admin.fetchTopicOffsets(topic)).map((p) => [p.partition, BigInt(p.high)]));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
    const used = [...new Set(partitions)];
    if (used.length === 1) {
      // One partition: delivery order is offset order, and this produce wrote the last N.
      const p = used[0]!;
      const first = (high.get(p) ?? 0n) - BigInt(records.length);
      return records.map((_, i) => ({ topic, partition: p, offset: String(first + BigInt(i)) }));
    }
    // Several partitions: read them back and find each record among the newest ones.
    const total = [...high.values()].reduce((a, b) => a + b, 0n);
    const back = await reader.consume({ target: conn.target, protocol: conn.protocol, principal: conn.principal }, { topics: [topic], groupId: `kopc-fluent-bit-offsets-${Date.now()}`, fromBeginning: true, count: Number(total), timeoutMs: 30_000, commit: 'none' });
    const perPartition = new Map<number, number>();
    for (const p of partitions) perPartition.set(p, (perPartition.get(p) ?? 0) + 1);
    const ours = back.filter((r) => BigInt(r.offset) >= (high.get(r.partition) ?? 0n) - BigInt(perPartition.get(r.partition) ?? 0));
    return records.map((rec) => {
      const i = ours.findIndex((r) => r.key === rec.key && r.value === rec.value);
      if (i < 0) throw new ClientError('UNKNOWN', `produce: a delivered record (key ${rec.key}) is not in ${topic}`, 'fluent-bit');
      const [hit] = ours.splice(i, 1);
      return { topic, partition: hit!.partition, offset: hit!.offset };
    });
  }

  const produce = async (conn: Connection, topic: string, records: OutRecord[], opts: ProduceOptions = {}): Promise<ProducedRecord[]> => {
    if (records.some((r) => r.headers && Object.keys(r.headers).length)) throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit cannot send record headers', 'fluent-bit');
    if (records.some((r) => r.partition !== undefined)) throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit cannot choose a partition', 'fluent-bit');
    if (records.some((r) => r.timestamp !== undefined)) throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit cannot set a record timestamp', 'fluent-bit');
    if (opts.compression && opts.compression !== 'none' && !capabilities.has(`compression.${opts.compression}`)) {
      throw new ClientError('UNSUPPORTED_SETTING', `this fluent-bit's librdkafka has no ${opts.compression}`, 'fluent-bit');
    }
    const l = addressOf(conn);
    const config = SERVICE
      + section('INPUT', { Name: 'stdin', Tag: 'kopc.records', Buffer_Size: '16M' })
      + section('OUTPUT', {
        Name: 'kafka', Match: 'kopc.records', Brokers: bootstrap(l), Topics: topic,
        // The record is {"key","value"}: the value's bytes are the message, the key its key.
        Format: 'raw', Raw_Log_Key: 'value', Message_Key_Field: 'key',
        // Debug level on this plugin only: its enqueue and delivery reports.
        Log_Level: 'debug',
        'rdkafka.message.max.bytes': 10_000_000,
        ...(opts.acks !== undefined ? { 'rdkafka.request.required.acks': opts.acks } : {}),
        ...(opts.idempotent ? { 'rdkafka.enable.idempotence': 'true' } : {}),
        ...(opts.compression && opts.compression !== 'none' ? { 'rdkafka.compression.codec': opts.compression } : {}),
        ...rdkafkaProperties(conn),
      });
    const stdin = records.map((r) => JSON.stringify({ key: r.key, value: r.value })).join('\n') + '\n';
    // Every record handed to librdkafka: then SIGTERM, and the shutdown flush logs the deliveries.
    const r = await runFluentBit(config, { what: 'produce', stdin, timeoutMs: 30_000, done: (log) => log.enqueued >= records.length });
    if (r.log.delivered.length < records.length) {
      // Handed to librdkafka but never acknowledged, and nothing in the log says why: the broker
      // did not take them within the run (or the shutdown flush's Grace seconds).
      const unacked = r.ended === 'timeout' || r.log.enqueued >= records.length;
      failWith('produce', r, { code: unacked ? 'TIMEOUT' : 'UNKNOWN', message: `fluent-bit reported ${r.log.delivered.length} of ${records.length} record(s) delivered (${r.log.enqueued} enqueued, run ${r.ended}${unacked ? '; the rest not acknowledged by the broker within the shutdown flush' : ''})` });
    }
    if (opts.acks === 0) return records.map((_, i) => ({ topic, partition: r.log.delivered[i]!, offset: '-1' }));
    return await offsetsOf(conn, topic, records, r.log.delivered);
  };

  return {
    id: 'fluent-bit',
    version,
    capabilities,
    async checkLogin(conn) {
      // The kafka output connects at start and asks for its topic's metadata: an answer over
      // the SASL-authenticated connection is the login. Nothing is written (and, with
      // auto-creation off, no topic is created).
      const l = addressOf(conn);
      const config = SERVICE + PARENT_WATCH
        + section('OUTPUT', {
          Name: 'kafka', Match: 'kopc.none', Brokers: bootstrap(l), Topics: `${conn.target.topics.localPrefix}kopc-fluent-bit-login-check`,
          Log_Level: 'debug', 'rdkafka.debug': 'metadata', 'rdkafka.allow.auto.create.topics': 'false',
          ...rdkafkaProperties(conn),
        });
      const r = await runFluentBit(config, { what: 'checkLogin', timeoutMs: 20_000, done: (log) => log.metadataReceived });
      if (r.ended !== 'done') failWith('checkLogin', r, { code: 'TIMEOUT', message: `no metadata answer within 20000 ms (run ${r.ended})` });
    },
    async createTopics() {
      throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit cannot create topics', 'fluent-bit');
    },
    produce,
    async consume(conn, req: ConsumeRequest): Promise<InRecord[]> {
      const l = addressOf(conn);
      const config = SERVICE + PARENT_WATCH
        + section('INPUT', {
          Name: 'kafka', Tag: 'kopc.records', Brokers: bootstrap(l), Topics: req.topics.join(','), Group_Id: req.groupId, Poll_Timeout_Ms: 100,
          'rdkafka.auto.offset.reset': req.fromBeginning ? 'earliest' : 'latest',
          ...rdkafkaProperties(conn),
        })
        + section('OUTPUT', { Name: 'stdout', Match: 'kopc.records', Format: 'json_lines' });
      // Complete lines only: the last one may still be arriving.
      const parse = (stdout: string): InRecord[] => stdout.slice(0, stdout.lastIndexOf('\n') + 1).split('\n').filter((line) => line.startsWith('{')).flatMap((line) => {
        const rec = JSON.parse(line) as { topic: string; partition: number; offset: number; error?: string | null; key?: string | null; payload?: string | null };
        if (rec.error) return [];
        return [{ topic: rec.topic, partition: rec.partition, offset: String(rec.offset), key: rec.key ?? null, value: rec.payload ?? null, headers: {} }];
      });
      const r = await runFluentBit(config, { what: 'consume', timeoutMs: req.timeoutMs, done: (_log, out) => parse(out).length >= req.count });
      const got = parse(r.stdout);
      if (got.length < req.count) {
        failWith('consume', r, { code: 'TIMEOUT', message: `${got.length} of ${req.count} record(s) from ${req.topics.join(', ')} within ${req.timeoutMs} ms (run ${r.ended})` });
      }
      return inOffsetOrder(got).slice(0, req.count);
    },
    async close() {
      await reader.close();
    },
  };
}
