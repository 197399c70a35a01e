// The pinned Maven: fetched once from the remote, checked against its .sha512, unpacked into the
// cache; a bad download falls back to PATH's mvn with the reason; KOPC_MVN overrides. A local HTTP
// server stands in for Maven Central here (the real fetch runs in every cold run of the suite).
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAVEN_VERSION, RESOLVER_FLAGS, distributionUrl, resolveMavenTool } from './maven-home.js';

let server: Server;
let remote: string;
let tarball: Buffer;
let sha512 = '';
const requests: string[] = [];

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kopc-mvn-dist-'));
  const bin = join(dir, `apache-maven-${MAVEN_VERSION}`, 'bin');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'mvn'), '#!/bin/sh\necho "Apache Maven (test stand-in)"\n');
  chmodSync(join(bin, 'mvn'), 0o755);
  await execa('tar', ['czf', 'dist.tar.gz', `apache-maven-${MAVEN_VERSION}`], { cwd: dir });
  tarball = readFileSync(join(dir, 'dist.tar.gz'));
  sha512 = createHash('sha512').update(tarball).digest('hex');
  server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const path = new URL(distributionUrl(remote)).pathname;
    if (req.url === path) res.end(tarball);
    else if (req.url === `${path}.sha512`) res.end(`${sha512}  apache-maven-${MAVEN_VERSION}-bin.tar.gz\n`);
    else { res.statusCode = 404; res.end(); }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  remote = `http://127.0.0.1:${(server.address() as AddressInfo).port}/maven2/`;
});

afterAll(() => new Promise<void>((r) => server.close(() => r())));

describe('the Maven the builds run', () => {
  it('fetches the pinned Maven once, checks its SHA-512, unpacks it into the cache and runs it with the parallel resolver and file locks', async () => {
    const cacheRoot = mkdtempSync(join(tmpdir(), 'kopc-mvn-cache-'));
    const before = requests.length;
    const tool = await resolveMavenTool({ env: { KOPC_MAVEN_REMOTE: remote }, cacheRoot });
    expect(tool.cmd).toBe(join(cacheRoot, 'maven', `apache-maven-${MAVEN_VERSION}`, 'bin', 'mvn'));
    expect(tool.flags).toEqual(RESOLVER_FLAGS);
    expect((await execa(tool.cmd, ['--version'])).stdout).toContain('test stand-in');
    expect(requests.length - before, 'the tarball and its .sha512').toBe(2);
    const again = await resolveMavenTool({ env: { KOPC_MAVEN_REMOTE: remote }, cacheRoot });
    expect(again.cmd).toBe(tool.cmd);
    expect(requests.length - before, 'a second resolve uses the cache').toBe(2);
  });

  it('falls back to the mvn on PATH, saying why, when the download does not match its checksum', async () => {
    const cacheRoot = mkdtempSync(join(tmpdir(), 'kopc-mvn-cache-'));
    const good = sha512;
    sha512 = 'f'.repeat(128);
    try {
      const tool = await resolveMavenTool({ env: { KOPC_MAVEN_REMOTE: remote }, cacheRoot });
      expect(tool.cmd).toBe('mvn');
      expect(tool.flags).toEqual([]);
      expect(tool.describe).toMatch(/could not be fetched: the SHA-512 of .* says ffffffffffffffff/);
      expect(existsSync(join(cacheRoot, 'maven', `apache-maven-${MAVEN_VERSION}`)), 'nothing unchecked is kept').toBe(false);
    } finally {
      sha512 = good;
    }
  });

  it('falls back the same way when the remote cannot be reached', async () => {
    const tool = await resolveMavenTool({ env: { KOPC_MAVEN_REMOTE: `${remote}missing/` }, cacheRoot: mkdtempSync(join(tmpdir(), 'kopc-mvn-cache-')) });
    expect(tool.cmd).toBe('mvn');
    expect(tool.describe).toMatch(/HTTP 404/);
  });

  it('runs the mvn KOPC_MVN names instead (system: the one on PATH)', async () => {
    expect((await resolveMavenTool({ env: { KOPC_MVN: 'system' } })).cmd).toBe('mvn');
    const own = await resolveMavenTool({ env: { KOPC_MVN: '/opt/maven/bin/mvn' } });
    expect(own).toMatchObject({ cmd: '/opt/maven/bin/mvn', flags: [] });
  });

  it('a mvn that cannot be started is a one-line error naming it', async () => {
    process.env.KOPC_MVN = '/nonexistent/bin/mvn'; // this file's process resolves the Maven here first
    try {
      const { runMaven } = await import('./maven.js');
      const err = await runMaven({ label: 'probe', pom: 'pom.xml', goals: ['validate'] }).then(() => undefined, (e: unknown) => e as Error);
      expect(err?.message).toMatch(/^probe: could not run \/nonexistent\/bin\/mvn .*KOPC_MVN.*ENOENT/);
      expect(err?.message).not.toContain('\n');
    } finally {
      delete process.env.KOPC_MVN;
    }
  });
});
