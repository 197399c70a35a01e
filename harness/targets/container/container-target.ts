// Pulsar with KoP in a container (testcontainers' GenericContainer: there is no Pulsar
// module for Node), configured like the embedded KoP target. Where no container runtime
// answers, this says so within a second instead of letting testcontainers search and hang.
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { TargetUnavailableError, type StartedTarget } from '../types.js';

/** The KoP image; override with KOPC_KOP_IMAGE. StreamNative's platform image ships the KoP NAR. */
export const DEFAULT_KOP_IMAGE = 'streamnative/sn-platform:4.0.6.5';

export interface RuntimeProbe {
  available: boolean;
  /** Where it answered, or what was tried. */
  detail: string;
  ms: number;
}

function candidateSockets(env: NodeJS.ProcessEnv): string[] {
  const list: string[] = [];
  const host = env.DOCKER_HOST;
  if (host?.startsWith('unix://')) list.push(host.slice('unix://'.length));
  list.push('/var/run/docker.sock', join(homedir(), '.docker/run/docker.sock'));
  if (env.XDG_RUNTIME_DIR) list.push(join(env.XDG_RUNTIME_DIR, 'docker.sock'), join(env.XDG_RUNTIME_DIR, 'podman/podman.sock'));
  list.push('/run/podman/podman.sock');
  return [...new Set(list)];
}

function ping(options: { socketPath?: string; host?: string; port?: number }, timeoutMs: number): Promise<boolean> {
  return new Promise((resolvePing) => {
    const req = request({ ...options, path: '/_ping', method: 'GET', timeout: timeoutMs }, (res) => {
      res.resume();
      resolvePing(res.statusCode === 200);
    });
    req.on('timeout', () => { req.destroy(); resolvePing(false); });
    req.on('error', () => resolvePing(false));
    req.end();
  });
}

/** Answers within ~1 s whether a Docker-compatible engine is reachable. */
export async function probeContainerRuntime(env: NodeJS.ProcessEnv = process.env, timeoutMs = 800): Promise<RuntimeProbe> {
  const t0 = Date.now();
  const host = env.DOCKER_HOST;
  if (host?.startsWith('tcp://')) {
    const url = new URL(host.replace('tcp://', 'http://'));
    const ok = await ping({ host: url.hostname, port: Number(url.port || 2375) }, timeoutMs);
    return { available: ok, detail: ok ? host : `DOCKER_HOST ${host} did not answer /_ping`, ms: Date.now() - t0 };
  }
  const sockets = candidateSockets(env).filter((s) => existsSync(s));
  const answers = await Promise.all(sockets.map((s) => ping({ socketPath: s }, timeoutMs)));
  const found = sockets[answers.indexOf(true)];
  return {
    available: found !== undefined,
    detail: found ?? (sockets.length ? `no engine answered /_ping on ${sockets.join(', ')}` : 'no Docker or Podman socket found'),
    ms: Date.now() - t0,
  };
}

export async function startContainerTarget(): Promise<StartedTarget> {
  const probe = await probeContainerRuntime();
  if (!probe.available) {
    throw new TargetUnavailableError('container', `not run: no container runtime (${probe.detail}; checked in ${probe.ms} ms)`);
  }
  const { startKopContainer } = await import('./kop-container.js');
  return await startKopContainer(process.env.KOPC_KOP_IMAGE ?? DEFAULT_KOP_IMAGE);
}
