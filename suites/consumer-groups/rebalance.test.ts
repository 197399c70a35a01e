// Consumer groups with members that live across calls: two members split a topic's partitions,
// a leaving member's partitions go to the one that stays, and seek replays a partition. Each
// member runs in its own driver instance (its own process for Java and Python clients).
import * as allure from 'allure-js-commons';
import { expect } from 'vitest';
import { pollMembers, tp, type MemberState } from '../../harness/clients/sessions.js';
import type { ConsumerSession } from '../../harness/clients/types.js';
import { acknowledged, expectDelivery } from '../../harness/util/delivery.js';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';

const PARTITIONS = 4;

forEachTargetAndClient('consumer-groups', (scenario) => {
  scenario('groups.rebalance: two members split the partitions between them, and a leaving member\'s partitions are reassigned to the one that stays', async ({ target, driver, spareDriver, connection, names, requires }) => {
    requires('groups.session', 'admin.createTopics');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('rebalance');
    const group = names.group('rebalance');
    await driver.createTopics(conn, [{ name: topic, partitions: PARTITIONS }]);
    const open: ConsumerSession[] = [];
    try {
      const a = await driver.openConsumer!(conn, { topics: [topic], groupId: group, fromBeginning: true });
      open.push(a);
      await pollMembers([a], ([s]) => s!.assignment.length === PARTITIONS, 60_000);

      const second = await spareDriver();
      const b = await second.openConsumer!(conn, { topics: [topic], groupId: group, fromBeginning: true });
      open.push(b);
      const split = (ss: MemberState[]) => {
        const [x, y] = ss.map((s) => s.assignment.map(tp));
        return x!.length > 0 && y!.length > 0 && new Set([...x!, ...y!]).size === PARTITIONS && x!.length + y!.length === PARTITIONS;
      };
      const joined = await pollMembers([a, b], split, 90_000);
      await allure.attachment('assignments with two members', joined.map((s, i) => `member ${i + 1}: ${s.assignment.map(tp).join(', ')}`).join('\n'), 'text/plain');

      // One record per partition: each must reach the member that owns its partition, once.
      const records = Array.from({ length: PARTITIONS * 2 }, (_, i) => ({ key: `k${i}`, value: `v${i}-${names.suffix}`, partition: i % PARTITIONS }));
      const acks = await driver.produce(conn, topic, records);
      const got = await pollMembers([a, b], (ss) => ss.reduce((n, s) => n + s.records.length, 0) >= records.length, 60_000, 1000, joined);
      for (const s of got) {
        const owned = new Set(s.assignment.map(tp));
        for (const r of s.records) expect(owned.has(tp(r)), `record ${r.value} reached a member not owning ${tp(r)}`).toBe(true);
      }
      // Nothing lost, each partition in order, nothing unexpected; then exactly once (the split's own claim).
      expectDelivery(acknowledged(records, acks), got.flatMap((s) => s.records));
      const values = got.flatMap((s) => s.records.map((r) => r.value)).sort();
      expect(values, 'every record consumed exactly once across the two members').toEqual(records.map((r) => r.value).sort());
      await Promise.all([a.commit(), b.commit()]);

      // Member b leaves: a must own every partition again and read what is written to b's.
      const bPartitions = got[1]!.assignment.map((x) => x.partition);
      await b.close();
      open.pop();
      const alone = await pollMembers([a], ([s]) => s!.assignment.length === PARTITIONS, 60_000);
      expect(alone[0]!.assignment.map(tp).sort()).toEqual(Array.from({ length: PARTITIONS }, (_, p) => `${topic}/${p}`).sort());
      const late = bPartitions.map((partition) => ({ key: 'late', value: `late-${partition}-${names.suffix}`, partition }));
      await driver.produce(conn, topic, late);
      const after = await pollMembers([a], ([s]) => late.every((l) => s!.records.some((r) => r.value === l.value)), 60_000);
      expect(after[0]!.records.filter((r) => r.key === 'late').map((r) => r.partition).sort()).toEqual([...bPartitions].sort());
    } finally {
      await Promise.all(open.map((s) => s.close().catch(() => undefined)));
    }
  });

  scenario('groups.seek: a member that seeks back to an offset reads that partition again from there, in order', async ({ target, driver, connection, names, requires }) => {
    requires('groups.session', 'consumer.seek');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('seek');
    if (driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
    const records = Array.from({ length: 5 }, (_, i) => ({ key: `k${i}`, value: `seek-${i}-${names.suffix}` }));
    const produced = await driver.produce(conn, topic, records);
    const m = await driver.openConsumer!(conn, { topics: [topic], groupId: names.group('seek'), fromBeginning: true });
    try {
      const first = await pollMembers([m], ([s]) => s!.records.length >= records.length, 60_000);
      expect(first[0]!.records.map((r) => r.value)).toEqual(records.map((r) => r.value));
      await m.seek(topic, produced[2]!.partition, produced[2]!.offset);
      const again = await pollMembers([m], ([s]) => s!.records.length >= 3, 15_000);
      expect(again[0]!.records.map((r) => r.value), 'after seek to the third record: records 3..5 again').toEqual(records.slice(2).map((r) => r.value));
    } finally {
      await m.close();
    }
  });
});
