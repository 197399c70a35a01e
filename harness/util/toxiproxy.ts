// Toxiproxy (Shopify's TCP fault-injection proxy) for the faults family: toxiproxy-server is
// built from the Go module proxy with `go install` into the cache (once per version), started
// on a free loopback port under the process guard, and driven through its HTTP API.
// API (toxiproxy 2.x README): GET /version, POST /proxies, POST|DELETE /proxies/{name},
// POST /proxies/{name}/toxics, DELETE /proxies/{name}/toxics/{toxic}, POST /reset.
import { existsSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { cacheDir, ensureDir, workDir } from './paths.js';
import { freePort } from './ports.js';
import { isAlive, startGuarded, type GuardedProcess } from './process.js';
import { progress, step } from './progress.js';
import { pollUntil } from './wait.js';

export const TOXIPROXY_VERSION = '2.5.0';
const MODULE = 'github.com/Shopify/toxiproxy/v2';
/** The module's server command (`cmd/server`; `go install` names the binary `server`). */
const SERVER_PACKAGE = `${MODULE}/cmd/server`;

export type ToxicType = 'latency' | 'bandwidth' | 'slow_close' | 'timeout' | 'reset_peer' | 'slicer' | 'limit_data';

export interface Toxic {
  name: string;
  type: ToxicType;
  /** `downstream`: broker → client; `upstream`: client → broker. Default downstream. */
  stream?: 'upstream' | 'downstream';
  /** Probability (0..1) that a connection gets the toxic. Default 1. */
  toxicity?: number;
  /** Per type: latency {latency, jitter}, timeout {timeout}, reset_peer {timeout}, … (milliseconds). */
  attributes: Record<string, number>;
}

export interface ProxySpec {
  name: string;
  /** host:port the proxy listens on. */
  listen: string;
  /** host:port it forwards to. */
  upstream: string;
  enabled?: boolean;
}

export interface Toxiproxy {
  /** The API's base URL, http://127.0.0.1:<port>. */
  readonly url: string;
  readonly pid: number;
  readonly logFile: string;
  version(): Promise<string>;
  createProxy(spec: ProxySpec): Promise<void>;
  deleteProxy(name: string): Promise<void>;
  /** Disabling closes every connection through the proxy and stops listening; enabling listens again. */
  setEnabled(name: string, enabled: boolean): Promise<void>;
  addToxic(proxy: string, toxic: Toxic): Promise<void>;
  removeToxic(proxy: string, toxic: string): Promise<void>;
  /** The names of a proxy's toxics. */
  toxics(proxy: string): Promise<string[]>;
  /** Every proxy enabled again and every toxic removed. */
  reset(): Promise<void>;
  /** Ends the server (its whole process group). Idempotent. */
  stop(): Promise<void>;
}

/** The bound of the one-time `go install` of toxiproxy-server. */
export const TOXIPROXY_BUILD_MS = 600_000;

/** The cached toxiproxy-server binary, built with `go install` on first use. */
export async function ensureToxiproxyServer(): Promise<string> {
  const dir = join(cacheDir, 'toxiproxy', TOXIPROXY_VERSION);
  const bin = join(dir, 'server');
  if (existsSync(bin)) return bin;
  const go = process.env.KOPC_GO ?? 'go';
  const probe = await execa(go, ['version'], { reject: false, stdin: 'ignore' }).catch(() => undefined);
  if (!probe || probe.exitCode !== 0) {
    throw new Error(`toxiproxy: go is not installed (needed once to build toxiproxy-server ${TOXIPROXY_VERSION} with go install ${SERVER_PACKAGE}@v${TOXIPROXY_VERSION})`);
  }
  ensureDir(dir);
  // Built into a private directory and renamed into place: two workers building at once both end with one whole binary.
  const tmp = mkdtempSync(join(dir, '.build-'));
  try {
    await step(`toxiproxy-server ${TOXIPROXY_VERSION}: go install from the Go module proxy`, async () => {
      // Without the linker flag the server reports version "git".
      const r = await execa(go, ['install', '-ldflags', `-X ${MODULE}.Version=${TOXIPROXY_VERSION}`, `${SERVER_PACKAGE}@v${TOXIPROXY_VERSION}`],
        { reject: false, all: true, stdin: 'ignore', timeout: TOXIPROXY_BUILD_MS, env: { ...process.env, GOBIN: tmp, GOFLAGS: '-buildvcs=false' } });
      if (r.exitCode !== 0 || !existsSync(join(tmp, 'server'))) {
        const last = (r.all ?? '').trim().split('\n').filter(Boolean).pop() ?? `exit code ${r.exitCode}`;
        throw new Error(`toxiproxy: go install ${SERVER_PACKAGE}@v${TOXIPROXY_VERSION} failed: ${last}`);
      }
    });
    renameSync(join(tmp, 'server'), bin);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return bin;
}

async function api<T = unknown>(base: string, method: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`toxiproxy ${method} ${path}: HTTP ${res.status} ${text.trim().slice(0, 300)}`);
  return (text && res.headers.get('content-type')?.includes('json') ? JSON.parse(text) : text) as T;
}

/** Starts toxiproxy-server on a free loopback port and waits until its API answers. */
export async function startToxiproxy(opts: { logDir?: string; readyTimeoutMs?: number } = {}): Promise<Toxiproxy> {
  const bin = await ensureToxiproxyServer();
  const port = await freePort();
  const logDir = ensureDir(opts.logDir ?? join(workDir, 'toxiproxy'));
  const logFile = join(logDir, `toxiproxy-${process.pid}-${port}.log`);
  const proc: GuardedProcess = startGuarded(bin, ['-host', '127.0.0.1', '-port', String(port)], { logFile, watchPid: process.pid });
  const url = `http://127.0.0.1:${port}`;
  try {
    await pollUntil(`toxiproxy-server API on ${url}`, () => api<string>(url, 'GET', '/version'), {
      timeoutMs: opts.readyTimeoutMs ?? 15_000,
      intervalMs: 100,
      abort: () => {
        const e = proc.exited();
        return e ? new Error(`toxiproxy-server exited (${e}) before it was ready: ${proc.logTail(500).trim()}`) : undefined;
      },
    });
  } catch (err) {
    await proc.stop(1000);
    throw err;
  }
  progress('toxiproxy', `server ${TOXIPROXY_VERSION} on ${url} (pid ${proc.pid})`);
  let stopped = false;
  return {
    url,
    pid: proc.pid,
    logFile,
    version: async () => {
      const v = await api<string | { version: string }>(url, 'GET', '/version');
      return typeof v === 'string' ? v.trim() : v.version;
    },
    createProxy: async (spec) => { await api(url, 'POST', '/proxies', { enabled: true, ...spec }); },
    deleteProxy: async (name) => { await api(url, 'DELETE', `/proxies/${encodeURIComponent(name)}`); },
    setEnabled: async (name, enabled) => { await api(url, 'POST', `/proxies/${encodeURIComponent(name)}`, { enabled }); },
    addToxic: async (proxy, t) => {
      await api(url, 'POST', `/proxies/${encodeURIComponent(proxy)}/toxics`, { stream: 'downstream', toxicity: 1, ...t });
    },
    removeToxic: async (proxy, t) => { await api(url, 'DELETE', `/proxies/${encodeURIComponent(proxy)}/toxics/${encodeURIComponent(t)}`); },
    toxics: async (proxy) => (await api<{ name: string }[]>(url, 'GET', `/proxies/${encodeURIComponent(proxy)}/toxics`)).map((t) => t.name),
    reset: async () => { await api(url, 'POST', '/reset'); },
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await proc.stop(2000);
      if (isAlive(-proc.pid)) throw new Error(`toxiproxy-server (group ${proc.pid}) still running after stop`);
    },
  };
}
