// SASL PLAIN with the right username and a wrong password: another key's signature, a wrong
// API-key secret, an expired JWT, the JWT without its `token:` prefix. Where the protocol answers,
// a refusal must come quickly, not by timeout.
import { expect } from 'vitest';
import { forEachTargetAndClient, requireListener } from '../../fixtures/conformance.js';
import { QUICK_MS, refusedLogin, wrongPassword } from './refused-login.js';

forEachTargetAndClient('sasl-plain', (scenario) => {
  for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL'] as const) {
    const p = protocol.toLowerCase();
    scenario(`sasl-plain.wrong-token.${p}: a token signed with another key fails with SASL_AUTHENTICATION_FAILED, quickly`, async ({ target, driver, connection, skip }) => {
      requireListener(target, protocol, skip);
      const r = await refusedLogin(driver, connection(protocol, { password: wrongPassword(target) }), 'SASL_AUTHENTICATION_FAILED');
      expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
      expect(r.ms, 'refusal should come from the broker, not a timeout').toBeLessThan(QUICK_MS);
    });
  }

  scenario('sasl-plain.wrong-api-key: an API key with a wrong secret fails with SASL_AUTHENTICATION_FAILED, quickly', async ({ target, driver, connection, skip }) => {
    const apiKey = target.principals[0]!.apiKeyPassword;
    if (!apiKey) skip(`not applicable: target ${target.id} has no API key configured (kop.apikey.password)`);
    // Same tenant and key name, another secret.
    const wrong = apiKey!.replace(/[^.]+$/, (secret) => [...secret].reverse().join('') + 'x');
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { password: wrong }), 'SASL_AUTHENTICATION_FAILED');
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.expired-jwt: an expired JWT fails with SASL_AUTHENTICATION_FAILED, quickly', async ({ target, driver, connection, skip }) => {
    const expired = target.expiredPasswords?.[0];
    if (!expired) skip(`not applicable: target ${target.id} cannot mint tokens (its signing key is not the suite's)`);
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { password: expired }), 'SASL_AUTHENTICATION_FAILED');
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.no-token-prefix: the JWT without the token: prefix fails with SASL_AUTHENTICATION_FAILED', async ({ target, driver, connection }) => {
    const p = target.principals[0]!;
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { password: p.password.replace(/^token:/, '') }), 'SASL_AUTHENTICATION_FAILED');
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });
});
