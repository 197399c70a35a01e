// Cross-client: records produced by one client and consumed by another (a client with itself
// included) through a consumer group arrive with identical key bytes, value bytes, headers,
// partition and offsets, in order.
import { expect } from 'vitest';
import type { OutRecord } from '../../harness/clients/types.js';
import { acknowledged, expectDelivery } from '../../harness/util/delivery.js';
import { forEachTargetAndClientPair } from '../../fixtures/conformance.js';

forEachTargetAndClientPair('cross-client', (scenario) => {
  scenario('cross-client.roundtrip: string keys, JSON and String values, headers and a null value survive the client change', async ({ target, pair, connection, names }) => {
    const { producer, consumer } = pair;
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('xc');
    const withHeaders = producer.capabilities.has('headers') && consumer.capabilities.has('headers');
    const records: OutRecord[] = [
      // The Java example's String values.
      { key: `order-${names.suffix}`, value: 'plain String value, ünïcødé ✓' },
      // The Python example's JSON values, as json.dumps writes them.
      { key: `json-${names.suffix}`, value: JSON.stringify({ number: 0 }).replace(':', ': ') },
      { key: `json-${names.suffix}`, value: '{"number": 1}' },
      ...(withHeaders ? [{ key: `hdr-${names.suffix}`, value: 'with headers', headers: { 'content-type': 'application/json', 'x-trace': names.suffix } }] : []),
      // A tombstone: a key with a null value.
      { key: `tombstone-${names.suffix}`, value: null },
    ];
    if (producer.capabilities.has('requires.createTopicsFirst') || consumer.capabilities.has('requires.createTopicsFirst')) {
      const creator = producer.capabilities.has('admin.createTopics') ? producer : consumer;
      await creator.createTopics(conn, [{ name: topic, partitions: 1 }]);
    }
    const acks = await producer.produce(conn, topic, records);
    expect(acks).toHaveLength(records.length);
    const got = await consumer.consume(conn, { topics: [topic], groupId: names.group('xc'), fromBeginning: true, count: records.length, timeoutMs: 30_000 });
    // Each acknowledged (partition, offset) consumed with the same key and value bytes, in order.
    expectDelivery(acknowledged(records, acks), got);
    if (withHeaders) {
      const firstReads = [...new Map(got.map((r) => [`${r.partition}@${r.offset}`, r])).values()];
      expect(firstReads.map((r) => r.headers)).toEqual(records.map((r) => r.headers ?? {}));
    }
  });
});
