// Transactions: what an exactly-once Kafka application relies on. Records of a committed
// transaction reach a read_committed consumer; records of an aborted one reach only a
// read_uncommitted consumer; consume-transform-produce commits its output records and its
// input offsets together (or, aborted, neither); a second producer with the same
// transactional.id fences the first. Clients without transactions read "not applicable".
import { expect } from 'vitest';
import { ClientError } from '../../harness/errors/canonical.js';
import { nextOffsets, pollMembers } from '../../harness/clients/sessions.js';
import type { ClientDriver, Connection, ConsumerSession, InRecord, IsolationLevel, TransactionalProducer } from '../../harness/clients/types.js';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';
import type { Names } from '../../fixtures/conformance.js';

const READ_MS = 30_000;

/** The transactional.id of one cell: unique like its topics. */
const transactionalId = (names: Names, base: string) => `kopc-txn-${base}-${names.suffix}`;

/** Reads `count` records of `topic` from its start as a new group, without committing. */
function readAll(driver: ClientDriver, conn: Connection, names: Names, topic: string, count: number, isolationLevel: IsolationLevel, tag: string): Promise<InRecord[]> {
  return driver.consume(conn, { topics: [topic], groupId: names.group(`read-${tag}`), fromBeginning: true, count, timeoutMs: READ_MS, commit: 'none', isolationLevel });
}

const values = (rs: { value: string | null }[]) => rs.map((r) => r.value);

/** Closes what a scenario opened, whatever happened (a failed close must not hide the verdict). */
async function closeAll(...items: ({ close(): Promise<void> } | undefined)[]): Promise<void> {
  await Promise.all(items.map((i) => i?.close().catch(() => undefined)));
}

