// Where the suite keeps what it downloads (a cache outside git) and what one run writes.
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/** Downloads (Maven artifacts, unpacked brokers) survive between runs here. */
export const cacheDir = process.env.KOP_CONFORMANCE_CACHE ?? join(homedir(), '.cache', 'kop-conformance');

/** Per-run scratch: broker data, generated keys and configs (secrets live here, never under reports/), logs. Git-ignored. */
export const workDir = process.env.KOP_CONFORMANCE_WORK ?? join(projectRoot, '.work');

/** Where a run writes its reports (KOPC_REPORTS_DIR, default reports/). */
export const reportsDir = process.env.KOPC_REPORTS_DIR ?? join(projectRoot, 'reports');

export function ensureDir(path: string): string {
  mkdirSync(path, { recursive: true });
  return path;
}
