// The "live" target: a KoP endpoint that already runs (a GDN's Kafka port). start() starts
// nothing; it checks, step by bounded step, that the endpoint can be reached and logged in to,
// so that a bad host, port, CA or token is reported once, in one line naming the step, instead
// of as hundreds of failing scenarios. Steps: truststore → PEM (when needed), then for every
// bootstrap server DNS, TCP and (SASL_SSL) a TLS handshake, then a SASL PLAIN login with a
// metadata round trip, then DNS and TCP to every broker the metadata advertises.
import { lookup } from 'node:dns/promises';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { connect as netConnect, isIP, isIPv6 } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import { inspect } from 'node:util';
import { execa } from 'execa';
import { Kafka, logLevel } from 'kafkajs';
import type { Listener, Principal, Region, StartedTarget, TlsSettings } from '../types.js';
import { TargetUnavailableError } from '../types.js';
import { withTimeout, WaitTimeoutError } from '../../util/wait.js';
import { formatHostPort, LiveConfig, LiveConfigError, scrubSecrets, type BootstrapServer } from './live-config.js';

export type LiveStep = 'dns' | 'tcp' | 'tls' | 'sasl' | 'metadata' | 'advertised';

/** The endpoint cannot be reached or logged in to. The message is one line and holds no secret. */
export class LiveTargetError extends TargetUnavailableError {
  constructor(readonly step: LiveStep, problem: string) {
    super('live', `live target: ${problem.replace(/\s*[\r\n]+\s*/g, ' ').trim()}`);
    this.name = 'LiveTargetError';
  }
}

export interface LiveTargetOptions {
  dnsTimeoutMs?: number;
  connectTimeoutMs?: number;
  tlsTimeoutMs?: number;
  /** SASL login + metadata round trip. */
  kafkaTimeoutMs?: number;
  /** Keytool's conversion of a PKCS12/JKS truststore (a JVM start). */
  truststoreTimeoutMs?: number;
  /** Check DNS + TCP of the brokers the metadata advertises (default true). */
  checkAdvertisedBrokers?: boolean;
}

/** The check's time limit for each step (also what a test of the check may wait at most). */
export const LIVE_CHECK_LIMITS = {
  dnsTimeoutMs: 3_000,
  connectTimeoutMs: 3_000,
  tlsTimeoutMs: 5_000,
  kafkaTimeoutMs: 8_000,
  // keytool is a JVM: its start took over 20 s on a busy machine (CI beside a soak).
  truststoreTimeoutMs: 60_000,
};

const secs = (ms: number) => `${Math.round(ms / 100) / 10} s`;

