// Resolves a project pom (and builds its sources, if any) into the cache, outside git.
// Maven's own local repository (~/.m2, or KOPC_MAVEN_REPO) caches the downloads; a stamp file keyed by the
// pom's and sources' content skips Maven entirely on warm runs.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execa } from 'execa';
import { buildIntoPlace } from './build-into-place.js';
import { cacheDir, ensureDir } from './paths.js';
import { progress } from './progress.js';
import { mavenTool } from './maven-home.js';
import { recordTiming } from '../reporting/timings.js';

function hashTree(root: string, h = createHash('sha256'), base = root): ReturnType<typeof createHash> {
  for (const name of readdirSync(root).sort()) {
    const p = join(root, name);
    // Build output and the TypeScript beside a module do not change what Maven builds.
    if (name === 'target' || name.endsWith('.ts')) continue;
    if (statSync(p).isDirectory()) hashTree(p, h, base);
    else h.update(relative(base, p)).update(readFileSync(p));
  }
  return h;
}

export interface MavenRun {
  /** Names the run in progress lines and errors. */
  label: string;
  pom: string;
  goals: string[];
  /** Passed as -Dk=v. */
  props?: Record<string, string>;
  timeoutMs?: number;
  /** The progress line shown every 5 s (default: artifacts fetched so far). */
  tick?: (elapsedS: number, downloads: number) => string;
}

/**
 * Runs Maven once, the suite's way: the pinned Maven (maven-home.ts), batch mode, KOPC_MAVEN_REPO
 * as the local repository, a progress line every 5 s, and on failure an error with Maven's ERROR lines.
 */
export async function runMaven(run: MavenRun): Promise<void> {
  const tool = await mavenTool();
  const t0 = Date.now();
  const child = execa(tool.cmd, [...tool.flags, '-B', '-f', run.pom,
    ...Object.entries(run.props ?? {}).map(([k, v]) => `-D${k}=${v}`),
    ...(process.env.KOPC_MAVEN_REPO ? [`-Dmaven.repo.local=${process.env.KOPC_MAVEN_REPO}`] : []),
    ...run.goals], {
    stdin: 'ignore', all: true, timeout: run.timeoutMs ?? 20 * 60_000, reject: false,
    env: { ...process.env, MAVEN_OPTS: process.env.MAVEN_OPTS ?? '-Xmx512m' },
  });
  let downloads = 0;
  const lines: string[] = [];
  let buf = '';
  child.all?.setEncoding('utf8');
  child.all?.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      lines.push(line);
      if (lines.length > 200) lines.shift();
      if (/Downloaded from/.test(line)) downloads++;
    }
  });
  const tick = run.tick ?? ((s, n) => `${n} artifacts fetched so far, ${s} s`);
  const ticker = setInterval(() => progress(run.label, tick(Math.round((Date.now() - t0) / 1000), downloads)), 5000);
  try {
    const r = await child;
    // No exit code and not stopped by us or a signal: the executable itself could not be started.
    if (r.exitCode === undefined && !r.timedOut && !r.isTerminated) throw new Error(`${run.label}: could not run ${tool.cmd} (${tool.describe}): ${String(r.shortMessage ?? r.message ?? 'not started').split('\n')[0]}`);
    if (r.exitCode !== 0) {
      const errs = lines.filter((l) => l.includes('ERROR')).slice(0, 6).join('\n');
      throw new Error(`${run.label}: mvn ${run.goals.join(' ')} failed (exit ${r.exitCode}${r.timedOut ? ', timed out' : ''}; ${tool.describe}):\n${errs}`);
    }
  } finally {
    clearInterval(ticker);
  }
}

export interface MavenBuild {
  /** Directory with every runtime dependency jar (and the module's own jar, if it has sources). */
  libDir: string;
  /** Classpath string of all jars in libDir. */
  classpath: string;
}

/**
 * Runs `mvn package dependency:copy-dependencies` on the pom in `moduleDir`, writing into
 * `<cache>/<name>-<hash>/` (the hash covers the module's files and `props`, passed as -Dk=v). The pom must take its build directory from `-Dkopc.buildDir`
 * and its copy target from `-Dkopc.libDir` (see the project's poms).
 */
export async function mavenBuild(name: string, moduleDir: string, opts: { props?: Record<string, string>; timeoutMs?: number } = {}): Promise<MavenBuild> {
  const props = opts.props ?? {};
  const timeoutMs = opts.timeoutMs ?? 20 * 60_000;
  const hash = hashTree(moduleDir).update(JSON.stringify(props)).digest('hex').slice(0, 12);
  const outDir = join(ensureDir(join(cacheDir, 'maven')), `${name}-${hash}`);
  const libDir = join(outDir, 'lib');
  const stamp = join(outDir, '.complete');
  if (!existsSync(stamp)) {
    progress(`maven ${name}`, 'resolving and building (first run downloads from Maven Central; later runs use the cache)');
    const t0 = Date.now();
    await buildIntoPlace(outDir, () => existsSync(stamp), async (scratch) => {
      await runMaven({
        label: `maven ${name}`, pom: join(moduleDir, 'pom.xml'), goals: ['package', 'dependency:copy-dependencies'], timeoutMs,
        props: { 'kopc.buildDir': join(scratch, 'build'), 'kopc.libDir': join(scratch, 'lib'), ...props },
      });
      writeFileSync(join(scratch, '.complete'), new Date().toISOString());
    });
    recordTiming(`maven build ${name}`, Date.now() - t0);
    progress(`maven ${name}`, `ready in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  }
  const jars = readdirSync(libDir).filter((f) => f.endsWith('.jar')).map((f) => join(libDir, f));
  return { libDir, classpath: jars.join(':') };
}
