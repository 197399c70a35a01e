// The gdn target: Macrometa's own KoP fork (c8streams-kop 2.7.0.9, the code behind the GDN's
// Kafka port) in Apache Pulsar 2.7.2 standalone, configured the GDN way: token authentication,
// the SASL username `<tenant>/<fabric>` is the Pulsar namespace the connection works in, each
// namespace granted to its own fabric's role only; SASL_PLAINTEXT and SASL_SSL listeners.
//
// The NAR is built from source (GDN_KOP_SOURCE, see gdn-nar.ts); the broker runs from
// pulsar-broker 2.7.2's runtime jars (pom.xml here), since no 2.7.x server distribution is
// served. A first start on empty data needs two phases (FINDINGS.md): Pulsar alone, which writes
// the cluster metadata (and is provisioned), then Pulsar with the protocol handler.
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { defaultTenantFabrics, roleOf, type TenantFabric } from '../../security/principals.js';
import { mavenBuild } from '../../util/maven.js';
import { cacheDir, ensureDir, projectRoot } from '../../util/paths.js';
import { freePorts, waitPortsBindable } from '../../util/ports.js';
import { groupRssKb, groupThreads, isAlive, killGroup, readTail, startGuarded, type GuardedProcess } from '../../util/process.js';
import { progress, secs, step } from '../../util/progress.js';
import { kafkaListenersReady, provisionNamespaces, waitForCluster, type NamespacePlan } from '../pulsar/pulsar-admin.js';
import {
  preparePulsarRun, pulsarLogins, stopBrokerOfStateFile, tokenAuthConf, type PulsarSecretPaths,
  pulsarLog4j2Properties, pulsarStartError, THROWAWAY_STOP_GRACE_MS,
} from '../pulsar/pulsar-run.js';
import { asRestartable, type Listener, type RestartableTarget, type RestartTiming, type StartedTarget } from '../types.js';
import { ensureGdnNar, gdnSourceSpec, GDN_VERSIONS } from './gdn-nar.js';
import { probeApiVersions } from '../../protocol/api-versions.js';

export const GDN_ADMIN_ROLE = 'kopc-admin';
/** Why the shared gdn broker has no proxied listener (TargetInfo.proxiedUnavailable); the faults family starts a private one. */
export const GDN_SHARED_NOT_PROXIED = 'c8streams-kop 2.7 keys its listeners by protocol (EndPoint.parseListeners, no kafkaProtocolMap): '
  + 'no second SASL_PLAINTEXT listener with its own advertised port next to the shared one; the faults family\'s Toxiproxy scenarios '
  + 'run on a private gdn broker whose one SASL_PLAINTEXT listener advertises the proxy\'s port (startProxiedGdnBroker)';
const CLUSTER = 'standalone';
/** A stop longer than this is forced (SIGKILL): the data is thrown away anyway. */
const STOP_GRACE_MS = 5000;

const gdnCache = () => ensureDir(join(cacheDir, 'gdn'));
const stateFile = () => join(gdnCache(), 'reuse-state.json');

export interface GdnPorts {
  zookeeper: number;
  bookie: number;
  web: number;
  broker: number;
  kafkaSaslPlaintext: number;
  kafkaSaslSsl: number;
  /**
   * Set on a private broker for the faults family (startProxiedGdnBroker): the port its one
   * SASL_PLAINTEXT listener advertises, where a fault-injection proxy listens and forwards to
   * `kafkaSaslPlaintext`. The fork keys listeners by protocol, so this is not a second
   * listener (as kop's and kafka's are) but the plaintext listener's advertised endpoint.
   */
  kafkaProxyAdvertised?: number;
}

export interface GdnConfInput {
  ports: GdnPorts;
  secretKeyPath: string;
  adminTokenPath: string;
  keystorePath: string;
  storePassword: string;
  narDir: string;
  narExtractDir: string;
  /** false: Pulsar alone (the first phase of a first start). */
  withKop: boolean;
}

