// The versions the embedded KoP target runs, repeated from pom.xml beside this file (the one
// place they are pinned). `readPomPins` lets a check compare the two so they cannot drift.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KOP_VERSIONS = {
  /** Apache Pulsar server distribution (org.apache.pulsar:pulsar-server-distribution:bin:tar.gz). */
  pulsar: '4.0.8',
  /** KoP protocol handler NAR; its first two numbers name the Pulsar line it was built for. */
  kop: '4.0.6.5',
  kopGroupId: 'io.streamnative.pulsar.handlers',
  kopArtifactId: 'pulsar-protocol-handler-kafka',
} as const;

/** `group:artifact:nar:version`, as Maven prints it. */
export const KOP_NAR_COORDS =
  `${KOP_VERSIONS.kopGroupId}:${KOP_VERSIONS.kopArtifactId}:nar:${KOP_VERSIONS.kop}`;

export const KOP_POM_PATH = join(dirname(fileURLToPath(import.meta.url)), 'pom.xml');

/** Reads the pinned versions back out of pom.xml. */
export function readPomPins(pomPath = KOP_POM_PATH): { pulsar: string; kop: string } {
  const pom = readFileSync(pomPath, 'utf8');
  const prop = (name: string) => {
    const m = new RegExp(`<${name.replace('.', '\\.')}>([^<]+)</`).exec(pom);
    if (!m?.[1]) throw new Error(`${pomPath} has no <${name}> property`);
    return m[1].trim();
  };
  return { pulsar: prop('pulsar.version'), kop: prop('kop.version') };
}

/** `4.0` from `4.0.6.5` or `4.0.8`: a protocol handler must match its broker's line. */
export function versionLine(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}
