// Two processes building the same Maven module at once (two workers of a run starting the same
// Java driver) both get a complete build: each builds in a scratch directory, the first to finish
// is renamed into place. A fake mvn (KOPC_MVN) stands in for Maven and, like Maven's
// copy-dependencies into a directory another build is writing, fails when its jar already exists.
import { chmodSync, existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import { expect, it } from 'vitest';
import { projectRoot } from './paths.js';

const tsxLoader = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

it('two processes building one module at once both succeed, and one complete build is kept', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kopc-maven-build-'));
  const mvn = join(dir, 'fake-mvn');
  writeFileSync(mvn, `#!/bin/sh
lib=""
for a in "$@"; do case "$a" in -Dkopc.libDir=*) lib="\${a#-Dkopc.libDir=}";; esac; done
mkdir -p "$lib" && sleep 1
set -C
echo jar > "$lib/driver.jar" || { echo "Failed to copy full contents to $lib/driver.jar" >&2; exit 1; }
`);
  chmodSync(mvn, 0o755);
  writeFileSync(join(dir, 'pom.xml'), '<project/>');
  const script = join(dir, 'build.mts');
  writeFileSync(script, `import { mavenBuild } from ${JSON.stringify(pathToFileURL(join(projectRoot, 'harness/util/maven.ts')).href)};
const b = await mavenBuild('fake-module', ${JSON.stringify(dir)});
console.log(JSON.stringify(b));
`);
  const env = { ...process.env, KOPC_MVN: mvn, KOP_CONFORMANCE_CACHE: join(dir, 'cache'), KOP_CONFORMANCE_QUIET: '1' };
  const run = () => execa(process.execPath, ['--import', tsxLoader, script], { env, reject: false, cwd: projectRoot });
  const [a, b] = await Promise.all([run(), run()]);
  expect(a.exitCode, a.stderr).toBe(0);
  expect(b.exitCode, b.stderr).toBe(0);
  const built = JSON.parse(a.stdout.trim().split('\n').pop()!) as { libDir: string; classpath: string };
  expect(built.classpath).toBe(join(built.libDir, 'driver.jar'));
  expect(existsSync(join(built.libDir, '..', '.complete'))).toBe(true);
  // Nothing left of the losing build's scratch directory.
  expect(readdirSync(join(dir, 'cache', 'maven')).filter((f) => f.startsWith('fake-module-'))).toHaveLength(1);
}, 60_000);
