// The gdn target's protocol handler: Macrometa's c8streams-kop (the KoP fork behind the GDN's
// Kafka port), built from its source with Maven through the shared source-build machinery.
// Where the source is comes from GDN_KOP_SOURCE only; without it the target does not run.
import { buildFromSource, sourceSpecFromEnv, SourceBuildError, type BuiltArtifact, type SourceSpec } from '../../util/source-build.js';
import { TargetUnavailableError } from '../types.js';

export const GDN_SOURCE_ENV = 'GDN_KOP_SOURCE';

/** What the fork is built and run against (see harness/targets/gdn/FINDINGS.md for why). */
export const GDN_VERSIONS = {
  /** c8streams-kop's own version (its pom). */
  kop: '2.7.0.9',
  /** The pom names 2.7.0.1, which no registry serves; 2.7.2 is the only 2.7.x it compiles against. */
  pulsar: '2.7.2',
  /** The pom's lombok 1.18.4 cannot run inside javac 17. */
  lombok: '1.18.30',
  /** The pom asks for `[30.0-jre,)`: pinned so the build does not follow new Guava releases. */
  guava: '30.1-jre',
} as const;

/** The Maven command that builds kafka-impl (the NAR) and what it needs, nothing else. */
export const GDN_MAVEN_ARGS = [
  '-pl', 'kafka-impl', '-am', 'package',
  '-Dmaven.test.skip=true', '-DskipTests', '-Dcheckstyle.skip=true', '-Dspotbugs.skip=true',
  '-Dlicense.skip=true', '-Dgpg.skip=true',
  `-Dpulsar.version=${GDN_VERSIONS.pulsar}`, `-Dlombok.version=${GDN_VERSIONS.lombok}`, `-Dguava.version=${GDN_VERSIONS.guava}`,
];

const HOW = `set ${GDN_SOURCE_ENV}=<folder with c8streams-kop-<commit>-src.tar.gz + build.patch, the tarball, or a checkout>`;

/** The source spec, or TargetUnavailableError (decided without touching Maven). */
export function gdnSourceSpec(env: NodeJS.ProcessEnv = process.env): SourceSpec {
  let spec: SourceSpec | undefined;
  try {
    spec = sourceSpecFromEnv('gdn', GDN_SOURCE_ENV, env);
  } catch (err) {
    if (err instanceof SourceBuildError) throw new TargetUnavailableError('gdn', `not run: ${err.message}; ${HOW}`);
    throw err;
  }
  if (!spec) {
    throw new TargetUnavailableError('gdn', `not run: no source for Macrometa's c8streams-kop (the GDN's KoP fork); ${HOW}`);
  }
  return spec;
}

/** The NAR, from the cache or built (cold: ~300 MB of dependencies, a minute or two). */
export async function ensureGdnNar(spec: SourceSpec): Promise<BuiltArtifact> {
  return await buildFromSource({
    name: 'gdn',
    spec,
    mavenArgs: GDN_MAVEN_ARGS,
    artifact: 'kafka-impl/target/kop-*.nar',
    keyParts: [`pulsar ${GDN_VERSIONS.pulsar}`],
    // git-commit-id-plugin reads the commit; the pom's repositories no longer exist.
    gitInit: true,
    mirrorAll: true,
  });
}
