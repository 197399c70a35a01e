// The Go clients (franz-go, Sarama): one Go program per client in its own folder beside this
// module (harness/clients/go/<client>/, with a go.mod pinning the library and a committed
// go.sum), each speaking PROTOCOL.md over JSON lines through the shared module ../driverkit
// (the loop, the watchdog, the wire types, the common error mapping), which each go.mod pulls
// in with `replace … => ../driverkit`. The harness builds a client with `go build` once per
// source state: the binary lives in <cacheDir>/go-drivers/<client>-<hash>/, the hash covering
// go.mod, go.sum, every .go file of the folder and of every local module its go.mod replaces
// in, and the Go version. A new Go client is one folder + one registry line
// (`goClientEntry('<folder>')`).
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { startExternalDriver, type ExternalDriverHandle } from '../external/external-driver.js';
import type { ClientEntry } from '../registry.js';
import { cacheDir, ensureDir } from '../../util/paths.js';
import { buildIntoPlace } from '../../util/build-into-place.js';
import { progress, step } from '../../util/progress.js';
import { runWithProgress } from '../../util/run-with-progress.js';

export const goClientsDir = dirname(fileURLToPath(import.meta.url));

/** Bound on one cold build (module downloads from the proxy included). */
const BUILD_TIMEOUT_MS = 15 * 60_000;
const BINARY = 'driver';

const goCommand = (env: NodeJS.ProcessEnv = process.env) => env.KOPC_GO ?? 'go';

/** `<go> env GOVERSION` (e.g. `go1.26.8`), or undefined when `go` is missing or broken. */
export async function probeGoVersion(go: string): Promise<string | undefined> {
  const r = await execa(go, ['env', 'GOVERSION'], { reject: false, stdin: 'ignore', timeout: 30_000 }).catch(() => undefined);
  return r && r.exitCode === 0 && r.stdout.trim() ? r.stdout.trim() : undefined;
}

let goVersionProbe: Promise<string | undefined> | undefined;

/** The Go version of `KOPC_GO` (default `go`), probed once per process. */
export function goVersion(): Promise<string | undefined> {
  goVersionProbe ??= probeGoVersion(goCommand());
  return goVersionProbe;
}

export const GO_NOT_FOUND = 'not run: go not found (install Go, or set KOPC_GO to its binary)';

/** Why the Go clients cannot run here, as the cells read it; undefined when `go` works. */
export async function goUnavailable(): Promise<string | undefined> {
  return (await goVersion()) ? undefined : GO_NOT_FOUND;
}

/** A Go client's folder: a module with a main.go (a shared module such as driverkit has none). */
export function isGoClientFolder(dir: string): boolean {
  return existsSync(join(dir, 'go.mod')) && existsSync(join(dir, 'main.go'));
}

/**
 * The folders of the local modules that the go.mod in `dir` pulls in with a `replace … =>
 * ./path` or `../path` directive (Go's rule for a directory replacement), relative to `dir`.
 */
export function goLocalReplacements(dir: string): string[] {
  const mod = readFileSync(join(dir, 'go.mod'), 'utf8');
  return [...mod.matchAll(/=>\s*(\.\.?\/[^\s)]*)/g)].map((m) => m[1]!);
}

/**
 * go.mod, go.sum and every .go file under `dir` and under every local module it replaces in
 * (transitively): sorted paths relative to `dir` (`../driverkit/serve.go` for a shared module).
 * A replaced folder that does not exist adds nothing; `go build` then names it.
 */
export function goSourceFiles(dir: string): string[] {
  const out = new Set<string>();
  const seen = new Set<string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.go') || e.name === 'go.mod' || e.name === 'go.sum') out.add(relative(dir, p));
    }
  };
  const visit = (mod: string) => {
    if (seen.has(mod) || !existsSync(join(mod, 'go.mod'))) return;
    seen.add(mod);
    walk(mod);
    for (const r of goLocalReplacements(mod)) visit(join(mod, r));
  };
  visit(dir);
  return [...out].sort();
}

/** The build key: the client's sources and its local modules' (names and contents), and the Go version. */
export function goBuildHash(dir: string, goVer: string): string {
  const h = createHash('sha256').update(goVer).update('\0');
  for (const f of goSourceFiles(dir)) h.update(f).update('\0').update(readFileSync(join(dir, f))).update('\0');
  return h.digest('hex').slice(0, 12);
}

/** Streams `go build -v` output (module downloads, packages compiled) as progress lines. */
async function goBuild(label: string, cwd: string, out: string): Promise<void> {
  await runWithProgress({
    label, cmd: goCommand(), args: ['build', '-v', '-trimpath', '-o', out, '.'], cwd, timeoutMs: BUILD_TIMEOUT_MS, what: 'go build',
    // go.sum is committed: the build must not rewrite go.mod/go.sum behind the reviewer's back.
    env: { ...process.env, GOFLAGS: '-buildvcs=false -mod=readonly' },
  });
}

export interface GoDriverBuild {
  binary: string;
  /** Milliseconds the build took in this process; 0 when the cached binary was used. */
  buildMs: number;
}

const builds = new Map<string, Promise<GoDriverBuild>>();

/**
 * The driver binary for `client` (the folder name), built on first use. It is built into a
 * private scratch directory and renamed into place whole, so concurrent workers building the
 * same key (or a build that was interrupted) never leave a half-written binary in the cache.
 */
export function buildGoDriver(client: string): Promise<GoDriverBuild> {
  let b = builds.get(client);
  if (!b) {
    b = buildOnce(client);
    b.catch(() => builds.delete(client));
    builds.set(client, b);
  }
  return b;
}

async function buildOnce(client: string): Promise<GoDriverBuild> {
  const src = join(goClientsDir, client);
  if (!existsSync(join(src, 'go.mod'))) throw new Error(`go driver ${client}: no go.mod in ${src}`);
  const goVer = await goVersion();
  if (!goVer) throw new Error(`go driver ${client}: go not found (install Go, or set KOPC_GO to its binary)`);
  const root = ensureDir(join(cacheDir, 'go-drivers'));
  const dir = join(root, `${client}-${goBuildHash(src, goVer)}`);
  const binary = join(dir, BINARY);
  if (existsSync(binary)) return { binary, buildMs: 0 };
  const label = `go driver ${client}`;
  const t0 = Date.now();
  await step(`${label}: go build (${goVer}, cold)`, () =>
    buildIntoPlace(dir, () => existsSync(binary), (scratch) => goBuild(label, src, join(scratch, BINARY))));
  return { binary, buildMs: Date.now() - t0 };
}

/** Builds (if needed) and starts the driver; logs the time from spawn to startup_complete. */
export async function startGoDriver(client: string): Promise<ExternalDriverHandle & { startupMs: number }> {
  const { binary } = await buildGoDriver(client);
  const t0 = Date.now();
  const driver = await startExternalDriver({ id: client, command: binary, args: [], cwd: join(goClientsDir, client), startTimeoutMs: 30_000 });
  const startupMs = Date.now() - t0;
  progress(`${client}: driver ready`, `${driver.version}, ${startupMs} ms from spawn to startup_complete`);
  return Object.assign(driver, { startupMs });
}

/** The registry line of a Go client: `client` is its folder under harness/clients/go/ and its id. */
export function goClientEntry(client: string): ClientEntry {
  return { id: client, unavailable: goUnavailable, create: () => startGoDriver(client) };
}
