// The per-run files of an embedded Pulsar-based target, whichever protocol handler it loads:
// a run directory with the NAR linked in, the token signing key (and a second, "forged" one),
// the superuser's JWT, TLS material; and, from those files, the logins the tests use. Files, not
// memory, so that a broker kept by KOPC_REUSE=1 can be reached again by the next run.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { mintJwt, newSecretKey, writeSecretKey } from '../../security/jwt.js';
import { principalFor, roleOf, type TenantFabric } from '../../security/principals.js';
import { redact, registerSecret } from '../../security/redact.js';
import { generateTls, type TlsMaterial } from '../../security/tls.js';
import { ensureDir, workDir } from '../../util/paths.js';
import { isAlive, killGroup, logErrorLines } from '../../util/process.js';
import type { Principal } from '../types.js';

/** Where a run's secrets are; plain paths, kept in a target's reuse state. */
export interface PulsarSecretPaths {
  secretKeyPath: string;
  forgedKeyPath: string;
  adminTokenPath: string;
  tls: { caPemPath: string; truststorePath: string; keystorePath: string; storePasswordPath: string };
}

export interface PulsarRun extends PulsarSecretPaths {
  runDir: string;
  dirs: { conf: string; data: string; protocols: string; narExtract: string; secrets: string };
  /** The token signing key. A secret. */
  key: Buffer;
  tlsMaterial: TlsMaterial;
}

/**
 * Creates `<workDir>/<kind>/<run id>/` with the NAR linked into `protocols/` and fresh secrets,
 * or, with `shareSecretsOf`, that run's secrets (several brokers of one topology, e.g. the two
 * regions of kop-regions, trust the same token key and serve the same CA).
 */
export async function preparePulsarRun(kind: string, narPath: string, adminRole: string, shareSecretsOf?: PulsarRun): Promise<PulsarRun> {
  const runId = `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomBytes(3).toString('hex')}`;
  const runDir = ensureDir(join(workDir, kind, runId));
  const dirs = {
    conf: ensureDir(join(runDir, 'conf')),
    data: ensureDir(join(runDir, 'data')),
    protocols: ensureDir(join(runDir, 'protocols')),
    narExtract: ensureDir(join(runDir, 'nar-extract')),
    secrets: join(runDir, 'secrets'),
  };
  mkdirSync(dirs.secrets, { recursive: true, mode: 0o700 });
  symlinkSync(narPath, join(dirs.protocols, basename(narPath)));
  if (shareSecretsOf) {
    const { key, tlsMaterial, secretKeyPath, forgedKeyPath, adminTokenPath, tls } = shareSecretsOf;
    return { runDir, dirs, key, tlsMaterial, secretKeyPath, forgedKeyPath, adminTokenPath, tls };
  }
  const secretKeyPath = join(dirs.secrets, 'token-secret.key');
  const forgedKeyPath = join(dirs.secrets, 'forged-secret.key');
  const adminTokenPath = join(dirs.secrets, 'admin.jwt');
  const storePasswordPath = join(dirs.secrets, 'tls-store.password');
  const key = newSecretKey();
  writeSecretKey(secretKeyPath, key);
  writeSecretKey(forgedKeyPath, newSecretKey());
  const adminToken = mintJwt(key, { sub: adminRole });
  writeFileSync(adminTokenPath, adminToken, { mode: 0o600 });
  registerSecret(adminToken);
  const tlsMaterial = await generateTls(join(runDir, 'tls'));
  writeFileSync(storePasswordPath, tlsMaterial.storePassword, { mode: 0o600 });
  registerSecret(tlsMaterial.storePassword);
  return {
    runDir, dirs, key, tlsMaterial, secretKeyPath, forgedKeyPath, adminTokenPath,
    tls: { caPemPath: tlsMaterial.caPemPath, truststorePath: tlsMaterial.truststorePath, keystorePath: tlsMaterial.keystorePath, storePasswordPath },
  };
}

export interface PulsarLogins {
  principals: Principal[];
  /** The same claims signed with the other key: must be refused. */
  forgedPasswords: string[];
  /** The right key, `exp` an hour ago: must be refused. */
  expiredPasswords: string[];
  adminToken: string;
  storePassword: string;
}

