// Long-running child processes (brokers) that never outlive the run that started them:
// each runs in its own process group under a small shell guard that kills it when the
// watched parent process disappears, and stop() ends the whole group.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readdirSync, readFileSync, statSync } from 'node:fs';

export interface GuardedProcess {
  /** Pid of the process-group leader (the guard). */
  pid: number;
  logFile: string;
  /** Set once the process has exited: its exit code or signal. */
  exited(): string | undefined;
  /** Last `bytes` of the log, for error messages and attachments. */
  logTail(bytes?: number): string;
  /** `first` (default SIGTERM) to the group, SIGKILL after `graceMs`. Resolves when the group is gone. */
  stop(graceMs?: number, first?: 'SIGTERM' | 'SIGKILL'): Promise<void>;
}

export interface GuardedOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Kill the child when this pid is gone; omit to let it outlive the parent (dev mode). */
  watchPid?: number;
}

export function readTail(file: string, bytes = 4000): string {
  try {
    const size = statSync(file).size;
    const buf = readFileSync(file);
    return buf.subarray(Math.max(0, size - bytes)).toString('utf8');
  } catch {
    return '';
  }
}

/**
 * The last `max` lines of a broker log's tail that say ERROR or name an exception: what a start
 * that timed out with nothing listening goes on to say in its one-line error.
 */
export function logErrorLines(file: string, max = 5, bytes = 200_000): string[] {
  return readTail(file, bytes).split('\n')
    .filter((l) => /\bERROR\b|Exception\b|Address already in use/.test(l))
    .slice(-max).map((l) => l.trim().slice(0, 300));
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * When `pid` started, in clock ticks since boot (Linux /proc/<pid>/stat, field 22), or '' where
 * that cannot be read. With the pid it names one process for good: pids are reused (a long run
 * wraps past pid_max), start times are not.
 */
export function processStartTime(pid: number): string {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the command) may hold spaces and parentheses: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? '';
  } catch {
    return '';
  }
}

/**
 * How many threads the processes of group `pgid` run (Linux /proc; undefined elsewhere). A broker's
 * count at the end of a run shows a per-connection thread leak (gdn FINDINGS F17).
 */
export function groupThreads(pgid: number): number | undefined {
  try {
    let n = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        // After the command: state (3), ppid (4), pgrp (5), … num_threads (20).
        if (Number(fields[2]) === pgid) n += Number(fields[17]);
      } catch { /* gone meanwhile */ }
    }
    return n || undefined;
  } catch {
    return undefined;
  }
}

/**
 * The resident memory of the processes of group `pgid`, in KiB (Linux /proc VmRSS; undefined
 * elsewhere): what a broker the suite started costs the machine (faults.broker-restart's report).
 */
export function groupRssKb(pgid: number): number | undefined {
  try {
    let kb = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
        if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
        const m = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${entry}/status`, 'utf8'));
        if (m) kb += Number(m[1]);
      } catch { /* gone meanwhile */ }
    }
    return kb || undefined;
  } catch {
    return undefined;
  }
}

/** Whether the process `pid` that started at `startTime` (processStartTime) is still running. */
export function isSameProcessAlive(pid: number, startTime: string): boolean {
  if (!isAlive(pid)) return false;
  const now = processStartTime(pid);
  return !now || !startTime || now === startTime;
}

/**
 * Ends a process group: `first` (SIGTERM, a clean close), then SIGKILL after `graceMs`. With
 * `first` = SIGKILL the group dies at once, as in a crash (faults.broker-restart).
 */
export async function killGroup(pid: number, graceMs = 10_000, first: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(-pid, sig);
    } catch {
      /* already gone */
    }
  };
  signal(first);
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isAlive(-pid)) await new Promise((r) => setTimeout(r, 100));
  if (isAlive(-pid)) {
    signal('SIGKILL');
    const hard = Date.now() + 5000;
    while (Date.now() < hard && isAlive(-pid)) await new Promise((r) => setTimeout(r, 100));
  }
}

// The guard: runs the command in the background, exits (taking the command with it) when
// the watched pid disappears or the command ends, and forwards SIGTERM.
const GUARD = `
"$@" &
child=$!
trap 'kill -TERM $child 2>/dev/null; wait $child; exit 143' TERM INT
while kill -0 $child 2>/dev/null; do
  if [ -n "$KOPC_WATCH_PID" ] && ! kill -0 "$KOPC_WATCH_PID" 2>/dev/null; then
    kill -TERM $child 2>/dev/null
    for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do kill -0 $child 2>/dev/null || exit 1; sleep 0.5; done
    kill -KILL $child 2>/dev/null; exit 1
  fi
  sleep 1
done
wait $child
`;

export function startGuarded(command: string, args: string[], opts: GuardedOptions): GuardedProcess {
  // The log file's descriptor goes straight to the child: output does not flow through this
  // process, so a detached child (dev mode) does not keep it alive.
  const fd = openSync(opts.logFile, 'a');
  let exitInfo: string | undefined;
  const child = spawn('bash', ['-c', GUARD, 'kopc-guard', command, ...args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    cwd: opts.cwd,
    env: { ...(opts.env ?? process.env), KOPC_WATCH_PID: opts.watchPid ? String(opts.watchPid) : '' },
  });
  closeSync(fd);
  child.on('exit', (code, signal) => {
    exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
  });
  child.on('error', (err) => {
    exitInfo = `failed to start: ${err.message}`;
  });
  if (opts.watchPid === undefined) child.unref();
  const pid = child.pid!;
  return {
    pid,
    logFile: opts.logFile,
    exited: () => exitInfo,
    logTail: (bytes) => readTail(opts.logFile, bytes),
    stop: async (graceMs, first) => {
      await killGroup(pid, graceMs, first);
    },
  };
}
