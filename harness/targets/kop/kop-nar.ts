// Where the embedded KoP target's protocol handler (the KoP NAR) comes from, in this order:
//   1. KOP_NAR=<file>: a NAR the user brings;
//   2. KOP_SOURCE=<folder|tarball|checkout>: built from KoP's source by harness/util/source-build.ts
//      against the pinned Pulsar (cached by its inputs; a warm run finds it in milliseconds);
//   3. KOP_NAR_COORDS=group:artifact:version: resolved from a Maven registry that serves one
//      (none reached here does: see FINDINGS.md);
// otherwise the target does not run, and says how to make it run. The plan is decided without
// any network access or build, in milliseconds; the report header names the source used.
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { runMaven } from '../../util/maven.js';
import { cacheDir, ensureDir } from '../../util/paths.js';
import { progress } from '../../util/progress.js';
import { buildFromSource, sourceSpecFromEnv, type SourceSpec } from '../../util/source-build.js';
import { TargetUnavailableError } from '../types.js';
import { KOP_POM_PATH, KOP_VERSIONS, versionLine } from './versions.js';

export type KopNarPlan =
  | { kind: 'KOP_NAR'; path: string; describe: string }
  | { kind: 'source'; spec: SourceSpec; describe: string }
  | { kind: 'maven'; coords: { groupId: string; artifactId: string; version: string }; describe: string };

/** The NAR, ready to load, and a line for the report header saying where it came from. */
export interface KopNar {
  path: string;
  /** e.g. `built from KOP_SOURCE=/x (kop-…-src.tar.gz + 1 patch) against Pulsar 3.3.6, cached`. */
  describe: string;
  /** The handler's own version (from the NAR's file name). */
  version: string;
  sizeBytes: number;
  /** Cold build time (kept with the cached artifact), for source builds. */
  buildMs?: number;
  cached: boolean;
}

const HOW = 'set KOP_SOURCE=<KoP source tarball folder or checkout> to build it, KOP_NAR=<file.nar> to use your own, '
  + 'or KOP_NAR_COORDS=group:artifact:version for a Maven registry that serves one';

/** Decides where the NAR comes from; throws TargetUnavailableError (not run) or Error (misconfigured), one line each. */
export function kopNarPlan(env: NodeJS.ProcessEnv = process.env): KopNarPlan {
  const userNar = env.KOP_NAR?.trim();
  if (userNar) {
    const abs = resolve(userNar);
    if (!existsSync(abs) || !statSync(abs).isFile()) throw new Error(`KOP_NAR=${abs} does not exist or is not a file`);
    const m = /pulsar-protocol-handler-kafka-(\d+\.\d+)\.\d+\.\d+\.nar$/.exec(basename(abs));
    const line = versionLine(KOP_VERSIONS.pulsar);
    // A released KoP's version names the Pulsar line it was built for (3.3.x.y for Pulsar 3.3).
    if (m?.[1] && m[1] !== line) {
      throw new Error(`KOP_NAR ${basename(abs)} is built for Pulsar ${m[1]}.x but this target runs Apache Pulsar `
        + `${KOP_VERSIONS.pulsar}; a protocol handler must match its broker's line`);
    }
    return { kind: 'KOP_NAR', path: abs, describe: `KOP_NAR=${abs}` };
  }
  const spec = sourceSpecFromEnv('kop', 'KOP_SOURCE', env);
  if (spec) return { kind: 'source', spec, describe: `built from ${spec.origin} against Apache Pulsar ${KOP_VERSIONS.pulsar}` };
  const coords = env.KOP_NAR_COORDS?.trim();
  if (coords) {
    const [groupId, artifactId, version, ...rest] = coords.split(':');
    if (!groupId || !artifactId || !version || rest.length) {
      throw new Error(`KOP_NAR_COORDS=${coords} must be group:artifact:version`);
    }
    return { kind: 'maven', coords: { groupId, artifactId, version }, describe: `resolved from Maven as ${coords}` };
  }
  throw new TargetUnavailableError('kop', `not run: no KoP protocol handler configured; ${HOW}`);
}

