// API versions: the target's ApiVersions answer (every API key with its min/max version, asked
// on a raw socket before any login) next to the versions each client library speaks. A client
// can only work where, for every API it cannot do without (CORE_APIS: log in, produce, consume in
// a group, commit), the target serves a version the client speaks. This answers "will client X
// work" before any other family runs; the map goes on the cell and into the report's table.
import * as allure from 'allure-js-commons';
import { expect } from 'vitest';
import { coreOverlap, probeApiVersions, type ApiRange } from '../../harness/protocol/api-versions.js';
import type { TargetInfo } from '../../harness/targets/types.js';
import { forEachTargetAndClient } from '../../fixtures/conformance.js';

/** One probe per target per worker: the answer does not depend on the client. */
const probes = new Map<string, Promise<ApiRange[]>>();
const targetApis = (target: TargetInfo): Promise<ApiRange[]> => {
  let p = probes.get(target.id);
  if (!p) {
    p = probeApiVersions(target.listeners[0]!, target.tls);
    probes.set(target.id, p);
    p.catch(() => probes.delete(target.id));
  }
  return p;
};

const range = (r?: { min: number; max: number }) => (r ? `${r.min}–${r.max}` : 'not served');

forEachTargetAndClient('api-versions', (scenario) => {
  scenario('api-versions.client-needs: for every API the client needs to log in, produce, consume and commit, the target serves a version the client speaks', async ({ target, driver, requires, task }) => {
    requires('api.versions');
    const served = await targetApis(target);
    const client = await driver.clientApiVersions!();
    // The client's own list must be real: it knows at least the APIs everything here uses.
    expect(client.map((a) => a.name), `${driver.id} reports the APIs it speaks`).toEqual(expect.arrayContaining(['Produce', 'Fetch', 'Metadata']));
    const rows = coreOverlap(served, client);
    if (task.meta.kopc) task.meta.kopc.apiVersions = served;
    const table = ['API | needed to | target | client | agreed', ...rows.map((r) => `${r.name} (${r.key}) | ${r.need} | ${range(r.target)} | ${range(r.client)} | ${r.agreed ?? 'none'}`)].join('\n');
    void allure.attachment('API versions: target vs client', `${table}\n\nall APIs the target serves:\n${served.map((a) => `${a.name} (${a.key}) ${a.min}–${a.max}`).join('\n')}`, 'text/plain');
    const missing = rows.filter((r) => r.agreed === undefined);
    expect(missing.map((r) => `${r.name} (${r.key}, to ${r.need}): target ${range(r.target)}, ${driver.id} ${range(r.client)}`),
      `APIs ${driver.id} needs for which ${target.id} serves no version it speaks`).toEqual([]);
  });
});
