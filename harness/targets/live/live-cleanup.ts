// Nothing is left behind on a live endpoint: every topic and consumer group name the tests
// generate against the live target is recorded (one line each, from any worker), and the global
// teardown deletes those that exist.
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { kafkaJs } from '../../clients/kafkajs/connection.js';
import { progress } from '../../util/progress.js';
import { inRegion, type TargetInfo } from '../types.js';

export type CreatedKind = 'topic' | 'group';

/** Where a run records its cleanup of the live endpoint (in the reports directory). */
export const LIVE_CLEANUP_FILE = 'live-cleanup.json';

export function recordCreated(file: string, kind: CreatedKind, name: string): void {
  appendFileSync(file, `${kind}\t${name}\n`);
}

export function readCreated(file: string): { topics: string[]; groups: string[] } {
  const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
  const of = (k: CreatedKind) => [...new Set(lines.filter((l) => l.startsWith(`${k}\t`)).map((l) => l.slice(k.length + 1)))];
  return { topics: of('topic'), groups: of('group') };
}

/**
 * Deletes the recorded topics and groups that exist on the target, in each of its regions (the
 * regions family writes c8locals topics and groups in every region); returns what it removed.
 */
export async function cleanUpLive(target: TargetInfo, file: string): Promise<{ topics: number; groups: number; left: string[] }> {
  const regions = target.regions && target.regions.length > 1 ? target.regions : undefined;
  if (!regions) return await cleanUpOne(target, file, '');
  const done = { topics: 0, groups: 0, left: [] as string[] };
  for (const r of regions) {
    const one = await cleanUpOne(inRegion(target, r), file, ` in region ${r.name}`);
    done.topics += one.topics;
    done.groups += one.groups;
    done.left.push(...one.left.map((l) => `${l} (region ${r.name})`));
  }
  return done;
}

async function cleanUpOne(target: TargetInfo, file: string, where: string): Promise<{ topics: number; groups: number; left: string[] }> {
  const { topics, groups } = readCreated(file);
  if (!topics.length && !groups.length) return { topics: 0, groups: 0, left: [] };
  const admin = kafkaJs(target, { protocol: target.listeners[0]!.securityProtocol, retries: 2 }).admin();
  const left: string[] = [];
  try {
    await admin.connect();
    // Groups before topics: Apache Kafka drops an empty group's offsets of a deleted topic and,
    // with none left, the group itself, so after the topics the list of groups depended on how
    // soon that happened (a nightly at load 60 found 0 of its groups to delete).
    const known = new Set((await admin.listGroups()).groups.map((g) => g.groupId));
    const doomedGroups = groups.filter((g) => known.has(g));
    // A group whose last member has not yet timed out is still "non-empty": retry those (bounded).
    let pending = doomedGroups;
    const deadline = Date.now() + 30_000;
    let lastErrors: string[] = [];
    while (pending.length) {
      const failed = await admin.deleteGroups(pending).then(
        (res) => res.filter((r) => r.errorCode).map((r) => ({ groupId: r.groupId, why: `error ${r.errorCode}` })),
        (e: { groups?: { groupId: string; error?: { type?: string; message?: string } }[]; message?: string }) =>
          (e.groups ?? pending.map((g) => ({ groupId: g, error: { type: undefined as string | undefined, message: e.message } })))
            .filter((g) => g.error).map((g) => ({ groupId: g.groupId, why: g.error?.type ?? g.error?.message ?? 'unknown' })));
      // Already gone is done.
      const still = failed.filter((f) => !/GROUP_ID_NOT_FOUND/.test(f.why));
      lastErrors = still.map((f) => `group ${f.groupId}: ${f.why}`);
      pending = still.map((f) => f.groupId);
      if (!pending.length || Date.now() > deadline) break;
      await new Promise((w) => setTimeout(w, 2000));
    }
    left.push(...lastErrors);
    const existing = new Set(await admin.listTopics());
    const doomedTopics = topics.filter((t) => existing.has(t));
    if (doomedTopics.length) await admin.deleteTopics({ topics: doomedTopics, timeout: 30_000 });
    const after = new Set(await admin.listTopics());
    left.push(...doomedTopics.filter((t) => after.has(t)).map((t) => `topic ${t}`));
    progress('live target: cleanup', `deleted ${doomedTopics.length} topic(s) and ${doomedGroups.length} group(s)${where}${left.length ? `; left: ${left.length}` : ''}`);
    return { topics: doomedTopics.length, groups: doomedGroups.length, left };
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}
