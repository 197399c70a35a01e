// The embedded KoP target: an Apache Pulsar standalone broker with the KoP protocol handler,
// token authentication and authorization, a SASL_PLAINTEXT and a SASL_SSL Kafka listener on
// loopback, and one Pulsar tenant/namespace set per tenant/fabric principal.
//
// The KoP NAR is not served by this machine's Maven registry (see FINDINGS.md), so the target
// first answers, fast and cached, whether the NAR can be had (KOP_NAR, or Maven Central), and
// start() throws TargetUnavailableError before downloading anything when it cannot.
import { randomBytes } from 'node:crypto';
import {
  existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { metadataRoundTrip } from '../../clients/kafkajs/connection.js';
import { mintJwt, newSecretKey, writeSecretKey } from '../../security/jwt.js';
import { defaultTenantFabrics, principalFor, roleOf, type TenantFabric } from '../../security/principals.js';
import { registerSecret } from '../../security/redact.js';
import { generateTls, type TlsMaterial } from '../../security/tls.js';
import { runMaven } from '../../util/maven.js';
import { cacheDir, ensureDir, workDir } from '../../util/paths.js';
import { freePorts } from '../../util/ports.js';
import { isAlive, killGroup, readTail, startGuarded } from '../../util/process.js';
import { progress } from '../../util/progress.js';
import { pollUntil } from '../../util/wait.js';
import {
  TargetUnavailableError, type Listener, type StartedTarget, type TargetInfo,
} from '../types.js';
import { KOP_NAR_COORDS, KOP_POM_PATH, KOP_VERSIONS, versionLine } from './versions.js';

/** The Pulsar superuser role; its JWT configures the broker's own client and the admin calls. */
export const KOP_ADMIN_ROLE = 'kopc-admin';
const CLUSTER = 'standalone';
/** The remote repository the availability check asks (KOPC_MAVEN_REMOTE overrides Maven Central). */
const MAVEN_REMOTE = process.env.KOPC_MAVEN_REMOTE ?? 'https://repo1.maven.org/maven2';
const AVAILABILITY_TTL_MS = 24 * 3600_000;

const kopCache = () => ensureDir(join(cacheDir, 'kop'));
const stateFile = () => join(kopCache(), 'reuse-state.json');

// ---------------------------------------------------------------------------------------------
// Availability of the KoP NAR
// ---------------------------------------------------------------------------------------------

export interface KopAvailability {
  available: boolean;
  /** Why not (one line); the report's "not run" reason. */
  reason?: string;
  /** Where the NAR comes from when available. */
  source?: 'KOP_NAR' | 'cache' | 'maven';
  /** The NAR file, when it is already on disk. */
  narPath?: string;
}

const narArtifactPath = () =>
  `${KOP_VERSIONS.kopGroupId.replaceAll('.', '/')}/${KOP_VERSIONS.kopArtifactId}/${KOP_VERSIONS.kop}/`
  + `${KOP_VERSIONS.kopArtifactId}-${KOP_VERSIONS.kop}.nar`;

const narCacheDir = () => join(kopCache(), `kop-nar-${KOP_VERSIONS.kop}`);

function cachedNar(): string | undefined {
  const dir = join(narCacheDir(), 'protocols');
  if (!existsSync(join(narCacheDir(), '.complete')) || !existsSync(dir)) return undefined;
  const nar = readdirSync(dir).find((f) => f.endsWith('.nar'));
  return nar ? join(dir, nar) : undefined;
}

/** Checks a user-supplied NAR: it must exist and, if its name says, match the Pulsar line. */
function checkUserNar(path: string): KopAvailability {
  const abs = resolve(path);
  if (!existsSync(abs) || !statSync(abs).isFile()) {
    return { available: false, reason: `not run: KOP_NAR=${abs} does not exist or is not a file` };
  }
  const m = /pulsar-protocol-handler-kafka-(\d+\.\d+)[.\d]*/.exec(basename(abs));
  const pulsarLine = versionLine(KOP_VERSIONS.pulsar);
  if (m?.[1] && m[1] !== pulsarLine) {
    return {
      available: false,
      reason: `not run: KOP_NAR ${basename(abs)} is built for Pulsar ${m[1]}.x but this target runs `
        + `Apache Pulsar ${KOP_VERSIONS.pulsar}; a protocol handler must match its broker's line`,
    };
  }
  return { available: true, source: 'KOP_NAR', narPath: abs };
}

interface AvailabilityCache {
  coords: string;
  checkedAt: number;
  httpStatus: number;
}

/**
 * Whether the KoP NAR can be had, within a few seconds: KOP_NAR first, then a NAR already
 * resolved into the cache, then a cached or fresh HEAD request for the pinned artifact.
 */
export async function kopAvailability(opts: { refresh?: boolean } = {}): Promise<KopAvailability> {
  const userNar = process.env.KOP_NAR;
  if (userNar) return checkUserNar(userNar);
  const nar = cachedNar();
  if (nar) return { available: true, source: 'cache', narPath: nar };

  const cacheFile = join(kopCache(), 'availability.json');
  let status: number | undefined;
  if (!opts.refresh && existsSync(cacheFile)) {
    try {
      const c = JSON.parse(readFileSync(cacheFile, 'utf8')) as AvailabilityCache;
      if (c.coords === KOP_NAR_COORDS && Date.now() - c.checkedAt < AVAILABILITY_TTL_MS) status = c.httpStatus;
    } catch { /* a broken cache file is re-checked */ }
  }
  if (status === undefined) {
    const url = `${MAVEN_REMOTE}/${narArtifactPath()}`;
    try {
      const res = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(5000) });
      status = res.status;
      writeFileSync(cacheFile, JSON.stringify({ coords: KOP_NAR_COORDS, checkedAt: Date.now(), httpStatus: status }));
    } catch (err) {
      // Not cached: a network hiccup should not hide the target for a day.
      return {
        available: false,
        reason: `not run: could not reach the Maven registry to look for KoP protocol handler ${KOP_NAR_COORDS} `
          + `(${(err as Error).message}); set KOP_NAR=/path/to/pulsar-protocol-handler-kafka.nar to run it`,
      };
    }
  }
  if (status === 200) return { available: true, source: 'maven' };
  return {
    available: false,
    reason: `not run: KoP protocol handler ${KOP_NAR_COORDS} is not served by this machine's Maven registry `
      + `(HTTP ${status}); set KOP_NAR=/path/to/pulsar-protocol-handler-kafka.nar to run it`,
  };
}

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

