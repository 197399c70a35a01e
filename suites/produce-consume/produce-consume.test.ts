// Produce/consume: order within a partition, key → partition stability, null vs empty values,
// the size limit on both sides of it, compression codecs, acks levels, the idempotent producer
// and producer timestamps. "No loss": every acknowledged record is consumed, judged by the one
// delivery checker (harness/util/delivery.ts): loss and reordering fail; duplicates fail only
// with idempotence on, and are otherwise recorded on the cell.
import { expect } from 'vitest';
import { acknowledged, expectDelivery } from '../../harness/util/delivery.js';
import type { ClientDriver, Compression, Connection, OutRecord } from '../../harness/clients/types.js';
import { ClientError } from '../../harness/errors/canonical.js';
import { forEachTargetAndClient, type Names } from '../../fixtures/conformance.js';

async function topicFor(driver: ClientDriver, conn: Connection, names: Names, base: string, partitions = 1): Promise<string> {
  const topic = names.globalTopic(base);
  if (partitions > 1 || driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(conn, [{ name: topic, partitions }]);
  return topic;
}

async function roundTrip(driver: ClientDriver, conn: Connection, topic: string, group: string, records: OutRecord[]) {
  return await driver.consume(conn, { topics: [topic], groupId: group, fromBeginning: true, count: records.length, timeoutMs: 30_000 });
}

forEachTargetAndClient('produce-consume', (scenario) => {
  scenario('produce.batch-order: a batch of 50 records is consumed complete and in order', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = await topicFor(driver, conn, names, 'order');
    const records = Array.from({ length: 50 }, (_, i) => ({ key: `k-${i % 5}`, value: `v-${String(i).padStart(3, '0')}` }));
    const acks = await driver.produce(conn, topic, records);
    const offsets = acks.map((a) => BigInt(a.offset));
    expect(offsets.every((o, i) => i === 0 || o > offsets[i - 1]!), 'acknowledged offsets increase').toBe(true);
    const got = await roundTrip(driver, conn, topic, names.group('order'), records);
    expectDelivery(acknowledged(records, acks), got);
  });

  scenario('produce.key-partition-stable: on a 4-partition topic every record of one key lands in one partition', async ({ target, driver, connection, names, requires }) => {
    requires('admin.createTopics');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = await topicFor(driver, conn, names, 'keys', 4);
    const keys = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot'];
    const records = [0, 1, 2].flatMap((round) => keys.map((k) => ({ key: k, value: `${k}-${round}` })));
    const acks = await driver.produce(conn, topic, records);
    const byKey = new Map<string, Set<number>>();
    acks.forEach((a, i) => byKey.set(records[i]!.key, (byKey.get(records[i]!.key) ?? new Set()).add(a.partition)));
    for (const [k, parts] of byKey) expect([...parts], `key ${k}`).toHaveLength(1);
    const got = await roundTrip(driver, conn, topic, names.group('keys'), records);
    // Nothing lost, each partition in send order (so each key in order); replays are allowed.
    expectDelivery(acknowledged(records, acks), got);
    for (const k of keys) {
      const mine = got.filter((r) => r.key === k);
      expect([...new Set(mine.map((r) => r.value))], `per-key order of ${k}`).toEqual([0, 1, 2].map((n) => `${k}-${n}`));
      expect(new Set(mine.map((r) => r.partition)).size).toBe(1);
    }
  });

  scenario('produce.null-and-empty: a null value and an empty value stay distinct', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = await topicFor(driver, conn, names, 'nulls');
    const records: OutRecord[] = [{ key: 'null', value: null }, { key: 'empty', value: '' }, { key: 'after', value: 'x' }];
    const acks = await driver.produce(conn, topic, records);
    const got = await roundTrip(driver, conn, topic, names.group('nulls'), records);
    // The checker compares key and value exactly: null and '' are different records.
    expectDelivery(acknowledged(records, acks), got);
    expect([...new Map(got.map((r) => [r.offset, [r.key, r.value]])).values()]).toEqual([['null', null], ['empty', ''], ['after', 'x']]);
  });

  scenario('produce.size-limit: a 900 kB record passes and a 6 MB record fails with RECORD_TOO_LARGE or MESSAGE_TOO_LARGE', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = await topicFor(driver, conn, names, 'size');
    const near = 'n'.repeat(900_000);
    const nearAck = await driver.produce(conn, topic, [{ key: 'near', value: near }]);
    const got = await roundTrip(driver, conn, topic, names.group('size'), [{ key: 'near', value: near }]);
    expectDelivery(acknowledged([{ key: 'near', value: near }], nearAck), got);
    const err = await driver.produce(conn, topic, [{ key: 'over', value: 'o'.repeat(6_000_000) }]).then(() => undefined, (e: unknown) => e);
    expect(err, 'a 6 MB record must be refused').toBeInstanceOf(ClientError);
    expect(['RECORD_TOO_LARGE', 'MESSAGE_TOO_LARGE'], (err as ClientError).raw).toContain((err as ClientError).code);
  });

  for (const codec of ['gzip', 'snappy', 'lz4', 'zstd'] as const satisfies readonly Compression[]) {
    scenario(`produce.compression.${codec}: records compressed with ${codec} come back intact`, async ({ target, driver, connection, names, requires }) => {
      requires(`compression.${codec}`);
      const conn = connection(target.listeners[0]!.securityProtocol);
      const topic = await topicFor(driver, conn, names, `c-${codec}`);
      const records = Array.from({ length: 10 }, (_, i) => ({ key: `k${i}`, value: `${codec} `.repeat(200) + i }));
      const acks = await driver.produce(conn, topic, records, { compression: codec });
      const got = await roundTrip(driver, conn, topic, names.group(codec), records);
      expectDelivery(acknowledged(records, acks), got);
    });
  }

  for (const acks of [0, 1, -1] as const) {
    const label = acks === -1 ? 'all' : String(acks);
    scenario(`produce.acks.${label}: records sent with acks=${label} are all consumed`, async ({ target, driver, connection, names, requires }) => {
      requires('produce.acks');
      const conn = connection(target.listeners[0]!.securityProtocol);
      const topic = await topicFor(driver, conn, names, `acks-${label}`);
      const records = Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `acks-${label}-${i}` }));
      const sent = await driver.produce(conn, topic, records, { acks });
      const got = await roundTrip(driver, conn, topic, names.group(`acks${label}`), records);
      // acks=0 acknowledges no offset: the checker matches those records by content, order included.
      expectDelivery(acknowledged(records, sent), got);
    });
  }

  scenario('produce.idempotent: an idempotent producer\'s records arrive exactly once, in order', async ({ target, driver, connection, names, requires }) => {
    requires('produce.idempotent');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = await topicFor(driver, conn, names, 'idem');
    const records = Array.from({ length: 20 }, (_, i) => ({ key: 'same', value: `idem-${i}` }));
    const acks = await driver.produce(conn, topic, records, { idempotent: true, acks: -1 });
    // One more than produced would be a duplicate: ask for exactly the count, then a sentinel.
    const sentinel = [{ key: 'sentinel', value: 'end' }];
    const sentinelAck = await driver.produce(conn, topic, sentinel);
    const got = await roundTrip(driver, conn, topic, names.group('idem'), [...records, ...sentinel]);
    // Idempotence on: a duplicate is a failure.
    expectDelivery([...acknowledged(records, acks), ...acknowledged(sentinel, sentinelAck)], got, { idempotent: true });
    expect(got.map((r) => r.value)).toEqual([...records.map((r) => r.value), 'end']);
  });

  scenario('produce.timestamps: a producer-set timestamp is read back unchanged', async ({ target, driver, connection, names, requires }) => {
    requires('timestamps');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = await topicFor(driver, conn, names, 'ts');
    const ts = String(Date.now() - 3_600_000);
    await driver.produce(conn, topic, [{ key: 'ts', value: 'stamped', timestamp: ts }]);
    const got = await roundTrip(driver, conn, topic, names.group('ts'), [{ key: 'ts', value: 'stamped' }]);
    expect(got[0]!.timestamp).toBe(ts);
  });
});