/** The broker configuration (a complete file: there is no distribution's standalone.conf to start from). */
export function gdnBrokerConf(c: GdnConfInput): Record<string, string> {
  const zk = `127.0.0.1:${c.ports.zookeeper}`;
  const pulsar: Record<string, string> = {
    clusterName: CLUSTER,
    zookeeperServers: zk,
    configurationStoreServers: zk,
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    brokerServicePort: String(c.ports.broker),
    webServicePort: String(c.ports.web),
    managedLedgerDefaultEnsembleSize: '1',
    managedLedgerDefaultWriteQuorum: '1',
    managedLedgerDefaultAckQuorum: '1',
    ...tokenAuthConf(c.secretKeyPath, c.adminTokenPath, GDN_ADMIN_ROLE),
    // KoP 2.7 maps a Kafka partition to a Pulsar partition: topics must be partitioned.
    allowAutoTopicCreation: 'true',
    allowAutoTopicCreationType: 'partitioned',
    defaultNumPartitions: '1',
    brokerDeleteInactiveTopicsEnabled: 'false',
    // With deduplication on, every Kafka produce to the fork hangs unanswered (FINDINGS.md): its
    // publish context carries no producer name or sequence id.
    brokerDeduplicationEnabled: 'false',
    functionsWorkerEnabled: 'false',
    // The embedded bookie reads this file too. The fork checks no record size; with the bookie's
    // default 5 MB frame limit a larger record is retried against the bookie forever (the produce
    // never answers, ~2 GB of log in 20 min: FINDINGS.md), so one scenario would take the broker
    // down for every later cell. 16 MB lets such a record be stored and the verdict come at once.
    nettyMaxFrameSizeBytes: String(16 * 1024 * 1024),
    narExtractionDirectory: c.narExtractDir,
  };
  if (!c.withKop) return pulsar;
  const ssl = `SASL_SSL://127.0.0.1:${c.ports.kafkaSaslSsl}`;
  const listeners = `SASL_PLAINTEXT://127.0.0.1:${c.ports.kafkaSaslPlaintext},${ssl}`;
  // The fork takes each protocol's bind endpoint from kafkaListeners and its advertised one from
  // kafkaAdvertisedListeners (KafkaProtocolHandler.newChannelInitializers, both parsed into a map
  // keyed by protocol); what it answers with is the advertised one: Metadata's broker list and
  // controller (KafkaRequestHandler.newSelfNode), each partition's leader and FindCoordinator's
  // node (findBroker: the kafkaAdvertisedListeners string this broker wrote to ZooKeeper,
  // getPlainTextEndPoint or getSslEndPoint of it). So a client that bootstraps on the bind port
  // goes on to the advertised one: with kafkaProxyAdvertised, through the proxy.
  const advertised = c.ports.kafkaProxyAdvertised ? `SASL_PLAINTEXT://127.0.0.1:${c.ports.kafkaProxyAdvertised},${ssl}` : listeners;
  return {
    ...pulsar,
    messagingProtocols: 'kafka',
    protocolHandlerDirectory: c.narDir,
    kafkaListeners: listeners,
    kafkaAdvertisedListeners: advertised,
    saslAllowedMechanisms: 'PLAIN',
    kopSslKeystoreType: 'PKCS12',
    kopSslKeystoreLocation: c.keystorePath,
    kopSslKeystorePassword: c.storePassword,
    kopSslKeyPassword: c.storePassword,
    kopSslEnabledProtocols: 'TLSv1.2,TLSv1.3',
    // The fork hard-codes public/__kafka/__consumer_offsets (KopTopic.java).
    kafkaMetadataTenant: 'public',
    kafkaMetadataNamespace: '__kafka',
    offsetsTopicNumPartitions: '2',
    groupInitialRebalanceDelayMs: '0',
  };
}

export function renderProperties(props: Record<string, string>): string {
  return Object.entries(props).map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\')}`).join('\n') + '\n';
}

/** The GDN's plan: each fabric's namespace `<tenant>/<fabric>`, granted to that fabric's role only. */
export function gdnNamespacePlan(tfs: TenantFabric[]): NamespacePlan {
  return new Map(tfs.map((tf) => [`${tf.tenant}/${tf.fabric}`, [roleOf(tf)]]));
}

