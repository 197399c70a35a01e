// Global vs local topic naming beyond one topic: one consumer subscribed to a global and a
// local topic at once (the seed's Arrays.asList("c8globals.topic-1", "c8locals.topic-2")), and
// what the endpoint does with a name that carries neither prefix (recorded either way).
import * as allure from 'allure-js-commons';
import { expect } from 'vitest';
import { ClientError } from '../../harness/errors/canonical.js';
import { acknowledged, expectDelivery } from '../../harness/util/delivery.js';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';

forEachTargetAndClient('topics', (scenario) => {
  scenario('topics.subscribe-global-and-local: one consumer subscribed to a global and a local topic receives from both', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    const g = names.globalTopic('both');
    const l = names.localTopic('both');
    if (driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(conn, [{ name: g, partitions: 1 }, { name: l, partitions: 1 }]);
    const fromGlobal = [{ key: 'g', value: `global ${names.suffix}` }];
    const fromLocal = [{ key: 'l', value: `local ${names.suffix}` }];
    const acked = [...acknowledged(fromGlobal, await driver.produce(conn, g, fromGlobal)), ...acknowledged(fromLocal, await driver.produce(conn, l, fromLocal))];
    const got = await driver.consume(conn, { topics: [g, l], groupId: names.group('both'), fromBeginning: true, count: 2, timeoutMs: 30_000 });
    // One record from each topic, in either order across the two.
    expectDelivery(acked, got);
    expect(got.map((r) => `${r.topic}=${r.value}`).sort()).toEqual([`${g}=global ${names.suffix}`, `${l}=local ${names.suffix}`].sort());
  });

  scenario('topics.unprefixed-name: a topic name without c8globals./c8locals. either round-trips or is refused with a named error (recorded)', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = `kopc-unprefixed-${names.suffix}`;
    const outcome = await (async () => {
      if (driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
      await driver.produce(conn, topic, [{ key: 'k', value: 'unprefixed' }]);
      const got = await driver.consume(conn, { topics: [topic], groupId: names.group('unprefixed'), fromBeginning: true, count: 1, timeoutMs: 20_000 });
      return got[0]?.value === 'unprefixed' ? 'accepted: the record round-tripped' : `accepted but read back ${JSON.stringify(got[0])}`;
    })().catch((e: unknown) => {
      if (e instanceof ClientError) return `refused: ${e.code}`;
      throw e;
    });
    await allure.attachment('unprefixed topic name: observed behaviour', `${target.id} × ${driver.id}: ${outcome}`, 'text/plain');
    // Either behaviour is legitimate; an unexplained one (UNKNOWN, a hang, a wrong record) is not.
    expect(outcome).toMatch(/^(accepted: the record round-tripped|refused: (?!UNKNOWN)[A-Z_]+)$/);
  });

  scenario('topics.partition-in-name: a legal Kafka topic name containing "-partition-" can be created and round-trips a record', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    // Legal in Kafka ([a-zA-Z0-9._-]); Pulsar reserves "-partition-<n>" for its partitions' own names.
    const topic = `c8globals.orders-partition-${names.suffix}`;
    if (driver.capabilities.has('admin.createTopics')) await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
    await driver.produce(conn, topic, [{ key: 'k', value: 'partition-in-name' }]);
    const got = await driver.consume(conn, { topics: [topic], groupId: names.group('partition-in-name'), fromBeginning: true, count: 1, timeoutMs: 20_000 });
    expect(got.map((r) => r.value)).toEqual(['partition-in-name']);
  });
});