function errCode(err: unknown): string | undefined {
  const e = err as { code?: unknown; errors?: unknown[] };
  if (typeof e?.code === 'string') return e.code;
  // Node's happy-eyeballs connect reports an AggregateError of the per-address failures.
  if (Array.isArray(e?.errors)) for (const x of e.errors) { const c = errCode(x); if (c) return c; }
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// Steps, exported for tests and for other targets that want the same diagnostics.

/** Resolves `host` (an IP literal resolves to itself), bounded. */
export async function checkDns(host: string, timeoutMs = LIVE_CHECK_LIMITS.dnsTimeoutMs): Promise<string> {
  if (isIP(host)) return host;
  try {
    const { address } = await withTimeout(`DNS lookup of ${host}`, timeoutMs, lookup(host));
    return address;
  } catch (err) {
    if (err instanceof WaitTimeoutError) throw new LiveTargetError('dns', `cannot resolve host ${host} (no answer within ${secs(timeoutMs)})`);
    const code = errCode(err) ?? 'error';
    throw new LiveTargetError('dns', `cannot resolve host ${host} (${code})`);
  }
}

/** Opens and closes a TCP connection to host:port, bounded. */
export async function checkTcp(host: string, port: number, timeoutMs = LIVE_CHECK_LIMITS.connectTimeoutMs): Promise<void> {
  const hp = formatHostPort({ host, port });
  await new Promise<void>((resolve, reject) => {
    const sock = netConnect({ host, port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new LiveTargetError('tcp', `${hp} did not answer within ${secs(timeoutMs)}`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      sock.destroy();
      const code = errCode(err);
      const problem =
        code === 'ECONNREFUSED' ? `nothing listens on ${hp} (connection refused)`
        : code === 'EHOSTUNREACH' || code === 'ENETUNREACH' ? `${hp} is unreachable (${code})`
        : code === 'ETIMEDOUT' ? `${hp} did not answer within ${secs(timeoutMs)} (ETIMEDOUT)`
        : code === 'ENOTFOUND' || code === 'EAI_AGAIN' ? `cannot resolve host ${host} (${code})`
        : `TCP connection to ${hp} failed (${code ?? err.message})`;
      reject(new LiveTargetError('tcp', problem));
    });
  });
}

export interface TlsCheckSettings {
  /** PEM text of the trusted CAs; absent: Node's bundled CAs. */
  caPem?: string;
  /** How messages name the CA, e.g. its file path. */
  caLabel?: string;
  verify: boolean;
  verifyHostname: boolean;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'SELF_SIGNED_CERT_IN_CHAIN', 'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'UNABLE_TO_GET_ISSUER_CERT', 'CERT_UNTRUSTED', 'CERT_SIGNATURE_FAILURE',
]);

/** The tls.connect options that implement the configured verification (for the check and for KafkaJS). */
export function tlsOptionsFor(s: TlsCheckSettings): ConnectionOptions {
  const o: ConnectionOptions = { rejectUnauthorized: s.verify };
  if (s.caPem !== undefined) o.ca = [s.caPem];
  o.checkServerIdentity = s.verifyHostname ? checkServerIdentity : () => undefined;
  return o;
}

/** Completes a TLS handshake with host:port with the configured CA and verification, bounded. */
export async function checkTlsHandshake(host: string, port: number, s: TlsCheckSettings, timeoutMs = LIVE_CHECK_LIMITS.tlsTimeoutMs): Promise<void> {
  const hp = formatHostPort({ host, port });
  const what = `TLS handshake with ${hp}`;
  const caName = s.caLabel ? `CA ${s.caLabel}` : 'the system CAs (set ssl.ca.location or ssl.truststore.location)';
  await new Promise<void>((resolve, reject) => {
    let sock: ReturnType<typeof tlsConnect>;
    const fail = (problem: string) => {
      clearTimeout(timer);
      sock?.destroy();
      reject(new LiveTargetError('tls', `${what} failed: ${problem}`));
    };
    const timer = setTimeout(() => {
      sock?.destroy();
      reject(new LiveTargetError('tls', `${what} did not complete within ${secs(timeoutMs)} (is ${hp} a TLS port?)`));
    }, timeoutMs);
    try {
      sock = tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...tlsOptionsFor(s) });
    } catch (err) {
      fail(`the CA certificates cannot be used (${(err as Error).message})`);
      return;
    }
    sock.once('secureConnect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve();
    });
    sock.once('error', (err: Error & { reason?: string }) => {
      const code = errCode(err);
      if (code && UNTRUSTED.has(code)) fail(`certificate not trusted by ${caName} (${code})`);
      else if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        fail(`hostname mismatch: the certificate does not name ${host} (${err.reason ?? code}); ` +
          'set ssl.endpoint.identification.algorithm= (empty) to skip hostname verification');
      } else if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') fail(`the server certificate is not valid now (${code})`);
      else if (code === 'ECONNREFUSED') fail(`nothing listens on ${hp} (connection refused)`);
      else if (code === 'ECONNRESET' || /disconnected before secure TLS/.test(err.message)) {
        fail(`the server closed the connection during the handshake (is ${hp} a TLS port? security.protocol is SASL_SSL)`);
      } else if (code === 'EPROTO' || /wrong version number|packet length too long/i.test(err.message)) {
        fail(`the server does not speak TLS (${code ?? 'EPROTO'}; is ${hp} the SASL_PLAINTEXT port?)`);
      } else fail(`${code ?? 'error'}: ${err.message}`);
    });
  });
}