/** Java 17 flags Pulsar 2.7 needs (FINDINGS.md): JvmDefaultGCMetricsLogger reads sun.management. */
export const GDN_JVM_FLAGS = [
  '-Xms256m', '-Xmx1g', '-XX:MaxDirectMemorySize=1g', '-XX:+UseG1GC', '-Djava.awt.headless=true',
  '--add-opens', 'java.management/sun.management=ALL-UNNAMED',
  '--add-opens', 'java.base/java.nio=ALL-UNNAMED',
  '--add-opens', 'java.base/jdk.internal.misc=ALL-UNNAMED',
  '--add-opens', 'java.base/java.lang=ALL-UNNAMED',
  '-Dio.netty.tryReflectionSetAccessible=true',
  // ZooKeeper 3.5's AdminServer would take port 8080.
  '-Dzookeeper.admin.enableServer=false',
];

interface GdnState extends PulsarSecretPaths {
  pid: number;
  runDir: string;
  ports: GdnPorts;
  tenantFabrics: TenantFabric[];
  logFile: string;
  narOrigin: string;
  narKey: string;
}

/**
 * The gdn broker's thread count past which the watch renews it between tests (F17; 0: never).
 * Each leaked thread wakes every 200 ms: at 6 600 of them a busy 2-core machine stalled.
 */
export function gdnThreadBound(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.KOPC_GDN_THREAD_BOUND;
  // The broker is renewed on fresh data (a restart on its own data led to F18).
  if (v === undefined || v === '') return 2500;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`KOPC_GDN_THREAD_BOUND must be a whole number of threads (0: never restart), not "${v}"`);
  return n;
}

export interface StartedGdnBroker extends StartedTarget {
  readonly pid: number;
  readonly ports: GdnPorts;
  /** The superuser's JWT. A secret: never print it. */
  adminToken(): string;
}

function isOurBroker(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('PulsarStandaloneStarter') && cmd.includes('gdn');
  } catch { return false; }
}

function buildTarget(s: GdnState, stop: () => Promise<void>): StartedGdnBroker {
  const { principals, forgedPasswords, expiredPasswords, adminToken, storePassword } = pulsarLogins(s, s.tenantFabrics);
  const listeners: Listener[] = [
    { securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: s.ports.kafkaSaslPlaintext },
    { securityProtocol: 'SASL_SSL', host: '127.0.0.1', port: s.ports.kafkaSaslSsl },
  ];
  return {
    id: 'gdn',
    description: `Macrometa c8streams-kop ${GDN_VERSIONS.kop} (the GDN's KoP fork, built from source) on Apache Pulsar `
      + `${GDN_VERSIONS.pulsar} (standalone, embedded); SASL_PLAINTEXT and SASL_SSL`,
    listeners,
    principals,
    tls: { caPemPath: s.tls.caPemPath, truststorePath: s.tls.truststorePath, truststorePassword: storePassword, verify: true },
    topics: { globalPrefix: 'c8globals.', localPrefix: 'c8locals.' },
    logFiles: [s.logFile],
    ...(s.ports.kafkaProxyAdvertised
      ? {
        proxied: {
          securityProtocol: 'SASL_PLAINTEXT' as const,
          advertised: { host: '127.0.0.1', port: s.ports.kafkaProxyAdvertised },
          upstream: { host: '127.0.0.1', port: s.ports.kafkaSaslPlaintext },
          // Its one SASL_PLAINTEXT listener is the proxied one: only SASL_SSL bypasses the proxy.
          direct: 'SASL_SSL' as const,
        },
      }
      : { proxiedUnavailable: GDN_SHARED_NOT_PROXIED }),
    forgedPasswords,
    expiredPasswords,
    oneTestAtATime: 'c8streams-kop keeps one namespace for all connections (KopTopic\'s static prefix, set by each '
      + 'Metadata request), so a test logged in as another fabric moves every other connection\'s topics (FINDINGS.md)',
    notes: [
      `protocol handler built from ${s.narOrigin} (cache key ${s.narKey})`,
      'the SASL username <tenant>/<fabric> is the Pulsar namespace; each namespace is granted to its own fabric\'s role only',
      'Kafka wire protocol of kafka-clients 2.0 (the fork\'s own): newer clients negotiate down',
    ],
    stop,
    get pid() { return s.pid; },
    ports: s.ports,
    adminToken: () => adminToken,
  };
}

/**
 * The broker answers on its listeners. A private proxied broker's SASL_PLAINTEXT listener
 * advertises the proxy's port, where nothing listens until the faults family's proxy does: a
 * metadata round trip there would go on to that port and fail. So there it is an ApiVersions
 * answer on the bind port, next to the full SASL_SSL round trip.
 */
