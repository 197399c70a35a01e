// SASL PLAIN as the GDN endpoint documents it: username `<tenant>/<fabric>`, password
// `token:<jwt>`, on the SASL_PLAINTEXT (9092) and SASL_SSL (9093) listeners.
import { expect } from 'vitest';
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

forEachTargetAndClient('sasl-plain', (scenario) => {
  for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL'] as const) {
    scenario(`sasl-plain.login.${protocol.toLowerCase()}: a tenant/fabric login with token:<jwt> succeeds`, async ({ target, driver, connection, skip }) => {
      requireListener(target, protocol, skip);
      await expect(driver.checkLogin(connection(protocol))).resolves.toBeUndefined();
    });

    scenario(`sasl-plain.wrong-token.${protocol.toLowerCase()}: a token signed with another key fails with SASL_AUTHENTICATION_FAILED, quickly`, async ({ target, driver, connection, skip }) => {
      requireListener(target, protocol, skip);
      const t0 = Date.now();
      const err = await driver.checkLogin(connection(protocol, { password: wrongPassword(target) })).then(
        () => undefined, (e: unknown) => e);
      const elapsed = Date.now() - t0;
      expect(err, 'login with a wrong token must be refused').toBeInstanceOf(ClientError);
      expect((err as ClientError).code, (err as ClientError).raw).toBe('SASL_AUTHENTICATION_FAILED');
      // The protocol answers a bad login at once; anything near a client timeout means it did not.
      expect(elapsed, 'refusal should come from the broker, not a timeout').toBeLessThan(4000);
    });
  }
});
