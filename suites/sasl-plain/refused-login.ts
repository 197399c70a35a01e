// What the sasl-plain files share: a login that must be refused, timed, and a wrong password.
// The family is split into files by what a login gets wrong (accepted-logins, bad-credentials,
// unknown-principal, wrong-mechanism) so that its cells, the longest family of a run, spread over
// the workers instead of keeping one busy alone; the scenario ids and the family are unchanged.
import { expect } from 'vitest';
import type { ClientDriver, Connection } from '../../harness/clients/types.js';
import { ClientError } from '../../harness/errors/canonical.js';
import type { TargetInfo } from '../../harness/targets/types.js';
import { timeRefusal } from '../../harness/util/timed-refusal.js';

/** A password the endpoint must refuse: same claims signed with another key, or a tampered signature. */
export function wrongPassword(target: TargetInfo): string {
  const forged = target.forgedPasswords?.[0];
  if (forged) return forged;
  const real = target.principals[0]!.password;
  const last = real.at(-1) === 'A' ? 'B' : 'A';
  return real.slice(0, -4) + last.repeat(4);
}

/** Driver processes that have already made a login (see refusedLogin). */
const warmed = new Set<string>();

/**
 * Runs a login that must fail; returns its canonical code and how long the refusal took. A
 * driver's first login is made once untimed before the timed one: the first login of a fresh
 * driver process includes its runtime's warm-up (a JVM loading and compiling the client's
 * classes took 4–11 s for the first refusal under stress-ng, then 0.1–0.4 s), which says
 * nothing about how the endpoint refused it. A refusal with `expectedCode` over QUICK_MS is
 * timed once more (harness/util/timed-refusal.ts), and the slow one is recorded on the cell.
 */
export async function refusedLogin(driver: ClientDriver, conn: Connection, expectedCode?: string): Promise<{ code: string; raw: string; ms: number }> {
  const key = `${driver.id}#${(driver as { pid?: number }).pid ?? 'in-process'}`;
  if (!warmed.has(key)) {
    warmed.add(key);
    await driver.checkLogin(conn).catch(() => undefined);
  }
  const { err, ms } = await timeRefusal(`${driver.id} refused login`, QUICK_MS, () => driver.checkLogin(conn),
    (e) => expectedCode !== undefined && e instanceof ClientError && e.code === expectedCode && !waitedOutTimeout(e));
  expect(err, 'the login must be refused').toBeInstanceOf(ClientError);
  return { code: (err as ClientError).code, raw: (err as ClientError).raw, ms };
}

/**
 * The client says it gave up on a timeout of its own, whatever the code (kafka-python 3.0.12's
 * "KafkaTimeoutError: Unable to bootstrap", the refusal read from its log, after its 7 s bootstrap
 * bound): the time is the client's bound, and timing it again only makes a known failure slower.
 */
const waitedOutTimeout = (e: ClientError) => /timeout|timed out/i.test(e.raw);

/** The protocol answers a bad login at once; anything near a client timeout means it did not. */
export const QUICK_MS = 4000;
