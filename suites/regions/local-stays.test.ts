// regions.local-stays: records produced to a c8locals topic in region A never reach region B.
// A bounded negative wait, made meaningful twice: a c8globals record produced at the same time
// must arrive in B (replication works right now; its delay sets the window), and after the window
// a sentinel written to the same c8locals name in B must be the first record B's consumer reads
// (B's consumer works; anything replicated would sit before it), then nothing more.
import { expect } from 'vitest';
import { forEachTargetForClients } from '../../fixtures/conformance.js';
import { expectNothingMore, LOCAL_WINDOW_MAX_MS, LOCAL_WINDOW_MS, measured, NOTHING_MORE_MS, REGION_CLIENTS, REPLICATION_WAIT_MS, secs, sleep, twoRegions } from './regions.js';

forEachTargetForClients('regions', REGION_CLIENTS, (scenario) => {
  scenario('regions.local-stays: produced to c8locals in region A, never seen in region B', async ({ target, driver, connection, names, skip, task }) => {
    const { a, b, inA, inB } = twoRegions(target, connection, skip);
    const local = names.localTopic('ls');
    const global = names.globalTopic('ls');
    if (driver.capabilities.has('requires.createTopicsFirst')) {
      await driver.createTopics(inA, [{ name: local, partitions: 1 }, { name: global, partitions: 1 }]);
      await driver.createTopics(inB, [{ name: local, partitions: 1 }]);
    }
    const localRecords = [0, 1, 2].map((i) => ({ key: `local-${i}`, value: `written in ${a.name} ${names.suffix}-${i}` }));
    await driver.produce(inA, local, localRecords);
    const localAcked = Date.now();
    await driver.produce(inA, global, [{ key: 'control', value: `control ${names.suffix}` }]);
    // Control: replication from A to B works now.
    const t0 = Date.now();
    const control = await driver.consume(inB, { topics: [global], groupId: names.group('ls-ctl'), fromBeginning: true, count: 1, timeoutMs: REPLICATION_WAIT_MS });
    const delay = Date.now() - t0;
    expect(control[0]).toMatchObject({ key: 'control', value: `control ${names.suffix}` });
    const window = Math.min(LOCAL_WINDOW_MAX_MS, Math.max(LOCAL_WINDOW_MS, 3 * delay));
    measured(task, `control: a c8globals record reached ${b.name} ${secs(delay)} after its acknowledgement in ${a.name} (group join included); negative window for c8locals: ${secs(window)}`);
    await sleep(localAcked + window - Date.now());
    const sentinel = { key: 'sentinel', value: `written in ${b.name} ${names.suffix}` };
    await driver.produce(inB, local, [sentinel]);
    const group = names.group('ls-b');
    const first = await driver.consume(inB, { topics: [local], groupId: group, fromBeginning: true, count: 1, timeoutMs: 30_000 });
    const seen = first[0]!;
    if (seen.key !== sentinel.key || seen.value !== sentinel.value) {
      throw new Error(`${b.name} read ${local}/${seen.partition}@${seen.offset} ${seen.key}=${JSON.stringify(seen.value)} before its own sentinel: a record written to the c8locals topic in ${a.name} reached ${b.name}`);
    }
    await expectNothingMore(driver, inB, local, group, NOTHING_MORE_MS, `${b.name} holds records of ${local} that were written in ${a.name}`);
  });
});