forEachTargetAndClient('transactions', (scenario) => {
  scenario('transactions.committed-visible: records of a committed transaction reach a read_committed consumer, in order', async ({ target, driver, connection, names, requires }) => {
    requires('transactions');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('committed');
    const sent = Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, value: `committed-${i}-${names.suffix}` }));
    const producer = await driver.openTransactionalProducer!(conn, transactionalId(names, 'committed'));
    try {
      await producer.begin();
      await producer.send(topic, sent);
      await producer.commit();
    } finally {
      await closeAll(producer);
    }
    const got = await readAll(driver, conn, names, topic, sent.length, 'read_committed', 'committed');
    expect(values(got), `a read_committed consumer reads the committed records: got ${JSON.stringify(values(got))}`).toEqual(values(sent));
  });

  scenario('transactions.aborted-hidden: records of an aborted transaction are hidden from read_committed and shown to read_uncommitted', async ({ target, driver, connection, names, requires }) => {
    requires('transactions');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('aborted');
    const aborted = Array.from({ length: 3 }, (_, i) => ({ key: `k${i}`, value: `aborted-${i}-${names.suffix}` }));
    const marker = { key: 'marker', value: `committed-after-abort-${names.suffix}` };
    const producer = await driver.openTransactionalProducer!(conn, transactionalId(names, 'aborted'));
    try {
      await producer.begin();
      await producer.send(topic, aborted);
      await producer.abort();
      // A committed record after the aborted ones: read_committed must reach it without the aborted ones before it.
      await producer.begin();
      await producer.send(topic, [marker]);
      await producer.commit();
    } finally {
      await closeAll(producer);
    }
    const committed = await readAll(driver, conn, names, topic, 1, 'read_committed', 'rc');
    expect(values(committed), `read_committed: the first record is the committed one, none of the aborted: got ${JSON.stringify(values(committed))}`).toEqual([marker.value]);
    const uncommitted = await readAll(driver, conn, names, topic, aborted.length + 1, 'read_uncommitted', 'ru');
    expect(values(uncommitted), `read_uncommitted: the aborted records, then the committed one: got ${JSON.stringify(values(uncommitted))}`).toEqual([...values(aborted), marker.value]);
  });

  scenario('transactions.consume-transform-produce: output records and the input group\'s offsets commit together; an aborted run moves neither', async ({ target, driver, connection, names, requires }) => {
    requires('transactions', 'groups.session');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const input = names.globalTopic('ctp-in');
    const output = names.globalTopic('ctp-out');
    const group = names.group('ctp');
    const inRecords = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `in-${from + i}-${names.suffix}` }));
    const firstIn = inRecords(0, 3);
    const secondIn = inRecords(3, 2);
    const laterIn = inRecords(5, 1);
    await driver.produce(conn, input, firstIn);
    let member: ConsumerSession | undefined = await driver.openConsumer!(conn, { topics: [input], groupId: group, fromBeginning: true, isolationLevel: 'read_committed' });
    let producer: TransactionalProducer | undefined;
    try {
      producer = await driver.openTransactionalProducer!(conn, transactionalId(names, 'ctp'));
      const state = await pollMembers([member], (s) => s[0]!.records.length >= firstIn.length, 45_000);
      const batch1 = state[0]!.records.slice(0, firstIn.length);
      expect(values(batch1)).toEqual(values(firstIn));
      await producer.begin();
      await producer.send(output, batch1.map((r) => ({ key: r.key, value: `out-${r.value}` })));
      await producer.sendOffsets(member, nextOffsets(batch1));
      await producer.commit();
      const out1 = await readAll(driver, conn, names, output, batch1.length, 'read_committed', 'out1');
      expect(values(out1), 'the committed output records').toEqual(batch1.map((r) => `out-${r.value}`));

      // The aborted run: input consumed, output sent, offsets sent, then abort.
      await driver.produce(conn, input, secondIn);
      await pollMembers([member], (s) => s[0]!.records.length >= firstIn.length + secondIn.length, 45_000, 1000, state);
      const batch2 = state[0]!.records.slice(firstIn.length, firstIn.length + secondIn.length);
      expect(values(batch2)).toEqual(values(secondIn));
      await producer.begin();
      await producer.send(output, batch2.map((r) => ({ key: r.key, value: `aborted-out-${r.value}` })));
      await producer.sendOffsets(member, nextOffsets(batch2));
      await producer.abort();
      // A committed record after the aborted ones, so that a read_committed reader has an end to reach.
      const marker = { key: 'marker', value: `after-abort-${names.suffix}` };
      await producer.begin();
      await producer.send(output, [marker]);
      await producer.commit();
      const out2 = await readAll(driver, conn, names, output, out1.length + 1, 'read_committed', 'out2');
      expect(values(out2), `read_committed output: the first run, then the marker; none of the aborted run: got ${JSON.stringify(values(out2))}`).toEqual([...values(out1), marker.value]);

      // The group's committed offset, as a restarted member sees it: where the committed run
      // left off (not the start: its offsets were committed; not past the aborted run's input:
      // those were not). One more input record makes a wrong start show at once.
      await driver.produce(conn, input, laterIn);
      await closeAll(member);
      member = await driver.openConsumer!(conn, { topics: [input], groupId: group, fromBeginning: true, isolationLevel: 'read_committed' });
      const want = [...secondIn, ...laterIn];
      const resumed = await pollMembers([member], (s) => s[0]!.records.length >= want.length || s[0]!.records.some((r) => r.value === laterIn[0]!.value), 45_000);
      const got = values(resumed[0]!.records).slice(0, want.length);
      expect(got, `a restarted member resumes at the committed run's offset ${nextOffsets(batch1).map((o) => o.offset).join(',')}: got ${JSON.stringify(got)}`).toEqual(values(want));
    } finally {
      await closeAll(producer, member);
    }
  });

  scenario('transactions.fenced-producer: a second producer with the same transactional.id fences the first, whose commit then fails', async ({ target, driver, connection, names, requires }) => {
    requires('transactions');
    const conn = connection(target.listeners[0]!.securityProtocol);
    const topic = names.globalTopic('fenced');
    const id = transactionalId(names, 'fenced');
    const first = await driver.openTransactionalProducer!(conn, id);
    let second: TransactionalProducer | undefined;
    try {
      await first.begin();
      await first.send(topic, [{ key: 'first', value: `from-first-${names.suffix}` }]);
      // Initialising the second bumps the epoch and aborts the first one's open transaction.
      second = await driver.openTransactionalProducer!(conn, id);
      const err = await first.commit().then(() => undefined, (e: unknown) => e);
      expect(err, "the fenced producer's commit must fail").toBeInstanceOf(ClientError);
      const { code, raw } = err as ClientError;
      expect(['PRODUCER_FENCED', 'INVALID_PRODUCER_EPOCH'], `canonical code of the fenced commit (${raw})`).toContain(code);
      await second.begin();
      await second.send(topic, [{ key: 'second', value: `from-second-${names.suffix}` }]);
      await second.commit();
    } finally {
      await closeAll(first, second);
    }
    const got = await readAll(driver, conn, names, topic, 1, 'read_committed', 'fenced');
    expect(values(got), `read_committed: the new producer's record; the fenced one's was aborted: got ${JSON.stringify(values(got))}`).toEqual([`from-second-${names.suffix}`]);
  });
});
