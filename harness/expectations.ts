// Expected results are data: one manifest per target (suites/expectations/<target>.json), plus
// suites/expectations/any-target.json for a client's own deviations that hold on every target,
// the known deviations, scenario id × client → `fail` (runs; passing is reported as an
// unexpected pass), `skip` (does not run) or `flaky` (retried; a pass on retry reads "flaky"),
// each with its reason and a link. A `flaky` entry may carry a `signature`: the known defect's
// error, as a regular expression. A cell that then fails every try, each time with an error the
// signature matches, reads "known failure" (the intermittent defect showed on every try); any
// other error stays a failure. Tests never carry `if`s for these.
//
// The manifest's shape is one zod schema. Beyond the shape, every entry must be able to match
// something: a scenario id declared under suites/ and a client of the registry (a typo would
// otherwise match nothing and the deviation would go unnoticed). A bad manifest fails in one line
// naming the file and the entry.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join, relative } from 'node:path';
import { z } from 'zod';
import { clientRegistry } from './clients/registry.js';
import { knownScenarioIds, patternsOverlap } from './scenario-ids.js';
import { ALL_TARGET_IDS } from './targets/slots.js';
import { projectRoot } from './util/paths.js';

export const EXPECTATIONS = ['fail', 'skip', 'flaky'] as const;
export type Expectation = (typeof EXPECTATIONS)[number];

/** The manifest for client-wide deviations, applied after every target's own. */
export const ANY_TARGET = 'any-target';

/** What an entry may name: the ids it is checked against. */
export interface ManifestVocabulary {
  /** Scenario ids (patterns with `*` allowed). */
  scenarios: readonly string[];
  /** Single client ids; pair ids (`producer→consumer`) are made from them. */
  clients: readonly string[];
  /** Target ids a manifest may be for. */
  targets: readonly string[];
}

const nonEmpty = (what: string) => z.string({ error: `${what} is required (a non-empty string)` }).trim().min(1, { error: `${what} is required (a non-empty string)` });

export function manifestSchema(vocabulary: ManifestVocabulary) {
  const clientIds = [...vocabulary.clients, ...vocabulary.clients.flatMap((p) => vocabulary.clients.map((c) => `${p}→${c}`))];
  const entry = z.strictObject({
    /** Scenario id, or a pattern with `*` (e.g. `sasl-plain.*`). */
    scenario: nonEmpty('scenario').refine((s) => vocabulary.scenarios.some((id) => patternsOverlap(s, id)), {
      error: (iss) => `scenario ${JSON.stringify(iss.input)} matches no scenario declared under suites/ (a typo?)`,
    }),
    /** Client id (or `producer→consumer` for pair scenarios); `*` matches any run of characters. */
    client: nonEmpty('client').refine((c) => clientIds.some((id) => patternsOverlap(c, id)), {
      error: (iss) => `client ${JSON.stringify(iss.input)} matches no client of harness/clients/registry.ts (known: ${vocabulary.clients.join(', ')})`,
    }),
    expect: z.enum(EXPECTATIONS, { error: (iss) => `expect must be ${EXPECTATIONS.join(', ')} (got ${JSON.stringify(iss.input)})` }),
    reason: nonEmpty('reason'),
    link: nonEmpty('link').optional(),
    /** For a known failure: the canonical error code the cell was seen to fail with. */
    canonical: nonEmpty('canonical').optional(),
    /** For a known failure: a short raw excerpt (client error or broker log) that shows it. */
    evidence: nonEmpty('evidence').optional(),
    /**
     * For `flaky`: a regular expression every try's error must match for a cell that fails every
     * try to read "known failure" rather than "fail".
     */
    signature: nonEmpty('signature').refine((s) => { try { new RegExp(s); return true; } catch { return false; } }, { error: (iss) => `signature ${JSON.stringify(iss.input)} is not a valid regular expression` }).optional(),
  }, { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key(s) ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}` : undefined) });
  return z.strictObject({
    target: z.enum(vocabulary.targets as [string, ...string[]], { error: (iss) => `target must be one of ${vocabulary.targets.join(', ')} (got ${JSON.stringify(iss.input)})` }),
    about: nonEmpty('about').optional(),
    /** Every `fail` entry must carry `canonical` and `evidence` (the manifests of real KoP targets). */
    evidenceRequired: z.boolean({ error: 'evidenceRequired must be true or false' }).optional(),
    entries: z.array(entry, { error: 'entries must be an array' }),
  }, { error: (iss) => (iss.code === 'unrecognized_keys' ? `unknown key(s) ${iss.keys.map((k) => JSON.stringify(k)).join(', ')}` : undefined) })
    .superRefine((m, ctx) => {
      m.entries.forEach((e, i) => {
        if (m.evidenceRequired && e.expect === 'fail' && (!e.canonical || !e.evidence)) {
          ctx.addIssue({ code: 'custom', path: ['entries', i], message: 'a known failure here needs canonical (the error code seen) and evidence (a raw excerpt)' });
        }
        if (e.signature && e.expect !== 'flaky') {
          ctx.addIssue({ code: 'custom', path: ['entries', i, 'signature'], message: `a signature belongs only to a flaky entry (this one is ${e.expect})` });
        }
      });
    });
}

export type ExpectationManifest = z.infer<ReturnType<typeof manifestSchema>>;
export type ExpectationEntry = ExpectationManifest['entries'][number];

/** The suite's own vocabulary: scenario ids from suites/, clients from the registry, the targets. */
export function suiteVocabulary(): ManifestVocabulary {
  return { scenarios: knownScenarioIds(), clients: clientRegistry.map((c) => c.id), targets: [...ALL_TARGET_IDS, ANY_TARGET] };
}

const label = (e: unknown): string => {
  const o = (e && typeof e === 'object' ? e : {}) as Record<string, unknown>;
  const bits = [typeof o.scenario === 'string' ? `scenario ${JSON.stringify(o.scenario)}` : '', typeof o.client === 'string' ? `client ${JSON.stringify(o.client)}` : ''].filter(Boolean);
  return bits.length ? ` (${bits.join(', ')})` : '';
};

/** One line: the file, then each problem with the entry it is in. */
function problemLine(file: string, raw: unknown, issues: readonly z.core.$ZodIssue[]): string {
  const entries = (raw as { entries?: unknown[] }).entries;
  const problems = issues.map((iss) => {
    const [top, index, ...field] = iss.path;
    const where = top === 'entries' && typeof index === 'number'
      ? `entry ${index + 1}${label(entries?.[index])}${field.length ? ` ${field.join('.')}` : ''}`
      : iss.path.length ? iss.path.join('.') : 'manifest';
    return `${where}: ${iss.message}`;
  });
  return `${file}: ${problems.join('; ')}`.replace(/\s*\n\s*/g, ' ');
}

/** Parses and checks one manifest's text; throws one line naming the file and the entry. */
export function parseManifest(text: string, file: string, vocabulary: ManifestVocabulary = suiteVocabulary()): ExpectationManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON: ${(err as Error).message}`.replace(/\s*\n\s*/g, ' '));
  }
  const r = manifestSchema(vocabulary).safeParse(raw);
  if (!r.success) throw new Error(problemLine(file, raw, r.error.issues));
  const expected = basename(file, '.json');
  if (r.data.target !== expected) throw new Error(`${file}: target is ${JSON.stringify(r.data.target)} but the file is for ${JSON.stringify(expected)}`);
  return r.data;
}

