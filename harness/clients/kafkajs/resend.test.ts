// KafkaJS sends refused with a retriable "not written" error are sent again, twice at most, and
// each re-send is recorded for the cell; any other error is thrown at once.
import { describe, expect, it } from 'vitest';
import { ClientError } from '../../errors/canonical.js';
import { takeRetries } from '../../util/retry-log.js';
import { sendWithResend } from './kafkajs-driver.js';

const refuse = (code: string) => new ClientError(code, `producer.send: ${code} from the broker`, 'kafkajs');

describe('KafkaJS re-send', () => {
  it('sends again after UNKNOWN_TOPIC_OR_PARTITION and records each re-send', async () => {
    takeRetries();
    let calls = 0;
    const got = await sendWithResend('t1', async () => {
      calls++;
      if (calls < 3) throw refuse('UNKNOWN_TOPIC_OR_PARTITION');
      return 'acked';
    }, [1, 1]);
    expect(got).toBe('acked');
    expect(calls).toBe(3);
    const retries = takeRetries();
    expect(retries).toHaveLength(2);
    expect(retries[0]).toMatch(/^UNKNOWN_TOPIC_OR_PARTITION: KafkaJS send to t1 sent again/);
  });

  it('gives up after two re-sends with the error seen', async () => {
    takeRetries();
    let calls = 0;
    await expect(sendWithResend('t2', async () => { calls++; throw refuse('LEADER_NOT_AVAILABLE'); }, [1, 1])).rejects.toMatchObject({ code: 'LEADER_NOT_AVAILABLE' });
    expect(calls).toBe(3);
    expect(takeRetries()).toHaveLength(2);
  });

  it('throws any other error at once, without a retry', async () => {
    takeRetries();
    let calls = 0;
    await expect(sendWithResend('t3', async () => { calls++; throw refuse('SASL_AUTHENTICATION_FAILED'); }, [1, 1])).rejects.toMatchObject({ code: 'SASL_AUTHENTICATION_FAILED' });
    expect(calls).toBe(1);
    expect(takeRetries()).toEqual([]);
  });
});