/** The KoP NAR: KOP_NAR, or resolved through the pom into the cache. */
async function ensureKopNar(): Promise<string> {
  const avail = await kopAvailability();
  if (!avail.available) throw new TargetUnavailableError('kop', avail.reason ?? 'not run: KoP NAR unavailable');
  if (avail.narPath) return avail.narPath;
  const dir = narCacheDir();
  rmSync(dir, { recursive: true, force: true });
  await runPom('kop nar', 'dependency:copy@kop-nar', dir);
  writeFileSync(join(dir, '.complete'), new Date().toISOString());
  const nar = cachedNar();
  if (!nar) throw new Error(`mvn dependency:copy@kop-nar left no .nar in ${dir}/protocols`);
  return nar;
}

// ---------------------------------------------------------------------------------------------
// Configuration
// ---------------------------------------------------------------------------------------------

export interface KopPorts {
  web: number;
  broker: number;
  kafkaSaslPlaintext: number;
  kafkaSaslSsl: number;
}

export interface ConfInput {
  ports: KopPorts;
  secretKeyPath: string;
  adminTokenPath: string;
  tls: TlsMaterial;
  narDir: string;
  narExtractDir: string;
  kafkaNamespace: string;
  withoutKafkaHandler: boolean;
}

/** The standalone.conf overrides: Pulsar's own part, then (unless left out) KoP's part. */
export function brokerConfOverrides(c: ConfInput): Record<string, string> {
  const pulsar: Record<string, string> = {
    clusterName: CLUSTER,
    bindAddress: '127.0.0.1',
    advertisedAddress: '127.0.0.1',
    brokerServicePort: String(c.ports.broker),
    webServicePort: String(c.ports.web),
    authenticationEnabled: 'true',
    authenticationProviders: 'org.apache.pulsar.broker.authentication.AuthenticationProviderToken',
    authorizationEnabled: 'true',
    superUserRoles: KOP_ADMIN_ROLE,
    tokenSecretKey: `file://${c.secretKeyPath}`,
    // The broker's internal client (system topics, KoP's metadata admin) logs in as the superuser.
    brokerClientAuthenticationPlugin: 'org.apache.pulsar.client.impl.auth.AuthenticationToken',
    brokerClientAuthenticationParameters: `file://${c.adminTokenPath}`,
    brokerDeduplicationEnabled: 'true',
    narExtractionDirectory: c.narExtractDir,
  };
  if (c.withoutKafkaHandler) return pulsar;
  const plain = `kafka_sasl_plaintext://127.0.0.1:${c.ports.kafkaSaslPlaintext}`;
  const ssl = `kafka_sasl_ssl://127.0.0.1:${c.ports.kafkaSaslSsl}`;
  return {
    ...pulsar,
    messagingProtocols: 'kafka',
    protocolHandlerDirectory: c.narDir,
    // As KoP's kop.md requires: Kafka topics are partitioned, offsets need broker entry
    // metadata, and inactive partitions must not be deleted behind KoP's back.
    allowAutoTopicCreationType: 'partitioned',
    brokerEntryMetadataInterceptors: 'org.apache.pulsar.common.intercept.AppendIndexMetadataInterceptor',
    brokerDeleteInactiveTopicsEnabled: 'false',
    kafkaListeners: `${plain},${ssl}`,
    kafkaAdvertisedListeners: `${plain},${ssl}`,
    kafkaProtocolMap: 'kafka_sasl_plaintext:SASL_PLAINTEXT,kafka_sasl_ssl:SASL_SSL',
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
const STOP_GRACE_MS = 20_000;

// ---------------------------------------------------------------------------------------------
// Admin REST API
// ---------------------------------------------------------------------------------------------

export async function adminRequest(webPort: number, token: string | undefined, method: string, path: string,
  body?: unknown): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${webPort}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, text: await res.text() };
}

