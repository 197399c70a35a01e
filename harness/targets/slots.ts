// A target as the tests see it: started (with its plain-data info), not run here (with the
// reason that goes into the report), or broken (its start failed: every test of it fails).
import type { TargetInfo } from './types.js';

export type TargetSlot =
  | { id: string; state: 'started'; info: TargetInfo }
  | { id: string; state: 'not-run'; reason: string }
  | { id: string; state: 'start-failed'; error: string };

export const ALL_TARGET_IDS = ['kop', 'kafka', 'live', 'container', 'gdn', 'kop-regions'] as const;
export type TargetId = (typeof ALL_TARGET_IDS)[number];

/**
 * Whether `family` runs on the target of `slot`: a started target may name the only families it
 * serves (TargetInfo.families, e.g. kop-regions: `regions`); the others are not declared for it.
 */
export function runsFamily(slot: TargetSlot, family: string): boolean {
  const families = slot.state === 'started' ? slot.info.families : TARGET_FAMILIES[slot.id as TargetId];
  return !families || families.includes(family);
}

/** The families of targets that serve some only, also when they did not start (their cells then fail or read "not run" in those families alone). */
const TARGET_FAMILIES: Partial<Record<TargetId, string[]>> = { 'kop-regions': ['regions'] };

/**
 * The targets of a run without KOPC_TARGETS. kop-regions is not among them: its two brokers take
 * 36-65 s to start and hold ~850 MB for the whole run, for the regions family alone; it runs in the
 * documented `--targets kop-regions,live --family regions` run, and npm test proves its start in
 * harness/targets/kop-regions/kop-regions-target.test.ts (README, "Regions").
 */
export const DEFAULT_TARGET_IDS: readonly TargetId[] = ['kop', 'kafka', 'live', 'container', 'gdn'];

/** `KOPC_TARGETS=kafka,live` selects targets; default: DEFAULT_TARGET_IDS. */
export function selectedTargetIds(env: NodeJS.ProcessEnv = process.env): TargetId[] {
  const raw = env.KOPC_TARGETS?.trim();
  if (!raw) return [...DEFAULT_TARGET_IDS];
  const ids = raw.split(',').map((s) => s.trim()).filter(Boolean);
  const bad = ids.filter((i) => !(ALL_TARGET_IDS as readonly string[]).includes(i));
  if (bad.length) throw new Error(`KOPC_TARGETS: unknown target(s) ${bad.join(', ')}; known: ${ALL_TARGET_IDS.join(', ')}`);
  return ids as TargetId[];
}

/**
 * The order in which one scenario file visits the targets. Files run side by side in the workers,
 * slowest first, and each visits every target in turn: in one fixed order, all workers would be
 * on the same target at the same time, and the gdn target, whose tests take turns
 * (TargetInfo.oneTestAtATime), would get every file's cells at once at the end of the run. So
 * the file of rank `rank` in the run's order (harness/util/file-durations.ts; 0 the slowest)
 * starts at the rank-th started target, counted from the targets whose tests take turns; the
 * targets that did not start come last, as they are (their cells skip or fail at once).
 */
export function visitOrder(slots: TargetSlot[], rank: number | undefined): TargetSlot[] {
  const started = slots.filter((s) => s.state === 'started');
  const base = [...started.filter((s) => s.info.oneTestAtATime), ...started.filter((s) => !s.info.oneTestAtATime)];
  const k = base.length ? (rank ?? 0) % base.length : 0;
  return [...base.slice(k), ...base.slice(0, k), ...slots.filter((s) => s.state !== 'started')];
}
