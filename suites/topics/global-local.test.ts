// Global (`c8globals.`) and local (`c8locals.`) topics: a keyed record (with headers, where the
// client has them) goes into each and comes back intact, and neither topic holds the other's.
import { expect } from 'vitest';
import type { ProducedRecord } from '../../harness/clients/types.js';
import { acknowledged, expectDelivery } from '../../harness/util/delivery.js';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';

forEachTargetAndClient('topics', (scenario) => {
  scenario('topics.global-local.roundtrip: keyed records come back intact, each from its own topic', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    const withHeaders = driver.capabilities.has('headers');
    const globalTopic = names.globalTopic('gl');
    const localTopic = names.localTopic('gl');
    expect(globalTopic.startsWith(target.topics.globalPrefix)).toBe(true);
    expect(localTopic.startsWith(target.topics.localPrefix)).toBe(true);
    const sent = {
      [globalTopic]: { key: `key-g-${names.suffix}`, value: `value for the global topic ${names.suffix}`, headers: { origin: 'global', 'trace-id': `g-${names.suffix}` } },
      [localTopic]: { key: `key-l-${names.suffix}`, value: `value for the local topic ${names.suffix}`, headers: { origin: 'local', 'trace-id': `l-${names.suffix}` } },
    };
    if (driver.capabilities.has('requires.createTopicsFirst')) {
      await driver.createTopics(conn, Object.keys(sent).map((name) => ({ name, partitions: 1 })));
    }
    // A sentinel after each record: consuming up to it proves nothing else is in the topic.
    const sentinel = { key: 'sentinel', value: 'end' };
    const acked = new Map<string, ProducedRecord[]>();
    for (const [topic, record] of Object.entries(sent)) {
      const acks = await driver.produce(conn, topic, [withHeaders ? record : { ...record, headers: undefined }, sentinel]);
      expect(acks.map((a) => a.topic)).toEqual([topic, topic]);
      acked.set(topic, acks);
    }
    for (const [topic, record] of Object.entries(sent)) {
      const got = await driver.consume(conn, { topics: [topic], groupId: names.group(topic.split('.')[0]!), fromBeginning: true, count: 2, timeoutMs: 30_000 });
      expect(got.map((r) => r.topic)).toEqual([topic, topic]);
      // Both acknowledged records, in order, and nothing of the other topic's.
      expectDelivery(acknowledged([record, sentinel], acked.get(topic)!), got);
      expect(got[0]).toMatchObject({ key: record.key, value: record.value, ...(withHeaders ? { headers: record.headers } : {}) });
      expect(got[1]).toMatchObject({ key: 'sentinel', value: 'end' });
    }
  });
});
