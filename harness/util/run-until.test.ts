import { describe, expect, it } from 'vitest';
import { runUntil } from './run-until.js';

/**
 * Runs a program that needs `flushMs` after SIGTERM to finish (as Fluent Bit flushing
 * librdkafka), stopped as soon as it is up, with `stopGraceMs` as the bound on its stop.
 */
async function stopSlowProgram(flushMs: number, stopGraceMs: number) {
  let out = '';
  const r = await runUntil({
    command: process.execPath,
    args: ['-e', `process.on('SIGTERM', () => setTimeout(() => { console.log('flushed'); process.exit(0); }, ${flushMs})); console.log('ready'); setInterval(() => undefined, 1000);`],
    timeoutMs: 20_000, stopGraceMs,
    onStdout: (c) => { out += c; },
    decide: () => (out.includes('ready') ? 'stop' : 'continue'),
  });
  return { ...r, out };
}

describe('runUntil', () => {
  it('gives a stopped program its whole stop bound: no SIGKILL before stopGraceMs (execa kills after 5 s by default)', async () => {
    const r = await stopSlowProgram(6500, 15_000);
    expect(r).toMatchObject({ ended: 'stopped', exitCode: 0 });
    expect(r.signal).toBeUndefined();
    expect(r.out).toContain('flushed');
  }, 30_000);

  it('kills a stopped program that outlasts stopGraceMs', async () => {
    const r = await stopSlowProgram(60_000, 1000);
    expect(r).toMatchObject({ ended: 'stopped', signal: 'SIGKILL' });
    expect(r.out).not.toContain('flushed');
    expect(r.durationMs).toBeLessThan(15_000);
  }, 30_000);
});
