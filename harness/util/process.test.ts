// Broker processes must never outlive the run that started them.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { createServer } from 'node:net';
import { groupRssKb, isAlive, logErrorLines, startGuarded } from './process.js';
import { freePort, waitPortsBindable } from './ports.js';
import { pollUntil } from './wait.js';

const dir = mkdtempSync(join(tmpdir(), 'kopc-proc-'));

async function childPids(groupLeader: number): Promise<number[]> {
  const r = await execa('pgrep', ['-g', String(groupLeader)], { reject: false });
  return r.stdout.split('\n').filter(Boolean).map(Number);
}

describe('guarded processes', () => {
  it('stop() ends the whole process group', async () => {
    const p = startGuarded('sleep', ['300'], { logFile: join(dir, 'a.log'), watchPid: process.pid });
    await pollUntil('sleep to start', async () => {
      if ((await childPids(p.pid)).length < 2) throw new Error('not yet');
    }, { timeoutMs: 5000, intervalMs: 50 });
    const pids = await childPids(p.pid);
    await p.stop(3000);
    for (const pid of pids) expect(isAlive(pid), `pid ${pid} still alive`).toBe(false);
  });

  it('a child dies when the process it watches disappears', async () => {
    const parent = execa('sleep', ['2']);
    const p = startGuarded('sleep', ['300'], { logFile: join(dir, 'b.log'), watchPid: parent.pid });
    await parent;
    await pollUntil('guarded child to exit after its parent died', async () => {
      if (isAlive(-p.pid)) throw new Error('still alive');
    }, { timeoutMs: 15_000, intervalMs: 200 });
    expect(p.exited()).toBeDefined();
  });

  it('reports the exit of a child that fails', async () => {
    const p = startGuarded('bash', ['-c', 'echo boom >&2; exit 3'], { logFile: join(dir, 'c.log'), watchPid: process.pid });
    await pollUntil('failing child to exit', async () => {
      if (!p.exited()) throw new Error('running');
    }, { timeoutMs: 5000, intervalMs: 50 });
    expect(p.exited()).toBe('exit code 3');
    expect(p.logTail()).toContain('boom');
  });

  it('stop(0, SIGKILL) ends the group at once, as a crash: a child that ignores SIGTERM is gone too', async () => {
    // The child traps SIGTERM: only SIGKILL ends it, and a SIGTERM-first stop would wait out its grace.
    const p = startGuarded('bash', ['-c', 'trap "" TERM; while true; do sleep 0.2; done'], { logFile: join(dir, 'd.log'), watchPid: process.pid });
    await pollUntil('child to start', async () => {
      if ((await childPids(p.pid)).length < 2) throw new Error('not yet');
    }, { timeoutMs: 5000, intervalMs: 50 });
    expect(groupRssKb(p.pid), 'resident memory of the running group').toBeGreaterThan(0);
    const t0 = Date.now();
    // A 30 s grace, which a SIGTERM-first stop would wait out (the child ignores SIGTERM): SIGKILL
    // first must not. The bound is half the grace, not a speed claim: the group took 2.0 s to be
    // reaped with a 2 s bound on a machine running a full conformance run beside the harness tests.
    await p.stop(30_000, 'SIGKILL');
    expect(Date.now() - t0, 'SIGKILL first: the grace was not waited').toBeLessThan(15_000);
    expect(isAlive(-p.pid)).toBe(false);
    expect(groupRssKb(p.pid)).toBeUndefined();
  });
});

describe('ports of a restarted broker', () => {
  it('waitPortsBindable waits for a port to be released, and names a port that stays taken', async () => {
    const port = await freePort();
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(port, '127.0.0.1', r));
    const stillTaken = await waitPortsBindable([port], 300).then(() => undefined, (e: Error) => e.message);
    expect(stillTaken).toMatch(new RegExp(`timed out after 300 ms waiting for port\\(s\\) ${port} `));
    setTimeout(() => srv.close(), 300);
    await waitPortsBindable([port], 5000);
  });
});

describe('a broker log read for a start that did not get ready', () => {
  it('gives the last ERROR and exception lines, trimmed, and nothing else', () => {
    const log = join(dir, 'broker.log');
    writeFileSync(log, [
      '2026-12-04T21:29:30 INFO  starting',
      '2026-12-04T21:29:31 ERROR old trouble',
      '2026-12-04T21:29:32 WARN  slow',
      'java.net.BindException: Address already in use',
      '2026-12-04T21:29:33 ERROR newest trouble ' + 'x'.repeat(400),
      '2026-12-04T21:29:34 INFO  still starting',
    ].join('\n'));
    const lines = logErrorLines(log, 2);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('java.net.BindException: Address already in use');
    expect(lines[1]).toMatch(/^2026-12-04T21:29:33 ERROR newest trouble x+$/);
    expect(lines[1]!.length).toBe(300);
    expect(logErrorLines(join(dir, 'no-such.log'))).toEqual([]);
  });
});
