// A client that does not speak SASL PLAIN to the endpoint: another SASL mechanism, or no SASL at
// all. The first must be refused with UNSUPPORTED_SASL_MECHANISM, quickly; the second must fail
// clearly within a bound and never hang.
import { expect } from 'vitest';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';
import { QUICK_MS, refusedLogin } from './refused-login.js';

forEachTargetAndClient('sasl-plain', (scenario) => {
  scenario('sasl-plain.other-mechanism: SCRAM-SHA-256 is refused with UNSUPPORTED_SASL_MECHANISM', async ({ target, driver, connection }) => {
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { saslMechanism: 'SCRAM-SHA-256' }), 'UNSUPPORTED_SASL_MECHANISM');
    expect(r.code, r.raw).toBe('UNSUPPORTED_SASL_MECHANISM');
    expect(r.ms).toBeLessThan(QUICK_MS);
  });

  scenario('sasl-plain.no-sasl: a client without SASL fails clearly within a bound, never hangs', async ({ target, driver, connection }) => {
    const r = await refusedLogin(driver, connection(target.listeners[0]!.securityProtocol, { sasl: false }));
    expect(r.code, r.raw).not.toBe('UNKNOWN');
    expect(r.ms).toBeLessThan(30_000);
  });
});