async function adminOk(webPort: number, token: string, method: string, path: string, body?: unknown,
  okStatuses = [200, 204]): Promise<string> {
  const r = await adminRequest(webPort, token, method, path, body);
  if (!okStatuses.includes(r.status)) {
    throw new Error(`Pulsar admin ${method} ${path} answered HTTP ${r.status}: ${r.text.slice(0, 300)}`);
  }
  return r.text;
}

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

export async function provision(webPort: number, adminToken: string, tfs: TenantFabric[], kafkaNamespace: string):
Promise<void> {
  for (const tenant of new Set(tfs.map((t) => t.tenant))) {
    await adminOk(webPort, adminToken, 'PUT', `/admin/v2/tenants/${tenant}`,
      { adminRoles: [], allowedClusters: [CLUSTER] }, [204, 409]);
  }
  for (const [ns, roles] of namespacePlan(tfs, kafkaNamespace)) {
    await adminOk(webPort, adminToken, 'PUT', `/admin/v2/namespaces/${ns}`, undefined, [204, 409]);
    for (const role of roles) {
      await adminOk(webPort, adminToken, 'POST', `/admin/v2/namespaces/${ns}/permissions/${role}`,
        ['produce', 'consume']);
    }
  }
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
   * Starts Pulsar alone, without the KoP lines of the configuration: for verify-pulsar.ts, which
   * proves the Pulsar half where the NAR cannot be had. The target then has no Kafka listener.
   */
  withoutKafkaHandler?: boolean;
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
}

