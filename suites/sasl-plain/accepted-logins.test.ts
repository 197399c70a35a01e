// SASL PLAIN as the GDN endpoint documents it: username `<tenant>/<fabric>`, password
// `token:<jwt>` or `token:<api key>`, on the SASL_PLAINTEXT (9092) and SASL_SSL (9093) listeners.
// The logins that must succeed; the ways a login can be wrong are in this folder's other files.
import { expect } from 'vitest';
import { forEachTargetAndClient, requireListener } from '../../fixtures/conformance.js';

forEachTargetAndClient('sasl-plain', (scenario) => {
  for (const protocol of ['SASL_PLAINTEXT', 'SASL_SSL'] as const) {
    const p = protocol.toLowerCase();
    scenario(`sasl-plain.login.${p}: a tenant/fabric login with token:<jwt> succeeds`, async ({ target, driver, connection, skip }) => {
      requireListener(target, protocol, skip);
      await expect(driver.checkLogin(connection(protocol))).resolves.toBeUndefined();
    });

    scenario(`sasl-plain.api-key.${p}: a tenant/fabric login with token:<api key> (the seed's KafkaJS and kafka-node form) succeeds`, async ({ target, driver, connection, skip }) => {
      requireListener(target, protocol, skip);
      const apiKey = target.principals[0]!.apiKeyPassword;
      if (!apiKey) skip(`not applicable: target ${target.id} has no API key configured (kop.apikey.password)`);
      await expect(driver.checkLogin(connection(protocol, { password: apiKey }))).resolves.toBeUndefined();
    });
  }
});
