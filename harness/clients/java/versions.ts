// The kafka-clients versions the Java driver is built against: the ONE place they are pinned.
// Each is passed to harness/clients/java/pom.xml as -Dkafka.version (the pom's default only
// documents the pair).

/** The version the seed's Java section documents ("The current version ... is 2.8.0"). */
export const JAVA_KAFKA_CLIENTS_SEED = '2.8.0';

/** The newest kafka-clients release on Maven Central when pinned (checked with mvn dependency:get). */
export const JAVA_KAFKA_CLIENTS_CURRENT = '4.4.0';

/** Seed first, then current: side by side, as CONVENTIONS.md asks. */
export const JAVA_KAFKA_CLIENTS_VERSIONS = [JAVA_KAFKA_CLIENTS_SEED, JAVA_KAFKA_CLIENTS_CURRENT] as const;
