// The versions the embedded KoP target runs, repeated from pom.xml beside this file (the one
// place they are pinned; it says why 3.3.6). `readPomPins` lets a test compare the two so they
// cannot drift.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KOP_VERSIONS = {
  /** Apache Pulsar server distribution (org.apache.pulsar:pulsar-server-distribution:bin:tar.gz). */
  pulsar: '3.3.6',
} as const;

const here = dirname(fileURLToPath(import.meta.url));
export const KOP_POM_PATH = join(here, 'pom.xml');
/** The project's own Pulsar authentication provider (API keys), built against the same Pulsar. */
export const KOP_AUTH_MODULE = join(here, 'auth');

/** Reads the pinned versions back out of a pom. */
export function readPomPins(pomPath = KOP_POM_PATH): { pulsar: string } {
  const pom = readFileSync(pomPath, 'utf8');
  const m = /<pulsar\.version>([^<]+)</.exec(pom);
  if (!m?.[1]) throw new Error(`${pomPath} has no <pulsar.version> property`);
  return { pulsar: m[1].trim() };
}

/** `3.3` from `3.3.1.5` or `3.3.6`: a protocol handler must match its broker's line. */
export function versionLine(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
