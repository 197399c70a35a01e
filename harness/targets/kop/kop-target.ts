// The embedded KoP target: an Apache Pulsar standalone broker with the KoP protocol handler,
// token authentication and authorization, a SASL_PLAINTEXT and a SASL_SSL Kafka listener on
// loopback, and one Pulsar tenant/namespace set per tenant/fabric principal.
//
// Where the KoP NAR comes from is kop-nar.ts's business (KOP_NAR, KOP_SOURCE, KOP_NAR_COORDS):
// start() decides it first, in milliseconds, and throws TargetUnavailableError before
// downloading anything when none is configured.
import {
  existsSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import { mintJwt } from '../../security/jwt.js';
import { apiKeyDigest, apiKeyFor, defaultTenantFabrics, principalFor, roleOf, type TenantFabric } from '../../security/principals.js';
import { registerSecret } from '../../security/redact.js';
import type { TlsMaterial } from '../../security/tls.js';
import { mavenBuild, runMaven } from '../../util/maven.js';
import { cacheDir, ensureDir } from '../../util/paths.js';
import { freePorts, waitPortsBindable } from '../../util/ports.js';
import { groupRssKb, groupThreads, isAlive, killGroup, readTail, startGuarded } from '../../util/process.js';
import { progress, secs } from '../../util/progress.js';
import { recordTiming } from '../../reporting/timings.js';
import { asRestartable, type Listener, type RestartableTarget, type RestartTiming, type StartedTarget } from '../types.js';
import { activeFaults } from '../faults.js';
import { kafkaListenersReady, provisionNamespaces, waitForCluster } from '../pulsar/pulsar-admin.js';
import { preparePulsarRun, pulsarLog4j2Properties, pulsarStartError, THROWAWAY_STOP_GRACE_MS, type PulsarRun } from '../pulsar/pulsar-run.js';
export { adminRequest } from '../pulsar/pulsar-admin.js';
import { ensureKopNar, kopNarPlan, type KopNar } from './kop-nar.js';
import { KOP_AUTH_MODULE, KOP_POM_PATH, KOP_VERSIONS } from './versions.js';

/** The Pulsar superuser role; its JWT configures the broker's own client and the admin calls. */
export const KOP_ADMIN_ROLE = 'kopc-admin';
const CLUSTER = 'standalone';
const API_KEY_PROVIDER = 'io.kopconformance.pulsar.ApiKeyAuthenticationProvider';
/** The remote repository the availability check asks (KOPC_MAVEN_REMOTE overrides Maven Central). */

const kopCache = () => ensureDir(join(cacheDir, 'kop'));
const stateFile = () => join(kopCache(), 'reuse-state.json');

// ---------------------------------------------------------------------------------------------
// Artifacts via the pom
// ---------------------------------------------------------------------------------------------

function dirBytes(dir: string): number {
  if (!existsSync(dir)) return 0;
  let total = 0;
  for (const f of readdirSync(dir)) {
    try { total += statSync(join(dir, f)).size; } catch { /* file moved while counting */ }
  }
  return total;
}

/** Runs the KoP pom's named execution `goal` into `libDir`; progress counts the bytes arriving in `watchDir`. */
async function runPom(label: string, goal: string, libDir: string, watchDir?: string, expectBytes?: number): Promise<void> {
  const t0 = Date.now();
  const mb = (b: number) => (b / 1e6).toFixed(0);
  await runMaven({
    label, pom: KOP_POM_PATH, goals: [goal], timeoutMs: 30 * 60_000,
    props: { 'kopc.libDir': libDir, 'kopc.buildDir': join(libDir, '.build') },
    ...(watchDir ? { tick: (s: number) => `${mb(dirBytes(watchDir))} MB${expectBytes ? ` of ~${mb(expectBytes)} MB` : ''} in Maven's cache after ${s} s` } : {}),
  });
  recordTiming(label, Date.now() - t0);
  progress(label, `done in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
}

/** Maven's local repository: KOPC_MAVEN_REPO, as for every Maven build of the suite (harness/util/maven.ts). */
const m2Repo = () => process.env.KOPC_MAVEN_REPO ?? join(homedir(), '.m2', 'repository');

/** The unpacked Apache Pulsar distribution (downloads ~245 MB on the first run only). */
export async function ensurePulsarDistribution(): Promise<string> {
  const v = KOP_VERSIONS.pulsar;
  const libDir = join(kopCache(), `pulsar-${v}`);
  const home = join(libDir, `apache-pulsar-${v}`);
  const stamp = join(libDir, '.complete');
  if (existsSync(stamp) && existsSync(join(home, 'bin', 'pulsar'))) return home;
  rmSync(libDir, { recursive: true, force: true });
  progress('pulsar distribution', `resolving org.apache.pulsar:pulsar-server-distribution:${v}:bin:tar.gz `
    + '(~245 MB, first run only; Maven caches it)');
  await runPom('pulsar distribution', 'dependency:unpack@pulsar-distribution', libDir,
    join(m2Repo(), 'org', 'apache', 'pulsar', 'pulsar-server-distribution', v), 245e6);
  if (!existsSync(join(home, 'bin', 'pulsar'))) throw new Error(`unpacked distribution has no ${home}/bin/pulsar`);
  writeFileSync(stamp, new Date().toISOString());
  return home;
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

export interface KopPorts {
  web: number;
  broker: number;
  kafkaSaslPlaintext: number;
  kafkaSaslSsl: number;
  /**
   * The faults family's proxied SASL_PLAINTEXT listener: KoP listens on `kafkaProxied` and
   * advertises `kafkaProxyAdvertised`, where a fault-injection proxy listens (absent: no such listener).
   */
  kafkaProxied?: number;
  kafkaProxyAdvertised?: number;
}

export interface ConfInput {
  ports: KopPorts;
  secretKeyPath: string;
  adminTokenPath: string;
  tls: TlsMaterial;
  narDir: string;
  narExtractDir: string;
  kafkaNamespace: string;
  /** `<sha-256 hex>=<role>` lines for the project's API-key provider (ApiKeyAuthenticationProvider). */
  apiKeyDigestsPath?: string;
  /** KOPC_FAULT=auth-off: the API-key provider accepts any credential, as the superuser. */
  acceptAnyLogin?: boolean;
  /** Pulsar's clusterName (default `standalone`; the kop-regions target names its two regions). */
  clusterName?: string;
}

/** The standalone.conf overrides: Pulsar's own part, then KoP's part. */
export function brokerConfOverrides(c: ConfInput): Record<string, string> {
  const pulsar: Record<string, string> = {
    clusterName: c.clusterName ?? CLUSTER,
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    brokerServicePort: String(c.ports.broker),
    webServicePort: String(c.ports.web),
    authenticationEnabled: 'true',
    // Pulsar's JWT provider, and (when its jar is on the classpath) the project's API-key provider
    // under the same method name `token`: Pulsar tries each provider of a method in turn.
    authenticationProviders: ['org.apache.pulsar.broker.authentication.AuthenticationProviderToken',
      ...(c.apiKeyDigestsPath ? [API_KEY_PROVIDER] : [])].join(','),
    ...(c.apiKeyDigestsPath ? { kopcApiKeyDigestsFile: c.apiKeyDigestsPath } : {}),
    ...(c.acceptAnyLogin ? { kopcAcceptAnyLogin: 'true' } : {}),
    authorizationEnabled: 'true',
    superUserRoles: KOP_ADMIN_ROLE,
    tokenSecretKey: `file://${c.secretKeyPath}`,
    // The broker's internal client (system topics, KoP's metadata admin) logs in as the superuser.
    brokerClientAuthenticationPlugin: 'org.apache.pulsar.client.impl.auth.AuthenticationToken',
    brokerClientAuthenticationParameters: `file://${c.adminTokenPath}`,
    brokerDeduplicationEnabled: 'true',
    narExtractionDirectory: c.narExtractDir,
  };
  const plain = `kafka_sasl_plaintext://127.0.0.1:${c.ports.kafkaSaslPlaintext}`;
  const ssl = `kafka_sasl_ssl://127.0.0.1:${c.ports.kafkaSaslSsl}`;
  const proxied = c.ports.kafkaProxied && c.ports.kafkaProxyAdvertised
    ? { listen: `,kafka_proxied://127.0.0.1:${c.ports.kafkaProxied}`, advertised: `,kafka_proxied://127.0.0.1:${c.ports.kafkaProxyAdvertised}`, map: ',kafka_proxied:SASL_PLAINTEXT' }
    : { listen: '', advertised: '', map: '' };
  return {
    ...pulsar,
    messagingProtocols: 'kafka',
    protocolHandlerDirectory: c.narDir,
    // As KoP's kop.md requires: Kafka topics are partitioned, offsets need broker entry
    // metadata, and inactive partitions must not be deleted behind KoP's back.
    allowAutoTopicCreationType: 'partitioned',
    brokerEntryMetadataInterceptors: 'org.apache.pulsar.common.intercept.AppendIndexMetadataInterceptor',
    brokerDeleteInactiveTopicsEnabled: 'false',
    kafkaListeners: `${plain},${ssl}${proxied.listen}`,
    kafkaAdvertisedListeners: `${plain},${ssl}${proxied.advertised}`,
    kafkaProtocolMap: `kafka_sasl_plaintext:SASL_PLAINTEXT,kafka_sasl_ssl:SASL_SSL${proxied.map}`,
    saslAllowedMechanisms: 'PLAIN',
    kopSslKeystoreType: 'PKCS12',
    kopSslKeystoreLocation: c.tls.keystorePath,
    kopSslKeystorePassword: c.tls.storePassword,
    kopSslKeyPassword: c.tls.storePassword,
    kopSslEnabledProtocols: 'TLSv1.2,TLSv1.3',
    // The SASL username's tenant part selects the tenant; topics live in <tenant>/<kafkaNamespace>.
    kafkaEnableMultiTenantMetadata: 'true',
    kafkaTenant: 'public',
    kafkaNamespace: c.kafkaNamespace,
    kafkaMetadataNamespace: '__kafka',
    kopAllowedNamespaces: `\${tenant}/${c.kafkaNamespace}`,
    groupInitialRebalanceDelayMs: '0',
    offsetsTopicNumPartitions: '2',
    kafkaTransactionCoordinatorEnabled: 'true',
    kafkaTxnLogTopicNumPartitions: '2',
    kafkaTxnProducerStateTopicNumPartitions: '2',
  };
}

/** Rewrites `base` (a standalone.conf) with `overrides`: existing keys replaced, others appended. */
export function applyConf(base: string, overrides: Record<string, string>): string {
  const left = new Map(Object.entries(overrides));
  const out = base.split('\n').map((line) => {
    const m = /^([A-Za-z0-9_.]+)=/.exec(line);
    if (m?.[1] && left.has(m[1])) {
      const v = left.get(m[1])!;
      left.delete(m[1]);
      return `${m[1]}=${v}`;
    }
    return line;
  });
  if (left.size) {
    out.push('', '### kop-conformance additions');
    for (const [k, v] of left) out.push(`${k}=${v}`);
  }
  return out.join('\n') + '\n';
}

// ---------------------------------------------------------------------------------------------
// Process handling
// ---------------------------------------------------------------------------------------------

/** The guard of a broker this module started (pid files can outlive their process). */
function isOurBroker(pid: number): boolean {
  try {
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    // The leader is either the shared guard (bash running bin/pulsar) or, in reuse mode, the JVM
    // that bin/pulsar exec'd.
    return (cmd.includes('kopc-guard') && cmd.includes('bin/pulsar') && cmd.includes('standalone'))
      || cmd.includes('org.apache.pulsar.PulsarStandaloneStarter');
  } catch { return false; }
}

/** Pulsar standalone can take a while to close BookKeeper and RocksDB cleanly. */
const STOP_GRACE_MS = 5_000;

// ---------------------------------------------------------------------------------------------
// Admin REST API
// ---------------------------------------------------------------------------------------------

/** The namespaces the target provisions, and which roles may produce/consume on each. */
export function namespacePlan(tfs: TenantFabric[], kafkaNamespace: string): Map<string, string[]> {
  const plan = new Map<string, string[]>();
  const grant = (ns: string, role: string) => {
    const roles = plan.get(ns) ?? [];
    if (!roles.includes(role)) roles.push(role);
    plan.set(ns, roles);
  };
  for (const tf of tfs) {
    // The fabric's own namespace: only its role.
    grant(`${tf.tenant}/${tf.fabric}`, roleOf(tf));
    // Where vanilla KoP puts the short topic names of every fabric of the tenant (FINDINGS.md):
    // without this grant no short-named topic could be used at all.
    grant(`${tf.tenant}/${kafkaNamespace}`, roleOf(tf));
  }
  return plan;
}

/**
 * What a principal may do on its own tenant and no more: produce and consume on its namespaces
 * (namespacePlan), and create and delete topics in its own tenant, which Pulsar allows only to the
 * tenant's admins (PulsarAuthorizationProvider: NamespaceOperation.CREATE_TOPIC/DELETE_TOPIC are
 * refused to every other role). So each tenant's fabric roles are that tenant's admins.
 */
export function tenantAdminPlan(tfs: TenantFabric[]): Map<string, string[]> {
  const admins = new Map<string, string[]>();
  for (const tf of tfs) admins.set(tf.tenant, [...new Set([...(admins.get(tf.tenant) ?? []), roleOf(tf)])]);
  return admins;
}

export async function provision(webPort: number, adminToken: string, tfs: TenantFabric[], kafkaNamespace: string,
  cluster = CLUSTER): Promise<void> {
  await provisionNamespaces(webPort, adminToken, cluster, namespacePlan(tfs, kafkaNamespace), tenantAdminPlan(tfs));
}

// ---------------------------------------------------------------------------------------------
// Readiness
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// start
// ---------------------------------------------------------------------------------------------

export interface KopBrokerOptions {
  /** Tenant/fabric pairs to provision; [0] is the default principal. */
  tenantFabrics?: TenantFabric[];
  /** KoP's `kafkaNamespace`: the namespace (in each SASL tenant) short topic names resolve to. */
  kafkaNamespace?: string;
  /** Bound on the whole start, after the artifacts are in place. */
  startTimeoutMs?: number;
  /** PULSAR_MEM for the broker JVM. */
  jvmMemory?: string;
  /** JAVA_HOME for the broker (default: the environment's). */
  javaHome?: string;
  /**
   * Pulsar's clusterName (default `standalone`). Set by the kop-regions target, which starts two
   * brokers, each its own cluster; such a broker is never kept by KOPC_REUSE=1.
   */
  clusterName?: string;
  /** Use this run's secrets (token key, admin JWT, TLS material) instead of fresh ones. */
  shareSecretsOf?: PulsarRun;
  /** Label of the progress lines (default `kop broker`). */
  label?: string;
}

/** The started target plus what the harness itself needs (never printed). */
export interface StartedKopBroker extends StartedTarget {
  readonly pid: number;
  readonly ports: KopPorts;
  readonly runDir: string;
  readonly adminUrl: string;
  /** The superuser's JWT, for admin REST calls. A secret: never print it. */
  adminToken(): string;
  /** True when stop() leaves the broker running (KOPC_REUSE=1). */
  readonly reused: boolean;
  /** Pulsar's clusterName of this broker. */
  readonly clusterName: string;
}

interface ReuseState {
  pid: number;
  runDir: string;
  pulsarVersion: string;
  kopVersion: string;
  /** Where the NAR came from (report header), and the file (a rebuilt NAR means a new broker). */
  narSource: string;
  narPath: string;
  apiKeys: boolean;
  ports: KopPorts;
  kafkaNamespace: string;
  tenantFabrics: TenantFabric[];
  secretKeyPath: string;
  forgedKeyPath: string;
  adminTokenPath: string;
  tls: { caPemPath: string; truststorePath: string; keystorePath: string; storePasswordPath: string };
  logFile: string;
  startedAt: string;
  /** Absent in state files written before it existed: `standalone`. */
  clusterName?: string;
}

const reuseEnabled = () => process.env.KOPC_REUSE === '1';

function buildTarget(s: ReuseState, reused: boolean, stop: () => Promise<void>): StartedKopBroker {
  const key = readFileSync(s.secretKeyPath);
  const forgedKey = readFileSync(s.forgedKeyPath);
  const storePassword = readFileSync(s.tls.storePasswordPath, 'utf8').trim();
  const adminToken = readFileSync(s.adminTokenPath, 'utf8').trim();
  const principals = s.tenantFabrics.map((tf) => ({
    ...principalFor(key, tf), ...(s.apiKeys ? { apiKeyPassword: `token:${apiKeyFor(key, tf)}` } : {}),
  }));
  const forgedPasswords = s.tenantFabrics.map((tf) => `token:${mintJwt(forgedKey, { sub: roleOf(tf) })}`);
  const expiredPasswords = s.tenantFabrics.map((tf) => `token:${mintJwt(key, { sub: roleOf(tf), exp: Math.floor(Date.now() / 1000) - 3600 })}`);
  for (const secret of [adminToken, storePassword, ...principals.flatMap((p) => [p.password, p.apiKeyPassword ?? '']),
    ...forgedPasswords, ...expiredPasswords].filter(Boolean)) {
    registerSecret(secret);
  }
  const listeners: Listener[] = [
    { securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: s.ports.kafkaSaslPlaintext },
    { securityProtocol: 'SASL_SSL', host: '127.0.0.1', port: s.ports.kafkaSaslSsl },
  ];
  return {
    id: 'kop',
    description: `KoP ${s.kopVersion} on Apache Pulsar ${s.pulsarVersion} (standalone, embedded)`,
    notes: [`KoP protocol handler: ${s.narSource}`],
    listeners,
    principals,
    tls: { caPemPath: s.tls.caPemPath, truststorePath: s.tls.truststorePath, truststorePassword: storePassword, verify: true },
    topics: { globalPrefix: 'c8globals.', localPrefix: 'c8locals.' },
    logFiles: [s.logFile],
    ...(s.ports.kafkaProxied && s.ports.kafkaProxyAdvertised
      ? { proxied: { securityProtocol: 'SASL_PLAINTEXT' as const, advertised: { host: '127.0.0.1', port: s.ports.kafkaProxyAdvertised }, upstream: { host: '127.0.0.1', port: s.ports.kafkaProxied } } }
      : { proxiedUnavailable: 'this reused broker was started without the proxied listener (restart it: npm run dev-broker -- stop)' }),
    forgedPasswords,
    expiredPasswords,
    stop,
    pid: s.pid,
    ports: s.ports,
    runDir: s.runDir,
    adminUrl: `http://127.0.0.1:${s.ports.web}`,
    adminToken: () => adminToken,
    reused,
    clusterName: s.clusterName ?? CLUSTER,
  };
}

const adminReady = (s: ReuseState, timeoutMs: number, abort?: () => Error | undefined) =>
  waitForCluster(s.ports.web, readFileSync(s.adminTokenPath, 'utf8').trim(), s.clusterName ?? CLUSTER, timeoutMs, abort);

async function tryReuse(narPath: string): Promise<StartedKopBroker | undefined> {
  if (!existsSync(stateFile())) return undefined;
  let s: ReuseState;
  try { s = JSON.parse(readFileSync(stateFile(), 'utf8')) as ReuseState; } catch { return undefined; }
  const alive = isAlive(s.pid) && isOurBroker(s.pid);
  // The same Pulsar and the same handler (a rebuilt NAR means a new broker).
  const matches = s.pulsarVersion === KOP_VERSIONS.pulsar && s.narPath === narPath;
  if (alive && matches) {
    try {
      const t = buildTarget(s, true, async () => {
        progress('kop broker', `KOPC_REUSE=1: leaving broker pid ${s.pid} running for the next start`);
      });
      await adminReady(s, 10_000);
      await kafkaListenersReady(t, 10_000);
      progress('kop broker', `KOPC_REUSE=1: reusing running broker pid ${s.pid} (web port ${s.ports.web})`);
      return t;
    } catch (err) {
      progress('kop broker', `KOPC_REUSE=1: broker pid ${s.pid} is not healthy (${(err as Error).message}); replacing it`);
    }
  }
  if (alive) await killGroup(s.pid, STOP_GRACE_MS);
  rmSync(stateFile(), { force: true });
  return undefined;
}

/** Stops a broker left running by KOPC_REUSE=1, if any. */
export async function stopReusedKopBroker(): Promise<boolean> {
  if (!existsSync(stateFile())) return false;
  const s = JSON.parse(readFileSync(stateFile(), 'utf8')) as ReuseState;
  rmSync(stateFile(), { force: true });
  if (!isAlive(s.pid) || !isOurBroker(s.pid)) return false;
  await killGroup(s.pid, STOP_GRACE_MS);
  return true;
}

/**
 * A broker of its own for one scenario file (faults.broker-restart): never reused, restartable on
 * the same data directories and ports. The same NAR, Pulsar and configuration as the shared one.
 */
export async function startRestartableKopBroker(opts: KopBrokerOptions = {}): Promise<StartedKopBroker & RestartableTarget> {
  return asRestartable(await startKopBroker(opts, { neverReuse: true }));
}

export async function startKopBroker(opts: KopBrokerOptions = {}, how: { neverReuse?: boolean } = {}): Promise<StartedKopBroker & Partial<RestartableTarget>> {
  // Decide "not run" before anything slow: no download or build for a target that cannot start.
  const plan = kopNarPlan();
  const faults = activeFaults();
  const reuse = reuseEnabled() && !faults.has('auth-off') && !opts.clusterName && !how.neverReuse;
  const tenantFabrics = opts.tenantFabrics ?? defaultTenantFabrics;
  const kafkaNamespace = opts.kafkaNamespace ?? 'default';
  const pulsarHome = await ensurePulsarDistribution();
  // A cold KoP build lets the API-key provider build beside it (cold first run: 13 s less).
  let authJarBuild: Promise<string> | undefined;
  const nar = await ensureKopNar(plan, pulsarHome, () => {
    authJarBuild = ensureApiKeyProvider();
    authJarBuild.catch(() => undefined); // awaited below, unless a running broker is reused
  });
  if (reuse) {
    const reused = await tryReuse(nar.path);
    if (reused) return reused;
  }
  const authJar = await (authJarBuild ?? ensureApiKeyProvider());
  return await launch({ opts, nar, pulsarHome, authJar, tenantFabrics, kafkaNamespace, reuse, acceptAnyLogin: faults.has('auth-off') });
}

/** The project's API-key authentication provider, built against the target's Pulsar (cached by its sources). */
async function ensureApiKeyProvider(): Promise<string> {
  const built = await mavenBuild('kop-api-key-auth', KOP_AUTH_MODULE, { props: { 'pulsar.version': KOP_VERSIONS.pulsar } });
  const jar = built.classpath.split(':').find((j) => basename(j).startsWith('kop-target-api-key-auth'));
  if (!jar) throw new Error(`the kop API-key provider build left no kop-target-api-key-auth jar in ${built.libDir}`);
  return jar;
}

interface LaunchInput {
  opts: KopBrokerOptions;
  nar: KopNar;
  pulsarHome: string;
  authJar: string;
  tenantFabrics: TenantFabric[];
  kafkaNamespace: string;
  reuse: boolean;
  acceptAnyLogin: boolean;
}

async function launch({ opts, nar, pulsarHome, authJar, tenantFabrics, kafkaNamespace, reuse, acceptAnyLogin }: LaunchInput):
Promise<StartedKopBroker & RestartableTarget> {
  const run = await preparePulsarRun(opts.clusterName ? `kop-${opts.clusterName}` : 'kop', nar.path, KOP_ADMIN_ROLE, opts.shareSecretsOf);
  const label = opts.label ?? 'kop broker';
  const clusterName = opts.clusterName ?? CLUSTER;
  const { runDir, key, secretKeyPath, forgedKeyPath, adminTokenPath, tlsMaterial: tls } = run;
  const { storePasswordPath } = run.tls;
  const dirs = { ...run.dirs, logs: ensureDir(join(runDir, 'logs')) };
  // API keys: the broker knows only their digests and the role each one logs in as.
  const apiKeyDigestsPath = join(dirs.secrets, 'api-keys.txt');
  writeFileSync(apiKeyDigestsPath, tenantFabrics.map((tf) => `${apiKeyDigest(apiKeyFor(key, tf))}=${roleOf(tf)}`).join('\n') + '\n', { mode: 0o600 });

  // No port for the bookie: with the RocksDB metadata store, standalone's embedded bookie picks
  // its own port and ignores --bookkeeper-port (FINDINGS.md).
  const [web, broker, kafkaSaslPlaintext, kafkaSaslSsl, kafkaProxied, kafkaProxyAdvertised] = await freePorts(6) as [number, number, number, number, number, number];
  const ports: KopPorts = { web, broker, kafkaSaslPlaintext, kafkaSaslSsl, kafkaProxied, kafkaProxyAdvertised };
  const confPath = join(dirs.conf, 'standalone.conf');
  const base = readFileSync(join(pulsarHome, 'conf', 'standalone.conf'), 'utf8');
  writeFileSync(confPath, applyConf(base, brokerConfOverrides({
    ports, secretKeyPath, adminTokenPath, tls, narDir: dirs.protocols, narExtractDir: dirs.narExtract,
    kafkaNamespace, apiKeyDigestsPath, acceptAnyLogin, clusterName,
  })), { mode: 0o600 });

  const logFile = join(dirs.logs, 'pulsar-standalone.log');
  const logConf = join(dirs.conf, 'log4j2.properties');
  writeFileSync(logConf, pulsarLog4j2Properties());
  const t0 = Date.now();
  progress(label, `starting KoP ${nar.version} on Pulsar ${KOP_VERSIONS.pulsar} standalone; log: ${logFile}`);
  const args = [join(pulsarHome, 'bin', 'pulsar'), 'standalone', '--no-functions-worker', '--no-stream-storage',
    '--bookkeeper-dir', join(dirs.data, 'bookkeeper'), '--metadata-dir', join(dirs.data, 'metadata')];
  // Normally under the shared guard, which ends the broker with this process. With KOPC_REUSE=1
  // the broker must outlive it (startGuarded without a watched pid).
  const spawnBroker = () => startGuarded('bash', args, {
    logFile,
    cwd: pulsarHome,
    watchPid: reuse ? undefined : process.pid,
    env: {
      ...process.env,
      ...(opts.javaHome ? { JAVA_HOME: opts.javaHome } : {}),
      PULSAR_STANDALONE_CONF: confPath,
      PULSAR_LOG_DIR: dirs.logs,
      PULSAR_LOG_CONF: logConf,
      PULSAR_EXTRA_CLASSPATH: authJar,
      PULSAR_MEM: opts.jvmMemory ?? '-Xms256m -Xmx1g -XX:MaxDirectMemorySize=1g',
      // G1 instead of the script's ZGC + AlwaysPreTouch, which commits the whole heap up front.
      PULSAR_GC: '-XX:+UseG1GC',
      PULSAR_GC_LOG: ' ',
    },
  });
  let proc = spawnBroker();
  const pid = proc.pid;
  const abort = () => {
    const e = proc.exited();
    return e ? new Error(`Pulsar standalone exited (${e}) before it was ready; log ${logFile}:\n${readTail(logFile, 3000)}`)
      : undefined;
  };

  const state: ReuseState = {
    pid, runDir, pulsarVersion: KOP_VERSIONS.pulsar, kopVersion: nar.version, narSource: nar.describe, narPath: nar.path,
    apiKeys: true, ports, kafkaNamespace, tenantFabrics, secretKeyPath, forgedKeyPath, adminTokenPath,
    tls: { caPemPath: tls.caPemPath, truststorePath: tls.truststorePath, keystorePath: tls.keystorePath, storePasswordPath },
    logFile, startedAt: new Date().toISOString(), clusterName,
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (reuse) {
      progress(label, `KOPC_REUSE=1: leaving broker pid ${pid} running for the next start`);
      return;
    }
    // A broker that died during the run says so here (its cells failed with connection errors).
    const gone = proc.exited();
    if (gone) progress(label, `had already exited (${gone}) before the run ended; log ${logFile}`);
    const threads = groupThreads(proc.pid);
    const s0 = Date.now();
    await killGroup(proc.pid, THROWAWAY_STOP_GRACE_MS);
    progress(label, `stopped in ${((Date.now() - s0) / 1000).toFixed(1)} s${threads ? ` (it ran ${threads} threads at the end)` : ''}`);
    // Broker data is large and worthless after the run; logs and conf stay for the report.
    if (process.env.KOPC_KEEP_WORK !== '1') rmSync(dirs.data, { recursive: true, force: true });
  };
  const restart = async (signal: 'SIGTERM' | 'SIGKILL', whileDown?: () => void): Promise<RestartTiming> => {
    if (reuse || stopped) throw new Error('kop broker: only a running broker of this run can be restarted (not a KOPC_REUSE=1 one)');
    const s0 = Date.now();
    // A clean close of standalone (BookKeeper, RocksDB) took about 5 s (STOP_GRACE_MS); bounded at 30 s.
    await killGroup(proc.pid, signal === 'SIGKILL' ? 0 : 30_000, signal);
    const stopMs = Date.now() - s0;
    whileDown?.();
    await waitPortsBindable([web, broker, kafkaSaslPlaintext, kafkaSaslSsl, kafkaProxied], 30_000);
    const l0 = Date.now();
    writeFileSync(logFile, `\n===== kop-conformance: restart after ${signal} =====\n`, { flag: 'a' });
    proc = spawnBroker();
    const until = Date.now() + 240_000;
    await adminReady(state, 240_000, abort);
    await kafkaListenersReady(target, Math.max(1000, until - Date.now()), abort);
    const startMs = Date.now() - l0;
    progress(label, `restarted after ${signal}: stopped in ${(stopMs / 1000).toFixed(1)} s, ready ${(startMs / 1000).toFixed(1)} s after launch (pid ${proc.pid})`);
    return { signal, stopMs, startMs };
  };
  const target = { ...buildTarget(state, false, stop), restart, rssKb: () => groupRssKb(proc.pid) };
  if (acceptAnyLogin) (target.notes as string[]).push('FAULT INJECTION: KOPC_FAULT=auth-off, the broker accepts any login');

  const deadline = Date.now() + (opts.startTimeoutMs ?? 240_000);
  const left = () => Math.max(1000, deadline - Date.now());
  try {
    await adminReady(state, left(), abort);
    progress(label, `admin REST up after ${((Date.now() - t0) / 1000).toFixed(1)} s; provisioning tenants`);
    await provision(web, target.adminToken(), tenantFabrics, kafkaNamespace, clusterName);
    await kafkaListenersReady(target, left(), abort);
  } catch (err) {
    await killGroup(proc.pid, THROWAWAY_STOP_GRACE_MS).catch(() => undefined);
    throw pulsarStartError(err, `${label} (${secs(Date.now() - t0)} after launch, bound ${secs(deadline - t0)})`, logFile);
  }
  progress(label, `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${pid})`);
  if (reuse) writeFileSync(stateFile(), JSON.stringify(state, null, 2), { mode: 0o600 });
  return target;
}
