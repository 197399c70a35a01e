// Consumer groups and commits: a consumer restarted in the same group resumes from the
// committed offset with nothing skipped and nothing redelivered beyond the last commit, for
// each commit style the seed shows (the Java example's commitSync/commitAsync, the Python
// example's auto-commit); auto.offset.reset earliest vs latest for a new group.
import { expect } from 'vitest';
import type { ClientDriver, CommitMode, Connection, OutRecord } from '../../harness/clients/types.js';
import { createKafkaJsDriver } from '../../harness/clients/kafkajs/kafkajs-driver.js';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';
import { firstDeliveries } from '../../harness/util/delivery.js';
import type { Names } from '../../fixtures/conformance.js';

async function seeded(driver: ClientDriver, conn: Connection, topic: string, n: number, tag: string): Promise<OutRecord[]> {
  const records = Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: `${tag}-${i}` }));
  if (driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(conn, [{ name: topic, partitions: 1 }]);
  await driver.produce(conn, topic, records);
  return records;
}

async function resumeCheck(driver: ClientDriver, conn: Connection, names: Names, mode: CommitMode): Promise<void> {
  const topic = names.globalTopic(`resume-${mode}`);
  const group = names.group(`resume-${mode}`);
  const records = await seeded(driver, conn, topic, 6, names.suffix);
  // Each member's reads are judged by the first delivery of each record: a member that lost its
  // membership within a consume reads again from the last commit (at-least-once, recorded on the
  // cell). What was committed before a member started must never come again.
  const first = firstDeliveries(await driver.consume(conn, { topics: [topic], groupId: group, fromBeginning: true, count: 3, timeoutMs: 30_000, commit: mode }));
  expect(first.map((r) => r.value)).toEqual(records.slice(0, 3).map((r) => r.value));
  const second = firstDeliveries(await driver.consume(conn, { topics: [topic], groupId: group, fromBeginning: true, count: 3, timeoutMs: 30_000, commit: mode }));
  // Committed after record 3: the restarted member starts at record 4, exactly.
  expect(second.map((r) => r.value), 'resumed from the committed offset: nothing skipped, nothing redelivered').toEqual(records.slice(3, 6).map((r) => r.value));
}

forEachTargetAndClient('consumer-groups', (scenario) => {
  scenario('groups.commit-sync.resume: after a synchronous commit a restarted member resumes exactly at the committed offset', async ({ target, driver, connection, names, requires }) => {
    requires('groups.commit');
    await resumeCheck(driver, connection(target.listeners[0]!.securityProtocol), names, 'sync');
  });

  scenario('groups.commit-async.resume: after commitAsync (the Java example\'s loop) a restarted member resumes exactly at the committed offset', async ({ target, driver, connection, names, requires }) => {
    requires('groups.commit', 'commit.async');
    await resumeCheck(driver, connection(target.listeners[0]!.securityProtocol), names, 'async');
  });

  scenario('groups.auto-commit.resume: with auto-commit (the Python example) a restarted member loses nothing and repeats nothing it committed', async ({ target, driver, connection, names, requires }) => {
    requires('commit.auto');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('resume-auto');
    const group = names.group('resume-auto');
    const records = await seeded(driver, conn, topic, 6, names.suffix);
    const first = firstDeliveries(await driver.consume(conn, { topics: [topic], groupId: group, fromBeginning: true, count: 3, timeoutMs: 30_000, commit: 'auto' }));
    const second = firstDeliveries(await driver.consume(conn, { topics: [topic], groupId: group, fromBeginning: true, count: 6 - 3, timeoutMs: 30_000, commit: 'auto' }));
    // Auto-commit may lag, so the second member may see some of the first three again, but it
    // must start no later than record 4 (nothing skipped) and read in order.
    const values = records.map((r) => r.value);
    expect(first.map((r) => r.value)).toEqual(values.slice(0, 3));
    const startsAt = values.indexOf(second[0]!.value);
    expect(startsAt, 'nothing skipped').toBeGreaterThanOrEqual(0);
    expect(startsAt, 'nothing skipped').toBeLessThanOrEqual(3);
    expect(second.map((r) => r.value)).toEqual(values.slice(startsAt, startsAt + second.length));
  });

  scenario('groups.offset-reset.earliest: a new group with earliest reads the topic from its first record', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('earliest');
    const records = await seeded(driver, conn, topic, 3, names.suffix);
    const got = firstDeliveries(await driver.consume(conn, { topics: [topic], groupId: names.group('earliest'), fromBeginning: true, count: 3, timeoutMs: 30_000 }));
    expect(got.map((r) => r.value)).toEqual(records.map((r) => r.value));
  });

  scenario('groups.offset-reset.latest: a new group with latest sees only records produced after it joined', async ({ target, driver, connection, names }) => {
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('latest');
    await seeded(driver, conn, topic, 3, 'early');
    const consuming = driver.consume(conn, { topics: [topic], groupId: names.group('latest'), fromBeginning: false, count: 1, timeoutMs: 45_000 });
    let done = false;
    void consuming.finally(() => { done = true; }).catch(() => undefined);
    // The member's join time is not observable through every client: keep producing late
    // records (bounded) until it has taken one. A second, in-process producer does that, since
    // an external driver runs one command at a time and is busy consuming.
    const late = createKafkaJsDriver();
    try {
      for (let i = 0; i < 40 && !done; i++) {
        await late.produce(conn, topic, [{ key: 'late', value: `late-${i}` }]);
        await new Promise((r) => setTimeout(r, 1000));
      }
    } finally {
      await late.close();
    }
    const got = await consuming;
    expect(got[0]!.value, 'a latest member must not see records from before it joined').toMatch(/^late-/);
  });
});
