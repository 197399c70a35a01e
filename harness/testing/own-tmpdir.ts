// Setup file of the `harness` project: each test file gets a temporary directory of its own as
// TMPDIR (os.tmpdir() reads it on every call, and child processes inherit it), removed once the
// file's tests are done. The tests make many temporary directories (fake sources, caches,
// reports); without this every run left them behind in /tmp.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const before = process.env.TMPDIR;
const own = mkdtempSync(join(tmpdir(), 'kopc-harness-test-'));
process.env.TMPDIR = own;

afterAll(() => {
  if (before === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = before;
  rmSync(own, { recursive: true, force: true, maxRetries: 3 });
});
