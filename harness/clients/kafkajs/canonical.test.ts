// KafkaJS errors to canonical codes: its protocol errors by their type, and a broker error code
// KafkaJS 2.2.4 has no name for (PRODUCER_FENCED, 90, from transactions) by the protocol's name.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { kafkaJsCanonical } from './kafkajs-driver.js';

const { createErrorFromCode } = createRequire(import.meta.url)('kafkajs/src/protocol/error.js') as { createErrorFromCode(code: number): Error };

describe('kafkaJsCanonical', () => {
  it('names a protocol error KafkaJS knows by its type', () => {
    expect(kafkaJsCanonical(createErrorFromCode(47))).toBe('INVALID_PRODUCER_EPOCH');
  });

  it('names a broker code KafkaJS does not know (90) by the Kafka protocol\'s name', () => {
    const err = createErrorFromCode(90);
    expect(err.message).toContain('Unknown error code 90');
    expect(kafkaJsCanonical(err)).toBe('PRODUCER_FENCED');
  });

  it('keeps an unknown code it cannot name as KafkaJS reports it', () => {
    expect(kafkaJsCanonical(createErrorFromCode(9999))).toBe('KAFKAJS_UNKNOWN_ERROR_CODE');
  });
});
