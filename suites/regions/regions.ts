// What the regions family (suites/regions/) shares: the two regions a target declares
// (TargetInfo.regions), a connection into each, the bounds of every wait, and the replication
// delay recorded on the cell. A target with one region: "not applicable: one region".
// Run for four clients whose runtimes differ and that log in to KoP (CI time; java-4.4.0 and
// kafka-python-3.0.12 cannot talk to vanilla KoP at all, harness/targets/kop/FINDINGS.md).
import * as allure from 'allure-js-commons';
import type { TestContext } from 'vitest';
import type { ClientDriver, Connection, InRecord } from '../../harness/clients/types.js';
import { ClientError } from '../../harness/errors/canonical.js';
import { inRegion, type Region, type SecurityProtocol, type TargetInfo } from '../../harness/targets/types.js';

export const REGION_CLIENTS = ['kafkajs', 'java-2.8.0', 'confluent-kafka', 'kafka-python-2.0.2'];

/** How long a record produced in one region may take to be read in the other (consumer join included). */
export const REPLICATION_WAIT_MS = 45_000;
/**
 * The negative wait: how long after a c8locals record was acknowledged in one region the other
 * region must still not have it. The embedded topology replicates in well under a second
 * (measured: see README "Regions"), so 10 s is ample there; a live endpoint's own control record
 * (local-stays) stretches it to three times the delay it measured, up to 30 s.
 */
export const LOCAL_WINDOW_MS = 10_000;
export const LOCAL_WINDOW_MAX_MS = 30_000;
/** After the sentinel: how long the other region's consumer must find nothing more. */
export const NOTHING_MORE_MS = 8_000;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, Math.max(0, ms)));

export interface RegionPair {
  a: Region;
  b: Region;
  inA: Connection;
  inB: Connection;
}

/** The target's first two regions and a connection into each, or a skip: "not applicable: one region". */
export function twoRegions(target: TargetInfo, connection: (p: SecurityProtocol, o?: Partial<Connection>) => Connection,
  skip: (note?: string) => never): RegionPair {
  const regions = target.regions ?? [];
  if (regions.length < 2) skip(`not applicable: one region (target ${target.id} declares no second region)`);
  const [a, b] = regions as [Region, Region];
  const protocol = target.listeners[0]!.securityProtocol;
  if (!b.listeners.some((l) => l.securityProtocol === protocol)) throw new Error(`region ${b.name} has no ${protocol} listener`);
  return { a, b, inA: connection(protocol, { target: inRegion(target, a) }), inB: connection(protocol, { target: inRegion(target, b) }) };
}

/** Records a figure on the cell (results model `measurements`, shown under the cell's details; an Allure attachment). */
export function measured(task: TestContext['task'], line: string): void {
  if (task.meta.kopc) task.meta.kopc.measurements = [...(task.meta.kopc.measurements ?? []), line];
  void allure.attachment('measured', line, 'text/plain');
}

export { secs } from '../../harness/util/progress.js';

/**
 * The bounded negative read: a consume that must find nothing within `ms` (a TIMEOUT). Anything
 * it returns is a record that should not be there; any other error fails the cell.
 */
export async function expectNothingMore(driver: ClientDriver, conn: Connection, topic: string, groupId: string, ms: number, what: string): Promise<void> {
  let got: InRecord[];
  try {
    got = await driver.consume(conn, { topics: [topic], groupId, fromBeginning: true, count: 1, timeoutMs: ms });
  } catch (err) {
    if (err instanceof ClientError && err.code === 'TIMEOUT') return;
    throw err;
  }
  throw new Error(`${what}: ${got.map((r) => `${r.topic}/${r.partition}@${r.offset} ${r.key}=${JSON.stringify(r.value)}`).join(', ')}`);
}
