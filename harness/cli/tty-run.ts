// A run on a terminal: vitest's output (piped, so it prints plain lines, colours kept) scrolls
// above the progress bars, which the results reporter and the step helpers feed through an
// events file (KOPC_PROGRESS_EVENTS). Ctrl-C stops the bars and is passed on to vitest.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Result } from 'execa';
import { PROGRESS_EVENTS_ENV, ProgressEventReader } from '../reporting/progress-events.js';
import { projectRoot } from '../util/paths.js';
import { TtyProgress, ttyProgressWanted } from './tty-progress.js';

export { ttyProgressWanted };

/** Splits a stream's chunks into whole lines (the last, unfinished one is kept until more comes). */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let rest = '';
  return {
    push(chunk) {
      const text = rest + chunk;
      const lines = text.split('\n');
      rest = lines.pop() ?? '';
      for (const l of lines) onLine(l.replace(/\r$/, ''));
    },
    end() {
      if (rest) onLine(rest);
      rest = '';
    },
  };
}

export async function runWithBars(args: string[], env: NodeJS.ProcessEnv, opts: { stream?: NodeJS.WritableStream & { isTTY?: boolean } } = {}): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'kopc-progress-'));
  const events = join(dir, 'events.jsonl');
  const bars = new TtyProgress({ stream: opts.stream });
  const reader = new ProgressEventReader(events);
  const poll = () => { for (const ev of reader.read()) bars.handle(ev); };
  const timer = setInterval(poll, 250);
  const child = execa('npx', args, {
    cwd: projectRoot, reject: false, stdin: 'inherit', stdout: 'pipe', stderr: 'pipe', encoding: 'utf8', buffer: false,
    env: { ...env, [PROGRESS_EVENTS_ENV]: events, FORCE_COLOR: env.NO_COLOR ? undefined : (env.FORCE_COLOR ?? '1') },
  });
  const out = lineSplitter((l) => bars.log(l));
  const err = lineSplitter((l) => bars.log(l));
  child.stdout?.on('data', (c: Buffer | string) => out.push(String(c)));
  child.stderr?.on('data', (c: Buffer | string) => err.push(String(c)));
  const onSigint = () => { bars.stop(); child.kill('SIGINT'); };
  process.once('SIGINT', onSigint);
  try {
    const r = await child;
    out.end();
    err.end();
    poll();
    return r;
  } finally {
    process.removeListener('SIGINT', onSigint);
    clearInterval(timer);
    bars.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
