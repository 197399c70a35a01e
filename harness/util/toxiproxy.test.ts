// The toxiproxy module: the real toxiproxy-server (built on first use), a proxy in front of a
// local echo server, toxics that change what passes, and nothing left running after stop().
import { createConnection, createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from './ports.js';
import { isAlive } from './process.js';
import { startToxiproxy, TOXIPROXY_VERSION, type Toxiproxy } from './toxiproxy.js';

let echo: Server;
let echoPort: number;
let proxy: Toxiproxy | undefined;

/** Sends `text` through 127.0.0.1:port and resolves with what came back within `ms` (or the socket error's code). */
function exchange(port: number, text: string, ms: number): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port });
    let got = '';
    const done = (v: string) => { clearTimeout(timer); s.destroy(); resolve(v); };
    const timer = setTimeout(() => done(got || 'no answer'), ms);
    s.on('connect', () => s.write(text));
    s.on('data', (d) => { got += d.toString(); if (got.length >= text.length) done(got); });
    s.on('error', (e: NodeJS.ErrnoException) => done(e.code ?? e.message));
  });
}

beforeAll(async () => {
  echo = createServer((s) => s.pipe(s));
  echoPort = await freePort();
  await new Promise<void>((r) => echo.listen(echoPort, '127.0.0.1', r));
  proxy = await startToxiproxy();
}, 600_000);

afterAll(async () => {
  await proxy?.stop();
  await new Promise((r) => echo.close(r));
});

describe('toxiproxy', () => {
  it(`serves its API (version ${TOXIPROXY_VERSION})`, async () => {
    expect(await proxy!.version()).toContain(TOXIPROXY_VERSION);
  });

  it('forwards through a proxy, and a timeout toxic stops data until it is removed', async () => {
    const p = proxy!;
    const listen = await freePort();
    await p.createProxy({ name: 'echo', listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${echoPort}` });
    expect(await exchange(listen, 'hello', 3000)).toBe('hello');
    await p.addToxic('echo', { name: 'gone', type: 'timeout', attributes: { timeout: 0 } });
    expect(await p.toxics('echo')).toEqual(['gone']);
    expect(await exchange(listen, 'held', 800)).toBe('no answer');
    await p.removeToxic('echo', 'gone');
    expect(await p.toxics('echo')).toEqual([]);
    expect(await exchange(listen, 'back', 3000)).toBe('back');
  });

  it('a latency toxic delays the answer', async () => {
    const p = proxy!;
    const listen = await freePort();
    await p.createProxy({ name: 'slow', listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${echoPort}` });
    await p.addToxic('slow', { name: 'lag', type: 'latency', attributes: { latency: 400, jitter: 0 } });
    const t0 = Date.now();
    expect(await exchange(listen, 'late', 5000)).toBe('late');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(380);
    await p.deleteProxy('slow');
    expect(await exchange(listen, 'x', 1000)).toBe('ECONNREFUSED');
  });

  it('a disabled proxy refuses connections; enabled again it forwards; reset removes toxics', async () => {
    const p = proxy!;
    const listen = await freePort();
    await p.createProxy({ name: 'flip', listen: `127.0.0.1:${listen}`, upstream: `127.0.0.1:${echoPort}` });
    await p.setEnabled('flip', false);
    expect(await exchange(listen, 'x', 1000)).toBe('ECONNREFUSED');
    await p.addToxic('flip', { name: 'lag', type: 'latency', attributes: { latency: 5000 } });
    await p.reset();
    expect(await p.toxics('flip')).toEqual([]);
    expect(await exchange(listen, 'again', 3000)).toBe('again');
  });

  it('stop() leaves no process behind', async () => {
    const p = proxy!;
    await p.stop();
    expect(isAlive(-p.pid), `process group ${p.pid}`).toBe(false);
    await expect(p.version()).rejects.toThrow();
    proxy = undefined;
  });
});