interface ReuseState {
  pid: number;
  runDir: string;
  withoutKafkaHandler: boolean;
  pulsarVersion: string;
  kopVersion: string;
  ports: KopPorts;
  kafkaNamespace: string;
  tenantFabrics: TenantFabric[];
  secretKeyPath: string;
  forgedKeyPath: string;
  adminTokenPath: string;
  tls: { caPemPath: string; truststorePath: string; keystorePath: string; storePasswordPath: string };
  logFile: string;
  startedAt: string;
}

/** `4.0.6.5` from `.../pulsar-protocol-handler-kafka-4.0.6.5.nar`; the file name if it has none. */
function narVersion(narPath: string | undefined): string {
  if (!narPath) return '-';
  return /pulsar-protocol-handler-kafka-([\d.]+\d)\.nar$/.exec(basename(narPath))?.[1] ?? basename(narPath);
}

const reuseEnabled = () => process.env.KOPC_REUSE === '1';

function buildTarget(s: ReuseState, reused: boolean, stop: () => Promise<void>): StartedKopBroker {
  const key = readFileSync(s.secretKeyPath);
  const forgedKey = readFileSync(s.forgedKeyPath);
  const storePassword = readFileSync(s.tls.storePasswordPath, 'utf8').trim();
  const adminToken = readFileSync(s.adminTokenPath, 'utf8').trim();
  const principals = s.tenantFabrics.map((tf) => principalFor(key, tf));
  const forgedPasswords = s.tenantFabrics.map((tf) => `token:${mintJwt(forgedKey, { sub: roleOf(tf) })}`);
  for (const secret of [adminToken, storePassword, ...principals.map((p) => p.password), ...forgedPasswords]) {
    registerSecret(secret);
  }
  const listeners: Listener[] = s.withoutKafkaHandler ? [] : [
    { securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: s.ports.kafkaSaslPlaintext },
    { securityProtocol: 'SASL_SSL', host: '127.0.0.1', port: s.ports.kafkaSaslSsl },
  ];
  return {
    id: 'kop',
    description: s.withoutKafkaHandler
      ? `Apache Pulsar ${s.pulsarVersion} standalone WITHOUT KoP (verification of the Pulsar half only)`
      : `KoP ${s.kopVersion} on Apache Pulsar ${s.pulsarVersion} (standalone, embedded)`,
    listeners,
    principals,
    tls: { caPemPath: s.tls.caPemPath, truststorePath: s.tls.truststorePath, truststorePassword: storePassword, verify: true },
    topics: { globalPrefix: 'c8globals.', localPrefix: 'c8locals.' },
    logFiles: [s.logFile],
    forgedPasswords,
    stop,
    pid: s.pid,
    ports: s.ports,
    runDir: s.runDir,
    adminUrl: `http://127.0.0.1:${s.ports.web}`,
    adminToken: () => adminToken,
    reused,
  };
}

async function adminReady(s: ReuseState, timeoutMs: number, abort?: () => Error | undefined): Promise<void> {
  const adminToken = readFileSync(s.adminTokenPath, 'utf8').trim();
  // The web service answers before standalone has written its cluster metadata; provisioning
  // needs the cluster, so wait until it is listed.
  await pollUntil(`Pulsar admin REST listing cluster "${CLUSTER}" (GET /admin/v2/clusters with the admin JWT) `
    + `on 127.0.0.1:${s.ports.web}`,
  async () => {
    const clusters = JSON.parse(await adminOk(s.ports.web, adminToken, 'GET', '/admin/v2/clusters')) as string[];
    if (!clusters.includes(CLUSTER)) throw new Error(`clusters listed: ${JSON.stringify(clusters)}`);
  }, { timeoutMs, intervalMs: 1000, abort });
}

