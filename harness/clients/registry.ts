// Every client the suite drives, with its exact version and capabilities. Scenarios ask
// for capabilities; a client lacking one gets "not applicable", never a pass.
import { createKafkaJsDriver } from './kafkajs/kafkajs-driver.js';
import { createKafkaNodeDriver } from './kafka-node/kafka-node-driver.js';
import { createPlatformaticDriver } from './platformatic/platformatic-driver.js';
import { createFluentBitDriver, fluentBitUnavailable } from './fluent-bit/fluent-bit-driver.js';
import { javaClientEntries } from './java/java-driver.js';
import { pythonClientEntries } from './python/python-driver.js';
import { goClientEntry } from './go/go-driver.js';
import type { Capability, ClientDriver } from './types.js';

export interface ClientEntry {
  id: string;
  /** Why this client cannot run here (`not run: …`), or undefined when it can. */
  unavailable?(): string | undefined | Promise<string | undefined>;
  create(): ClientDriver | Promise<ClientDriver>;
}

export const clientRegistry: ClientEntry[] = [
  { id: 'kafkajs', create: createKafkaJsDriver },
  { id: 'kafka-node', create: createKafkaNodeDriver },
  { id: 'platformatic-kafka', create: createPlatformaticDriver },
  ...javaClientEntries(),
  ...pythonClientEntries(),
  // Go clients: goClientEntry(<folder under harness/clients/go/>) per client.
  goClientEntry('franz-go'),
  goClientEntry('sarama'),
  { id: 'fluent-bit', unavailable: fluentBitUnavailable, create: createFluentBitDriver },
];

/** `KOPC_CLIENTS=kafkajs,...` selects clients; default: all. */
export function selectedClients(env: NodeJS.ProcessEnv = process.env): ClientEntry[] {
  const raw = env.KOPC_CLIENTS?.trim();
  if (!raw) return clientRegistry;
  const ids = raw.split(',').map((s) => s.trim());
  const unknown = ids.filter((i) => !clientRegistry.some((c) => c.id === i));
  if (unknown.length) throw new Error(`KOPC_CLIENTS: unknown client(s) ${unknown.join(', ')}; known: ${clientRegistry.map((c) => c.id).join(', ')}`);
  return clientRegistry.filter((c) => ids.includes(c.id));
}

export function missingCapabilities(driver: ClientDriver, needs: Capability[]): Capability[] {
  return needs.filter((c) => !driver.capabilities.has(c));
}
