// Expected results are data: one manifest per target (suites/expectations/<target>.json), plus
// suites/expectations/any-target.json for a client's own deviations that hold on every target,
// the known deviations, scenario id × client → `fail` (runs; passing is reported as an
// unexpected pass), `skip` (does not run) or `flaky` (retried; a pass on retry reads "flaky"),
// each with its reason and a link. Tests never carry `if`s for these.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './util/paths.js';

export type Expectation = 'fail' | 'skip' | 'flaky';

export interface ExpectationEntry {
  /** Scenario id, or a prefix ending in `*` (e.g. `sasl-plain.*`). */
  scenario: string;
  /** Client id (or `producer→consumer` for pair scenarios); `*` matches any run of characters. */
  client: string;
  expect: Expectation;
  reason: string;
  link?: string;
}

export interface ExpectationManifest {
  target: string;
  entries: ExpectationEntry[];
}

const cache = new Map<string, ExpectationManifest>();

export function manifestPath(target: string): string {
  return join(projectRoot, 'suites', 'expectations', `${target}.json`);
}

function readManifest(path: string, target: string): ExpectationManifest {
  const m: ExpectationManifest = existsSync(path) ? (JSON.parse(readFileSync(path, 'utf8')) as ExpectationManifest) : { target, entries: [] };
  for (const e of m.entries) {
    if (!['fail', 'skip', 'flaky'].includes(e.expect) || !e.reason || !e.scenario || !e.client) {
      throw new Error(`${path}: every entry needs scenario, client, expect (fail|skip|flaky) and reason: ${JSON.stringify(e)}`);
    }
  }
  return m;
}

/** The target's manifest, with the client-wide entries (any-target.json) after its own. */
export function loadManifest(target: string): ExpectationManifest {
  const hit = cache.get(target);
  if (hit) return hit;
  const own = readManifest(manifestPath(target), target);
  const any = readManifest(manifestPath('any-target'), 'any-target');
  const m = { target, entries: [...own.entries, ...any.entries] };
  cache.set(target, m);
  return m;
}

const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

export function expectationFor(target: string, scenarioId: string, client: string): ExpectationEntry | undefined {
  return loadManifest(target).entries.find((e) => glob(e.scenario).test(scenarioId) && glob(e.client).test(client));
}
