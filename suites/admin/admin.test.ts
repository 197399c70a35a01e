// Admin through each client's own admin API: create (the kafka-node flow), list, metadata,
// delete, describe configs, and a group's state and committed offsets as admin sees them.
import { expect } from 'vitest';
import { pollMembers } from '../../harness/clients/sessions.js';
import { pollUntil } from '../../harness/util/wait.js';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';

/** Retries `fn` until it returns a value (not undefined), within `ms`; its last error is kept. */
const until = <T>(what: string, ms: number, fn: () => Promise<T | undefined>): Promise<T> =>
  pollUntil(what, async () => {
    const v = await fn();
    if (v === undefined) throw new Error(`not yet: ${what}`);
    return v;
  }, { timeoutMs: ms, intervalMs: 1000 });

forEachTargetAndClient('admin', (scenario) => {
  scenario('admin.create-list-describe: a created topic is listed and its metadata shows the partition count asked for', async ({ target, driver, connection, names, requires }) => {
    requires('admin.createTopics', 'admin.listTopics', 'admin.describeTopics');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const global = names.globalTopic('admin');
    const local = names.localTopic('admin');
    await driver.createTopics(conn, [{ name: global, partitions: 3 }, { name: local, partitions: 2 }]);
    const listed = await until('created topics listed', 20_000, async () => {
      const all = await driver.listTopics!(conn);
      return [global, local].every((t) => all.includes(t)) ? all : undefined;
    });
    expect(listed).toEqual(expect.arrayContaining([global, local]));
    expect(await driver.describeTopics!(conn, [global, local])).toEqual([{ name: global, partitions: 3 }, { name: local, partitions: 2 }]);
  });

  scenario('admin.delete: a deleted topic disappears from the topic list', async ({ target, driver, connection, names, requires }) => {
    requires('admin.createTopics', 'admin.deleteTopics', 'admin.listTopics');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('doomed');
    await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
    await until('created topic listed', 20_000, async () => ((await driver.listTopics!(conn)).includes(topic) ? true : undefined));
    await driver.deleteTopics!(conn, [topic]);
    await until('deleted topic gone from the list', 30_000, async () => ((await driver.listTopics!(conn)).includes(topic) ? undefined : true));
  });

  scenario('admin.describe-configs: a topic\'s configuration is readable and names its cleanup policy and retention', async ({ target, driver, connection, names, requires }) => {
    requires('admin.createTopics', 'admin.describeConfigs');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('configs');
    await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
    const configs = await driver.describeTopicConfig!(conn, topic);
    expect(Object.keys(configs)).toEqual(expect.arrayContaining(['cleanup.policy', 'retention.ms']));
    expect(configs['cleanup.policy']).toMatch(/delete|compact/);
  });

  scenario('admin.group-offsets: after a member commits and leaves, admin lists the group, describes it as Empty and shows its committed offset', async ({ target, driver, connection, names, requires }) => {
    requires('groups.commit', 'admin.groups', 'admin.committedOffsets');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('grp');
    const group = names.group('admin');
    if (driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
    const produced = await driver.produce(conn, topic, [1, 2, 3].map((i) => ({ key: `k${i}`, value: `v${i}` })));
    await driver.consume(conn, { topics: [topic], groupId: group, fromBeginning: true, count: 2, timeoutMs: 30_000, commit: 'sync' });
    expect(await driver.listGroups!(conn)).toContain(group);
    const d = await until('group Empty after its member left', 20_000, async () => {
      const g = await driver.describeGroup!(conn, group);
      return g.state === 'Empty' ? g : undefined;
    });
    expect(d).toEqual({ groupId: group, state: 'Empty', members: 0 });
    // Two records consumed and committed: the committed offset is the third record's.
    expect(await driver.committedOffsets!(conn, group)).toEqual([{ topic, partition: produced[2]!.partition, offset: produced[2]!.offset }]);
  });

  scenario('admin.group-active: while a member is in the group, admin describes it as Stable with one member', async ({ target, driver, connection, names, requires }) => {
    requires('groups.session', 'admin.groups');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('active');
    const group = names.group('active');
    if (driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
    await driver.produce(conn, topic, [{ key: 'k', value: 'v' }]);
    const m = await driver.openConsumer!(conn, { topics: [topic], groupId: group, fromBeginning: true });
    try {
      await pollMembers([m], ([s]) => s!.assignment.length === 1, 60_000);
      const d = await until('group Stable', 20_000, async () => {
        const g = await driver.describeGroup!(conn, group);
        return g.state === 'Stable' ? g : undefined;
      });
      expect(d).toEqual({ groupId: group, state: 'Stable', members: 1 });
    } finally {
      await m.close();
    }
  });
});
