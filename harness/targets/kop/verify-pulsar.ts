// Proves the Pulsar half of the embedded KoP target on a machine where the KoP NAR cannot be had:
// the pins agree, the "not run" answer is fast and downloads nothing, and Pulsar standalone
// starts from the pom-resolved distribution with the generated configuration (minus the KoP
// lines), token authentication and authorization on and the principals' namespaces provisioned;
// then it stops, leaving no process behind. Prints measured figures; no secret is printed.
//
//   npx tsx harness/targets/kop/verify-pulsar.ts [--fresh-download]
//
// --fresh-download removes the cached distribution (and Maven's copy of the tarball) first, to
// measure the download through the pom.
import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { defaultTenantFabrics, roleOf } from '../../security/principals.js';
import { cacheDir } from '../../util/paths.js';
import { TargetUnavailableError } from '../types.js';
import {
  adminRequest, ensurePulsarDistribution, kopAvailability, namespacePlan, startKopBroker, type StartedKopBroker,
} from './kop-target.js';
import { KOP_VERSIONS, readPomPins } from './versions.js';

let passed = 0;
let failed = 0;
function check(name: string, ok: boolean, detail = ''): void {
  if (ok) passed++; else failed++;
  process.stdout.write(`${ok ? 'PASS' : 'FAIL'}  ${name}${detail ? `  (${detail})` : ''}\n`);
}
const figures: string[] = [];
const figure = (s: string) => { figures.push(s); process.stdout.write(`FIGURE ${s}\n`); };
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

function processesMentioning(text: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes(text) && !l.includes('verify-pulsar'));
}

