// The kop-conformance command itself: --help on every command, and a bad selection refused in
// one line with exit 2 before any broker starts.
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../util/paths.js';

const cli = (...args: string[]) => execa('node', ['bin/kop-conformance.mjs', ...args], {
  cwd: projectRoot, reject: false, timeout: 60_000, env: { npm_config_loglevel: 'error' },
});
const errLines = (stderr: string) => stderr.trim().split('\n').filter((l) => l && !l.startsWith('npm warn'));

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
  }, 120_000);

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
    const t0 = Date.now();
    const r = await cli(...args);
    expect(r.exitCode).toBe(2);
    expect(errLines(r.stderr)[0]).toMatch(message);
    expect(Date.now() - t0).toBeLessThan(20_000);
    expect(r.stdout + r.stderr).not.toMatch(/reference Kafka|starting broker/);
  }, 60_000);
});