/** The PEM CA for Node clients: ssl.ca.location as is, or a PKCS12/JKS truststore exported with keytool. */
export async function prepareCaPem(cfg: LiveConfig, timeoutMs = LIVE_CHECK_LIMITS.truststoreTimeoutMs): Promise<{ caPemPath?: string; tempDir?: string }> {
  if (cfg.securityProtocol !== 'SASL_SSL') return {};
  if (cfg.tls.caPemPath) return { caPemPath: cfg.tls.caPemPath };
  const store = cfg.tls.truststorePath;
  if (!store) return {};
  const type = cfg.tls.truststoreType ?? 'JKS';
  // `-list -rfc` prints every certificate of the store (a truststore may hold several CAs);
  // the password travels in the environment, never on the command line.
  const r = await execa('keytool', ['-list', '-rfc', '-keystore', store, '-storetype', type, '-storepass:env', 'KOPC_TRUSTSTORE_PASS'], {
    env: { ...process.env, KOPC_TRUSTSTORE_PASS: cfg.truststorePassword ?? '' },
    stdin: 'ignore', timeout: timeoutMs, reject: false, all: true,
  });
  if (r.timedOut) throw new LiveConfigError(`keytool did not read truststore ${store} within ${secs(timeoutMs)}`);
  if (r.exitCode === undefined) {
    const why = /ENOENT/.test(String(r.message)) ? 'keytool (a JDK) is not on PATH' : scrubSecrets(String(r.shortMessage), cfg.secrets());
    throw new LiveConfigError(`truststore ${store} (ssl.truststore.location, ${type}) cannot be converted to PEM: ${why}; or give the CA as PEM in ssl.ca.location`);
  }
  if (r.exitCode !== 0) {
    const out = scrubSecrets(String(r.all ?? ''), cfg.secrets());
    const why = /password was incorrect|password verification failed|Integrity check failed/i.test(out)
      ? 'ssl.truststore.password is wrong for it'
      : /Invalid keystore format|keystore format|DerInputStream|toDerInputStream|not a .*keystore/i.test(out)
        ? `it is not a ${type} keystore (check ssl.truststore.type)`
        : (out.split('\n').find((l) => /keytool error/i.test(l)) ?? out.split('\n')[0] ?? 'keytool failed').trim();
    throw new LiveConfigError(`truststore ${store} (ssl.truststore.location) cannot be read: ${why}`);
  }
  const stdout = String(r.stdout ?? '');
  const pems = stdout.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  if (pems.length === 0) throw new LiveConfigError(`truststore ${store} (ssl.truststore.location) holds no certificate`);
  const tempDir = mkdtempSync(join(tmpdir(), 'kopc-live-'));
  const caPemPath = join(tempDir, 'truststore-ca.pem');
  writeFileSync(caPemPath, pems.join('\n') + '\n');
  return { caPemPath, tempDir };
}

export interface ClusterMetadata {
  clusterId: string;
  brokers: BootstrapServer[];
}

