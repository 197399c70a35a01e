// regions.same-name-per-region: c8locals.x in region A and c8locals.x in region B are two
// independent topics: each region reads back its own record and never the other region's, after
// a bounded window in which replication (had there been any) would have happened.
import { forEachTargetForClients } from '../../fixtures/conformance.js';
import { expectNothingMore, LOCAL_WINDOW_MS, measured, NOTHING_MORE_MS, REGION_CLIENTS, secs, sleep, twoRegions } from './regions.js';

forEachTargetForClients('regions', REGION_CLIENTS, (scenario) => {
  scenario('regions.same-name-per-region: c8locals.x in region A and in region B are independent', async ({ target, driver, connection, names, skip, task }) => {
    const { a, b, inA, inB } = twoRegions(target, connection, skip);
    const local = names.localTopic('snr');
    const regions = [{ region: a, conn: inA }, { region: b, conn: inB }];
    if (driver.capabilities.has('requires.createTopicsFirst')) {
      for (const r of regions) await driver.createTopics(r.conn, [{ name: local, partitions: 1 }]);
    }
    const own = (name: string) => ({ key: name, value: `written in ${name} ${names.suffix}` });
    for (const r of regions) await driver.produce(r.conn, local, [own(r.region.name)]);
    const written = Date.now();
    // The bounded negative wait: what replication there is would have happened by now.
    measured(task, `negative window: ${secs(LOCAL_WINDOW_MS)} after both records were acknowledged, then ${secs(NOTHING_MORE_MS)} per region for anything after its own record`);
    await sleep(written + LOCAL_WINDOW_MS - Date.now());
    for (const r of regions) {
      const group = names.group(`snr-${r.region.name}`);
      const got = await driver.consume(r.conn, { topics: [local], groupId: group, fromBeginning: true, count: 1, timeoutMs: 30_000 });
      const seen = got[0]!;
      if (seen.key !== r.region.name || seen.value !== own(r.region.name).value) {
        throw new Error(`${r.region.name} read ${local}/${seen.partition}@${seen.offset} ${seen.key}=${JSON.stringify(seen.value)} before its own record: the other region's record reached it`);
      }
      await expectNothingMore(driver, r.conn, local, group, NOTHING_MORE_MS, `${r.region.name}'s ${local} holds the other region's record`);
    }
  });
});
