// Fluent Bit as a Kafka client: the driver writes a Fluent Bit configuration (an input, the
// kafka output or input plugin with the `rdkafka.*` SASL/SSL properties the seed documents)
// and runs the real `fluent-bit` binary. Fluent Bit reports no offsets, so what arrives is
// checked with a reference consumer (KafkaJS). Where the binary is absent, every cell reads
// "not run: fluent-bit not installed".
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { execa, execaSync } from 'execa';
import { ClientError } from '../../errors/canonical.js';
import { bootstrap } from '../../targets/types.js';
import { createKafkaJsDriver } from '../kafkajs/kafkajs-driver.js';
import { addressOf, type Capability, type ClientDriver, type Connection, type ConsumeRequest, type InRecord, type OutRecord, type ProducedRecord } from '../types.js';

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

/** librdkafka settings as the seed's Fluent Bit section would write them. */
export function rdkafkaProperties(conn: Connection): Record<string, string> {
  const verify = conn.verifyTls ?? conn.target.tls.verify;
  const ca = conn.caPemPath ?? conn.target.tls.caPemPath;
  return {
    'rdkafka.security.protocol': conn.protocol,
    'rdkafka.sasl.mechanism': 'PLAIN',
    'rdkafka.sasl.username': conn.principal.username,
    'rdkafka.sasl.password': conn.password ?? conn.principal.password,
    ...(conn.protocol === 'SASL_SSL'
      ? {
          ...(ca ? { 'rdkafka.ssl.ca.location': ca } : {}),
          'rdkafka.enable.ssl.certificate.verification': verify ? 'true' : 'false',
          'rdkafka.ssl.endpoint.identification.algorithm': verify && conn.target.tls.verifyHostname !== false ? 'https' : 'none',
        }
      : {}),
  };
}

function section(name: string, props: Record<string, string | number>): string {
  return `[${name}]\n${Object.entries(props).map(([k, v]) => `    ${k} ${v}`).join('\n')}\n`;
}

/** Fluent Bit's own log lines that name a failure, mapped to canonical codes. */
export function fluentBitFailure(log: string): string | undefined {
  if (/SASL authentication (error|failed)|Authentication failed/i.test(log)) return 'SASL_AUTHENTICATION_FAILED';
  if (/SSL handshake failed|certificate verify failed/i.test(log)) return 'TLS_HANDSHAKE_FAILED';
  if (/Topic authorization failed/i.test(log)) return 'TOPIC_AUTHORIZATION_FAILED';
  return undefined;
}

async function runFluentBit(config: string, opts: { stdin?: string; until: (stdout: string, log: string) => boolean; timeoutMs: number; what: string }): Promise<{ stdout: string; log: string }> {
  const bin = findFluentBit();
  if (!bin) throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit not installed', 'fluent-bit');
  const dir = mkdtempSync(join(tmpdir(), 'kopc-fluent-bit-'));
  const confPath = join(dir, 'fluent-bit.conf');
  writeFileSync(confPath, config, { mode: 0o600 });
  const child = execa(bin, ['-c', confPath], { input: opts.stdin, reject: false, buffer: false, forceKillAfterDelay: 5000 });
  let stdout = '';
  let log = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
  const t0 = Date.now();
  try {
    for (;;) {
      if (opts.until(stdout, log)) return { stdout, log };
      const failure = fluentBitFailure(log);
      if (failure) throw new ClientError(failure, `${opts.what}: ${log.split('\n').filter((l) => /error/i.test(l)).slice(-3).join(' | ')}`, 'fluent-bit');
      if (Date.now() - t0 > opts.timeoutMs) throw new ClientError('TIMEOUT', `${opts.what}: nothing conclusive within ${opts.timeoutMs} ms`, 'fluent-bit');
      if (child.exitCode !== null) throw new ClientError('CLIENT_CRASHED', `${opts.what}: fluent-bit exited (${child.exitCode}): ${log.slice(-500)}`, 'fluent-bit');
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    child.kill('SIGTERM');
    await child;
    rmSync(dir, { recursive: true, force: true });
  }
}

export function createFluentBitDriver(): ClientDriver {
  const verifier = createKafkaJsDriver();
  const capabilities = new Set<Capability>([]);
  const service = section('SERVICE', { Flush: '0.2', Grace: 2, Log_Level: 'info' });
  const bin = findFluentBit();
  const version = bin ? (/v?(\d+\.\d+\.\d+)/.exec(execaSync(bin, ['--version'], { reject: false, timeout: 10_000 }).stdout ?? '')?.[1] ?? 'unknown') : 'not installed';

  const produce = async (conn: Connection, topic: string, records: OutRecord[]): Promise<ProducedRecord[]> => {
    const l = addressOf(conn);
    const config = service
      + section('INPUT', { Name: 'stdin', Tag: 'kopc' })
      + section('OUTPUT', {
        Name: 'kafka', Match: '*', Brokers: bootstrap(l), Topics: topic,
        Format: 'raw', Raw_Log_Key: 'value', Message_Key_Field: 'key',
        ...rdkafkaProperties(conn),
      });
    const stdin = records.map((r) => JSON.stringify({ key: r.key, value: r.value })).join('\n') + '\n';
    // What arrives, read back by the reference consumer, is the acknowledgement.
    let arrivedAll = false;
    const verify = verifier.consume(conn, { topics: [topic], groupId: `kopc-fluent-bit-verify-${Date.now()}`, fromBeginning: true, count: records.length, timeoutMs: 30_000 })
      .finally(() => { arrivedAll = true; });
    verify.catch(() => undefined);
    await runFluentBit(config, { stdin, timeoutMs: 35_000, what: 'produce', until: () => arrivedAll });
    const arrived = await verify;
    return arrived.map((r) => ({ topic: r.topic, partition: r.partition, offset: r.offset }));
  };

  return {
    id: 'fluent-bit',
    version,
    capabilities,
    async checkLogin(conn) {
      // Fluent Bit has no metadata call: a login is proven by one record reaching a local topic.
      await produce(conn, `${conn.target.topics.localPrefix}kopc-fluent-bit-login-check`, [{ key: 'login-check', value: 'ok' }]);
    },
    async createTopics() {
      throw new ClientError('UNSUPPORTED_SETTING', 'fluent-bit cannot create topics', 'fluent-bit');
    },
    produce,
    async consume(conn, req: ConsumeRequest): Promise<InRecord[]> {
      const l = addressOf(conn);
      const config = service
        + section('INPUT', {
          Name: 'kafka', Tag: 'kopc', Brokers: bootstrap(l), Topics: req.topics.join(','), Group_Id: req.groupId, Poll_Ms: 100,
          'rdkafka.auto.offset.reset': req.fromBeginning ? 'earliest' : 'latest',
          ...rdkafkaProperties(conn),
        })
        + section('OUTPUT', { Name: 'stdout', Match: '*', Format: 'json_lines' });
      const parse = (stdout: string): InRecord[] => stdout.split('\n').filter((l) => l.startsWith('{')).map((line) => {
        const rec = JSON.parse(line) as { topic: string; partition: number; offset: number; key?: string | null; payload?: string | null };
        return { topic: rec.topic, partition: rec.partition, offset: String(rec.offset), key: rec.key ?? null, value: rec.payload ?? null, headers: {} };
      });
      const { stdout } = await runFluentBit(config, { timeoutMs: req.timeoutMs, what: 'consume', until: (out) => parse(out).length >= req.count });
      return parse(stdout).slice(0, req.count);
    },
    async close() {
      await verifier.close();
    },
  };
}
