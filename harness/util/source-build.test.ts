// The source-build machinery on tiny trees of its own: each failing step gives one line naming
// it, a warm build is a cache hit in milliseconds, and the key follows every input.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { SourceBuild } from './source-build.js';

// Builds of these throwaway trees go to a cache of their own, not the user's.
process.env.KOP_CONFORMANCE_CACHE = mkdtempSync(join(tmpdir(), 'kopc-srcbuild-cache-'));
const { buildFromSource, firstRealMavenError, SourceBuildError, sourceBuildKey, sourceSpecFromEnv } = await import('./source-build.js');

const POM = `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
<groupId>t</groupId><artifactId>t</artifactId><version>1</version><packaging>pom</packaging></project>
`;

/** A folder holding `thing-src.tar.gz` (one top-level folder, as upstream tarballs are) and the given patches. */
function sourceFolder(pom: string, patches: Record<string, string> = {}): string {
  const root = mkdtempSync(join(tmpdir(), 'kopc-srcbuild-'));
  const tree = join(root, 'tree', 'thing-1');
  mkdirSync(tree, { recursive: true });
  writeFileSync(join(tree, 'pom.xml'), pom);
  writeFileSync(join(tree, 'README'), 'hello\n');
  const dir = join(root, 'given');
  mkdirSync(dir);
  execFileSync('tar', ['-czf', join(dir, 'thing-src.tar.gz'), '-C', join(root, 'tree'), 'thing-1']);
  for (const [name, text] of Object.entries(patches)) writeFileSync(join(dir, name), text);
  return dir;
}

const readmePatch = (from: string, to: string) => `--- a/README\n+++ b/README\n@@ -1 +1 @@\n-${from}\n+${to}\n`;

function build(dir: string, extra: Partial<SourceBuild> = {}): SourceBuild {
  const spec = sourceSpecFromEnv('thing', 'THING_SOURCE', { THING_SOURCE: dir })!;
  return { name: 'thing', spec, mavenArgs: ['-q', 'validate'], artifact: 'READ*', ...extra };
}

describe('source-build', () => {
  it('reads a folder as its one tarball plus its patches, and refuses what it cannot use in one line', () => {
    const dir = sourceFolder(POM, { '1.patch': readmePatch('hello', 'patched') });
    const spec = sourceSpecFromEnv('thing', 'THING_SOURCE', { THING_SOURCE: dir })!;
    expect(spec.source).toMatch(/thing-src\.tar\.gz$/);
    expect(spec.patches).toHaveLength(1);
    expect(spec.origin).toContain('+ 1 patch');
    expect(sourceSpecFromEnv('thing', 'THING_SOURCE', {})).toBeUndefined();
    const missing = () => sourceSpecFromEnv('thing', 'THING_SOURCE', { THING_SOURCE: '/nonexistent/kop' });
    expect(missing).toThrow(SourceBuildError);
    expect(missing).toThrow(/^thing build from source: locate source: THING_SOURCE=\/nonexistent\/kop does not exist$/);
    const empty = mkdtempSync(join(tmpdir(), 'kopc-srcbuild-empty-'));
    expect(() => sourceSpecFromEnv('thing', 'THING_SOURCE', { THING_SOURCE: empty })).toThrow(/exactly one \.tar\.gz/);
  });

  it('builds, applies patches, and finds the result in the cache the second time in milliseconds', async () => {
    const dir = sourceFolder(POM, { '1.patch': readmePatch('hello', 'patched') });
    const b = build(dir);
    const cold = await buildFromSource(b);
    expect(cold.cached).toBe(false);
    expect(execFileSync('cat', [cold.path], { encoding: 'utf8' })).toBe('patched\n');
    const t0 = Date.now();
    const warm = await buildFromSource(b);
    expect(warm.cached).toBe(true);
    expect(warm.path).toBe(cold.path);
    expect(Date.now() - t0).toBeLessThan(500);
    // Another Maven command, or other extra inputs, is another artifact.
    expect(sourceBuildKey({ ...b, keyParts: ['other'] })).not.toBe(sourceBuildKey(b));
  }, 60_000);

  it('names the patch that does not apply', async () => {
    const dir = sourceFolder(POM, { 'bad.patch': readmePatch('not-there', 'x') });
    const err = await buildFromSource(build(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceBuildError);
    expect((err as Error).message).toMatch(/^thing build from source: apply bad\.patch: does not apply: /);
    expect((err as Error).message).not.toContain('\n');
  });

  it('gives the first real Maven error line, not its boilerplate', async () => {
    const dir = sourceFolder('<project><modelVersion>4.0.0</modelVersion><broken');
    const err = await buildFromSource(build(dir)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SourceBuildError);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^thing build from source: maven: /);
    expect(msg).not.toContain('\n');
    expect(msg).toMatch(/pom|POM|parse/);
    expect(firstRealMavenError('x failed (exit 1):\n[ERROR] Failed to execute goal X: boom\n[ERROR] -> [Help 1]')).toBe('Failed to execute goal X: boom');
  }, 60_000);
});
