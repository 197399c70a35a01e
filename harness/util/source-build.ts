// Builds a third-party artifact (a protocol handler NAR) from its upstream source with Maven,
// the project's way: unpack the source (a tarball or a checkout), apply patches, run one Maven
// command in the tree, and keep the result in the cache keyed by every input, so a warm run
// finds it in milliseconds. Each step that fails says which step, in one line.
//
// Where the source is comes from configuration (an environment variable per target); nothing
// here assumes any particular folder exists.
import { createHash } from 'node:crypto';
import {
  copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { runMaven } from './maven.js';
import { cacheDir, ensureDir } from './paths.js';
import { progress } from './progress.js';
import { recordTiming } from '../reporting/timings.js';

/** A step of a source build failed; the message is one line naming the step. */
export class SourceBuildError extends Error {
  constructor(readonly build: string, readonly step: string, detail: string) {
    super(`${build} build from source: ${step}: ${detail}`);
    this.name = 'SourceBuildError';
  }
}

/** What to build from: a tarball or a checkout, plus patches applied in order. */
export interface SourceSpec {
  /** A `.tar.gz`/`.tgz` of the source tree, or a directory holding a checkout (with pom.xml). */
  source: string;
  patches: string[];
  /** Where the spec came from, for reports: e.g. `KOP_SOURCE=/x/kop (kop-…-src.tar.gz + 1 patch)`. */
  origin: string;
}

/**
 * Reads a source location from `envName`. The value may be
 * - a directory with a `pom.xml`: a checkout, built as it is (patches from `<envName>_PATCHES`);
 * - a directory without one: the single `*.tar.gz`/`*.tgz` in it, plus every `*.patch` in it (sorted);
 * - a tarball: that tarball, plus `<envName>_PATCHES` (comma-separated) if set.
 * Returns undefined when the variable is unset; throws SourceBuildError when it names nothing usable.
 */
export function sourceSpecFromEnv(build: string, envName: string, env: NodeJS.ProcessEnv = process.env): SourceSpec | undefined {
  const raw = env[envName]?.trim();
  if (!raw) return undefined;
  const path = resolve(raw);
  const extraPatches = (env[`${envName}_PATCHES`] ?? '').split(',').map((s) => s.trim()).filter(Boolean).map((p) => resolve(p));
  if (!existsSync(path)) throw new SourceBuildError(build, 'locate source', `${envName}=${path} does not exist`);
  if (statSync(path).isDirectory()) {
    if (existsSync(join(path, 'pom.xml'))) {
      return { source: path, patches: extraPatches, origin: `${envName}=${path} (checkout${patchCount(extraPatches)})` };
    }
    const files = readdirSync(path).sort();
    const tarballs = files.filter((f) => /\.(tar\.gz|tgz)$/.test(f));
    if (tarballs.length !== 1) {
      throw new SourceBuildError(build, 'locate source', `${envName}=${path} must hold exactly one .tar.gz source tarball `
        + `or a checkout with pom.xml; found ${tarballs.length ? tarballs.join(', ') : 'neither'}`);
    }
    const patches = [...files.filter((f) => f.endsWith('.patch')).map((f) => join(path, f)), ...extraPatches];
    return { source: join(path, tarballs[0]!), patches, origin: `${envName}=${path} (${tarballs[0]}${patchCount(patches)})` };
  }
  if (!/\.(tar\.gz|tgz)$/.test(path)) {
    throw new SourceBuildError(build, 'locate source', `${envName}=${path} is neither a directory nor a .tar.gz tarball`);
  }
  return { source: path, patches: extraPatches, origin: `${envName}=${path}${patchCount(extraPatches)}` };
}

const patchCount = (p: string[]) => (p.length ? ` + ${p.length} patch${p.length > 1 ? 'es' : ''}` : '');

export interface SourceBuild {
  /** Names the build in progress lines, errors and the cache folder (`kop`, `gdn`). */
  name: string;
  spec: SourceSpec;
  /** Maven goals and flags, run in the root of the unpacked (and patched) tree. */
  mavenArgs: string[];
  /** The result, relative to the tree root; the file name may hold one `*`. */
  artifact: string;
  /** Anything else that changes the result (e.g. the Pulsar version); part of the cache key. */
  keyParts?: string[];
  /** The tree needs a `.git` with one commit (Maven plugins that read the commit id). */
  gitInit?: boolean;
  /** Resolve every repository through one mirror (KOPC_MAVEN_REMOTE or Maven Central): for poms that list dead repositories. */
  mirrorAll?: boolean;
  /** Runs before Maven on a cold build only (e.g. installs jars the registry lacks into the local repository). */
  before?: () => Promise<void>;
  timeoutMs?: number;
}

export interface BuiltArtifact {
  path: string;
  sizeBytes: number;
  /** True when the cache had it. */
  cached: boolean;
  /** How long the cold build took (recorded with the artifact, so a warm run reports it too). */
  buildMs: number;
  /** The cache key (first 12 hex digits of the inputs' digest). */
  key: string;
  origin: string;
}

function hashPath(path: string, h: ReturnType<typeof createHash>, base = path): void {
  const st = statSync(path);
  if (!st.isDirectory()) {
    h.update(readFileSync(path));
    return;
  }
  for (const name of readdirSync(path).sort()) {
    if (name === 'target' || name === '.git' || name === 'node_modules') continue;
    const p = join(path, name);
    h.update(p.slice(base.length));
    hashPath(p, h, base);
  }
}

/** The cache key: the source's content, every patch's content, the Maven command and the extra parts. */
export function sourceBuildKey(b: SourceBuild): string {
  const h = createHash('sha256');
  hashPath(b.spec.source, h);
  for (const p of b.spec.patches) h.update('\0patch\0').update(readFileSync(p));
  h.update('\0mvn\0').update(JSON.stringify([b.mavenArgs, b.artifact, b.keyParts ?? [], !!b.gitInit, !!b.mirrorAll]));
  return h.digest('hex').slice(0, 12);
}

interface Stamp { file: string; sizeBytes: number; buildMs: number; builtAt: string; origin: string }

/** Builds (or finds in the cache) the artifact; throws SourceBuildError naming the failed step. */
export async function buildFromSource(b: SourceBuild): Promise<BuiltArtifact> {
  for (const p of [b.spec.source, ...b.spec.patches]) {
    if (!existsSync(p)) throw new SourceBuildError(b.name, 'locate source', `${p} does not exist`);
  }
  const key = sourceBuildKey(b);
  const outDir = ensureDir(join(cacheDir, 'source-builds', `${b.name}-${key}`));
  const stampPath = join(outDir, 'artifact.json');
  if (existsSync(stampPath)) {
    const s = JSON.parse(readFileSync(stampPath, 'utf8')) as Stamp;
    const path = join(outDir, s.file);
    if (existsSync(path)) return { path, sizeBytes: s.sizeBytes, cached: true, buildMs: s.buildMs, key, origin: b.spec.origin };
  }

  const t0 = Date.now();
  progress(`${b.name} build`, `building from ${b.spec.origin} (cold: Maven resolves the dependencies once; cache key ${key})`);
  const tree = join(outDir, 'tree');
  rmSync(tree, { recursive: true, force: true });
  await unpack(b, tree);
  for (const patch of b.spec.patches) await applyPatch(b, tree, patch);
  if (b.gitInit) await gitInit(b, tree);
  if (b.before) {
    try { await b.before(); } catch (err) {
      throw new SourceBuildError(b.name, 'prepare Maven repository', firstLine(err));
    }
  }
  const args = [...b.mavenArgs];
  if (b.mirrorAll) args.unshift('-s', writeMirrorSettings(outDir));
  try {
    await runMaven({
      label: `${b.name} build`, pom: join(tree, 'pom.xml'), goals: args, timeoutMs: b.timeoutMs ?? 20 * 60_000,
      tick: (s, n) => `mvn ${n} artifacts fetched, ${s} s`,
    });
  } catch (err) {
    throw new SourceBuildError(b.name, 'maven', firstRealMavenError((err as Error).message));
  }
  const found = findArtifact(tree, b.artifact);
  if (!found) throw new SourceBuildError(b.name, 'collect artifact', `Maven succeeded but left no ${b.artifact} in the tree`);
  const file = basename(found);
  copyFileSync(found, join(outDir, `${file}.part`));
  renameSync(join(outDir, `${file}.part`), join(outDir, file));
  const sizeBytes = statSync(join(outDir, file)).size;
  const buildMs = Date.now() - t0;
  recordTiming(`${b.name} build (maven, from source)`, buildMs);
  writeFileSync(stampPath, JSON.stringify({ file, sizeBytes, buildMs, builtAt: new Date().toISOString(), origin: b.spec.origin } satisfies Stamp, null, 2));
  // The tree (sources and Maven's target/) is only needed to build; the artifact is kept.
  if (process.env.KOPC_KEEP_WORK !== '1') rmSync(tree, { recursive: true, force: true });
  progress(`${b.name} build`, `built ${file} (${(sizeBytes / 1e6).toFixed(1)} MB) in ${(buildMs / 1000).toFixed(1)} s`);
  return { path: join(outDir, file), sizeBytes, cached: false, buildMs, key, origin: b.spec.origin };
}

async function unpack(b: SourceBuild, tree: string): Promise<void> {
  if (statSync(b.spec.source).isDirectory()) {
    mkdirSync(tree, { recursive: true });
    const r = await execa('cp', ['-a', `${b.spec.source}/.`, tree], { reject: false, all: true, stdin: 'ignore' });
    if (r.exitCode !== 0) throw new SourceBuildError(b.name, 'copy checkout', firstLine(r.all));
    // A checkout's own build output and git metadata are not inputs.
    rmSync(join(tree, 'target'), { recursive: true, force: true });
    return;
  }
  mkdirSync(tree, { recursive: true });
  // Upstream tarballs hold one top-level folder (`kop-<commit>/`); strip it whatever its name.
  const list = await execa('tar', ['-tzf', b.spec.source], { reject: false, all: true, stdin: 'ignore', buffer: true });
  if (list.exitCode !== 0) throw new SourceBuildError(b.name, 'unpack', `${b.spec.source}: ${firstLine(list.all)}`);
  const tops = new Set(String(list.stdout).split('\n').filter(Boolean).map((l) => l.replace(/^\.\//, '').split('/')[0]));
  const strip = tops.size === 1 ? ['--strip-components=1'] : [];
  const r = await execa('tar', ['-xzf', b.spec.source, '-C', tree, ...strip], { reject: false, all: true, stdin: 'ignore' });
  if (r.exitCode !== 0) throw new SourceBuildError(b.name, 'unpack', `${b.spec.source}: ${firstLine(r.all)}`);
  if (!existsSync(join(tree, 'pom.xml'))) throw new SourceBuildError(b.name, 'unpack', `${basename(b.spec.source)} has no pom.xml at its root`);
}

async function applyPatch(b: SourceBuild, tree: string, patch: string): Promise<void> {
  // --dry-run first: a patch that does not apply leaves the tree untouched and says why.
  for (const dry of [true, false]) {
    const r = await execa('patch', ['-p1', '--batch', '--forward', ...(dry ? ['--dry-run'] : []), '-i', patch],
      { cwd: tree, reject: false, all: true, stdin: 'ignore' });
    if (r.exitCode !== 0) {
      const why = String(r.all).split('\n').find((l) => /FAILED|failed|malformed|can't find|Reversed|garbage/i.test(l)) ?? firstLine(r.all);
      throw new SourceBuildError(b.name, `apply ${basename(patch)}`, `does not apply: ${why.trim()}`);
    }
  }
  progress(`${b.name} build`, `applied ${basename(patch)}`);
}

async function gitInit(b: SourceBuild, tree: string): Promise<void> {
  const git = (args: string[]) => execa('git', args, {
    cwd: tree, reject: false, all: true, stdin: 'ignore',
    env: { GIT_AUTHOR_NAME: 'kop-conformance', GIT_AUTHOR_EMAIL: 'build@localhost', GIT_COMMITTER_NAME: 'kop-conformance', GIT_COMMITTER_EMAIL: 'build@localhost' },
  });
  for (const args of [['init', '-q'], ['add', '-A'], ['commit', '-q', '--no-gpg-sign', '-m', 'source as built by kop-conformance']]) {
    const r = await git(args);
    if (r.exitCode !== 0) throw new SourceBuildError(b.name, `git ${args[0]}`, firstLine(r.all));
  }
}

function writeMirrorSettings(outDir: string): string {
  const remote = process.env.KOPC_MAVEN_REMOTE ?? 'https://repo1.maven.org/maven2';
  const path = join(outDir, 'mirror-settings.xml');
  writeFileSync(path, `<settings><mirrors><mirror><id>kopc-mirror</id><mirrorOf>*</mirrorOf><url>${remote}</url></mirror></mirrors></settings>\n`);
  return path;
}

function findArtifact(tree: string, rel: string): string | undefined {
  const dir = join(tree, rel.includes('/') ? rel.slice(0, rel.lastIndexOf('/')) : '.');
  const pattern = basename(rel);
  if (!existsSync(dir)) return undefined;
  const re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  const hit = readdirSync(dir).sort().find((f) => re.test(f));
  return hit ? join(dir, hit) : undefined;
}

const firstLine = (x: unknown) => (x instanceof Error ? x.message : String(x ?? '')).split('\n').map((l) => l.trim()).find(Boolean) ?? 'no output';

/** The first ERROR line that names a cause, not Maven's closing boilerplate. */
export function firstRealMavenError(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/^\[ERROR\]\s*/, '').trim());
  const boiler = /^(-> \[Help|To see the full stack|Re-run Maven|For more information|\[Help|After correcting|mvn <args>|$)/;
  const real = lines.filter((l) => !boiler.test(l) && !/failed \(exit \d+/.test(l));
  return real[0] ?? lines[0] ?? 'Maven failed';
}