/** A real SASL/PLAIN metadata round trip as principals[0], on every Kafka listener. */
async function kafkaReady(t: TargetInfo, timeoutMs: number, abort?: () => Error | undefined): Promise<void> {
  const p = t.principals[0]!;
  for (const l of t.listeners) {
    await pollUntil(`a SASL/PLAIN Kafka metadata round trip (describeCluster as ${p.username}) on `
      + `${l.securityProtocol} 127.0.0.1:${l.port}`,
    () => metadataRoundTrip(t, { protocol: l.securityProtocol, principal: p, retries: 0, clientId: 'kopc-readiness' }),
    { timeoutMs, intervalMs: 1000, abort });
  }
}

async function tryReuse(opts: KopBrokerOptions): Promise<StartedKopBroker | undefined> {
  if (!existsSync(stateFile())) return undefined;
  let s: ReuseState;
  try { s = JSON.parse(readFileSync(stateFile(), 'utf8')) as ReuseState; } catch { return undefined; }
  const alive = isAlive(s.pid) && isOurBroker(s.pid);
  const matches = s.withoutKafkaHandler === !!opts.withoutKafkaHandler && s.pulsarVersion === KOP_VERSIONS.pulsar;
  if (alive && matches) {
    try {
      const t = buildTarget(s, true, async () => {
        progress('kop broker', `KOPC_REUSE=1: leaving broker pid ${s.pid} running for the next start`);
      });
      await adminReady(s, 10_000);
      if (!s.withoutKafkaHandler) await kafkaReady(t, 10_000);
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

export async function startKopBroker(opts: KopBrokerOptions = {}): Promise<StartedKopBroker> {
  const withoutKafkaHandler = !!opts.withoutKafkaHandler;
  // Decide "not run" before anything slow: no 245 MB download for a target that cannot start.
  if (!withoutKafkaHandler) {
    const avail = await kopAvailability();
    if (!avail.available) throw new TargetUnavailableError('kop', avail.reason ?? 'not run: KoP NAR unavailable');
  }
  const reuse = reuseEnabled();
  if (reuse) {
    const reused = await tryReuse(opts);
    if (reused) return reused;
  }

  const tenantFabrics = opts.tenantFabrics ?? defaultTenantFabrics;
  const kafkaNamespace = opts.kafkaNamespace ?? 'default';
  const pulsarHome = await ensurePulsarDistribution();
  const narPath = withoutKafkaHandler ? undefined : await ensureKopNar();

  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const runDir = ensureDir(join(workDir, 'kop', runId));
  const dirs = {
    conf: ensureDir(join(runDir, 'conf')),
    data: ensureDir(join(runDir, 'data')),
    logs: ensureDir(join(runDir, 'logs')),
    protocols: ensureDir(join(runDir, 'protocols')),
    narExtract: ensureDir(join(runDir, 'nar-extract')),
    secrets: join(runDir, 'secrets'),
  };
  mkdirSync(dirs.secrets, { recursive: true, mode: 0o700 });
  if (narPath) symlinkSync(narPath, join(dirs.protocols, basename(narPath)));

  const secretKeyPath = join(dirs.secrets, 'token-secret.key');
  const forgedKeyPath = join(dirs.secrets, 'forged-secret.key');
  const adminTokenPath = join(dirs.secrets, 'admin.jwt');
  const storePasswordPath = join(dirs.secrets, 'tls-store.password');
  const key = newSecretKey();
  writeSecretKey(secretKeyPath, key);
  writeSecretKey(forgedKeyPath, newSecretKey());
  writeFileSync(adminTokenPath, mintJwt(key, { sub: KOP_ADMIN_ROLE }), { mode: 0o600 });
  const tls = await generateTls(join(runDir, 'tls'));
  writeFileSync(storePasswordPath, tls.storePassword, { mode: 0o600 });
  registerSecret(tls.storePassword);

  // No port for the bookie: with the RocksDB metadata store, standalone's embedded bookie picks
  // its own port and ignores --bookkeeper-port (FINDINGS.md).
  const [web, broker, kafkaSaslPlaintext, kafkaSaslSsl] = await freePorts(4) as [number, number, number, number];
  const ports: KopPorts = { web, broker, kafkaSaslPlaintext, kafkaSaslSsl };
  const confPath = join(dirs.conf, 'standalone.conf');
  const base = readFileSync(join(pulsarHome, 'conf', 'standalone.conf'), 'utf8');
  writeFileSync(confPath, applyConf(base, brokerConfOverrides({
    ports, secretKeyPath, adminTokenPath, tls, narDir: dirs.protocols, narExtractDir: dirs.narExtract,
    kafkaNamespace, withoutKafkaHandler,
  })), { mode: 0o600 });

  const logFile = join(dirs.logs, 'pulsar-standalone.log');
  const t0 = Date.now();
  progress('kop broker', `starting Pulsar ${KOP_VERSIONS.pulsar} standalone${withoutKafkaHandler ? ' (without KoP)' : ''}; `
    + `log: ${logFile}`);
  const args = [join(pulsarHome, 'bin', 'pulsar'), 'standalone', '--no-functions-worker', '--no-stream-storage',
    '--bookkeeper-dir', join(dirs.data, 'bookkeeper'), '--metadata-dir', join(dirs.data, 'metadata')];
  // Normally under the shared guard, which ends the broker with this process. With KOPC_REUSE=1
  // the broker must outlive it (startGuarded without a watched pid).
  const proc = startGuarded('bash', args, {
    logFile,
    cwd: pulsarHome,
    watchPid: reuse ? undefined : process.pid,
    env: {
      ...process.env,
      ...(opts.javaHome ? { JAVA_HOME: opts.javaHome } : {}),
      PULSAR_STANDALONE_CONF: confPath,
      PULSAR_LOG_DIR: dirs.logs,
      PULSAR_LOG_APPENDER: 'Console',
      PULSAR_MEM: opts.jvmMemory ?? '-Xms256m -Xmx1g -XX:MaxDirectMemorySize=1g',
      // G1 instead of the script's ZGC + AlwaysPreTouch, which commits the whole heap up front.
      PULSAR_GC: '-XX:+UseG1GC',
      PULSAR_GC_LOG: ' ',
    },
  });
  const pid = proc.pid;
  const abort = () => {
    const e = proc.exited();
    return e ? new Error(`Pulsar standalone exited (${e}) before it was ready; log ${logFile}:\n${readTail(logFile, 3000)}`)
      : undefined;
  };

  const state: ReuseState = {
    pid, runDir, withoutKafkaHandler, pulsarVersion: KOP_VERSIONS.pulsar, kopVersion: narVersion(narPath),
    ports, kafkaNamespace, tenantFabrics, secretKeyPath, forgedKeyPath, adminTokenPath,
    tls: { caPemPath: tls.caPemPath, truststorePath: tls.truststorePath, keystorePath: tls.keystorePath, storePasswordPath },
    logFile, startedAt: new Date().toISOString(),
  };

  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    if (reuse) {
      progress('kop broker', `KOPC_REUSE=1: leaving broker pid ${pid} running for the next start`);
      return;
    }
    await killGroup(pid, STOP_GRACE_MS);
    // Broker data is large and worthless after the run; logs and conf stay for the report.
    if (process.env.KOPC_KEEP_WORK !== '1') rmSync(dirs.data, { recursive: true, force: true });
  };
  const target = buildTarget(state, false, stop);

  const deadline = Date.now() + (opts.startTimeoutMs ?? 240_000);
  const left = () => Math.max(1000, deadline - Date.now());
  try {
    await adminReady(state, left(), abort);
    progress('kop broker', `admin REST up after ${((Date.now() - t0) / 1000).toFixed(1)} s; provisioning tenants`);
    await provision(web, target.adminToken(), tenantFabrics, kafkaNamespace);
    if (!withoutKafkaHandler) await kafkaReady(target, left(), abort);
  } catch (err) {
    await killGroup(pid, STOP_GRACE_MS).catch(() => undefined);
    throw err;
  }
  progress('kop broker', `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (pid ${pid})`);
  if (reuse) writeFileSync(stateFile(), JSON.stringify(state, null, 2), { mode: 0o600 });
  return target;
}