/** KoP's own build, as its README has it, limited to kafka-impl and what it needs, without tests. */
export const KOP_MAVEN_ARGS = [
  '-Dmaven.test.skip=true', '-DskipTests', '-Dlicense.skip', '-Dspotbugs.skip', '-Dcheckstyle.skip', '-Djacoco.skip',
  // The git-commit-id plugin would need a .git directory; a tarball has none.
  '-Dmaven.gitcommitid.skip=true',
  '-Dpulsar.group.id=org.apache.pulsar', `-Dpulsar.version=${KOP_VERSIONS.pulsar}`,
  '-pl', 'kafka-impl', '-am', 'package',
];

/** Jars pulsar-broker needs that Maven Central lacks, installed from the distribution (pom.xml says why). */
async function installMissingPulsarJars(pulsarHome: string): Promise<void> {
  await runMaven({
    label: 'kop build: pulsar jars', pom: KOP_POM_PATH,
    goals: ['install:install-file@install-jetcd', 'install:install-file@install-otel'],
    props: { 'kopc.pulsarLib': join(pulsarHome, 'lib'), 'kopc.buildDir': join(ensureDir(join(cacheDir, 'kop')), '.install-build') },
    timeoutMs: 5 * 60_000,
  });
}

const narVersion = (file: string) => /pulsar-protocol-handler-kafka-(.+)\.nar$/.exec(basename(file))?.[1] ?? basename(file);

/**
 * Carries out the plan: the NAR on disk. `pulsarHome` is the unpacked distribution (source builds
 * need its jars). A source build calls `onRepositoryReady` once those jars are in the Maven
 * repository, before its own long Maven run, so that other builds against Pulsar can start beside it.
 */
export async function ensureKopNar(plan: KopNarPlan, pulsarHome: string, onRepositoryReady?: () => void): Promise<KopNar> {
  switch (plan.kind) {
    case 'KOP_NAR':
      return { path: plan.path, describe: plan.describe, version: narVersion(plan.path), sizeBytes: statSync(plan.path).size, cached: true };
    case 'source': {
      const built = await buildFromSource({
        name: 'kop', spec: plan.spec, mavenArgs: KOP_MAVEN_ARGS,
        artifact: 'kafka-impl/target/pulsar-protocol-handler-kafka-*.nar',
        keyParts: [`pulsar ${KOP_VERSIONS.pulsar}`],
        before: async () => { await installMissingPulsarJars(pulsarHome); onRepositoryReady?.(); },
        timeoutMs: 30 * 60_000,
      });
      return {
        path: built.path, version: narVersion(built.path), sizeBytes: built.sizeBytes, buildMs: built.buildMs, cached: built.cached,
        describe: `${plan.describe}${built.cached ? `, cached (cold build took ${(built.buildMs / 1000).toFixed(0)} s)` : `, built in ${(built.buildMs / 1000).toFixed(0)} s`}`,
      };
    }
    case 'maven': {
      const { groupId, artifactId, version } = plan.coords;
      const dir = join(ensureDir(join(cacheDir, 'kop')), `nar-${groupId}-${artifactId}-${version}`);
      const protocols = join(dir, 'protocols');
      const find = () => (existsSync(protocols) ? readdirSync(protocols).find((f) => f.endsWith('.nar')) : undefined);
      let nar = existsSync(join(dir, '.complete')) ? find() : undefined;
      const cached = !!nar;
      if (!nar) {
        rmSync(dir, { recursive: true, force: true });
        progress('kop nar', `resolving ${groupId}:${artifactId}:nar:${version}`);
        await runMaven({
          label: 'kop nar', pom: KOP_POM_PATH, goals: ['dependency:copy@kop-nar'],
          props: { 'kopc.libDir': dir, 'kopc.buildDir': join(dir, '.build'), 'kop.groupId': groupId, 'kop.artifactId': artifactId, 'kop.version': version },
        });
        writeFileSync(join(dir, '.complete'), new Date().toISOString());
        nar = find();
        if (!nar) throw new Error(`mvn dependency:copy@kop-nar left no .nar in ${protocols}`);
      }
      const path = join(protocols, nar);
      return { path, describe: plan.describe, version, sizeBytes: statSync(path).size, cached };
    }
  }
}
