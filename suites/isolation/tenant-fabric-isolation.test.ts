// Isolation: what one tenant/fabric login writes, another tenant's or another fabric's login
// cannot read under the same short topic name, and cannot reach by naming it in full.
import * as allure from 'allure-js-commons';
import { expect } from 'vitest';
import type { InRecord } from '../../harness/clients/types.js';
import type { Principal } from '../../harness/targets/types.js';
import { ClientError } from '../../harness/errors/canonical.js';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';

forEachTargetAndClient('isolation', (scenario) => {
  const pairs: [string, (ps: Principal[]) => Principal | undefined][] = [
    ['other-tenant', (ps) => ps.find((p) => p.tenant !== ps[0]!.tenant)],
    ['other-fabric', (ps) => ps.find((p) => p.tenant === ps[0]!.tenant && p.fabric !== ps[0]!.fabric)],
  ];
  for (const [kind, pick] of pairs) {
    scenario(`isolation.${kind}.same-name: a login of another ${kind.replace('other-', '')} reading the same short topic name sees none of the owner's records`, async ({ target, driver, connection, names, skip }) => {
      const owner = target.principals[0]!;
      const other = pick(target.principals);
      if (!other) skip(`not applicable: target ${target.id} offers no login of another ${kind.replace('other-', '')}`);
      const protocol = target.listeners[0]!.securityProtocol;
      const mine = connection(protocol, { principal: owner });
      const theirs = connection(protocol, { principal: other });
      const topic = names.globalTopic(`iso-${kind}`);
      if (driver.capabilities.has('requires.createTopicsFirst')) {
        await driver.createTopics(mine, [{ name: topic, partitions: 1 }]);
        await driver.createTopics(theirs, [{ name: topic, partitions: 1 }]);
      }
      await driver.produce(mine, topic, [{ key: 'owner', value: `owned by ${owner.username} ${names.suffix}` }]);
      await driver.produce(theirs, topic, [{ key: 'other', value: `written by ${other!.username} ${names.suffix}` }]);
      const seen = await driver.consume(theirs, { topics: [topic], groupId: names.group(`iso-${kind}`), fromBeginning: true, count: 1, timeoutMs: 30_000 });
      expect(seen[0]?.key, `${other!.username} must see its own record first, not ${owner.username}'s`).toBe('other');
    });
  }

  scenario('isolation.fabrics.concurrent: two connections logged in to two fabrics at the same time, writing and reading one short name, each see only their own records', async ({ target, driver, spareDriver, connection, names, skip }) => {
    const one = target.principals[0]!;
    const two = target.principals.find((p) => p.tenant === one.tenant && p.fabric !== one.fabric);
    if (!two) skip(`not applicable: target ${target.id} offers no login of a second fabric`);
    const protocol = target.listeners[0]!.securityProtocol;
    const c1 = connection(protocol, { principal: one });
    const c2 = connection(protocol, { principal: two });
    // A second driver instance, so both connections are open at once (an external driver runs
    // one command at a time).
    const other = await spareDriver();
    const topic = names.globalTopic('fabrics');
    if (driver.capabilities.has('requires.createTopicsFirst')) {
      await Promise.all([driver.createTopics(c1, [{ name: topic, partitions: 1 }]), other.createTopics(c2, [{ name: topic, partitions: 1 }])]);
    }
    // Each fabric writes its first record, then both read while both write again. Were the
    // names shared, each reader's first two records would mix the fabrics.
    const writer = await spareDriver();
    await writer.produce(c1, topic, [{ key: one.username, value: `${one.fabric}-1` }]);
    await writer.produce(c2, topic, [{ key: two!.username, value: `${two!.fabric}-1` }]);
    const reads = [
      driver.consume(c1, { topics: [topic], groupId: names.group('fabric-1'), fromBeginning: true, count: 2, timeoutMs: 45_000 }),
      other.consume(c2, { topics: [topic], groupId: names.group('fabric-2'), fromBeginning: true, count: 2, timeoutMs: 45_000 }),
    ];
    const reading = Promise.allSettled(reads);
    await writer.produce(c1, topic, [{ key: one.username, value: `${one.fabric}-2` }]);
    await writer.produce(c2, topic, [{ key: two!.username, value: `${two!.fabric}-2` }]);
    const settled = await reading;
    for (const r of settled) if (r.status === 'rejected') throw r.reason;
    const [seen1, seen2] = settled.map((r) => (r as PromiseFulfilledResult<InRecord[]>).value) as [InRecord[], InRecord[]];
    expect(seen1.map((r) => r.value), `${one.username} sees only its fabric's records`).toEqual([`${one.fabric}-1`, `${one.fabric}-2`]);
    expect(seen2.map((r) => r.value), `${two!.username} sees only its fabric's records`).toEqual([`${two!.fabric}-1`, `${two!.fabric}-2`]);
  });

  scenario('isolation.other-tenant.full-name: naming another tenant\'s topic in full is refused', async ({ target, driver, connection, names, skip }) => {
    const owner = target.principals[0]!;
    const other = target.principals.find((p) => p.tenant !== owner.tenant);
    if (!other) skip(`not applicable: target ${target.id} offers no login of another tenant`);
    const protocol = target.listeners[0]!.securityProtocol;
    const topic = names.globalTopic('iso-full');
    if (driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(connection(protocol, { principal: owner }), [{ name: topic, partitions: 1 }]);
    await driver.produce(connection(protocol, { principal: owner }), topic, [{ key: 'owner', value: 'private' }]);
    const fullName = `persistent://${owner.tenant}/${owner.fabric}/${topic}`;
    const err = await driver.consume(connection(protocol, { principal: other }), { topics: [fullName], groupId: names.group('iso-full'), fromBeginning: true, count: 1, timeoutMs: 20_000 })
      .then((got) => new Error(`read ${got.length} record(s) from ${fullName}`), (e: unknown) => e);
    await allure.attachment('full-name access by another tenant', String(err instanceof ClientError ? `${err.code}: ${err.raw}` : err), 'text/plain');
    expect(err, `${other!.username} must not read ${fullName}`).toBeInstanceOf(ClientError);
    expect(['TOPIC_AUTHORIZATION_FAILED', 'INVALID_TOPIC_EXCEPTION', 'UNKNOWN_TOPIC_OR_PARTITION', 'TIMEOUT'], (err as ClientError).raw).toContain((err as ClientError).code);
  });

  scenario('isolation.other-tenant.create: a login cannot create a topic in another tenant\'s namespace, though it may in its own', async ({ target, driver, connection, names, requires, skip }) => {
    requires('admin.createTopics');
    const owner = target.principals[0]!;
    const other = target.principals.find((p) => p.tenant !== owner.tenant);
    if (!other) skip(`not applicable: target ${target.id} offers no login of another tenant`);
    const protocol = target.listeners[0]!.securityProtocol;
    // Its own tenant first: creating topics is part of what the seed's usage needs.
    const own = names.globalTopic('iso-create-own');
    await driver.createTopics(connection(protocol, { principal: owner }), [{ name: own, partitions: 1 }]);
    const foreign = `${other!.tenant}/${other!.fabric}/${names.globalTopic('iso-create')}`;
    const err = await driver.createTopics(connection(protocol, { principal: owner }), [{ name: foreign, partitions: 1 }])
      .then(() => new Error(`${owner.username} created ${foreign}`), (e: unknown) => e);
    await allure.attachment('create in another tenant', String(err instanceof ClientError ? `${err.code}: ${err.raw}` : err), 'text/plain');
    expect(err, `${owner.username} must not create ${foreign}`).toBeInstanceOf(ClientError);
    // Kafka itself refuses the name (no '/' in a topic name); a tenant-aware endpoint refuses the access.
    expect(['TOPIC_AUTHORIZATION_FAILED', 'INVALID_TOPIC_EXCEPTION'], (err as ClientError).raw).toContain((err as ClientError).code);
  });
});