/** The logins of a run, read back from its files; every secret is registered for redaction. */
export function pulsarLogins(p: PulsarSecretPaths, tfs: TenantFabric[]): PulsarLogins {
  const key = readFileSync(p.secretKeyPath);
  const forgedKey = readFileSync(p.forgedKeyPath);
  const logins: PulsarLogins = {
    principals: tfs.map((tf) => principalFor(key, tf)),
    forgedPasswords: tfs.map((tf) => `token:${mintJwt(forgedKey, { sub: roleOf(tf) })}`),
    expiredPasswords: tfs.map((tf) => `token:${mintJwt(key, { sub: roleOf(tf), exp: Math.floor(Date.now() / 1000) - 3600 })}`),
    adminToken: readFileSync(p.adminTokenPath, 'utf8').trim(),
    storePassword: readFileSync(p.tls.storePasswordPath, 'utf8').trim(),
  };
  for (const s of [logins.adminToken, logins.storePassword, ...logins.principals.map((x) => x.password),
    ...logins.forgedPasswords, ...logins.expiredPasswords]) registerSecret(s);
  return logins;
}

/**
 * A broker whose data is deleted right after it stops needs no clean close: SIGTERM, then
 * SIGKILL after this. A clean close of Pulsar standalone took 5 s (the old grace) + about 2 s at
 * every run's end (measured: "kop broker: stopped in 6.9 s").
 */
export const THROWAWAY_STOP_GRACE_MS = 1_000;

/**
 * A Pulsar start that did not get ready (a readiness wait timed out, or the process exited): the
 * same error, prefixed with what was starting and followed by the last ERROR lines of its log, so
 * that the one line a CI log keeps says why (the log file itself is gone with the run's clone).
 */
export function pulsarStartError(err: unknown, what: string, logFile: string): Error {
  const msg = err instanceof Error ? err.message : String(err);
  const errors = logErrorLines(logFile);
  return new Error(redact(`${what}: ${msg}${errors.length ? `; last ERROR lines of ${logFile}: ${errors.join(' | ')}` : `; no ERROR line in ${logFile}`}`));
}

/**
 * Stops the broker a KOPC_REUSE=1 state file names (a JSON object with `pid`), if it still runs
 * and `isOurs` recognises it (pids are reused); the state file is removed either way.
 */
export async function stopBrokerOfStateFile(stateFile: string, isOurs: (pid: number) => boolean, graceMs: number): Promise<boolean> {
  if (!existsSync(stateFile)) return false;
  const { pid } = JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number };
  rmSync(stateFile, { force: true });
  if (!isAlive(pid) || !isOurs(pid)) return false;
  await killGroup(pid, graceMs);
  return true;
}

/** Broker configuration for token authentication and authorization, the broker's own clients logging in as `superUser`. */
export function tokenAuthConf(secretKeyPath: string, adminTokenPath: string, superUser: string): Record<string, string> {
  return {
    authenticationEnabled: 'true',
    authenticationProviders: 'org.apache.pulsar.broker.authentication.AuthenticationProviderToken',
    authorizationEnabled: 'true',
    superUserRoles: superUser,
    tokenSecretKey: `file://${secretKeyPath}`,
    // The broker's own clients (standalone's setup, the protocol handler's admin calls).
    brokerClientAuthenticationPlugin: 'org.apache.pulsar.client.impl.auth.AuthenticationToken',
    brokerClientAuthenticationParameters: `file://${adminTokenPath}`,
  };
}

/**
 * log4j2 for an embedded Pulsar broker (2.7 and 3.3 alike) to the console, which the guard writes
 * to the log file. Also keeps secrets out of that log: at INFO, Pulsar prints its whole
 * configuration (the KoP TLS keystore password included) from PulsarService (2.7) and, in
 * standalone 3.3, from the embedded BookieServer.
 */
export function pulsarLog4j2Properties(): string {
  return [
    'status = warn',
    'appender.console.type = Console',
    'appender.console.name = console',
    'appender.console.layout.type = PatternLayout',
    'appender.console.layout.pattern = %d{HH:mm:ss.SSS} %-5level [%t] %c{1} - %msg%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.console.ref = console',
    // One line per connection at INFO otherwise: enough to read, not enough to drown in.
    'logger.zk.name = org.apache.zookeeper', 'logger.zk.level = warn',
    'logger.bk.name = org.apache.bookkeeper', 'logger.bk.level = warn',
    // PulsarService logs its whole configuration at INFO when ready, the TLS keystore password included.
    'logger.ps.name = org.apache.pulsar.broker.PulsarService', 'logger.ps.level = warn',
    '',
  ].join('\n');
}
