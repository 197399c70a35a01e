// Runs a program that does not end by itself (Fluent Bit, the seed's example consumers) until
// its output says the run has what it came for, then stops it: SIGTERM, SIGKILL when it has not
// exited within a bound. Every run is bounded; how it ended is part of the result.
import { execa } from 'execa';

export interface RunUntilOptions {
  command: string;
  args: string[];
  /** Written to stdin at start; stdin stays open (a program may take its end for a stop signal) unless `endStdin`. */
  stdin?: string;
  /** Close stdin after writing `stdin` (for programs that read it to the end first). */
  endStdin?: boolean;
  cwd?: string;
  env?: Record<string, string>;
  onStdout?: (chunk: string) => void;
  onStderr?: (chunk: string) => void;
  /**
   * Asked after every chunk of output: `stop` ends the run with SIGTERM, `kill` with SIGKILL
   * (nothing left to flush), `continue` lets it run.
   */
  decide: () => 'continue' | 'stop' | 'kill';
  timeoutMs: number;
  /** Also ask decide() this often, for conditions that are not in the output (default: only on output). */
  checkEveryMs?: number;
  /** How long a SIGTERM may take before SIGKILL (default 8 s). */
  stopGraceMs?: number;
}

export interface RunUntilResult {
  /** `stopped`/`killed`: by decide(); `exited`: on its own; `timeout`: the bound (then SIGTERM). */
  ended: 'stopped' | 'killed' | 'exited' | 'timeout';
  exitCode?: number;
  signal?: string;
  durationMs: number;
}

export async function runUntil(opts: RunUntilOptions): Promise<RunUntilResult> {
  const t0 = Date.now();
  const child = execa(opts.command, opts.args, {
    stdin: 'pipe', reject: false, buffer: false, cleanup: true, cwd: opts.cwd,
    // The SIGKILL bound is stopGraceMs, below: execa's own (5 s after any kill()) cut Fluent
    // Bit's shutdown flush short, and its delivery reports were lost.
    forceKillAfterDelay: false,
    ...(opts.env ? { env: opts.env } : {}),
  });
  let ended: RunUntilResult['ended'] | undefined;
  let wake: () => void = () => undefined;
  const kill = (signal: 'SIGTERM' | 'SIGKILL') => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
  };
  const check = () => {
    const d = opts.decide();
    // Already stopping, and now there is nothing left to wait for.
    if (ended === 'stopped' && d === 'kill') kill('SIGKILL');
    if (ended || d === 'continue') return;
    ended = d === 'kill' ? 'killed' : 'stopped';
    wake();
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (c: string) => { opts.onStdout?.(c); check(); });
  child.stderr!.on('data', (c: string) => { opts.onStderr?.(c); check(); });
  child.stdin!.on('error', () => undefined);
  if (opts.stdin) child.stdin!.write(opts.stdin);
  if (opts.endStdin) child.stdin!.end();
  const exited = child.then((r) => {
    ended ??= 'exited';
    return r;
  });
  let timer: NodeJS.Timeout | undefined;
  const ticker = opts.checkEveryMs ? setInterval(check, opts.checkEveryMs) : undefined;
  await Promise.race([
    exited,
    new Promise<void>((r) => { wake = r; check(); }),
    new Promise<void>((r) => { timer = setTimeout(() => { ended ??= 'timeout'; r(); }, opts.timeoutMs); }),
  ]);
  clearTimeout(timer);
  clearInterval(ticker);
  kill(ended === 'killed' ? 'SIGKILL' : 'SIGTERM');
  const killer = setTimeout(() => kill('SIGKILL'), opts.stopGraceMs ?? 8000);
  const r = await exited;
  clearTimeout(killer);
  return { ended: ended ?? 'exited', exitCode: r.exitCode ?? undefined, signal: r.signal ?? undefined, durationMs: Date.now() - t0 };
}
