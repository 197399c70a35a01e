// No driver process outlives a run: when the process that started an external driver dies
// without closing it (a crashed or killed test worker), the driver's watchdog ends it.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { isAlive } from '../../util/process.js';
import { projectRoot } from '../../util/paths.js';
import { pollUntil } from '../../util/wait.js';

describe('external driver lifecycle', () => {
  for (const [kind, version] of [['python', 'confluent-kafka'], ['java', '2.8.0']] as const) {
    it(`a ${kind} driver exits by itself when its parent is killed`, async () => {
      const parent = execa('npx', ['tsx', 'harness/clients/external/orphan-driver.mts', kind, version], {
        cwd: projectRoot, reject: false, buffer: false, env: { npm_config_loglevel: 'error' },
      });
      let out = '';
      parent.stdout!.on('data', (c: Buffer) => { out += c.toString(); });
      const pid = await pollUntil(`${kind} driver to start under a parent`, async () => {
        const m = /DRIVER_PID (\d+)/.exec(out);
        if (!m) throw new Error('not yet');
        return Number(m[1]);
      }, { timeoutMs: 180_000, intervalMs: 200 });
      expect(isAlive(pid)).toBe(true);
      // SIGKILL the driver's own parent (the node process that spawned it): it gets no chance to close anything.
      const ppid = Number((await execa('ps', ['-o', 'ppid=', '-p', String(pid)])).stdout.trim());
      process.kill(ppid, 'SIGKILL');
      await parent;
      const t0 = Date.now();
      await pollUntil(`${kind} driver ${pid} to exit after its parent died`, async () => {
        if (isAlive(pid)) throw new Error('still alive');
      }, { timeoutMs: 10_000, intervalMs: 100 });
      expect(Date.now() - t0).toBeLessThan(10_000);
    }, 240_000);
  }
});
