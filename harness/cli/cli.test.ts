// The kop-conformance command itself: --help on every command, and a bad selection refused in
// one line with exit 2 before any broker starts.
import { describe, expect, it } from 'vitest';
import { errorLines, refusalBound, runCli } from './cli-process.js';

const cli = (...args: string[]) => runCli(args);

describe('kop-conformance CLI', () => {
  it('lists its commands and answers --help on each, exit 0', async () => {
    const top = await cli('--help');
    expect(top.exitCode).toBe(0);
    const commands = ['run', 'merge', 'nightly', 'dev-broker', 'live-check', 'diff', 'soak', 'bench'];
    for (const c of commands) expect(top.stdout).toContain(`  ${c}`);
    const helps = await Promise.all(commands.map((c) => cli(c, '--help')));
    helps.forEach((h, i) => {
      expect(h.exitCode, commands[i]).toBe(0);
      expect(h.stdout, commands[i]).toMatch(/usage/i);
    });
  }, 300_000);

  it.each([
    [['run', '--clients', 'bogus'], /^KOPC_CLIENTS: unknown client\(s\) bogus; known: kafkajs, /],
    [['run', '--targets', 'kafka,moon'], /^KOPC_TARGETS: unknown target\(s\) moon; known: kop, kafka, live, container, gdn, kop-regions$/],
    [['run', '--family', 'nope'], /^--family: unknown family nope; known: .*sasl-plain/],
    [['run', '--scenario', 'sasl-plain.expird-jwt'], /^--scenario: no scenario id is or starts with sasl-plain\.expird-jwt \(the ids are/],
    [['run', '--shard', '3/2'], /^--shard must be i\/n with 1 ≤ i ≤ n \(got "3\/2"\)$/],
    [['frobnicate'], /^unknown command frobnicate$/],
    [['soak'], /^--runs N is required$/],
    [['soak', '--runs', '0'], /^--runs needs a whole number ≥ 1 \(got "0"\)$/],
    [['soak', '--runs', '1', '--clients', 'bogus'], /^KOPC_CLIENTS: unknown client\(s\) bogus; known: kafkajs, /],
  ])('%j: one line, exit 2, before anything starts', async (args, message) => {
    const command = args[0] === 'frobnicate' ? undefined : args[0];
    const { boundMs, startupMs } = await refusalBound(command);
    const t0 = Date.now();
    const r = await cli(...args);
    const ms = Date.now() - t0;
    expect(r.exitCode).toBe(2);
    expect(errorLines(r.stderr)[0]).toMatch(message);
    expect(ms, `refused in ${ms} ms; its --help took ${startupMs} ms`).toBeLessThan(boundMs);
    expect(r.stdout + r.stderr).not.toMatch(/reference Kafka|starting broker/);
  }, 300_000);
});
