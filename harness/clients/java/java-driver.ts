// Registry entries for the Java kafka-clients driver: one driver source (KafkaDriver.java),
// built by Maven from this directory's pom once per pinned kafka-clients version, run as a
// long-lived JVM speaking PROTOCOL.md through the external driver.
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mavenBuild, type MavenBuild } from '../../util/maven.js';
import { startExternalDriver, type ExternalDriverHandle } from '../external/external-driver.js';
import type { ClientEntry } from '../registry.js';
import { JAVA_KAFKA_CLIENTS_VERSIONS } from './versions.js';

const moduleDir = dirname(fileURLToPath(import.meta.url));

export const JAVA_DRIVER_MAIN = 'io.kopconformance.driver.KafkaDriver';

/** Small heap, serial GC and C1 only: the driver is I/O-bound and shares the machine with brokers. */
export const JAVA_DRIVER_JVM_OPTS = ['-Xms64m', '-Xmx256m', '-XX:+UseSerialGC', '-XX:TieredStopAtLevel=1'];

export function javaClientId(kafkaClientsVersion: string): string {
  return `java-${kafkaClientsVersion}`;
}

// One build per version per process; mavenBuild's stamp file makes later processes skip Maven.
const builds = new Map<string, Promise<MavenBuild>>();

/** Builds (or finds cached) the driver jar and its dependencies for one kafka-clients version. */
export function buildJavaDriver(kafkaClientsVersion: string): Promise<MavenBuild> {
  let b = builds.get(kafkaClientsVersion);
  if (!b) {
    b = mavenBuild(`java-driver-${kafkaClientsVersion}`, moduleDir, { props: { 'kafka.version': kafkaClientsVersion } });
    b.catch(() => builds.delete(kafkaClientsVersion));
    builds.set(kafkaClientsVersion, b);
  }
  return b;
}

export async function startJavaDriver(kafkaClientsVersion: string): Promise<ExternalDriverHandle> {
  const { classpath } = await buildJavaDriver(kafkaClientsVersion);
  return startExternalDriver({
    id: javaClientId(kafkaClientsVersion),
    command: process.env.KOPC_JAVA ?? 'java',
    args: [...JAVA_DRIVER_JVM_OPTS, '-cp', classpath, JAVA_DRIVER_MAIN],
    startTimeoutMs: 60_000,
  });
}

/** `java-2.8.0` (the seed's version) and `java-<current>`. */
export function javaClientEntries(): ClientEntry[] {
  return JAVA_KAFKA_CLIENTS_VERSIONS.map((v) => ({ id: javaClientId(v), create: () => startJavaDriver(v) }));
}
