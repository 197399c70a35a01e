// The reference target: a real Apache Kafka broker (KRaft, one node) from Maven Central,
// with SASL_PLAINTEXT and SASL_SSL listeners that accept the same `<tenant>/<fabric>` +
// `token:<jwt>` logins as the embedded KoP target. A generic scenario that fails here is a
// bug in the scenario, not in the endpoint.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { groupCoordinatorRoundTrip, metadataRoundTrip } from '../../clients/kafkajs/connection.js';
import { mintJwt, newSecretKey, writeSecretKey } from '../../security/jwt.js';
import { apiKeyDigest, apiKeyFor, defaultTenantFabrics, principalFor, roleOf, type TenantFabric } from '../../security/principals.js';
import { redact, registerSecret } from '../../security/redact.js';
import { generateTls } from '../../security/tls.js';
import { activeFaults, wrongCaTls } from '../faults.js';
import { mavenBuild } from '../../util/maven.js';
import { cacheDir, ensureDir, projectRoot, workDir } from '../../util/paths.js';
import { freePorts, waitPortsBindable } from '../../util/ports.js';
import { groupRssKb, isAlive, killGroup, startGuarded } from '../../util/process.js';
import { progress, step } from '../../util/progress.js';
import { pollUntil } from '../../util/wait.js';
import { asRestartable, type RestartableTarget, type RestartTiming, type StartedTarget, type TargetInfo } from '../types.js';

export const KAFKA_VERSION = '3.9.1';

export interface KafkaTargetOptions {
  tenantFabrics?: TenantFabric[];
  /** Keep the broker running after stop() and reuse it on the next start (development). */
  reuse?: boolean;
  startTimeoutMs?: number;
  /** JVM heap, e.g. '768m'. */
  heap?: string;
}

interface DevState {
  pid: number;
  info: TargetInfo;
  secretKeyPath: string;
  dir: string;
}

const devStatePath = () => join(cacheDir, 'dev', 'kafka.json');

/**
 * A cluster id: 16 random bytes, base64url. One in 64 of those starts with '-', which
 * StorageTool's argument parser takes for an option ("expected one argument") and fails.
 */
export function kafkaUuid(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}

/**
 * A broker of its own for one scenario file (faults.broker-restart): never reused, a smaller heap,
 * restartable on the same data directory and ports.
 */
export async function startRestartableKafkaBroker(opts: Pick<KafkaTargetOptions, 'startTimeoutMs'> = {}): Promise<RestartableTarget> {
  return asRestartable(await startKafkaBroker({ ...opts, reuse: false, heap: '512m' }));
}

