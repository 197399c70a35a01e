// Progress bars on a terminal: only on a TTY (never under CI or with KOPC_PROGRESS=lines), fed by
// the events file, with the run's own lines kept above the bars.
import { appendFileSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PROGRESS_EVENTS_ENV, ProgressEventReader, emitProgressEvent } from '../reporting/progress-events.js';
import { TtyProgress, ttyProgressWanted } from './tty-progress.js';
import { lineSplitter, runWithBars } from './tty-run.js';

/** A writable that says it is a terminal and keeps what was written, escapes removed. */
function fakeTty(): Writable & { isTTY: boolean; columns: number; text(): string } {
  let raw = '';
  const w = new Writable({ write(chunk, _enc, cb) { raw += String(chunk); cb(); } }) as Writable & { isTTY: boolean; columns: number; text(): string };
  w.isTTY = true;
  w.columns = 160;
  // eslint-disable-next-line no-control-regex
  w.text = () => raw.replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '');
  return w;
}

async function until(ok: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) throw new Error(`${what} not seen within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('progress bars on a terminal', () => {
  it('are wanted on a TTY only, never in CI or when plain lines are asked for', () => {
    expect(ttyProgressWanted(fakeTty(), {})).toBe(true);
    expect(ttyProgressWanted(new Writable(), {})).toBe(false);
    expect(ttyProgressWanted(fakeTty(), { CI: 'true' })).toBe(false);
    expect(ttyProgressWanted(fakeTty(), { KOPC_PROGRESS: 'lines' })).toBe(false);
    expect(ttyProgressWanted(fakeTty(), { KOP_CONFORMANCE_QUIET: '1' })).toBe(false);
  });

  it('draw one bar per target, the steps under way, and the run\'s lines above them', async () => {
    const tty = fakeTty();
    let now = 0;
    const bars = new TtyProgress({ stream: tty, now: () => now, fps: 50 });
    bars.handle({ t: 'plan', target: 'kop', n: 4 });
    bars.handle({ t: 'plan', target: 'kafka', n: 2 });
    bars.handle({ t: 'step', label: 'kop broker: build the KoP NAR', state: 'started' });
    now = 12_000;
    for (let i = 0; i < 3; i++) bars.handle({ t: 'finish', target: 'kop' });
    bars.log('✓ suites/sasl-plain/plain.test.ts (12 tests)');
    // Until a redraw has flushed the line and drawn the bars (bounded: 5 s, on a busy machine).
    await until(() => tty.text().includes('✓ suites/sasl-plain/plain.test.ts') && /… kop broker/.test(tty.text()), 5_000, 'a redraw');
    const during = tty.text();
    expect(during).toContain('✓ suites/sasl-plain/plain.test.ts (12 tests)');
    expect(during).toMatch(/kop\s+.*3\/4 cells · 12\.0 s elapsed, about 4\.0 s left/);
    expect(during).toMatch(/kafka\s+.*0\/2 cells/);
    expect(during).toContain('… kop broker: build the KoP NAR (12.0 s)');
    bars.handle({ t: 'finish', target: 'kop' });
    bars.handle({ t: 'step', label: 'kop broker: build the KoP NAR', state: 'done', ms: 12_000 });
    bars.stop();
    const after = tty.text().slice(during.length);
    expect(after).toMatch(/kop\s+.*4\/4 cells/);
    // Lines after the bars stopped are written straight through.
    bars.log('allure report: reports/allure-report/index.html');
    expect(tty.text().endsWith('allure report: reports/allure-report/index.html\n')).toBe(true);
  });

  it('read events appended by other processes, whole lines only', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'kopc-ev-')), 'events.jsonl');
    writeFileSync(file, '');
    const reader = new ProgressEventReader(file);
    emitProgressEvent({ t: 'plan', target: 'gdn', n: 7 }, { [PROGRESS_EVENTS_ENV]: file });
    appendFileSync(file, '{"t":"finish","tar');
    expect(reader.read()).toEqual([{ t: 'plan', target: 'gdn', n: 7 }]);
    appendFileSync(file, 'get":"gdn"}\n');
    expect(reader.read()).toEqual([{ t: 'finish', target: 'gdn' }]);
    // Without the variable nothing is written anywhere.
    emitProgressEvent({ t: 'end' }, {});
    expect(reader.read()).toEqual([]);
  });

  it('split a child\'s output into whole lines', () => {
    const lines: string[] = [];
    const s = lineSplitter((l) => lines.push(l));
    s.push('one\ntw');
    s.push('o\r\nthree');
    expect(lines).toEqual(['one', 'two']);
    s.end();
    expect(lines).toEqual(['one', 'two', 'three']);
  });

  it('run a child with its output above the bars it feeds through the events file', async () => {
    const tty = fakeTty();
    const script = [
      'const fs = require("fs"); const f = process.env.KOPC_PROGRESS_EVENTS;',
      'fs.appendFileSync(f, JSON.stringify({ t: "plan", target: "live", n: 2 }) + "\\n");',
      'console.log("line from the child");',
      'fs.appendFileSync(f, JSON.stringify({ t: "finish", target: "live" }) + "\\n");',
      'fs.appendFileSync(f, JSON.stringify({ t: "finish", target: "live" }) + "\\n");',
      'console.error("stderr line from the child");',
      'setTimeout(() => process.exit(3), 400);',
    ].join(' ');
    const r = await runWithBars(['node', '-e', script], { ...process.env, npm_config_loglevel: 'error' }, { stream: tty });
    expect(r.exitCode).toBe(3);
    const text = tty.text();
    expect(text).toContain('line from the child');
    expect(text).toContain('stderr line from the child');
    expect(text).toMatch(/live\s+.*2\/2 cells/);
  }, 30_000);
});
