// The kop-conformance command run the way a user runs it (`node bin/kop-conformance.mjs …`), for
// the harness's own tests; and what "in seconds" means on this machine at this moment.
import { execa } from 'execa';
import { projectRoot } from '../util/paths.js';

export interface CliOptions {
  env?: NodeJS.ProcessEnv;
  /** Kills the command past this many ms (a hang guard, not a speed check). */
  timeout?: number;
  detached?: boolean;
}

export function runCli(args: string[], { env = {}, timeout = 180_000, detached = false }: CliOptions = {}) {
  return execa('node', ['bin/kop-conformance.mjs', ...args], {
    cwd: projectRoot, reject: false, all: true, timeout, detached, env: { npm_config_loglevel: 'error', ...env },
  });
}

/** The lines of stderr, npm's own warnings left out. */
export const errorLines = (stderr: string): string[] => stderr.trim().split('\n').filter((l) => l && !l.startsWith('npm warn'));

/**
 * How long a refusal of bad input may take right now: 5 s plus 3 × what `kop-conformance <command>
 * --help` takes at this moment (node, tsx and the command's imports: what every call pays before it
 * can look at its input). About 11 s on a quiet 2-core machine; on a busy one it grows with the
 * load instead of failing the test for the machine's sake. A refusal that waits on the network (a
 * connect or request timeout) or starts a broker still exceeds it on a quiet machine.
 */
export async function refusalBound(command?: string, env: NodeJS.ProcessEnv = {}): Promise<{ boundMs: number; startupMs: number }> {
  const t0 = Date.now();
  const help = await runCli(command ? [command, '--help'] : ['--help'], { env, timeout: 120_000 });
  const startupMs = Date.now() - t0;
  if (help.exitCode !== 0) throw new Error(`kop-conformance ${command ?? ''} --help exited ${help.exitCode}: ${help.all?.slice(-500)}`);
  return { boundMs: 5_000 + 3 * startupMs, startupMs };
}