async function gdnListenersReady(t: StartedGdnBroker, timeoutMs: number, abort?: () => Error | undefined): Promise<void> {
  if (!t.proxied) return await kafkaListenersReady(t, timeoutMs, abort);
  const deadline = Date.now() + timeoutMs;
  await kafkaListenersReady({ ...t, listeners: t.listeners.filter((l) => l.securityProtocol !== 'SASL_PLAINTEXT') }, timeoutMs, abort);
  const plain = t.listeners.find((l) => l.securityProtocol === 'SASL_PLAINTEXT')!;
  await probeApiVersions(plain, t.tls, Math.max(1000, deadline - Date.now()));
}

const reuseEnabled = () => process.env.KOPC_REUSE === '1';

async function tryReuse(): Promise<StartedGdnBroker | undefined> {
  if (!existsSync(stateFile())) return undefined;
  let s: GdnState;
  try { s = JSON.parse(readFileSync(stateFile(), 'utf8')) as GdnState; } catch { return undefined; }
  if (isAlive(s.pid) && isOurBroker(s.pid)) {
    try {
      const t = buildTarget(s, async () => {
        progress('gdn broker', `KOPC_REUSE=1: leaving broker pid ${s.pid} running for the next start`);
      });
      await kafkaListenersReady(t, 10_000);
      progress('gdn broker', `KOPC_REUSE=1: reusing running broker pid ${s.pid}`);
      return t;
    } catch (err) {
      progress('gdn broker', `KOPC_REUSE=1: broker pid ${s.pid} is not healthy (${(err as Error).message.split('\n')[0]}); replacing it`);
      await killGroup(s.pid, STOP_GRACE_MS);
    }
  }
  rmSync(stateFile(), { force: true });
  return undefined;
}

/** Stops a broker left running by KOPC_REUSE=1, if any. */
export async function stopReusedGdnBroker(): Promise<boolean> {
  return await stopBrokerOfStateFile(stateFile(), isOurBroker, STOP_GRACE_MS);
}

export interface GdnBrokerOptions {
  tenantFabrics?: TenantFabric[];
  /** Bound on the whole start once the artifacts are in place. */
  startTimeoutMs?: number;
  /**
   * The SASL_PLAINTEXT listener advertised at a port of its own (GdnPorts.kafkaProxyAdvertised,
   * reserved with the others), where a fault-injection proxy must listen: the target's `proxied`.
   * Every client of this broker's plaintext listener ends up behind that proxy, so it is for a
   * private broker only (startProxiedGdnBroker), never the shared one.
   */
  advertisePlaintextAtProxy?: boolean;
}

/**
 * A broker of its own for one scenario file (faults.broker-restart): never reused, restartable on
 * the same data directories and ports (phase 2 launched again).
 */
export async function startRestartableGdnBroker(opts: GdnBrokerOptions = {}): Promise<StartedGdnBroker & RestartableTarget> {
  return asRestartable(await startGdnBroker(opts, { neverReuse: true }));
}

/**
 * A broker of its own for the faults family's Toxiproxy scenarios: never reused, its one
 * SASL_PLAINTEXT listener advertised at the proxy's port (TargetInfo.proxied), SASL_SSL reached
 * directly (proxied.direct).
 */
export async function startProxiedGdnBroker(opts: GdnBrokerOptions = {}): Promise<StartedGdnBroker> {
  return await startGdnBroker({ ...opts, advertisePlaintextAtProxy: true }, { neverReuse: true });
}

