import { describe, expect, it } from 'vitest';
import { runUntil } from './run-until.js';

// A program that needs `ms` after SIGTERM to finish (as Fluent Bit flushing librdkafka), and says
// when it is done.
const slowStop = (ms: number) => [
  '-e',
  `process.on('SIGTERM', () => setTimeout(() => { console.log('flushed'); process.exit(0); }, ${ms})); console.log('ready'); setInterval(() => undefined, 1000);`,
];

describe('runUntil', () => {
  it('gives a stopped program its whole stop bound: no SIGKILL before stopGraceMs (execa kills after 5 s by default)', async () => {
    let out = '';
    const r = await runUntil({
      command: process.execPath, args: slowStop(6500), timeoutMs: 20_000, stopGraceMs: 15_000,
      onStdout: (c) => { out += c; },
      decide: () => (out.includes('ready') ? 'stop' : 'continue'),
    });
    expect(r).toMatchObject({ ended: 'stopped', exitCode: 0 });
    expect(r.signal).toBeUndefined();
    expect(out).toContain('flushed');
  }, 30_000);

  it('kills a stopped program that outlasts stopGraceMs', async () => {
    let out = '';
    const r = await runUntil({
      command: process.execPath, args: slowStop(60_000), timeoutMs: 20_000, stopGraceMs: 1000,
      onStdout: (c) => { out += c; },
      decide: () => (out.includes('ready') ? 'stop' : 'continue'),
    });
    expect(r).toMatchObject({ ended: 'stopped', signal: 'SIGKILL' });
    expect(out).not.toContain('flushed');
    expect(r.durationMs).toBeLessThan(15_000);
  }, 30_000);
});
