// Free TCP ports picked at start, so that several runs can coexist on one machine.
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * The kernel's ephemeral port range (Linux: /proc/sys/net/ipv4/ip_local_port_range), from which
 * it gives every outgoing connection its local port.
 */
export function ephemeralRange(text = readRange()): [number, number] {
  const m = /^\s*(\d+)\s+(\d+)\s*$/.exec(text ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [32768, 60999];
}

function readRange(): string | undefined {
  try {
    return readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8');
  } catch {
    return undefined;
  }
}

/** Ports handed out by this process, never handed out twice. */
const handedOut = new Set<number>();

/**
 * A free loopback port for a listener that binds it later (a broker seconds later, a
 * fault-injection proxy minutes later). It is taken below the ephemeral range: a port from inside
 * it can meanwhile become the local port of any outgoing connection (a run makes thousands), and
 * the listener then fails with EADDRINUSE (soak of 2026-12-03, run 5: Toxiproxy could not listen
 * on the kafka target's reserved proxy port 46765). Falls back to a kernel-chosen port after 50
 * tries.
 */
export async function freePort(): Promise<number> {
  const [low] = ephemeralRange();
  const floor = 10_000;
  if (low - floor >= 1_000) {
    for (let i = 0; i < 50; i++) {
      const port = floor + Math.floor(Math.random() * (low - floor));
      if (handedOut.has(port)) continue;
      if (await canBind(port)) {
        handedOut.add(port);
        return port;
      }
    }
  }
  return await kernelPort();
}

async function kernelPort(): Promise<number> {
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
