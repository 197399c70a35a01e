// Free TCP ports picked at start, so that several runs can coexist on one machine.
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return await new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePort(port));
    });
  });
}

export async function freePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

/** True when `port` can be bound on 127.0.0.1 right now (with SO_REUSEADDR, as the brokers' JVMs bind). */
export async function canBind(port: number): Promise<boolean> {
  return await new Promise((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

/**
 * Waits (bounded) until every port can be bound again: a broker restarted on its own ports must
 * not race the old process's sockets. Throws naming the ports still taken.
 */
export async function waitPortsBindable(ports: readonly number[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const taken: number[] = [];
    for (const p of ports) if (!(await canBind(p))) taken.push(p);
    if (!taken.length) return;
    if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for port(s) ${taken.join(', ')} on 127.0.0.1 to be free again`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