export async function startKafkaBroker(opts: KafkaTargetOptions = {}): Promise<StartedTarget & Partial<RestartableTarget>> {
  const reuse = opts.reuse ?? process.env.KOPC_REUSE === '1';
  if (reuse) {
    const reused = await tryReuse();
    if (reused) return reused;
  }
  const build = await step('reference Kafka: resolve from Maven Central', () =>
    mavenBuild('reference-kafka', join(projectRoot, 'harness/targets/kafka')));

  const dir = join(workDir, `kafka-${process.pid}-${Date.now().toString(36)}`);
  ensureDir(dir);
  const tfs = opts.tenantFabrics ?? defaultTenantFabrics;
  const key = newSecretKey();
  const secretKeyPath = join(dir, 'secret.key');
  writeSecretKey(secretKeyPath, key);
  const principalsPath = join(dir, 'principals.txt');
  writeFileSync(principalsPath, tfs.map((tf) => `${tf.tenant}/${tf.fabric}=${roleOf(tf)}`).join('\n') + '\n', { mode: 0o600 });
  // API keys: the broker knows only their digests and the role each one logs in as.
  const apiKeysPath = join(dir, 'api-keys.txt');
  writeFileSync(apiKeysPath, tfs.map((tf) => `${apiKeyDigest(apiKeyFor(key, tf))}=${roleOf(tf)}`).join('\n') + '\n', { mode: 0o600 });
  const tls = await step('reference Kafka: generate TLS material', () => generateTls(join(dir, 'tls')));
  registerSecret(tls.storePassword);
  // PROXIED: a second SASL_PLAINTEXT listener for the faults family, listening on proxiedPort and
  // advertising proxyPort, where a fault-injection proxy listens and forwards to proxiedPort.
  const [plainPort, sslPort, internalPort, controllerPort, proxiedPort, proxyPort] = await freePorts(6) as [number, number, number, number, number, number];

  const faults = activeFaults();
  const acceptAny = faults.has('auth-off') ? ' accept_any="true"' : '';
  const jaas = `org.apache.kafka.common.security.plain.PlainLoginModule required secret_key_file="${secretKeyPath}" principals_file="${principalsPath}" api_keys_file="${apiKeysPath}"${acceptAny};`;
  const handler = 'io.kopconformance.kafka.JwtPlainServerCallbackHandler';
  const props: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `SASL_PLAINTEXT://127.0.0.1:${plainPort},SASL_SSL://127.0.0.1:${sslPort},INTERNAL://127.0.0.1:${internalPort},CONTROLLER://127.0.0.1:${controllerPort},PROXIED://127.0.0.1:${proxiedPort}`,
    'advertised.listeners': `SASL_PLAINTEXT://127.0.0.1:${plainPort},SASL_SSL://127.0.0.1:${sslPort},INTERNAL://127.0.0.1:${internalPort},PROXIED://127.0.0.1:${proxyPort}`,
    'listener.security.protocol.map': 'SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT,PROXIED:SASL_PLAINTEXT',
    'inter.broker.listener.name': 'INTERNAL',
    'controller.listener.names': 'CONTROLLER',
    'sasl.enabled.mechanisms': 'PLAIN',
    'listener.name.sasl_plaintext.plain.sasl.jaas.config': jaas,
    'listener.name.sasl_plaintext.plain.sasl.server.callback.handler.class': handler,
    'listener.name.sasl_ssl.plain.sasl.jaas.config': jaas,
    'listener.name.sasl_ssl.plain.sasl.server.callback.handler.class': handler,
    'listener.name.proxied.plain.sasl.jaas.config': jaas,
    'listener.name.proxied.plain.sasl.server.callback.handler.class': handler,
    'ssl.keystore.type': 'PKCS12',
    'ssl.keystore.location': tls.keystorePath,
    'ssl.keystore.password': tls.storePassword,
    'ssl.key.password': tls.storePassword,
    'ssl.client.auth': 'none',
    'log.dirs': join(dir, 'data'),
    'num.partitions': 1,
    'auto.create.topics.enable': true,
    'offsets.topic.replication.factor': 1,
    'offsets.topic.num.partitions': 4,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'transaction.state.log.num.partitions': 4,
    'group.initial.rebalance.delay.ms': 0,
    'delete.topic.enable': true,
    'log.flush.interval.messages': 1_000_000,
  };
  const serverProps = join(dir, 'server.properties');
  writeFileSync(serverProps, Object.entries(props).map(([k, v]) => `${k}=${String(v).replace(/\\/g, '\\\\')}`).join('\n') + '\n', { mode: 0o600 });
  const log4j = join(dir, 'log4j.properties');
  writeFileSync(log4j, [
    'log4j.rootLogger=INFO, stdout',
    'log4j.appender.stdout=org.apache.log4j.ConsoleAppender',
    'log4j.appender.stdout.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.kafka=INFO', 'log4j.logger.org.apache.kafka=INFO',
    'log4j.logger.kafka.request.logger=WARN', 'log4j.logger.state.change.logger=WARN',
  ].join('\n') + '\n');

  const java = process.env.KOPC_JAVA ?? 'java';
  const jvm = [`-Xms256m`, `-Xmx${opts.heap ?? '768m'}`, '-XX:+UseG1GC', '-Djava.awt.headless=true',
    `-Dlog4j.configuration=file:${log4j}`, '-cp', build.classpath];
  const clusterId = kafkaUuid();
  await step('reference Kafka: format KRaft storage', async () => {
    // One retry: a format that fails once is not a broken setup. (The failure seen before was
    // a cluster id starting with '-': see kafkaUuid.)
    for (let attempt = 1; ; attempt++) {
      const r = await execa(java, [...jvm, 'kafka.tools.StorageTool', 'format', '-t', clusterId, '-c', serverProps, '--ignore-formatted'],
        { stdin: 'ignore', timeout: 120_000, reject: false, all: true });
      if (r.exitCode === 0) return;
      const why = `KRaft storage format failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}): ${redact((r.all ?? '').slice(-1500))}`;
      if (attempt >= 2) throw new Error(why);
      progress('reference Kafka', `${why.split('\n')[0]}; retrying once`);
    }
  });

  const logFile = join(dir, 'broker.log');
  const t0 = Date.now();
  progress('reference Kafka: starting broker', `log ${logFile}`);
  const launch = () => startGuarded(java, [...jvm, 'kafka.Kafka', serverProps], {
    logFile, cwd: dir, watchPid: reuse ? undefined : process.pid,
  });
  let proc = launch();

  const principals = tfs.map((tf) => ({ ...principalFor(key, tf), apiKeyPassword: `token:${apiKeyFor(key, tf)}` }));
  for (const p of principals) {
    registerSecret(p.password);
    registerSecret(p.apiKeyPassword);
  }
  const info: TargetInfo = {
    id: 'kafka',
    description: `Apache Kafka ${KAFKA_VERSION} (KRaft, embedded reference)`,
    listeners: [
      { securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: plainPort },
      { securityProtocol: 'SASL_SSL', host: '127.0.0.1', port: sslPort },
    ],
    principals,
    tls: faults.has('wrong-ca')
      ? await wrongCaTls(dir)
      : { caPemPath: tls.caPemPath, truststorePath: tls.truststorePath, truststorePassword: tls.storePassword, verify: true },
    topics: { globalPrefix: 'c8globals.', localPrefix: 'c8locals.' },
    logFiles: [logFile],
    proxied: { securityProtocol: 'SASL_PLAINTEXT', advertised: { host: '127.0.0.1', port: proxyPort }, upstream: { host: '127.0.0.1', port: proxiedPort } },
    forgedPasswords: tfs.map((tf) => `token:${mintJwt(newSecretKey(), { sub: roleOf(tf) })}`),
    expiredPasswords: tfs.map((tf) => `token:${mintJwt(key, { sub: roleOf(tf), exp: Math.floor(Date.now() / 1000) - 3600 })}`),
  };
  const ready = async (timeoutMs: number) => {
    const deadline = Date.now() + timeoutMs;
    const abort = () => {
      const e = proc.exited();
      return e ? new Error(`reference Kafka broker exited (${e}) before it was ready; log ${logFile}:\n${proc.logTail(3000)}`) : undefined;
    };
    await pollUntil('reference Kafka: SASL-authenticated metadata round trip', () => metadataRoundTrip(info), { timeoutMs, intervalMs: 200, abort });
    // And a group coordinator: the first consumer group must not pay for the offsets topic.
    await pollUntil('reference Kafka: a group coordinator (DescribeGroups)', () => groupCoordinatorRoundTrip(info), { timeoutMs: Math.max(1000, deadline - Date.now()), intervalMs: 200, abort });
  };
  try {
    await ready(opts.startTimeoutMs ?? 120_000);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  progress('reference Kafka: ready', `${((Date.now() - t0) / 1000).toFixed(1)} s after launch, pid ${proc.pid}`);

  if (reuse) {
    ensureDir(join(cacheDir, 'dev'));
    const state: DevState = { pid: proc.pid, info, secretKeyPath, dir };
    writeFileSync(devStatePath(), JSON.stringify(state), { mode: 0o600 });
  }
  let stopped = false;
  const restart = async (signal: 'SIGTERM' | 'SIGKILL', whileDown?: () => void): Promise<RestartTiming> => {
    if (reuse || stopped) throw new Error('reference Kafka: only a running broker of this run can be restarted (not a KOPC_REUSE=1 one)');
    const s0 = Date.now();
    // A clean close (controlled shutdown, logs flushed) takes a few seconds; bounded at 30 s.
    await proc.stop(signal === 'SIGKILL' ? 0 : 30_000, signal);
    const stopMs = Date.now() - s0;
    whileDown?.();
    await waitPortsBindable([plainPort, sslPort, internalPort, controllerPort, proxiedPort], 30_000);
    const l0 = Date.now();
    writeFileSync(logFile, `\n===== kop-conformance: restart after ${signal} =====\n`, { flag: 'a' });
    proc = launch();
    await ready(120_000);
    const startMs = Date.now() - l0;
    progress('reference Kafka: restarted', `${signal}: stopped in ${(stopMs / 1000).toFixed(1)} s, ready ${(startMs / 1000).toFixed(1)} s after launch, pid ${proc.pid}`);
    return { signal, stopMs, startMs };
  };
  return {
    ...info,
    restart,
    rssKb: () => groupRssKb(proc.pid),
    stop: async () => {
      if (stopped || reuse) return;
      stopped = true;
      await proc.stop();
      if (process.env.KOPC_KEEP_WORK !== '1') rmSync(join(dir, 'data'), { recursive: true, force: true });
    },
  };
}

async function tryReuse(): Promise<StartedTarget | undefined> {
  const path = devStatePath();
  if (!existsSync(path)) return undefined;
  const state = JSON.parse(readFileSync(path, 'utf8')) as DevState;
  if (!isAlive(state.pid)) return undefined;
  try {
    await metadataRoundTrip(state.info);
  } catch {
    return undefined;
  }
  progress('reference Kafka: reusing development broker', `pid ${state.pid}`);
  return { ...state.info, stop: async () => undefined };
}

/** Stops the development broker kept by `reuse`, if any. */
export async function stopDevKafkaBroker(): Promise<boolean> {
  const path = devStatePath();
  if (!existsSync(path)) return false;
  const state = JSON.parse(readFileSync(path, 'utf8')) as DevState;
  rmSync(path, { force: true });
  if (!isAlive(state.pid)) return false;
  await killGroup(state.pid);
  return true;
}

