// The JSON-lines protocol's parent side (external-driver.ts) against a scripted driver: a result
// that comes after its request timed out (a busy machine) is dropped and the driver stays usable;
// a result for an id never asked breaks the protocol (CLIENT_PROTOCOL_ERROR on what is pending).
import { describe, expect, it } from 'vitest';
import { ClientError } from '../../errors/canonical.js';
import { startExternalDriver } from './external-driver.js';
import { pollUntil } from '../../util/wait.js';

// A driver in a few lines of node: `slow` answers after 600 ms, `fast` at once, `stray` answers
// an id nobody asked, `wait` never answers, `shutdown` ends it.
const SCRIPT = `
const rl = require('node:readline').createInterface({ input: process.stdin });
const out = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
out({ event: 'startup_complete', client: 'scripted', version: '0', capabilities: [] });
rl.on('line', (l) => {
  const r = JSON.parse(l);
  if (r.op === 'slow') setTimeout(() => out({ event: 'result', id: r.id, ok: true, data: { late: true } }), 600);
  else if (r.op === 'fast') out({ event: 'result', id: r.id, ok: true, data: { n: r.n } });
  else if (r.op === 'stray') out({ event: 'result', id: 9999, ok: true, data: {} });
  else if (r.op === 'shutdown') { out({ event: 'result', id: r.id, ok: true, data: {} }); process.exit(0); }
});
rl.on('close', () => process.exit(0));
`;

describe('external driver: late and stray results', () => {
  it('drops a result that comes after its timeout and goes on; a result for an id never asked fails what is pending', async () => {
    const d = await startExternalDriver({ id: 'scripted', command: process.execPath, args: ['-e', SCRIPT], startTimeoutMs: 30_000 });
    try {
      const late = await d.request('slow', {}, 100).catch((e: unknown) => e);
      expect(late).toBeInstanceOf(ClientError);
      expect((late as ClientError).code).toBe('TIMEOUT');
      // The late answer (600 ms after it was asked) is noted, not a protocol error.
      await pollUntil('the late answer to be noted', async () => {
        if (!/late result for id \d+ \(slow\), after its timeout: dropped/.test(d.stderrTail())) throw new Error('not yet');
      }, { timeoutMs: 20_000, intervalMs: 100 });
      expect(await d.request('fast', { n: 1 }, 10_000)).toEqual({ n: 1 });

      const waiting = d.request('wait', {}, 30_000).catch((e: unknown) => e);
      await d.request('stray', {}, 30_000).catch(() => undefined);
      const err = await waiting;
      expect(err).toBeInstanceOf(ClientError);
      expect((err as ClientError).code).toBe('CLIENT_PROTOCOL_ERROR');
      expect((err as ClientError).message).toContain('result for unknown id 9999');
    } finally {
      await d.close().catch(() => undefined);
    }
  }, 60_000);
});
