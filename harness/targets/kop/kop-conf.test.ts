// KoP's listener settings: the faults family's proxied listener is added next to the two
// existing ones (listening on one port, advertising the proxy's), and only when its ports exist.
import { describe, expect, test } from 'vitest';
import { brokerConfOverrides, type ConfInput } from './kop-target.js';
import type { TlsMaterial } from '../../security/tls.js';

const base: Omit<ConfInput, 'ports'> = {
  secretKeyPath: '/k', adminTokenPath: '/t', tls: { keystorePath: '/ks', storePassword: 'pw' } as TlsMaterial,
  narDir: '/n', narExtractDir: '/x', kafkaNamespace: 'kafka',
};

describe('KoP listeners', () => {
  test('without proxied ports: the two SASL listeners only', () => {
    const c = brokerConfOverrides({ ...base, ports: { web: 1, broker: 2, kafkaSaslPlaintext: 3, kafkaSaslSsl: 4 } });
    expect(c.kafkaListeners).toBe('kafka_sasl_plaintext://127.0.0.1:3,kafka_sasl_ssl://127.0.0.1:4');
    expect(c.kafkaAdvertisedListeners).toBe(c.kafkaListeners);
    expect(c.kafkaProtocolMap).toBe('kafka_sasl_plaintext:SASL_PLAINTEXT,kafka_sasl_ssl:SASL_SSL');
  });

  test('with proxied ports: a third SASL_PLAINTEXT listener that advertises the proxy port', () => {
    const c = brokerConfOverrides({ ...base, ports: { web: 1, broker: 2, kafkaSaslPlaintext: 3, kafkaSaslSsl: 4, kafkaProxied: 5, kafkaProxyAdvertised: 6 } });
    expect(c.kafkaListeners).toBe('kafka_sasl_plaintext://127.0.0.1:3,kafka_sasl_ssl://127.0.0.1:4,kafka_proxied://127.0.0.1:5');
    expect(c.kafkaAdvertisedListeners).toBe('kafka_sasl_plaintext://127.0.0.1:3,kafka_sasl_ssl://127.0.0.1:4,kafka_proxied://127.0.0.1:6');
    expect(c.kafkaProtocolMap).toBe('kafka_sasl_plaintext:SASL_PLAINTEXT,kafka_sasl_ssl:SASL_SSL,kafka_proxied:SASL_PLAINTEXT');
  });
});