export async function startGdnBroker(opts: GdnBrokerOptions = {}, how: { neverReuse?: boolean } = {}): Promise<StartedGdnBroker & Partial<RestartableTarget>> {
  // "not run" is decided here, in milliseconds, before Maven or Java.
  const spec = gdnSourceSpec();
  const reuse = reuseEnabled() && !how.neverReuse;
  if (reuse) {
    const reused = await tryReuse();
    if (reused) return reused;
  }
  const nar = await ensureGdnNar(spec);
  const runtime = await step(`gdn: resolve pulsar-broker ${GDN_VERSIONS.pulsar} runtime`, () =>
    mavenBuild('gdn-pulsar-broker', join(projectRoot, 'harness/targets/gdn/broker')));

  const tenantFabrics = opts.tenantFabrics ?? defaultTenantFabrics;
  const run = await preparePulsarRun('gdn', nar.path, GDN_ADMIN_ROLE);
  const { runDir, dirs, secretKeyPath, adminTokenPath } = run;
  const adminToken = readFileSync(adminTokenPath, 'utf8').trim();

  const [zookeeper, bookie, web, broker, kafkaSaslPlaintext, kafkaSaslSsl, kafkaProxyAdvertised] = await freePorts(7) as
    [number, number, number, number, number, number, number];
  const ports: GdnPorts = { zookeeper, bookie, web, broker, kafkaSaslPlaintext, kafkaSaslSsl, ...(opts.advertisePlaintextAtProxy ? { kafkaProxyAdvertised } : {}) };
  const confInput = (withKop: boolean): GdnConfInput => ({
    ports, secretKeyPath, adminTokenPath, keystorePath: run.tls.keystorePath, storePassword: run.tlsMaterial.storePassword,
    narDir: dirs.protocols, narExtractDir: dirs.narExtract, withKop,
  });
  const log4j = join(dirs.conf, 'log4j2.properties');
  writeFileSync(log4j, pulsarLog4j2Properties());
  const logFile = join(runDir, 'pulsar-standalone.log');

  const launch = (phase: string, withKop: boolean): GuardedProcess => {
    const confPath = join(dirs.conf, withKop ? 'standalone.conf' : 'standalone-pulsar-only.conf');
    writeFileSync(confPath, renderProperties(gdnBrokerConf(confInput(withKop))), { mode: 0o600 });
    writeFileSync(logFile, `\n===== kop-conformance: ${phase} =====\n`, { flag: 'a' });
    return startGuarded(process.env.KOPC_JAVA ?? 'java', [
      ...GDN_JVM_FLAGS, `-Dlog4j.configurationFile=${log4j}`, '-Dkopc.target=gdn',
      '-cp', `${runtime.libDir}/*`, 'org.apache.pulsar.PulsarStandaloneStarter',
      '--config', confPath, '--zookeeper-port', String(zookeeper), '--bookkeeper-port', String(bookie),
      '--zookeeper-dir', join(dirs.data, 'zookeeper'), '--bookkeeper-dir', join(dirs.data, 'bookkeeper'),
      '--no-functions-worker', '--no-stream-storage',
    ], { logFile, cwd: runDir, watchPid: reuse && withKop ? undefined : process.pid });
  };
  const abortOf = (proc: GuardedProcess, phase: string) => () => {
    const e = proc.exited();
    return e ? new Error(`Pulsar standalone (${phase}) exited (${e}) before it was ready; log ${logFile}:\n${readTail(logFile, 2000)}`) : undefined;
  };

  const t0 = Date.now();
  const deadline = t0 + (opts.startTimeoutMs ?? 240_000);
  const left = () => Math.max(1000, deadline - Date.now());
  progress('gdn broker', `starting Pulsar ${GDN_VERSIONS.pulsar} standalone, phase 1 of 2 (without the protocol handler); log ${logFile}`);
  const phaseOne = async (timeoutMs: number) => {
    const first = launch('phase 1: Pulsar alone, writes the cluster metadata', false);
    const until = Date.now() + timeoutMs;
    try {
      await waitForCluster(web, adminToken, CLUSTER, timeoutMs, abortOf(first, 'phase 1'));
      await provisionNamespaces(web, adminToken, CLUSTER, gdnNamespacePlan(tenantFabrics));
    } finally {
      // Graceful, so that ZooKeeper and the bookie keep what phase 1 wrote.
      await killGroup(first.pid, Math.min(20_000, Math.max(1000, until - Date.now())));
    }
  };
  await phaseOne(left()).catch((err: unknown) => { throw pulsarStartError(err, `gdn broker, phase 1 (${secs(Date.now() - t0)} after launch)`, logFile); });
  progress('gdn broker', `phase 1 done in ${((Date.now() - t0) / 1000).toFixed(1)} s (cluster and namespaces written); phase 2 with c8streams-kop`);
  let proc = launch('phase 2: Pulsar with c8streams-kop', true);
  const state: GdnState = {
    pid: proc.pid, runDir, ports, tenantFabrics, secretKeyPath, forgedKeyPath: run.forgedKeyPath, adminTokenPath,
    tls: run.tls, logFile, narOrigin: nar.origin, narKey: nar.key,
  };
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (reuse) {
      progress('gdn broker', `KOPC_REUSE=1: leaving broker pid ${proc.pid} running for the next start`);
      return;
    }
    // A broker that died during the run says so here (its cells failed with connection errors).
    const gone = proc.exited();
    if (gone) progress('gdn broker', `had already exited (${gone}) before the run ended; log ${logFile}`);
    const threads = groupThreads(proc.pid);
    const s0 = Date.now();
    await killGroup(proc.pid, THROWAWAY_STOP_GRACE_MS);
    progress('gdn broker', `stopped in ${((Date.now() - s0) / 1000).toFixed(1)} s${threads ? ` (it ran ${threads} threads at the end)` : ''}`);
    if (process.env.KOPC_KEEP_WORK !== '1') rmSync(dirs.data, { recursive: true, force: true });
  };
  const restart = async (signal: 'SIGTERM' | 'SIGKILL', whileDown?: () => void): Promise<RestartTiming> => {
    if (reuse || stopped) throw new Error('gdn broker: only a running broker of this run can be restarted (not a KOPC_REUSE=1 one)');
    const s0 = Date.now();
    await killGroup(proc.pid, signal === 'SIGKILL' ? 0 : 30_000, signal);
    const stopMs = Date.now() - s0;
    whileDown?.();
    await waitPortsBindable([zookeeper, bookie, web, broker, kafkaSaslPlaintext, kafkaSaslSsl], 30_000);
    const l0 = Date.now();
    proc = launch(`restart after ${signal}`, true);
    state.pid = proc.pid;
    await gdnListenersReady(target, 240_000, abortOf(proc, `restart after ${signal}`));
    const startMs = Date.now() - l0;
    progress('gdn broker', `restarted after ${signal}: stopped in ${(stopMs / 1000).toFixed(1)} s, ready ${(startMs / 1000).toFixed(1)} s after launch (pid ${proc.pid})`);
    return { signal, stopMs, startMs };
  };
  // A fresh broker in place of this one: same ports, keys and logins, its data thrown away and
  // written anew (both phases). The broker watch uses this, not restart(): after a restart on its
  // own data the fork's offsets were read wrong (F18), a fresh broker has no such history.
  const renew = async (): Promise<void> => {
    if (reuse || stopped) throw new Error('gdn broker: only a running broker of this run can be renewed (not a KOPC_REUSE=1 one)');
    const r0 = Date.now();
    await killGroup(proc.pid, 5000);
    await waitPortsBindable([zookeeper, bookie, web, broker, kafkaSaslPlaintext, kafkaSaslSsl], 30_000);
    rmSync(dirs.data, { recursive: true, force: true });
    ensureDir(dirs.data);
    await phaseOne(240_000);
    proc = launch('renewed: Pulsar with c8streams-kop on fresh data', true);
    state.pid = proc.pid;
    await gdnListenersReady(target, 240_000, abortOf(proc, 'renewed'));
    progress('gdn broker', `renewed (fresh data, both phases) in ${((Date.now() - r0) / 1000).toFixed(1)} s (pid ${proc.pid})`);
  };
  // F17: the fork leaks a thread per Kafka connection. Past a bound the shared broker is restarted
  // (SIGTERM) on the same ports and data, with no test running (fixtures/broker-watch.ts takes the
  // target's lock exclusively first), and the report says when and at how many threads.
  const target = Object.assign(buildTarget(state, stop), {
    restart,
    renew,
    rssKb: () => groupRssKb(proc.pid),
    threads: () => groupThreads(proc.pid),
    restartAboveThreads: gdnThreadBound(),
  });
  try {
    await gdnListenersReady(target, left(), abortOf(proc, 'phase 2'));
  } catch (err) {
    await killGroup(proc.pid, THROWAWAY_STOP_GRACE_MS).catch(() => undefined);
    throw pulsarStartError(err, `gdn broker, phase 2 (${secs(Date.now() - t0)} after launch, bound ${secs(deadline - t0)})`, logFile);
  }
  progress('gdn broker', `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${proc.pid}, both phases)`);
  if (reuse) writeFileSync(stateFile(), JSON.stringify(state, null, 2), { mode: 0o600 });
  return target;
}
