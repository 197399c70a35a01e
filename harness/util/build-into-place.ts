// Cached builds (Maven modules, Go drivers, Python venvs) are made in a scratch directory beside
// their place and renamed into it when complete. Several workers of one run may start the same
// build at once, and two builds writing into one directory break each other (two Maven runs
// copying jars into one lib/ failed with "Failed to copy full contents"). The first build to
// finish is kept; the others find it in place and use it.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';

/**
 * Runs `build(scratch)` and renames the scratch directory to `dir`. `complete()` tells a finished
 * `dir` (its stamp, its binary): one that is not is an interrupted build, and is replaced.
 */
export async function buildIntoPlace(dir: string, complete: () => boolean, build: (scratch: string) => Promise<void>): Promise<void> {
  const scratch = `${dir}.part-${process.pid}-${randomBytes(3).toString('hex')}`;
  mkdirSync(scratch, { recursive: true });
  try {
    await build(scratch);
    if (existsSync(dir) && !complete()) rmSync(dir, { recursive: true, force: true });
    try {
      renameSync(scratch, dir);
    } catch (err) {
      // Another worker finished first: use its build.
      if (!complete()) throw err;
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}
