// The Python clients (kafka-python in the seed's version and the current one, confluent-kafka):
// each runs kafka_python_driver.py / confluent_kafka_driver.py (PROTOCOL.md over JSON lines) in
// its own virtualenv, built on first use from the pinned requirements file beside this module
// and cached under <cacheDir>/venvs/<name>-<hash>. The requirements files are the one place
// these versions are pinned: a new kafka-python-<version>.txt adds a client.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { startExternalDriver, type ExternalDriverHandle } from '../external/external-driver.js';
import type { ClientEntry } from '../registry.js';
import { cacheDir, ensureDir } from '../../util/paths.js';
import { buildIntoPlace } from '../../util/build-into-place.js';
import { progress, step } from '../../util/progress.js';
import { runWithProgress as runTool } from '../../util/run-with-progress.js';

const here = dirname(fileURLToPath(import.meta.url));
export const requirementsDir = join(here, 'requirements');

const PYTHON = process.env.KOPC_PYTHON ?? 'python3';
/** Bound on creating one virtualenv (download and install included). */
const VENV_TIMEOUT_MS = 10 * 60_000;
const STAMP = '.kop-conformance-complete';

export interface PythonClientSpec {
  /** Registry id, e.g. `kafka-python-2.0.2`. */
  id: string;
  requirementsFile: string;
  driverScript: string;
}

/** One spec per requirements file: kafka-python-<version>.txt and confluent-kafka.txt. */
export function pythonClientSpecs(): PythonClientSpec[] {
  const files = readdirSync(requirementsDir).filter((f) => f.endsWith('.txt')).sort();
  return files.map((f) => {
    const id = basename(f, '.txt');
    const script = id.startsWith('kafka-python') ? 'kafka_python_driver.py'
      : id.startsWith('confluent-kafka') ? 'confluent_kafka_driver.py'
      : undefined;
    if (!script) throw new Error(`${join(requirementsDir, f)}: no driver program for this requirements file`);
    return { id, requirementsFile: join(requirementsDir, f), driverScript: join(here, script) };
  });
}

async function pythonVersion(): Promise<string> {
  const r = await execa(PYTHON, ['--version'], { stdin: 'ignore', timeout: 30_000 });
  return (r.stdout || r.stderr).trim();
}

/** Runs pip or venv with its output as progress lines (Collecting / Downloading / Installing). */
const runWithProgress = (label: string, cmd: string, args: string[], timeoutMs: number) => runTool({
  label, cmd, args, timeoutMs, env: { PIP_DISABLE_PIP_VERSION_CHECK: '1', PIP_NO_INPUT: '1', PIP_PROGRESS_BAR: 'off' },
});

/**
 * Ensures the virtualenv for `spec` exists and returns its directory. It is built in a
 * scratch directory and renamed into place once complete, so a run interrupted half way (or
 * a second worker building the same venv) never leaves a broken one behind.
 */
export async function ensureVenv(spec: PythonClientSpec): Promise<string> {
  const requirements = readFileSync(spec.requirementsFile, 'utf8');
  const py = await pythonVersion();
  const hash = createHash('sha256').update(requirements).update('\0').update(py).digest('hex').slice(0, 12);
  const root = ensureDir(join(cacheDir, 'venvs'));
  const venv = join(root, `${spec.id}-${hash}`);
  if (existsSync(join(venv, STAMP))) return venv;
  const label = `python venv ${spec.id}`;
  return step(`${label} (${py})`, async () => {
    await buildIntoPlace(venv, () => existsSync(join(venv, STAMP)), async (scratch) => {
      await runWithProgress(label, PYTHON, ['-m', 'venv', scratch], 120_000);
      await runWithProgress(label, join(scratch, 'bin', 'python'),
        ['-m', 'pip', 'install', '--no-input', '--progress-bar', 'off', '-r', spec.requirementsFile], VENV_TIMEOUT_MS);
      writeFileSync(join(scratch, STAMP), `${py}\n${new Date().toISOString()}\n`);
    });
    return venv;
  });
}

/** Builds (if needed) the venv and starts the driver; logs how long the driver took to be ready. */
export async function startPythonDriver(spec: PythonClientSpec): Promise<ExternalDriverHandle & { startupMs: number }> {
  const venv = await ensureVenv(spec);
  const t0 = Date.now();
  const driver = await startExternalDriver({
    id: spec.id,
    command: join(venv, 'bin', 'python'),
    args: ['-u', spec.driverScript],
    env: { PYTHONDONTWRITEBYTECODE: '1', PYTHONIOENCODING: 'utf-8' },
    cwd: here,
    startTimeoutMs: 30_000,
  });
  const startupMs = Date.now() - t0;
  progress(`${spec.id}: driver ready`, `${driver.version}, ${startupMs} ms from spawn to startup_complete`);
  return Object.assign(driver, { startupMs });
}

export function pythonClientEntries(): ClientEntry[] {
  return pythonClientSpecs().map((spec) => ({ id: spec.id, create: () => startPythonDriver(spec) }));
}