export const expectationsDir = join(projectRoot, 'suites', 'expectations');

export function manifestPath(target: string): string {
  return join(expectationsDir, `${target}.json`);
}

function readManifest(path: string, target: string): ExpectationManifest {
  if (!existsSync(path)) return { target, entries: [] };
  return parseManifest(readFileSync(path, 'utf8'), relative(projectRoot, path));
}

/** Checks every manifest in a directory (a file for no known target is an error too). */
export function validateManifests(dir = expectationsDir, vocabulary: ManifestVocabulary = suiteVocabulary()): ExpectationManifest[] {
  return readdirSync(dir).filter((f) => f.endsWith('.json')).sort().map((f) => {
    const file = relative(projectRoot, join(dir, f));
    if (!vocabulary.targets.includes(basename(f, '.json'))) throw new Error(`${file}: no target is called ${JSON.stringify(basename(f, '.json'))} (known: ${vocabulary.targets.join(', ')})`);
    return parseManifest(readFileSync(join(dir, f), 'utf8'), file, vocabulary);
  });
}

const cache = new Map<string, ExpectationManifest>();

/** How a known failure reads in the report: the reason, then the evidence it rests on. */
export function describeExpectation(e: ExpectationEntry): string {
  const seen = [e.canonical ? `canonical ${e.canonical}` : '', e.evidence ? `seen: ${e.evidence}` : ''].filter(Boolean).join('; ');
  return `${e.reason}${seen ? ` [${seen}]` : ''}${e.link ? ` (${e.link})` : ''}`;
}

/** The target's manifest, with the client-wide entries (any-target.json) after its own. */
export function loadManifest(target: string): ExpectationManifest {
  const hit = cache.get(target);
  if (hit) return hit;
  const own = readManifest(manifestPath(target), target);
  const any = readManifest(manifestPath(ANY_TARGET), ANY_TARGET);
  const m = { target, evidenceRequired: own.evidenceRequired, entries: [...own.entries, ...any.entries] };
  cache.set(target, m);
  return m;
}

const glob = (pattern: string) => new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);

/** For a flaky entry's signature: whether a cell's tries all failed, each with the known defect's error. */
export function allMatchSignature(signature: string, errors: readonly { message?: string }[]): boolean {
  const re = new RegExp(signature);
  return errors.length > 0 && errors.every((e) => re.test(e.message ?? ''));
}

export function expectationFor(target: string, scenarioId: string, client: string): ExpectationEntry | undefined {
  return loadManifest(target).entries.find((e) => glob(e.scenario).test(scenarioId) && glob(e.client).test(client));
}
