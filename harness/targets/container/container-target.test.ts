// The container target must know within a second whether a container engine is there,
// and say "not run: no container runtime" rather than hang when none is.
import { createServer, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TargetUnavailableError } from '../types.js';
import { probeContainerRuntime, startContainerTarget } from './container-target.js';

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

function serveOn(socketPath: string, handler: Parameters<typeof createServer>[1]): Promise<void> {
  const srv = createServer(handler);
  servers.push(srv);
  return new Promise((r) => srv.listen(socketPath, () => r()));
}

describe('container runtime probe', () => {
  it('finds an engine that answers /_ping on its socket', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'kopc-')), 'docker.sock');
    await serveOn(sock, (req, res) => {
      res.statusCode = req.url === '/_ping' ? 200 : 404;
      res.end('OK');
    });
    const p = await probeContainerRuntime({ DOCKER_HOST: `unix://${sock}` });
    expect(p).toMatchObject({ available: true, detail: sock });
  });

  it('gives up on a socket that never answers within about a second', async () => {
    const sock = join(mkdtempSync(join(tmpdir(), 'kopc-')), 'docker.sock');
    await serveOn(sock, () => { /* never responds */ });
    const t0 = Date.now();
    const p = await probeContainerRuntime({ DOCKER_HOST: `unix://${sock}` });
    expect(p.available).toBe(false);
    expect(Date.now() - t0).toBeLessThan(1500);
  });

  it('reports no socket at all quickly', async () => {
    const t0 = Date.now();
    const p = await probeContainerRuntime({ DOCKER_HOST: 'unix:///nonexistent/docker.sock', XDG_RUNTIME_DIR: '/nonexistent' });
    expect(Date.now() - t0).toBeLessThan(1000);
    // The machine may have a real engine at the default path; without one the probe says so.
    if (!p.available) expect(p.detail).toMatch(/no Docker or Podman socket found|did not answer|no engine answered/);
  });
});

describe('container target on this machine', () => {
  it('is "not run: no container runtime" within a second when no engine answers', async (ctx) => {
    const probe = await probeContainerRuntime();
    if (probe.available) ctx.skip(`a container engine answers at ${probe.detail}: the no-runtime path is not testable here`);
    const t0 = Date.now();
    const err = await startContainerTarget().then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TargetUnavailableError);
    expect((err as Error).message).toMatch(/^not run: no container runtime/);
    expect(Date.now() - t0).toBeLessThan(1000);
  });
});
