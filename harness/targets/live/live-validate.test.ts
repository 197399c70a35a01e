// The live target's start-up checks against real sockets on loopback: DNS, TCP, TLS (right,
// wrong and mismatched certificates, a PKCS12 truststore), SASL PLAIN and metadata (against
// a minimal fake broker), and the CLI's exit code. Every failure must be one line, name its
// step, arrive within its bound and hold no secret.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateTls, type TlsMaterial } from '../../security/tls.js';
import { projectRoot } from '../../util/paths.js';
import { freePort } from '../../util/ports.js';
import { startFakeKafkaBroker, type FakeKafkaBroker } from './fake-kafka-broker.js';
import { LiveConfigError, loadLiveConfig, type LiveConfig } from './live-config.js';
import { checkTlsHandshake, LiveTargetError, startLiveTarget, type LiveStep } from './live-target.js';

const USER = 'acme/eu';
const PASSWORD = 'token:eyJhbGciOiJIUzI1NiJ9.bGl2ZS10ZXN0.c1gnatur3';
const WRONG_PASSWORD = 'token:eyJ3cm9uZyJ9.d3Jvbmc.wr0ngs1g';

const dir = mkdtempSync(join(tmpdir(), 'kopc-live-validate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let nFile = 0;

function envConfig(bootstrap: string, protocol: 'SASL_PLAINTEXT' | 'SASL_SSL', extra: NodeJS.ProcessEnv = {}): LiveConfig {
  return loadLiveConfig({
    env: { KOPC_BOOTSTRAP_SERVERS: bootstrap, KOPC_SECURITY_PROTOCOL: protocol, KOPC_USERNAME: USER, KOPC_PASSWORD: PASSWORD, ...extra },
  });
}

function fileConfig(lines: string[], env: NodeJS.ProcessEnv = {}): LiveConfig {
  const path = join(dir, `client-${++nFile}.properties`);
  writeFileSync(path, lines.join('\n') + '\n');
  return loadLiveConfig({ propertiesPath: path, env });
}

const jaas = (password = PASSWORD) =>
  `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${USER}" password="${password}";`;

/** Awaits a rejection and checks the shared contract: the class, the step, one line, no secret. */
async function failure(p: Promise<unknown>, step?: LiveStep): Promise<{ message: string; ms: number }> {
  const t0 = Date.now();
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  const ms = Date.now() - t0;
  expect(caught, 'expected a rejection').toBeInstanceOf(Error);
  const err = caught as Error;
  if (step) {
    expect(err).toBeInstanceOf(LiveTargetError);
    expect((err as LiveTargetError).step).toBe(step);
  }
  expect(err.message).not.toMatch(/[\r\n]/);
  for (const s of [PASSWORD, PASSWORD.slice(6), WRONG_PASSWORD, WRONG_PASSWORD.slice(6)]) expect(err.message).not.toContain(s);
  return { message: err.message, ms };
}

describe('TCP and DNS', () => {
  it('reports a closed port as refused, within 3 s', async () => {
    const port = await freePort();
    const { message, ms } = await failure(startLiveTarget(envConfig(`127.0.0.1:${port}`, 'SASL_PLAINTEXT')), 'tcp');
    expect(message).toBe(`live target: nothing listens on 127.0.0.1:${port} (connection refused)`);
    expect(ms).toBeLessThan(3_000);
  });

  it('reports an unresolvable host, within 5 s', async () => {
    const { message, ms } = await failure(startLiveTarget(envConfig('no-such-host.invalid:9092', 'SASL_PLAINTEXT')), 'dns');
    expect(message).toMatch(/^live target: cannot resolve host no-such-host\.invalid \(.+\)$/);
    expect(ms).toBeLessThan(5_000);
  }, 10_000);

  it('checks every bootstrap server, not only the first', async () => {
    const broker = await startFakeKafkaBroker({ username: USER, password: PASSWORD });
    try {
      const closed = await freePort();
      const { message } = await failure(startLiveTarget(envConfig(`127.0.0.1:${broker.port},localhost:${closed}`, 'SASL_PLAINTEXT')), 'tcp');
      expect(message).toBe(`live target: nothing listens on localhost:${closed} (connection refused)`);
    } finally {
      await broker.close();
    }
  });
});

describe('SASL PLAIN and metadata (fake broker)', () => {
  let broker: FakeKafkaBroker;
  beforeAll(async () => {
    broker = await startFakeKafkaBroker({ username: USER, password: PASSWORD, clusterId: 'fake-live-cluster' });
  });
  afterAll(async () => broker?.close());

  it('starts: listener, principal, topics and a redacted inspect', async () => {
    const target = await startLiveTarget(envConfig(`127.0.0.1:${broker.port}`, 'SASL_PLAINTEXT', { KOPC_GLOBAL_PREFIX: 'g.' }));
    try {
      expect(target.id).toBe('live');
      expect(target.listeners).toEqual([{ securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: broker.port }]);
      expect(target.principals).toEqual([{ tenant: 'acme', fabric: 'eu', username: USER, password: PASSWORD }]);
      expect(target.topics).toEqual({ globalPrefix: 'g.', localPrefix: 'c8locals.' });
      expect(target.clusterId).toBe('fake-live-cluster');
      expect(target.description).toBe(`live KoP endpoint 127.0.0.1:${broker.port} (SASL_PLAINTEXT, cluster fake-live-cluster, 1 broker)`);
      expect(target.logFiles).toEqual([]);
      const { inspect } = await import('node:util');
      expect(inspect(target)).not.toContain(PASSWORD.slice(6));
      expect(inspect(target)).toContain(USER);
      // The plain-data copy handed to workers keeps the credential.
      expect(JSON.parse(JSON.stringify(target)).principals[0].password).toBe(PASSWORD);
    } finally {
      await target.stop();
      await target.stop();
    }
  });

  it('reports wrong credentials as a SASL failure naming the user, not the password', async () => {
    const cfg = envConfig(`127.0.0.1:${broker.port}`, 'SASL_PLAINTEXT', { KOPC_PASSWORD: WRONG_PASSWORD });
    const { message, ms } = await failure(startLiveTarget(cfg), 'sasl');
    expect(message).toMatch(/^live target: SASL authentication failed for user acme\/eu \(.*\)$/);
    expect(ms).toBeLessThan(5_000);
    expect(broker.loginAttempts).toContain(USER);
  });

  it('reports an advertised broker that clients cannot reach', async () => {
    const closed = await freePort();
    const liar = await startFakeKafkaBroker({
      username: USER, password: PASSWORD,
      advertise: (self) => [{ nodeId: 1, ...self }, { nodeId: 2, host: '127.0.0.1', port: closed }],
    });
    try {
      const { message } = await failure(startLiveTarget(envConfig(`127.0.0.1:${liar.port}`, 'SASL_PLAINTEXT')), 'advertised');
      expect(message).toBe(`live target: the endpoint advertises broker 127.0.0.1:${closed}, which clients cannot reach: nothing listens on 127.0.0.1:${closed} (connection refused)`);
    } finally {
      await liar.close();
    }
  });

  it('bounds the login and metadata step when the port accepts but never answers', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
    const port = (silent.address() as AddressInfo).port;
    try {
      const { message, ms } = await failure(startLiveTarget(envConfig(`127.0.0.1:${port}`, 'SASL_PLAINTEXT'), { kafkaTimeoutMs: 1_500 }), 'sasl');
      expect(message).toMatch(new RegExp(`^live target: (SASL PLAIN login with 127\\.0\\.0\\.1:${port} (did not complete within 1\\.5 s|timed out)|connecting to)`));
      expect(ms).toBeLessThan(4_000);
    } finally {
      silent.close();
    }
  });

  it('reports a SASL_SSL configuration pointed at a plaintext port as a TLS timeout', async () => {
    const { message, ms } = await failure(startLiveTarget(envConfig(`127.0.0.1:${broker.port}`, 'SASL_SSL'), { tlsTimeoutMs: 800 }), 'tls');
    expect(message).toBe(`live target: TLS handshake with 127.0.0.1:${broker.port} did not complete within 0.8 s (is 127.0.0.1:${broker.port} a TLS port?)`);
    expect(ms).toBeLessThan(2_000);
  });
});

describe('TLS', () => {
  let right: TlsMaterial;
  let wrong: TlsMaterial;
  let misnamed: TlsMaterial;
  let server: FakeKafkaBroker;
  let misnamedServer: FakeKafkaBroker;

  beforeAll(async () => {
    [right, wrong, misnamed] = await Promise.all([
      generateTls(join(dir, 'tls-right')),
      generateTls(join(dir, 'tls-wrong'), { caName: 'some other CA' }),
      generateTls(join(dir, 'tls-misnamed'), { sans: ['DNS:elsewhere.test'], caName: 'misnamed CA' }),
    ]);
    const pem = (m: TlsMaterial) => ({ key: readFileSync(m.serverKeyPath, 'utf8'), cert: readFileSync(m.serverCertPath, 'utf8') });
    server = await startFakeKafkaBroker({ username: USER, password: PASSWORD, tls: pem(right) });
    misnamedServer = await startFakeKafkaBroker({ username: USER, password: PASSWORD, tls: pem(misnamed) });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    await misnamedServer?.close();
  });

  it('rejects a certificate not signed by the configured CA', async () => {
    const cfg = envConfig(`127.0.0.1:${server.port}`, 'SASL_SSL', { KOPC_CA_LOCATION: wrong.caPemPath });
    const { message, ms } = await failure(startLiveTarget(cfg), 'tls');
    expect(message).toMatch(new RegExp(`^live target: TLS handshake with 127\\.0\\.0\\.1:${server.port} failed: certificate not trusted by CA ${wrong.caPemPath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\([A-Z_]+\\)$`));
    expect(ms).toBeLessThan(3_000);
  });

  it('passes the TLS step with the right CA, and then logs in', async () => {
    await checkTlsHandshake('127.0.0.1', server.port, { caPem: readFileSync(right.caPemPath, 'utf8'), verify: true, verifyHostname: true });
    const target = await startLiveTarget(envConfig(`127.0.0.1:${server.port}`, 'SASL_SSL', { KOPC_CA_LOCATION: right.caPemPath }));
    expect(target.tls).toEqual({ caPemPath: right.caPemPath, verify: true, verifyHostname: true });
    expect(target.notes).toEqual([]);
    expect(target.listeners[0]?.securityProtocol).toBe('SASL_SSL');
    await target.stop();
  });

  it('names a hostname mismatch, and skips the check when ssl.endpoint.identification.algorithm is empty', async () => {
    const base = [`bootstrap.servers=127.0.0.1:${misnamedServer.port}`, 'security.protocol=SASL_SSL', 'sasl.mechanism=PLAIN', jaas(), `ssl.ca.location=${misnamed.caPemPath}`];
    const { message } = await failure(startLiveTarget(fileConfig(base)), 'tls');
    expect(message).toContain(`live target: TLS handshake with 127.0.0.1:${misnamedServer.port} failed: hostname mismatch: the certificate does not name 127.0.0.1`);
    const target = await startLiveTarget(fileConfig([...base, 'ssl.endpoint.identification.algorithm=']));
    expect(target.tls).toMatchObject({ verify: true, verifyHostname: false });
    expect(target.notes).toEqual(['TLS hostname verification is off (ssl.endpoint.identification.algorithm is empty)']);
    await target.stop();
  });

  it('connects with verification off, and says so', async () => {
    const cfg = envConfig(`127.0.0.1:${server.port}`, 'SASL_SSL', { KOPC_CA_LOCATION: wrong.caPemPath, KOPC_TLS_VERIFY: 'false' });
    const target = await startLiveTarget(cfg);
    expect(target.tls.verify).toBe(false);
    expect(target.notes).toEqual(['TLS certificate verification is OFF (kop.tls.verify=false)']);
    expect(target.description).toContain('TLS verification OFF');
    await target.stop();
  });

  it('converts a PKCS12 truststore to PEM, and removes the PEM on stop', async () => {
    const cfg = fileConfig([
      `bootstrap.servers=127.0.0.1:${server.port}`, 'security.protocol=SASL_SSL', jaas(),
      `ssl.truststore.location=${right.truststorePath}`, `ssl.truststore.password=${right.storePassword}`, 'ssl.truststore.type=PKCS12',
    ]);
    const target = await startLiveTarget(cfg);
    const pemPath = target.tls.caPemPath!;
    expect(readFileSync(pemPath, 'utf8').replace(/\s+/g, '')).toContain(readFileSync(right.caPemPath, 'utf8').replace(/\s+/g, ''));
    expect(target.tls.truststorePath).toBe(right.truststorePath);
    await target.stop();
    expect(existsSync(pemPath)).toBe(false);
  }, 30_000);

  it('rejects a wrong truststore password without printing either password', async () => {
    const cfg = fileConfig([
      `bootstrap.servers=127.0.0.1:${server.port}`, 'security.protocol=SASL_SSL', jaas(),
      `ssl.truststore.location=${right.truststorePath}`, 'ssl.truststore.password=not-the-store-password',
    ]);
    const { message } = await failure(startLiveTarget(cfg));
    expect(message).toBe(`live target config: truststore ${right.truststorePath} (ssl.truststore.location) cannot be read: ssl.truststore.password is wrong for it`);
    expect(message).not.toContain('not-the-store-password');
    expect(message).not.toContain(right.storePassword);
  }, 30_000);

  it('names a SASL_PLAINTEXT configuration pointed at the TLS port', async () => {
    const { message } = await failure(startLiveTarget(envConfig(`127.0.0.1:${server.port}`, 'SASL_PLAINTEXT')), 'sasl');
    expect(message).toBe(`live target: 127.0.0.1:${server.port} closed the connection before the SASL PLAIN login completed (is it a TLS port while security.protocol is SASL_PLAINTEXT?)`);
  });

  it('is a LiveConfigError when the truststore cannot be read', async () => {
    const cfg = fileConfig([
      `bootstrap.servers=127.0.0.1:${server.port}`, 'security.protocol=SASL_SSL', jaas(),
      `ssl.truststore.location=${right.truststorePath}`, 'ssl.truststore.password=nope-nope',
    ]);
    await expect(startLiveTarget(cfg)).rejects.toBeInstanceOf(LiveConfigError);
  }, 30_000);
});

describe('live-cli', () => {
  // The CLI must see only what the test gives it: no KOPC_* from the developer's shell.
  const cleanEnv = () => {
    const env: NodeJS.ProcessEnv = { npm_config_loglevel: 'error' };
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('KOPC_') && !k.startsWith('npm_')) env[k] = v;
    return env;
  };
  const cli = (args: string[]) => execa('npx', ['tsx', 'harness/targets/live/live-cli.ts', ...args], {
    cwd: projectRoot, env: cleanEnv(), extendEnv: false, reject: false, stdin: 'ignore', timeout: 30_000,
  });

  it('exits 2 with one line on stderr for a malformed file', async () => {
    const path = join(dir, 'malformed.properties');
    writeFileSync(path, `bootstrap.servers=gdn.example.com:9092\nsecurity.protocol=SASL_SSLL\n${jaas()}\n`);
    const r = await cli(['--properties', path]);
    expect(r.exitCode).toBe(2);
    expect(r.stdout).toBe('');
    const stderr = String(r.stderr).trimEnd();
    expect(stderr.split('\n')).toHaveLength(1);
    expect(stderr).toBe(`live target config: security.protocol "SASL_SSLL" is not one of SASL_PLAINTEXT, SASL_SSL (file ${path} line 2)`);
    expect(stderr).not.toContain(PASSWORD.slice(6));
  }, 30_000);

  it('prints one redacted OK line for a reachable endpoint', async () => {
    const broker = await startFakeKafkaBroker({ username: USER, password: PASSWORD, clusterId: 'cli-cluster' });
    try {
      const path = join(dir, 'ok.properties');
      writeFileSync(path, `bootstrap.servers=127.0.0.1:${broker.port}\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\n${jaas()}\n`);
      const r = await cli([`--properties=${path}`]);
      expect(r.stderr).toBe('');
      expect(r.exitCode).toBe(0);
      expect(String(r.stdout).trimEnd().split('\n')).toHaveLength(1);
      expect(r.stdout).toContain(`live target OK: 127.0.0.1:${broker.port} SASL_PLAINTEXT, user acme/eu, password <redacted>, cluster cli-cluster`);
      expect(r.stdout).not.toContain(PASSWORD.slice(6));
    } finally {
      await broker.close();
    }
  }, 30_000);
});
