import { describe, expect, it } from 'vitest';
import type { Connection } from '../types.js';
import type { TargetInfo } from '../../targets/types.js';
import { findFluentBit, fluentBitFailure, fluentBitUnavailable, rdkafkaProperties } from './fluent-bit-driver.js';

const target: TargetInfo = {
  id: 't', description: 't', logFiles: [],
  listeners: [{ securityProtocol: 'SASL_SSL', host: '127.0.0.1', port: 9093 }],
  principals: [{ tenant: 'acme', fabric: 'eu', username: 'acme/eu', password: 'token:x.y.z' }],
  tls: { caPemPath: '/tmp/ca.pem', verify: true },
  topics: { globalPrefix: 'c8globals.', localPrefix: 'c8locals.' },
};
const conn: Connection = { target, protocol: 'SASL_SSL', principal: target.principals[0]! };

describe('fluent-bit driver', () => {
  it('writes the rdkafka SASL/SSL properties the seed documents', () => {
    expect(rdkafkaProperties(conn)).toEqual({
      'rdkafka.security.protocol': 'SASL_SSL',
      'rdkafka.sasl.mechanism': 'PLAIN',
      'rdkafka.sasl.username': 'acme/eu',
      'rdkafka.sasl.password': 'token:x.y.z',
      'rdkafka.ssl.ca.location': '/tmp/ca.pem',
      'rdkafka.enable.ssl.certificate.verification': 'true',
      'rdkafka.ssl.endpoint.identification.algorithm': 'https',
    });
    expect(rdkafkaProperties({ ...conn, verifyTls: false })['rdkafka.enable.ssl.certificate.verification']).toBe('false');
    expect(rdkafkaProperties({ ...conn, protocol: 'SASL_PLAINTEXT' })).not.toHaveProperty('rdkafka.ssl.ca.location');
  });

  it('maps librdkafka failures in Fluent Bit logs to canonical codes', () => {
    expect(fluentBitFailure('[error] [output:kafka:kafka.0] fluent-bit#producer-1: SASL authentication error: Authentication failed')).toBe('SASL_AUTHENTICATION_FAILED');
    expect(fluentBitFailure('[error] ... SSL handshake failed: error:0A000086:SSL routines::certificate verify failed')).toBe('TLS_HANDSHAKE_FAILED');
    expect(fluentBitFailure('[info] started')).toBeUndefined();
  });

  it('says "not run: fluent-bit not installed" when the binary is absent, never pretends', () => {
    const installed = findFluentBit();
    if (installed) expect(fluentBitUnavailable()).toBeUndefined();
    else expect(fluentBitUnavailable()).toMatch(/^not run: fluent-bit not installed/);
    expect(findFluentBit({ PATH: '/nonexistent', FLUENT_BIT_BIN: '/nonexistent/fluent-bit' })).toBe(existsDefault() ? '/opt/fluent-bit/bin/fluent-bit' : undefined);
  });
});

function existsDefault(): boolean {
  return findFluentBit({ PATH: '' }) === '/opt/fluent-bit/bin/fluent-bit';
}