/** SASL PLAIN login and a metadata round trip with KafkaJS, no retries, bounded. */
export async function checkSaslMetadata(cfg: LiveConfig, tls: TlsCheckSettings | undefined, timeoutMs = LIVE_CHECK_LIMITS.kafkaTimeoutMs): Promise<ClusterMetadata> {
  const usable = cfg.bootstrapServers.filter((b) => !isIPv6(b.host));
  if (usable.length === 0) {
    throw new LiveTargetError('metadata', 'the KafkaJS client cannot take IPv6 literals in bootstrap.servers; give a host name');
  }
  const stepMs = Math.max(500, Math.min(timeoutMs - 500, 5_000));
  const kafka = new Kafka({
    clientId: 'kop-conformance-live-check',
    brokers: usable.map(formatHostPort),
    ...(tls ? { ssl: tlsOptionsFor(tls) } : {}),
    sasl: { mechanism: 'plain', username: cfg.username, password: cfg.password },
    connectionTimeout: stepMs,
    authenticationTimeout: stepMs,
    requestTimeout: stepMs,
    retry: { retries: 0 },
    logLevel: logLevel.NOTHING,
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  let step: LiveStep = 'sasl';
  try {
    const result = await withTimeout('SASL login and metadata', timeoutMs, (async () => {
      await admin.connect();
      step = 'metadata';
      return await admin.describeCluster();
    })());
    return { clusterId: result.clusterId, brokers: result.brokers.map((b) => ({ host: b.host, port: b.port })) };
  } catch (err) {
    // KafkaJS sends the metadata request to any broker the seed advertised; when that one is
    // unreachable, the endpoint's advertised listeners are the problem, not the bootstrap server.
    const advertised = await unreachableAdvertisedBroker(cfg, err);
    throw advertised ?? kafkaError(cfg, err, step, timeoutMs);
  } finally {
    // Never let a hung disconnect hold up the start; the sockets are closed either way.
    await withTimeout('admin disconnect', 2_000, admin.disconnect()).catch(() => undefined);
  }
}

function innermost(err: unknown): Error & { broker?: unknown } {
  let e = err as Error;
  for (let i = 0; i < 5 && e?.cause instanceof Error && e.cause !== e; i++) e = e.cause;
  return e;
}

async function unreachableAdvertisedBroker(cfg: LiveConfig, err: unknown): Promise<LiveTargetError | undefined> {
  const broker = innermost(err).broker;
  if (typeof broker !== 'string') return undefined;
  const i = broker.lastIndexOf(':');
  const b = { host: broker.slice(0, i), port: Number(broker.slice(i + 1)) };
  if (i <= 0 || !(b.port > 0) || cfg.bootstrapServers.some((x) => x.host === b.host && x.port === b.port)) return undefined;
  try {
    await checkAdvertised(b, LIVE_CHECK_LIMITS.dnsTimeoutMs, LIVE_CHECK_LIMITS.connectTimeoutMs);
  } catch (e) {
    if (e instanceof LiveTargetError) return e;
  }
  return undefined;
}

async function checkAdvertised(b: BootstrapServer, dnsTimeoutMs: number, connectTimeoutMs: number): Promise<void> {
  try {
    await checkDns(b.host, dnsTimeoutMs);
    await checkTcp(b.host, b.port, connectTimeoutMs);
  } catch (err) {
    if (!(err instanceof LiveTargetError)) throw err;
    throw new LiveTargetError('advertised', `the endpoint advertises broker ${formatHostPort(b)}, which clients cannot reach: ${err.message.replace(/^live target: /, '')}`);
  }
}

function kafkaError(cfg: LiveConfig, err: unknown, step: LiveStep, timeoutMs: number): LiveTargetError {
  // KafkaJS wraps the failure that matters in retry errors; report the innermost one.
  const e = innermost(err);
  const name = e?.name === 'Error' ? '' : e?.name ?? '';
  const raw = scrubSecrets(String(e?.message ?? err), cfg.secrets());
  if (name === 'KafkaJSSASLAuthenticationError' || /SASL_AUTHENTICATION_FAILED|authentication failed/i.test(raw)) {
    return new LiveTargetError('sasl', `SASL authentication failed for user ${cfg.username} (${raw})`);
  }
  if (step === 'sasl' && /closed connection|connection closed|ECONNRESET/i.test(raw)) {
    const hint = cfg.securityProtocol === 'SASL_PLAINTEXT'
      ? `is it a TLS port while security.protocol is SASL_PLAINTEXT?`
      : 'is it a Kafka port?';
    return new LiveTargetError('sasl', `${cfg.bootstrap} closed the connection before the SASL PLAIN login completed (${hint})`);
  }
  if (err instanceof WaitTimeoutError) {
    const what = step === 'sasl' ? 'SASL PLAIN login' : 'metadata round trip';
    return new LiveTargetError(step, `${what} with ${cfg.bootstrap} did not complete within ${secs(timeoutMs)}`);
  }
  if (/Connection timeout/i.test(raw)) return new LiveTargetError('sasl', `connecting to ${cfg.bootstrap} for the SASL login timed out (${raw})`);
  if (/Request .*timed out|Authentication.*timed out/i.test(raw)) {
    return new LiveTargetError(step, `${step === 'sasl' ? 'SASL PLAIN login' : 'metadata round trip'} with ${cfg.bootstrap} timed out (${raw})`);
  }
  return new LiveTargetError(step, `${step === 'sasl' ? 'SASL PLAIN login' : 'metadata round trip'} with ${cfg.bootstrap} failed: ${name ? `${name}: ` : ''}${raw}`);
}

// ---------------------------------------------------------------------------------------------
// startLiveTarget

export interface LiveStartedTarget extends StartedTarget {
  readonly tls: TlsSettings & { verifyHostname: boolean };
  /** Facts a report must show, e.g. that certificate verification is off. */
  readonly notes: string[];
  readonly clusterId: string;
  /** Brokers advertised by the endpoint's metadata. */
  readonly brokers: BootstrapServer[];
}

export async function startLiveTarget(cfg: LiveConfig, opts: LiveTargetOptions = {}): Promise<LiveStartedTarget> {
  const o = { ...LIVE_CHECK_LIMITS, ...opts };
  // The cheap checks first: a wrong host or port is named within seconds, before a JVM (keytool)
  // starts for the truststore. On a busy machine that start alone took over 20 s, and a wrong
  // endpoint was refused only after 38 s (the nightly test, in CI beside a soak).
  await Promise.all(cfg.bootstrapServers.map(async (b) => {
    await checkDns(b.host, o.dnsTimeoutMs);
    await checkTcp(b.host, b.port, o.connectTimeoutMs);
  }));
  const { caPemPath, tempDir } = await prepareCaPem(cfg, o.truststoreTimeoutMs);
  const cleanup = () => { if (tempDir) rmSync(tempDir, { recursive: true, force: true }); };
  try {
    let tlsCheck: TlsCheckSettings | undefined;
    if (cfg.securityProtocol === 'SASL_SSL') {
      tlsCheck = { verify: cfg.tls.verify, verifyHostname: cfg.tls.verifyHostname };
      if (caPemPath) {
        tlsCheck.caPem = readFileSync(caPemPath, 'utf8');
        tlsCheck.caLabel = cfg.tls.caPemPath ?? `in truststore ${cfg.tls.truststorePath}`;
      }
    }

    const checkRegion = async (c: LiveConfig): Promise<ClusterMetadata> => {
      // Every bootstrap server must work: a client may be handed any of them.
      await Promise.all(c.bootstrapServers.map(async (b) => {
        await checkDns(b.host, o.dnsTimeoutMs);
        await checkTcp(b.host, b.port, o.connectTimeoutMs);
        if (tlsCheck) await checkTlsHandshake(b.host, b.port, tlsCheck, o.tlsTimeoutMs);
      }));
      const meta = await checkSaslMetadata(c, tlsCheck, o.kafkaTimeoutMs);
      if (o.checkAdvertisedBrokers !== false) {
        await Promise.all(meta.brokers.map((b) => checkAdvertised(b, o.dnsTimeoutMs, o.connectTimeoutMs)));
      }
      return meta;
    };
    const meta = await checkRegion(cfg);
    // Each further region the same way, its errors naming the region.
    for (const r of cfg.regions) {
      try {
        await checkRegion(cfg.forRegion(r.name));
      } catch (err) {
        if (err instanceof LiveTargetError) throw new LiveTargetError(err.step, `region ${r.name} (kop.region.${r.name}.bootstrap.servers): ${err.message.replace(/^live target: /, '')}`);
        throw err;
      }
    }

    return makeStartedTarget(cfg, meta, caPemPath, cleanup);
  } catch (err) {
    cleanup();
    throw err;
  }
}

function makeStartedTarget(cfg: LiveConfig, meta: ClusterMetadata, caPemPath: string | undefined, cleanup: () => void): LiveStartedTarget {
  const first = cfg.bootstrapServers[0]!;
  const listener: Listener = { securityProtocol: cfg.securityProtocol, host: first.host, port: first.port };
  const principal: Principal = { tenant: cfg.tenant, fabric: cfg.fabric, username: cfg.username, password: cfg.password };
  if (cfg.apiKeyPassword) principal.apiKeyPassword = cfg.apiKeyPassword;

  const tls: TlsSettings & { verifyHostname: boolean } = { verify: cfg.tls.verify, verifyHostname: cfg.tls.verifyHostname };
  if (caPemPath) tls.caPemPath = caPemPath;
  // TlsSettings.truststorePath is a PKCS12 store; a JKS one is not passed on (Java drivers can use the PEM).
  if (cfg.tls.truststorePath && cfg.tls.truststoreType === 'PKCS12') {
    tls.truststorePath = cfg.tls.truststorePath;
    if (cfg.truststorePassword !== undefined) tls.truststorePassword = cfg.truststorePassword;
  }

  const notes: string[] = [];
  if (cfg.securityProtocol === 'SASL_SSL') {
    if (!cfg.tls.verify) notes.push('TLS certificate verification is OFF (kop.tls.verify=false)');
    else if (!cfg.tls.verifyHostname) notes.push('TLS hostname verification is off (ssl.endpoint.identification.algorithm is empty)');
  }
  const tlsNote = cfg.securityProtocol !== 'SASL_SSL' ? ''
    : !cfg.tls.verify ? ', TLS verification OFF'
    : !cfg.tls.verifyHostname ? ', TLS hostname verification off' : '';
  const regionNote = cfg.regions.length ? `; regions ${cfg.regionName}, ${cfg.regions.map((r) => `${r.name} ${r.bootstrapServers.map(formatHostPort).join(',')}`).join(', ')}` : '';
  const description = `live KoP endpoint ${cfg.bootstrap} (${cfg.securityProtocol}, cluster ${meta.clusterId}, ` +
    `${meta.brokers.length} broker${meta.brokers.length === 1 ? '' : 's'}${tlsNote}${regionNote})`;
  const regions: Region[] | undefined = cfg.regions.length
    ? [{ name: cfg.regionName, listeners: [listener] },
      ...cfg.regions.map((r) => ({ name: r.name, listeners: [{ securityProtocol: cfg.securityProtocol, host: r.bootstrapServers[0]!.host, port: r.bootstrapServers[0]!.port }] }))]
    : undefined;

  let stopped = false;
  const target: LiveStartedTarget = {
    id: 'live',
    description,
    listeners: [listener],
    principals: [principal],
    tls,
    topics: { ...cfg.topics },
    logFiles: [],
    proxiedUnavailable: 'a live endpoint advertises its own addresses: the suite cannot put a proxy on the path its Metadata names',
    notes,
    ...(regions ? { regions } : {}),
    clusterId: meta.clusterId,
    brokers: meta.brokers,
    // Nothing was started; only the converted CA (if any) is ours to remove.
    async stop() {
      if (stopped) return;
      stopped = true;
      cleanup();
    },
  };
  // Printing the target (console.log, a failing assertion's diff) must not show secrets.
  // Non-enumerable, so the plain-data copy handed to workers keeps the real values.
  Object.defineProperty(target, Symbol.for('nodejs.util.inspect.custom'), {
    enumerable: false,
    value: (_depth: number, options: object) => `LiveStartedTarget ${inspect(redactedTarget(target), { ...options, depth: 4 })}`,
  });
  return target;
}

function redactedTarget(t: LiveStartedTarget): Record<string, unknown> {
  const { stop: _stop, ...rest } = t;
  return {
    ...rest,
    principals: t.principals.map((p) => ({ ...p, password: '<redacted>', ...(p.apiKeyPassword ? { apiKeyPassword: '<redacted>' } : {}) })),
    tls: { ...t.tls, ...(t.tls.truststorePassword !== undefined ? { truststorePassword: '<redacted>' } : {}) },
  };
}
