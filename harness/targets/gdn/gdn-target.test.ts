// The gdn target's machinery without a broker: "not run" without a source (fast, naming the
// variable), the configuration of both start phases, and the GDN namespace plan.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { defaultTenantFabrics, roleOf } from '../../security/principals.js';
import { TargetUnavailableError } from '../types.js';
import { gdnSourceSpec } from './gdn-nar.js';
import { gdnBrokerConf, gdnNamespacePlan, renderProperties, startGdnBroker, type GdnConfInput } from './gdn-target.js';

const input = (withKop: boolean): GdnConfInput => ({
  ports: { zookeeper: 1001, bookie: 1002, web: 1003, broker: 1004, kafkaSaslPlaintext: 1005, kafkaSaslSsl: 1006 },
  secretKeyPath: '/s/key', adminTokenPath: '/s/admin.jwt', keystorePath: '/t/ks.p12', storePassword: 'pw',
  narDir: '/p', narExtractDir: '/x', withKop,
});

describe('gdn target without a broker', () => {
  test('without GDN_KOP_SOURCE the target is "not run", decided in milliseconds, naming the variable', async () => {
    const saved = process.env.GDN_KOP_SOURCE;
    delete process.env.GDN_KOP_SOURCE;
    try {
      const t0 = Date.now();
      const err = await startGdnBroker().then(() => undefined, (e: unknown) => e);
      expect(err).toBeInstanceOf(TargetUnavailableError);
      expect((err as Error).message).toMatch(/^not run: .*set GDN_KOP_SOURCE=/);
      expect(Date.now() - t0).toBeLessThan(500);
    } finally {
      if (saved !== undefined) process.env.GDN_KOP_SOURCE = saved;
    }
  });

  test('a GDN_KOP_SOURCE that names nothing usable is "not run" with the reason in one line', () => {
    const empty = mkdtempSync(join(tmpdir(), 'gdn-src-'));
    writeFileSync(join(empty, 'README'), 'no tarball here');
    for (const value of [join(empty, 'missing'), empty]) {
      const err = (() => { try { gdnSourceSpec({ GDN_KOP_SOURCE: value }); } catch (e) { return e; } })();
      expect(err).toBeInstanceOf(TargetUnavailableError);
      expect((err as Error).message).toMatch(/^not run: gdn build from source: locate source: .*GDN_KOP_SOURCE/);
      expect((err as Error).message).not.toContain('\n');
    }
  });

  test('phase 1 runs Pulsar alone; phase 2 adds the fork with both SASL listeners on the chosen ports', () => {
    const alone = gdnBrokerConf(input(false));
    expect(alone.messagingProtocols).toBeUndefined();
    expect(alone.zookeeperServers).toBe('127.0.0.1:1001');
    expect(alone.authenticationEnabled).toBe('true');
    expect(alone.superUserRoles).toBe('kopc-admin');
    const full = gdnBrokerConf(input(true));
    expect(full.messagingProtocols).toBe('kafka');
    expect(full.kafkaListeners).toBe('SASL_PLAINTEXT://127.0.0.1:1005,SASL_SSL://127.0.0.1:1006');
    expect(full.saslAllowedMechanisms).toBe('PLAIN');
    expect(full.allowAutoTopicCreationType).toBe('partitioned');
    expect(renderProperties({ a: 'x\\y' })).toBe('a=x\\\\y\n');
  });

  test('a private proxied broker binds its SASL_PLAINTEXT listener where the shared one would and advertises the proxy port', () => {
    const c = input(true);
    const full = gdnBrokerConf({ ...c, ports: { ...c.ports, kafkaProxyAdvertised: 1007 } });
    expect(full.kafkaListeners).toBe('SASL_PLAINTEXT://127.0.0.1:1005,SASL_SSL://127.0.0.1:1006');
    expect(full.kafkaAdvertisedListeners).toBe('SASL_PLAINTEXT://127.0.0.1:1007,SASL_SSL://127.0.0.1:1006');
    // The shared broker advertises what it binds.
    expect(gdnBrokerConf(c).kafkaAdvertisedListeners).toBe(gdnBrokerConf(c).kafkaListeners);
  });

  test('each fabric namespace is granted to its own role only', () => {
    const plan = gdnNamespacePlan(defaultTenantFabrics);
    expect([...plan.keys()]).toEqual(['acme/eu', 'globex/us', 'acme/ap']);
    for (const tf of defaultTenantFabrics) expect(plan.get(`${tf.tenant}/${tf.fabric}`)).toEqual([roleOf(tf)]);
  });
});
