// Which Maven runs the suite's builds.
//
// Debian's mvn on this machine kind is 3.8.7. Its dependency collector fetches POMs one at a time,
// so a cold KoP build (about 1 700 artifacts) took 243–248 s in 3 runs. Maven 3.9's resolver has a
// breadth-first collector that fetches them in parallel: the same cold build took 74 s.
// So the suite runs a pinned Maven from Maven Central (KOPC_MAVEN_REMOTE overrides the base URL),
// fetched once into the cache and checked against the SHA-512 Central publishes beside it.
// KOPC_MVN names another mvn to run instead; `KOPC_MVN=system` runs the one on PATH. If the pinned
// Maven cannot be fetched, the builds run with PATH's mvn, and a progress line says why.
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir, ensureDir } from './paths.js';
import { progress } from './progress.js';
import { recordTiming } from '../reporting/timings.js';

export const MAVEN_VERSION = '3.9.16';

/**
 * Flags for Maven 3.9's resolver: the breadth-first collector (parallel POM downloads) and more
 * download threads than the default 5, which change how fast, not what is resolved; and file locks
 * on the local repository (its `.locks/`), because a run starts several Maven processes at once
 * (brokers in parallel, drivers in each worker) on one repository, and Maven's default locks only
 * guard the threads of one process.
 */
export const RESOLVER_FLAGS = [
  '-Daether.dependencyCollector.impl=bf', '-Daether.dependencyCollector.bf.threads=16', '-Dmaven.artifact.threads=16',
  '-Daether.syncContext.named.factory=file-lock', '-Daether.syncContext.named.nameMapper=file-gav',
];

export interface MavenTool {
  /** The executable to run. */
  cmd: string;
  /** Flags to put before the run's own. */
  flags: string[];
  /** One line for progress output: which Maven and why. */
  describe: string;
}

const systemTool = (why: string): MavenTool => ({ cmd: 'mvn', flags: [], describe: `mvn on PATH (${why})` });

/** The Maven KOPC_MVN names, or undefined to use the pinned one. */
export function configuredTool(env: NodeJS.ProcessEnv = process.env): MavenTool | undefined {
  const v = env.KOPC_MVN?.trim();
  if (!v) return undefined;
  if (v === 'system') return systemTool('KOPC_MVN=system');
  return { cmd: v, flags: [], describe: `${v} (KOPC_MVN)` };
}

export function distributionUrl(remote = 'https://repo1.maven.org/maven2'): string {
  return `${remote.replace(/\/+$/, '')}/org/apache/maven/apache-maven/${MAVEN_VERSION}/apache-maven-${MAVEN_VERSION}-bin.tar.gz`;
}

async function download(url: string): Promise<Buffer> {
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new Error(`HTTP ${res.status} for ${url}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Fetches, checks and unpacks the pinned Maven into `home`; safe when several processes race. */
async function install(url: string, parent: string, home: string): Promise<void> {
  const t0 = Date.now();
  progress('maven', `fetching Apache Maven ${MAVEN_VERSION} (once; Maven 3.9 resolves dependencies in parallel) from ${url}`);
  const [tarball, sumText] = await Promise.all([download(url), download(`${url}.sha512`)]);
  const want = sumText.toString('utf8').trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  const got = createHash('sha512').update(tarball).digest('hex');
  if (want !== got) throw new Error(`the SHA-512 of ${url} is ${got.slice(0, 16)}…, but ${url}.sha512 says ${want.slice(0, 16) || 'nothing'}…`);
  const tmp = join(ensureDir(parent), `.unpack-${process.pid}-${randomBytes(4).toString('hex')}`);
  ensureDir(tmp);
  try {
    writeFileSync(join(tmp, 'maven.tar.gz'), tarball);
    const r = await execa('tar', ['xzf', 'maven.tar.gz'], { cwd: tmp, reject: false, all: true, stdin: 'ignore' });
    if (r.exitCode !== 0) throw new Error(`tar xzf failed: ${String(r.all ?? '').split('\n')[0]}`);
    try {
      renameSync(join(tmp, `apache-maven-${MAVEN_VERSION}`), home);
    } catch (err) {
      if (!existsSync(join(home, 'bin', 'mvn'))) throw err; // otherwise another process unpacked it first
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  recordTiming(`maven ${MAVEN_VERSION} fetch`, Date.now() - t0);
  progress('maven', `Apache Maven ${MAVEN_VERSION} ready in ${((Date.now() - t0) / 1000).toFixed(1)} s (${(tarball.length / 1e6).toFixed(1)} MB)`);
}

/** Resolves the Maven to run: KOPC_MVN, else the pinned one (fetched into `cacheRoot` once), else PATH's. */
export async function resolveMavenTool(opts: { env?: NodeJS.ProcessEnv; cacheRoot?: string } = {}): Promise<MavenTool> {
  const env = opts.env ?? process.env;
  const configured = configuredTool(env);
  if (configured) return configured;
  const parent = join(opts.cacheRoot ?? cacheDir, 'maven');
  const home = join(parent, `apache-maven-${MAVEN_VERSION}`);
  const mvn = join(home, 'bin', 'mvn');
  const pinned: MavenTool = { cmd: mvn, flags: RESOLVER_FLAGS, describe: `Apache Maven ${MAVEN_VERSION} (${home})` };
  if (existsSync(mvn)) return pinned;
  try {
    await install(distributionUrl(env.KOPC_MAVEN_REMOTE || undefined), parent, home);
    return pinned;
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    progress('maven', `could not fetch Apache Maven ${MAVEN_VERSION}: ${why}; builds use the mvn on PATH (cold builds are slower)`);
    return systemTool(`Apache Maven ${MAVEN_VERSION} could not be fetched: ${why}`);
  }
}

let pending: Promise<MavenTool> | undefined;

/** The Maven every build of this process runs (resolved once per process). */
export function mavenTool(): Promise<MavenTool> {
  pending ??= resolveMavenTool();
  return pending;
}
