// The live target's own configuration path, checked for real: client.properties files that
// point at the embedded reference Kafka broker as if it were a remote endpoint. A good file
// passes; each kind of bad input gives one clear line on stderr and exit code 2 within seconds.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, inject, it } from 'vitest';
import { generateTls } from '../../harness/security/tls.js';
import { LIVE_CHECK_LIMITS } from '../../harness/targets/live/live-target.js';
import { freePort } from '../../harness/util/ports.js';
import { projectRoot } from '../../harness/util/paths.js';

const kafka = inject('targets').find((s) => s.id === 'kafka');
const info = kafka?.state === 'started' ? kafka.info : undefined;
const dir = mkdtempSync(join(tmpdir(), 'kopc-live-'));

function props(lines: Record<string, string>): string {
  const path = join(dir, `client-${Math.random().toString(36).slice(2)}.properties`);
  writeFileSync(path, Object.entries(lines).map(([k, v]) => `${k}=${v.replace(/\\/g, '\\\\')}`).join('\n') + '\n');
  return path;
}

function baseProps(overrides: Record<string, string> = {}): Record<string, string> {
  const ssl = info!.listeners.find((l) => l.securityProtocol === 'SASL_SSL')!;
  const p = info!.principals[0]!;
  return {
    'bootstrap.servers': `${ssl.host}:${ssl.port}`,
    'security.protocol': 'SASL_SSL',
    'sasl.mechanism': 'PLAIN',
    'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="${p.username}" password="${p.password}";`,
    'ssl.truststore.location': info!.tls.truststorePath!,
    'ssl.truststore.password': info!.tls.truststorePassword!,
    'ssl.truststore.type': 'PKCS12',
    ...overrides,
  };
}

async function check(path: string) {
  const t0 = Date.now();
  const r = await execa('npx', ['tsx', 'harness/targets/live/live-cli.ts', '--properties', path], {
    cwd: projectRoot, reject: false, timeout: 60_000, env: { npm_config_loglevel: 'error', KOPC_PROPERTIES: '' },
  });
  return { ...r, ms: Date.now() - t0 };
}

describe('live target configuration against a real broker (embedded Kafka as if remote)', () => {
  const NOT_RUN = 'not run: the embedded kafka target is not selected (KOPC_TARGETS), nothing to point the file at';
  it('accepts a correct client.properties and prints one redacted OK line', async (ctx) => {
    if (!info) ctx.skip(NOT_RUN);
    const r = await check(props(baseProps()));
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    expect(r.stdout).toMatch(/^live target OK: .* SASL_SSL, user acme\/eu, password <redacted>/);
    expect(r.stdout).not.toContain(info!.principals[0]!.password.slice(6));
  });

  const cases: [string, () => Promise<Record<string, string>> | Record<string, string>, RegExp][] = [
    ['malformed: no bootstrap.servers', () => { const b = baseProps(); delete (b as Record<string, string | undefined>)['bootstrap.servers']; return b; }, /bootstrap\.servers is missing/],
    ['malformed: unknown security.protocol', () => baseProps({ 'security.protocol': 'SASL_SSLL' }), /security\.protocol/],
    ['an unresolvable host', () => baseProps({ 'bootstrap.servers': 'no-such-gdn.invalid:9093' }), /resolve/i],
    ['a closed port', async () => baseProps({ 'bootstrap.servers': `127.0.0.1:${await freePort()}` }), /refused|nothing listens/i],
    ['wrong credentials', () => baseProps({ 'sasl.jaas.config': `org.apache.kafka.common.security.plain.PlainLoginModule required username="acme/eu" password="${info!.forgedPasswords![0]}";` }), /SASL authentication failed/i],
    ['a wrong CA', async () => {
      const other = await generateTls(join(dir, 'other-ca'), { caName: 'some other CA' });
      return baseProps({ 'ssl.truststore.location': other.truststorePath, 'ssl.truststore.password': other.storePassword });
    }, /TLS|certificate/i],
  ];
  for (const [name, make, message] of cases) {
    it(`rejects ${name} with one line and exit code 2 within seconds`, async (ctx) => {
      if (!info) ctx.skip(NOT_RUN);
      const lines = await make();
      const r = await check(props(lines));
      expect(r.exitCode, r.stdout).toBe(2);
      const errLines = r.stderr.trim().split('\n');
      expect(errLines, r.stderr).toHaveLength(1);
      expect(errLines[0]).toMatch(message);
      // No secret in the error, whatever the case.
      expect(r.stderr).not.toContain(info!.principals[0]!.password.slice(6));
      expect(r.stderr).not.toContain(info!.tls.truststorePassword!);
      // Bounded by the check's own time limits for the steps this case goes through (a truststore
      // is converted by keytool, a JVM start that took 23 s once at load 26), plus the runtime's
      // start-up. Quiet, each case answers in 1-3 s.
      const steps = LIVE_CHECK_LIMITS.dnsTimeoutMs + LIVE_CHECK_LIMITS.connectTimeoutMs + LIVE_CHECK_LIMITS.tlsTimeoutMs +
        LIVE_CHECK_LIMITS.kafkaTimeoutMs + ('ssl.truststore.location' in lines ? LIVE_CHECK_LIMITS.truststoreTimeoutMs : 0);
      expect(r.ms).toBeLessThan(steps + 10_000);
    });
  }
});
