// Runs a build or install tool (pip, go build, …) with its output streamed as progress lines,
// bounded in time; a failure's error carries the tool's last 40 lines.
import { execa } from 'execa';
import { progress } from './progress.js';

export interface ToolRun {
  /** Progress label, and the error messages' first word. */
  label: string;
  cmd: string;
  args: string[];
  timeoutMs: number;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** How the command is named in errors (default: the command line). */
  what?: string;
}

export async function runWithProgress(run: ToolRun): Promise<void> {
  const { label, cmd, args, timeoutMs } = run;
  const what = run.what ?? `${cmd} ${args.join(' ')}`;
  const child = execa(cmd, args, {
    cwd: run.cwd, stdin: 'ignore', stdout: 'pipe', stderr: 'pipe', timeout: timeoutMs, reject: false, buffer: false, env: run.env,
  });
  const tail: string[] = [];
  const onChunk = (chunk: Buffer | string) => {
    for (const line of chunk.toString().split('\n')) {
      const t = line.trimEnd();
      if (!t) continue;
      progress(label, t);
      tail.push(t);
      if (tail.length > 40) tail.shift();
    }
  };
  child.stdout!.on('data', onChunk);
  child.stderr!.on('data', onChunk);
  const r = await child;
  if (r.timedOut) throw new Error(`${label}: ${what} did not finish within ${timeoutMs} ms\n${tail.join('\n')}`);
  if (r.exitCode !== 0) throw new Error(`${label}: ${what} failed (${r.signal ?? `exit ${r.exitCode}`})\n${tail.join('\n')}`);
}
