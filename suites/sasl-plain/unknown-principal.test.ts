// SASL PLAIN with a valid token and a username naming a tenant or a fabric that does not exist:
// the endpoint must refuse the login, quickly.
import { expect } from 'vitest';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';
import { QUICK_MS, refusedLogin } from './refused-login.js';

forEachTargetAndClient('sasl-plain', (scenario) => {
  scenario('sasl-plain.unknown-tenant: a valid token with an unknown tenant in the username fails with SASL_AUTHENTICATION_FAILED', async ({ target, driver, connection }) => {
    const p = target.principals[0]!;
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { username: `nosuchtenant/${p.fabric}` }), 'SASL_AUTHENTICATION_FAILED');
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.unknown-fabric: a valid token with an unknown fabric in the username fails with SASL_AUTHENTICATION_FAILED', async ({ target, driver, connection }) => {
    const p = target.principals[0]!;
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { username: `${p.tenant}/nosuchfabric` }), 'SASL_AUTHENTICATION_FAILED');
    expect(r.code, r.raw).toBe('SASL_AUTHENTICATION_FAILED');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });
});