async function main(): Promise<void> {
  // 1. Pins in one place.
  const pins = readPomPins();
  check('pom.xml pins equal versions.ts', pins.pulsar === KOP_VERSIONS.pulsar && pins.kop === KOP_VERSIONS.kop,
    `pom pulsar=${pins.pulsar} kop=${pins.kop}`);

  // 2. The availability answer: fast, and "not run" without downloading anything.
  const savedNar = process.env.KOP_NAR;
  delete process.env.KOP_NAR;
  let t = Date.now();
  const avail = await kopAvailability({ refresh: true });
  figure(`kopAvailability() fresh HEAD check: ${Date.now() - t} ms -> available=${avail.available}`);
  t = Date.now();
  const cachedAvail = await kopAvailability();
  figure(`kopAvailability() cached: ${Date.now() - t} ms`);
  check('kopAvailability answers within 5 s', Date.now() - t < 5000);
  if (!avail.available) {
    process.stdout.write(`      reason: ${avail.reason}\n`);
    const distDir = join(cacheDir, 'kop', `pulsar-${KOP_VERSIONS.pulsar}`);
    const hadDist = existsSync(distDir);
    t = Date.now();
    let err: unknown;
    try { await startKopBroker(); } catch (e) { err = e; }
    const ms = Date.now() - t;
    check('startKopBroker() throws TargetUnavailableError', err instanceof TargetUnavailableError,
      err instanceof Error ? `${err.name} after ${ms} ms` : 'no error');
    check('its message is one line naming KOP_NAR',
      err instanceof Error && !err.message.includes('\n') && err.message.includes('KOP_NAR='));
    check('no distribution was downloaded for an unavailable target', existsSync(distDir) === hadDist);
    check('cached answer equals fresh answer', cachedAvail.reason === avail.reason);
  }
  if (savedNar !== undefined) process.env.KOP_NAR = savedNar;

  // 3. The distribution through the pom.
  if (process.argv.includes('--fresh-download')) {
    rmSync(join(cacheDir, 'kop', `pulsar-${KOP_VERSIONS.pulsar}`), { recursive: true, force: true });
    rmSync(join(process.env.KOPC_MAVEN_REPO ?? join(homedir(), '.m2', 'repository'), 'org', 'apache', 'pulsar',
      'pulsar-server-distribution', KOP_VERSIONS.pulsar), { recursive: true, force: true });
  }
  t = Date.now();
  const home = await ensurePulsarDistribution();
  figure(`ensurePulsarDistribution() (mvn dependency:unpack@pulsar-distribution): ${secs(Date.now() - t)}`);
  check('distribution unpacked', existsSync(join(home, 'bin', 'pulsar')), home);

  // 4. Pulsar standalone with the generated configuration, minus KoP.
  t = Date.now();
  const target: StartedKopBroker = await startKopBroker({ withoutKafkaHandler: true });
  figure(`cold start to admin REST ready + provisioned: ${secs(Date.now() - t)}`);
  try {
    const web = target.ports.web;
    const admin = target.adminToken();
    // target.pid leads the process group (the guard); the JVM is the java process in it.
    const group = execFileSync('ps', ['-o', 'pid=,rss=,comm=', '-g', String(target.pid)], { encoding: 'utf8' })
      .trim().split('\n').map((l) => l.trim().split(/\s+/));
    figure(`processes in the broker's group: ${group.map((g) => `${g[2]}(${g[0]})`).join(', ')}`);
    const java = group.find((g) => g[2] === 'java');
    check('a java process runs in the broker group', java !== undefined);
    if (java) figure(`java RSS right after ready: ${(Number(java[1]) / 1024).toFixed(0)} MiB (pid ${java[0]})`);

    const withAdmin = await adminRequest(web, admin, 'GET', '/admin/v2/clusters');
    check('admin JWT: GET /admin/v2/clusters -> 200', withAdmin.status === 200, `HTTP ${withAdmin.status} ${withAdmin.text}`);
    const without = await adminRequest(web, undefined, 'GET', '/admin/v2/clusters');
    check('no token: GET /admin/v2/clusters -> 401', without.status === 401, `HTTP ${without.status}`);
    const forged = target.forgedPasswords![0]!.slice('token:'.length);
    const withForged = await adminRequest(web, forged, 'GET', '/admin/v2/clusters');
    check('JWT signed with another key -> 401', withForged.status === 401, `HTTP ${withForged.status}`);
    const userJwt = target.principals[0]!.password.slice('token:'.length);
    const userCreate = await adminRequest(web, userJwt, 'PUT', '/admin/v2/tenants/intruder',
      { adminRoles: [], allowedClusters: ['standalone'] });
    check('principal JWT (not a superuser) cannot create a tenant -> 401/403',
      userCreate.status === 401 || userCreate.status === 403, `HTTP ${userCreate.status}`);

    const plan = namespacePlan(defaultTenantFabrics, 'default');
    for (const tenant of new Set(defaultTenantFabrics.map((x) => x.tenant))) {
      const r = await adminRequest(web, admin, 'GET', `/admin/v2/namespaces/${tenant}`);
      const listed = JSON.parse(r.text) as string[];
      const want = [...plan.keys()].filter((ns) => ns.startsWith(`${tenant}/`));
      check(`tenant ${tenant} has namespaces ${want.join(', ')}`, want.every((ns) => listed.includes(ns)),
        `listed: ${listed.join(', ')}`);
    }
    for (const [ns, roles] of plan) {
      const r = await adminRequest(web, admin, 'GET', `/admin/v2/namespaces/${ns}/permissions`);
      const perms = JSON.parse(r.text) as Record<string, string[]>;
      const exact = Object.keys(perms).sort().join(',') === [...roles].sort().join(',')
        && roles.every((role) => ['consume', 'produce'].every((a) => perms[role]?.includes(a)));
      check(`${ns}: produce+consume for exactly ${roles.join(', ')}`, exact, JSON.stringify(perms));
    }
    // The fabric namespace of one principal is not granted to the other fabric of the same tenant.
    const eu = defaultTenantFabrics[0]!;
    const ap = defaultTenantFabrics.find((x) => x.tenant === eu.tenant && x.fabric !== eu.fabric);
    if (ap) {
      const r = await adminRequest(web, admin, 'GET', `/admin/v2/namespaces/${eu.tenant}/${eu.fabric}/permissions`);
      check(`${roleOf(ap)} has no grant on ${eu.tenant}/${eu.fabric}`,
        !(roleOf(ap) in (JSON.parse(r.text) as Record<string, unknown>)));
    }
  } finally {
    t = Date.now();
    await target.stop();
    figure(`stop(): ${secs(Date.now() - t)}`);
  }
  let groupGone = false;
  try { process.kill(-target.pid, 0); } catch { groupGone = true; }
  check('broker process group is gone after stop()', groupGone);
  const left = processesMentioning(target.runDir);
  check('no process mentions the run directory', left.length === 0, left.join(' | '));

  process.stdout.write(`\n${figures.map((f) => `  ${f}`).join('\n')}\n`);
  process.stdout.write(`verify-pulsar: ${passed} passed, ${failed} failed\n`);
  process.exitCode = failed ? 1 : 0;
}

main().catch((err: unknown) => {
  process.stderr.write(`verify-pulsar: ${err instanceof Error ? err.message : String(err)}\n`);
  process.stdout.write(`verify-pulsar: ${passed} passed, ${failed + 1} failed\n`);
  process.exitCode = 1;
});
