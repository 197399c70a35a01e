// SSL: the SASL_SSL listener verified against the endpoint's CA, verification turned off the
// way the seed does it for each client, and every way TLS must fail: wrong host name, wrong CA,
// and plaintext/TLS clients on each other's ports (fast, with a clear error, never a hang).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';
import { ClientError } from '../../harness/errors/canonical.js';
import { generateTls } from '../../harness/security/tls.js';
import { forEachTargetAndClient, requireListener } from '../../fixtures/conformance.js';

let otherCa: Promise<string> | undefined;
/** A CA that signed nothing the endpoint presents (made once per file). */
function unrelatedCaPem(): Promise<string> {
  otherCa ??= generateTls(join(mkdtempSync(join(tmpdir(), 'kopc-otherca-')), 'tls'), { caName: 'unrelated CA' }).then((m) => m.caPemPath);
  return otherCa;
}

async function failure(p: Promise<unknown>): Promise<{ code: string; raw: string; ms: number }> {
  const t0 = Date.now();
  const err = await p.then(() => undefined, (e: unknown) => e);
  expect(err, 'the connection must fail').toBeInstanceOf(ClientError);
  return { code: (err as ClientError).code, raw: (err as ClientError).raw, ms: Date.now() - t0 };
}

forEachTargetAndClient('ssl', (scenario) => {
  scenario('ssl.ca-verified: SASL_SSL with the endpoint CA verified logs in', async ({ target, driver, connection, skip }) => {
    requireListener(target, 'SASL_SSL', skip);
    await expect(driver.checkLogin(connection('SASL_SSL', { verifyTls: true }))).resolves.toBeUndefined();
  });

  scenario('ssl.verification-off: verification turned off the way the seed does it for this client logs in', async ({ target, driver, connection, skip }) => {
    requireListener(target, 'SASL_SSL', skip);
    // No CA at all: only a client that really skips verification can log in.
    await expect(driver.checkLogin(connection('SASL_SSL', { verifyTls: false }))).resolves.toBeUndefined();
  });

  scenario('ssl.hostname-mismatch: hostname verification against a certificate without that host fails the TLS handshake', async ({ target, driver, connection, requires, skip }) => {
    requireListener(target, 'SASL_SSL', skip);
    requires('tls.serverName');
    const r = await failure(driver.checkLogin(connection('SASL_SSL', { verifyTls: true, tlsServerName: 'gdn.wrong-host.invalid' })));
    expect(r.code, r.raw).toBe('TLS_HANDSHAKE_FAILED');
    expect(r.ms).toBeLessThan(10_000);
  });

  scenario('ssl.wrong-ca: a CA that did not sign the endpoint certificate fails the TLS handshake', async ({ target, driver, connection, skip }) => {
    requireListener(target, 'SASL_SSL', skip);
    const r = await failure(driver.checkLogin(connection('SASL_SSL', { verifyTls: true, caPemPath: await unrelatedCaPem() })));
    expect(r.code, r.raw).toBe('TLS_HANDSHAKE_FAILED');
    expect(r.ms).toBeLessThan(10_000);
  });

  scenario('ssl.plaintext-on-tls-port: a SASL_PLAINTEXT client on the TLS port fails fast with a clear error', async ({ target, driver, connection, skip }) => {
    requireListener(target, 'SASL_SSL', skip);
    requireListener(target, 'SASL_PLAINTEXT', skip);
    const r = await failure(driver.checkLogin(connection('SASL_PLAINTEXT', { listener: 'SASL_SSL' })));
    expect(r.code, r.raw).not.toBe('UNKNOWN');
    expect(r.ms).toBeLessThan(30_000);
  });

  scenario('ssl.tls-on-plaintext-port: a SASL_SSL client on the plaintext port fails fast with a TLS error', async ({ target, driver, connection, skip }) => {
    requireListener(target, 'SASL_SSL', skip);
    requireListener(target, 'SASL_PLAINTEXT', skip);
    const r = await failure(driver.checkLogin(connection('SASL_SSL', { listener: 'SASL_PLAINTEXT' })));
    expect(['TLS_HANDSHAKE_FAILED', 'CONNECTION_CLOSED', 'TIMEOUT'], r.raw).toContain(r.code);
    expect(r.ms).toBeLessThan(30_000);
  });
});
