// Pulsar + KoP in a container, configured exactly like the embedded KoP target (the same
// broker.conf overrides, applied through the image's PULSAR_PREFIX_ environment convention).
// Loaded only when a container engine answered (container-target.ts decides that first).
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { metadataRoundTrip } from '../../clients/kafkajs/connection.js';
import { mintJwt, newSecretKey, writeSecretKey } from '../../security/jwt.js';
import { defaultTenantFabrics, principalFor, roleOf } from '../../security/principals.js';
import { registerSecret } from '../../security/redact.js';
import { generateTls } from '../../security/tls.js';
import { ensureDir, workDir } from '../../util/paths.js';
import { freePorts } from '../../util/ports.js';
import { progress, step } from '../../util/progress.js';
import { pollUntil } from '../../util/wait.js';
import { brokerConfOverrides, KOP_ADMIN_ROLE, provision } from '../kop/kop-target.js';
import type { StartedTarget, TargetInfo } from '../types.js';

const IN = '/kopc';

export async function startKopContainer(image: string): Promise<StartedTarget> {
  const dir = ensureDir(join(workDir, `container-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`));
  const key = newSecretKey();
  writeSecretKey(join(dir, 'token-secret.key'), key);
  const adminToken = mintJwt(key, { sub: KOP_ADMIN_ROLE });
  registerSecret(adminToken);
  writeFileSync(join(dir, 'admin.jwt'), adminToken, { mode: 0o600 });
  const tls = await generateTls(join(dir, 'tls'));
  registerSecret(tls.storePassword);
  // The same port number inside and outside: KoP advertises what clients must dial.
  const [web, broker, plain, ssl] = await freePorts(4) as [number, number, number, number];
  const overrides = brokerConfOverrides({
    ports: { web, broker, kafkaSaslPlaintext: plain, kafkaSaslSsl: ssl },
    secretKeyPath: `${IN}/token-secret.key`,
    adminTokenPath: `${IN}/admin.jwt`,
    tls: { ...tls, keystorePath: `${IN}/tls/server.keystore.p12` },
    narDir: '/pulsar/protocols',
    narExtractDir: '/tmp/nar',
    kafkaNamespace: 'default',
  });
  // Inside the container the broker binds every interface; the host still maps loopback only.
  overrides.bindAddress = '0.0.0.0';
  const env = Object.fromEntries(Object.entries(overrides).map(([k, v]) => [`PULSAR_PREFIX_${k}`, v]));

  const container: StartedTestContainer = await step(`container: start ${image}`, () => new GenericContainer(image)
    .withExposedPorts(...[web, broker, plain, ssl].map((p) => ({ container: p, host: p })))
    .withCopyFilesToContainer([
      { source: join(dir, 'token-secret.key'), target: `${IN}/token-secret.key` },
      { source: join(dir, 'admin.jwt'), target: `${IN}/admin.jwt` },
      { source: tls.keystorePath, target: `${IN}/tls/server.keystore.p12` },
    ])
    .withEnvironment(env)
    .withCommand(['bash', '-c', 'bin/apply-config-from-env.py conf/standalone.conf && exec bin/pulsar standalone -nss -nfw'])
    .withStartupTimeout(240_000)
    .start());

  const tfs = defaultTenantFabrics;
  const principals = tfs.map((tf) => principalFor(key, tf));
  for (const p of principals) registerSecret(p.password);
  const info: TargetInfo = {
    id: 'container',
    description: `KoP in a container (${image}, testcontainers)`,
    listeners: [
      { securityProtocol: 'SASL_PLAINTEXT', host: '127.0.0.1', port: plain },
      { securityProtocol: 'SASL_SSL', host: '127.0.0.1', port: ssl },
    ],
    principals,
    tls: { caPemPath: tls.caPemPath, truststorePath: tls.truststorePath, truststorePassword: tls.storePassword, verify: true },
    topics: { globalPrefix: 'c8globals.', localPrefix: 'c8locals.' },
    logFiles: [],
    forgedPasswords: tfs.map((tf) => `token:${mintJwt(newSecretKey(), { sub: roleOf(tf) })}`),
    expiredPasswords: tfs.map((tf) => `token:${mintJwt(key, { sub: roleOf(tf), exp: Math.floor(Date.now() / 1000) - 3600 })}`),
  };
  try {
    await pollUntil('container: Pulsar admin API with the admin token', async () => {
      const r = await fetch(`http://127.0.0.1:${web}/admin/v2/clusters`, { headers: { Authorization: `Bearer ${adminToken}` }, signal: AbortSignal.timeout(5000) });
      if (!r.ok || !(await r.text()).includes('standalone')) throw new Error(`HTTP ${r.status}`);
    }, { timeoutMs: 180_000, intervalMs: 1000 });
    await provision(web, adminToken, tfs, 'default');
    await pollUntil('container: SASL-authenticated Kafka metadata round trip', () => metadataRoundTrip(info), { timeoutMs: 120_000, intervalMs: 1000 });
  } catch (err) {
    const logs = await container.logs().then((s) => new Promise<string>((r) => { let t = ''; s.on('data', (c: Buffer) => { t += c.toString(); }); s.on('end', () => r(t.slice(-3000))); setTimeout(() => r(t.slice(-3000)), 2000); })).catch(() => '');
    await container.stop().catch(() => undefined);
    throw new Error(`${err instanceof Error ? err.message : String(err)}\n--- container log tail ---\n${logs}`);
  }
  progress('container: ready', `${image} on 127.0.0.1:${plain}/${ssl}`);
  return { ...info, stop: async () => { await container.stop().catch(() => undefined); } };
}
