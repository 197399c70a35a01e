// regions.global-replicated: records produced to a c8globals topic in region A are read in region
// B, all of them and in order per partition, within a bounded wait. The replication delay (last
// acknowledgement in A → every record read in B, B's group join included) is recorded on the cell.
import { forEachTargetForClients } from '../../fixtures/conformance.js';
import { acknowledged, expectDelivery } from '../../harness/util/delivery.js';
import { measured, REGION_CLIENTS, REPLICATION_WAIT_MS, secs, twoRegions } from './regions.js';

forEachTargetForClients('regions', REGION_CLIENTS, (scenario) => {
  scenario('regions.global-replicated: produced in region A, consumed in region B, complete and in order per partition', async ({ target, driver, connection, names, skip, task }) => {
    const { a, b, inA, inB } = twoRegions(target, connection, skip);
    const topic = names.globalTopic('rg');
    if (driver.capabilities.has('requires.createTopicsFirst')) await driver.createTopics(inA, [{ name: topic, partitions: 1 }]);
    // Three keys, so that a multi-partition topic gets records in several partitions.
    const sent = Array.from({ length: 12 }, (_, i) => ({ key: `k${i % 3}`, value: `${names.suffix}-${String(i).padStart(2, '0')}` }));
    const acks = await driver.produce(inA, topic, sent);
    const t0 = Date.now();
    const got = await driver.consume(inB, { topics: [topic], groupId: names.group('rg-b'), fromBeginning: true, count: sent.length, timeoutMs: REPLICATION_WAIT_MS });
    const delay = Date.now() - t0;
    measured(task, `replication delay ${a.name} → ${b.name}: ${secs(delay)} (last acknowledgement in ${a.name} → all ${sent.length} records read in ${b.name}, ${b.name}'s consumer group join included; bound ${secs(REPLICATION_WAIT_MS)})`);
    // Offsets are each region's own: the records are matched by content within their partition,
    // and their order in B's partition must be the order they were sent in.
    expectDelivery(acknowledged(sent, acks).map((r) => ({ ...r, offset: '-1' })), got);
  });
});
