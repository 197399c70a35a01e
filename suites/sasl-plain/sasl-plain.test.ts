// SASL PLAIN as the GDN endpoint documents it: username `<tenant>/<fabric>`, password
// `token:<jwt>` or `token:<api key>`, on the SASL_PLAINTEXT (9092) and SASL_SSL (9093) listeners, and every way a
// login can be wrong. Where the protocol answers, a refusal must come quickly, not by timeout.
import { expect } from 'vitest';
import type { ClientDriver, Connection } from '../../harness/clients/types.js';
import { ClientError } from '../../harness/errors/canonical.js';
import type { TargetInfo } from '../../harness/targets/types.js';
import { forEachTargetAndClient, requireListener } from '../../fixtures/conformance.js';

/** A password the endpoint must refuse: same claims signed with another key, or a tampered signature. */
function wrongPassword(target: TargetInfo): string {
  const forged = target.forgedPasswords?.[0];
  if (forged) return forged;
  const real = target.principals[0]!.password;
  const last = real.at(-1) === 'A' ? 'B' : 'A';
  return real.slice(0, -4) + last.repeat(4);
}

/** Runs a login that must fail; returns its canonical code and how long the refusal took. */
async function refusedLogin(driver: ClientDriver, conn: Connection): Promise<{ code: string; raw: string; ms: number }> {
  const t0 = Date.now();
  const err = await driver.checkLogin(conn).then(() => undefined, (e: unknown) => e);
  const ms = Date.now() - t0;
  expect(err, 'the login must be refused').toBeInstanceOf(ClientError);
  return { code: (err as ClientError).code, raw: (err as ClientError).raw, ms };
}

// The protocol answers a bad login at once; anything near a client timeout means it did not.
const QUICK_MS = 4000;

forEachTargetAndClient('sasl-plain', (scenario) => {
  for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL'] as const) {
    const p = protocol.toLowerCase();
    scenario(`sasl-plain.login.${p}: a tenant/fabric login with token:<jwt> succeeds`, async ({ target, driver, connection, skip }) => {
      requireListener(target, protocol, skip);
      await expect(driver.checkLogin(connection(protocol))).resolves.toBeUndefined();
    });

    scenario(`sasl-plain.wrong-token.${p}: a token signed with another key fails with SASL_AUTHENTICATION_FAILED, quickly`, async ({ target, driver, connection, skip }) => {
      requireListener(target, protocol, skip);
      const r = await refusedLogin(driver, connection(protocol, { password: wrongPassword(target) }));
      expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
      expect(r.ms, 'refusal should come from the broker, not a timeout').toBeLessThan(QUICK_MS);
    });
  }

  for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL'] as const) {
    const p = protocol.toLowerCase();
    scenario(`sasl-plain.api-key.${p}: a tenant/fabric login with token:<api key> (the seed's KafkaJS and kafka-node form) succeeds`, async ({ target, driver, connection, skip }) => {
      requireListener(target, protocol, skip);
      const apiKey = target.principals[0]!.apiKeyPassword;
      if (!apiKey) skip(`not applicable: target ${target.id} has no API key configured (kop.apikey.password)`);
      await expect(driver.checkLogin(connection(protocol, { password: apiKey }))).resolves.toBeUndefined();
    });
  }

  scenario('sasl-plain.wrong-api-key: an API key with a wrong secret fails with SASL_AUTHENTICATION_FAILED, quickly', async ({ target, driver, connection, skip }) => {
    const apiKey = target.principals[0]!.apiKeyPassword;
    if (!apiKey) skip(`not applicable: target ${target.id} has no API key configured (kop.apikey.password)`);
    // Same tenant and key name, another secret.
    const wrong = apiKey!.replace(/[^.]+$/, (secret) => [...secret].reverse().join('') + 'x');
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { password: wrong }));
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.expired-jwt: an expired JWT fails with SASL_AUTHENTICATION_FAILED, quickly', async ({ target, driver, connection, skip }) => {
    const expired = target.expiredPasswords?.[0];
    if (!expired) skip(`not applicable: target ${target.id} cannot mint tokens (its signing key is not the suite's)`);
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { password: expired }));
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.unknown-tenant: a valid token with an unknown tenant in the username fails with SASL_AUTHENTICATION_FAILED', async ({ target, driver, connection }) => {
    const p = target.principals[0]!;
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { username: `nosuchtenant/${p.fabric}` }));
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.unknown-fabric: a valid token with an unknown fabric in the username fails with SASL_AUTHENTICATION_FAILED', async ({ target, driver, connection }) => {
    const p = target.principals[0]!;
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { username: `${p.tenant}/nosuchfabric` }));
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.no-token-prefix: the JWT without the token: prefix fails with SASL_AUTHENTICATION_FAILED', async ({ target, driver, connection }) => {
    const p = target.principals[0]!;
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { password: p.password.replace(/^token:/, '') }));
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.other-mechanism: SCRAM-SHA-256 is refused with UNSUPPORTED_SASL_MECHANISM', async ({ target, driver, connection }) => {
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { saslMechanism: 'SCRAM-SHA-256' }));
    expect(r.code, r.raw).toBe('UNSUPPORTED_SASL_MECHANISM');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.no-sasl: a client without SASL fails clearly within a bound, never hangs', async ({ target, driver, connection }) => {
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { sasl: false }));
    expect(r.code, r.raw).not.toBe('UNKNOWN');
    expect(r.ms).toBeLessThan(30_000);
  });
});
