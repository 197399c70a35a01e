// The scenario ids the suite declares, read from the scenario files themselves (there is no
// second list to keep in step). A scenario's name starts with its id and a colon
// (`scenario('sasl-plain.wrong-api-key: …')`, or a title constant elsewhere under suites/);
// an id built in a template literal (`sasl-plain.login.${p}`) is kept as a pattern with `*`
// where the interpolation is. Used to reject expectation entries and --scenario selections
// that would silently match nothing.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './util/paths.js';

/** `family.rest:` at the start of a string literal; `${…}` pieces are allowed after the family. */
const ID_AT_START = /^([a-z][a-z0-9-]*(?:\.(?:[A-Za-z0-9_-]|\$\{[^}]*\})+)+):\s/;
/** Single-quoted, double-quoted and template literals (escapes skipped, not interpreted). */
const LITERAL = /'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return d.name === 'node_modules' ? [] : sourceFiles(path);
    return d.name.endsWith('.ts') ? [path] : [];
  });
}

/** The scenario ids (patterns with `*` for a templated part) found in a piece of TypeScript. */
export function scenarioIdsIn(source: string): string[] {
  const ids: string[] = [];
  for (const m of source.matchAll(LITERAL)) {
    const text = m[1] ?? m[2] ?? m[3] ?? '';
    const id = ID_AT_START.exec(text)?.[1];
    if (!id) continue;
    ids.push(m[3] !== undefined ? id.replace(/\$\{[^}]*\}/g, '*') : id);
  }
  return ids;
}

let cached: string[] | undefined;

/** Every scenario id declared under suites/ (sorted, unique). */
export function knownScenarioIds(suitesDir = join(projectRoot, 'suites')): string[] {
  if (cached && suitesDir === join(projectRoot, 'suites')) return cached;
  const ids = [...new Set(sourceFiles(suitesDir).flatMap((f) => scenarioIdsIn(readFileSync(f, 'utf8'))))].sort();
  if (suitesDir === join(projectRoot, 'suites')) cached = ids;
  return ids;
}

/**
 * Whether two `*` patterns (each `*` any run of characters) can match one same string: an
 * expectation's `sasl-plain.*` against a declared `sasl-plain.login.*`, for example.
 */
export function patternsOverlap(a: string, b: string): boolean {
  const memo = new Map<number, boolean>();
  const go = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    const hit = memo.get(key);
    if (hit !== undefined) return hit;
    let r: boolean;
    if (i === a.length && j === b.length) r = true;
    else if (a[i] === '*') r = go(i + 1, j) || (j < b.length && go(i, j + 1));
    else if (b[j] === '*') r = go(i, j + 1) || (i < a.length && go(i + 1, j));
    else r = i < a.length && j < b.length && a[i] === b[j] && go(i + 1, j + 1);
    memo.set(key, r);
    return r;
  };
  return go(0, 0);
}
