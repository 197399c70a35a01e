// The seed's KafkaJS and kafka-node examples, in process, statement for statement and in the
// seed's order; only the placeholders are filled. Each reports what it prints through `log`
// (standing in for the example's console.log) and where it is through `mark` (progress markers added around
// its calls), and returns what the harness needs to stop it: the examples never end by
// themselves. Where an example leaves an 'error' event unhandled, a standalone program would
// die there; in process the event is recorded as exactly that instead.
import { createRequire } from 'node:module';
import { Kafka } from 'kafkajs';

export interface NodeExamplePlaceholders {
  /** `<my-gdn>.<my-paas>.macrometa.io:9093`: the SASL_SSL listener. */
  bootstrap: string;
  username: string;
  /** `token:<my-api-key>` */
  password: string;
  topic: string;
  groupId: string;
  clientId: string;
}

export interface ExampleIo {
  /** Stands in for the example's console.log. */
  log: (...args: unknown[]) => void;
  mark: (what: string) => void;
  /** The example died here (an unhandled 'error' event or a rejected await). */
  died: (what: string, err: unknown) => void;
}

/** The seed's "KafkaJS client for Node.js" section. */
export async function seedKafkaJsExample(p: NodeExamplePlaceholders, io: ExampleIo): Promise<() => Promise<void>> {
  const kafka = new Kafka({
    clientId: p.clientId,
    brokers: [p.bootstrap],
    sasl: { mechanism: 'plain', username: p.username, password: p.password },
    ssl: {
      rejectUnauthorized: false,
    },
  });
  const stops: (() => Promise<void>)[] = [];
  try {
    const producer = kafka.producer();
    stops.push(() => producer.disconnect());
    io.mark('producer: connect');
    await producer.connect();
    io.mark('producer: send');
    await producer.send({
      topic: p.topic,
      messages: [
        { value: 'Hello KafkaJS user!' },
      ],
    });
    io.mark('producer: disconnect');
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: p.groupId });
    stops.push(() => consumer.disconnect());
    io.mark('consumer: connect');
    await consumer.connect();
    io.mark('consumer: subscribe');
    await consumer.subscribe({ topic: p.topic, fromBeginning: true });
    io.mark('consumer: run');
    await consumer.run({
      eachMessage: async ({ message }) => {
        io.log({
          value: message.value!.toString(),
        });
      },
    });
    io.mark('consumer: running');
  } catch (err) {
    io.died('an await rejected', err);
  }
  return async () => { for (const s of stops.reverse()) await s().catch(() => undefined); };
}

// kafka-node ships no types: the part of its API the seed's example calls.
interface KnEmitter {
  on(ev: string, cb: (...args: unknown[]) => void): void;
  listenerCount(ev: string): number;
}
interface KnClient extends KnEmitter {
  createTopics(topics: { topic: string; partitions: number; replicationFactor: number }[], cb: (error: unknown, result: unknown) => void): void;
  close(cb?: () => void): void;
}
interface KnProducer extends KnEmitter {
  send(payloads: { topic: string; messages: string[] }[], cb: (err: unknown, data: unknown) => void): void;
}
interface KnConsumer extends KnEmitter {
  close(force: boolean, cb: () => void): void;
}
interface KafkaNode {
  KafkaClient: new (opts: Record<string, unknown>) => KnClient;
  HighLevelProducer: new (client: KnClient) => KnProducer;
  Consumer: new (client: KnClient, payloads: Record<string, unknown>[], opts: Record<string, unknown>) => KnConsumer;
}

/**
 * The seed's "Kafka-Node client for Node.js" section: the client, createTopics, the
 * HighLevelProducer sending on 'ready', the Consumer. The seed's consumer payload
 * `{ topic: …, groupId: '<my-group-id>' partition: 0}` lacks a comma and does not parse; the
 * comma is the only thing added. `argv.topic` in its send() is the topic placeholder.
 */
export function seedKafkaNodeExample(p: NodeExamplePlaceholders, io: ExampleIo): () => Promise<void> {
  const kafka = createRequire(import.meta.url)('kafka-node') as KafkaNode;
  const argv = { topic: p.topic };
  const unhandled = (name: string, e: KnEmitter) => e.on('error', (err: unknown) => {
    // Only when the example itself has no listener: then Node would throw and end the program.
    if (e.listenerCount('error') === 1) io.died(`unhandled 'error' event on the ${name}`, err);
  });

  const client = new kafka.KafkaClient(
    {
      kafkaHost: p.bootstrap,
      fromOffset: 'latest',
      sasl: { mechanism: 'plain', username: p.username, password: p.password },
      ssl: true,
      sslOptions: {
        rejectUnauthorized: false,
      },
    });
  unhandled('client', client);

  io.mark('client: createTopics');
  client.createTopics([{ topic: p.topic, partitions: 1, replicationFactor: 1 }], (error, result) => {
    io.mark(`client: createTopics callback (error ${error ? String(error) : 'none'}, result ${JSON.stringify(result)})`);
  });

  const producer = new kafka.HighLevelProducer(client);
  unhandled('producer', producer);
  producer.on('ready', function () {
    io.log('starting to produce');
    send();
  });

  function send() {
    io.mark('producer: send');
    producer.send([{ topic: argv.topic, messages: ['<my-message-value>'] }], function (err, data) {
      io.mark(`producer: send callback (err ${err ? String(err) : 'none'}, data ${JSON.stringify(data)})`);
    });
  }

  const consumer = new kafka.Consumer(client, [{ topic: p.topic, groupId: p.groupId, partition: 0 }], {
    autoCommit: true,
    autoCommitIntervalMs: 500,
  });
  unhandled('consumer', consumer);
  io.mark('consumer: created');

  consumer.on('message', function (message: unknown) {
    io.log('Received a message: ' + (message as Record<string, unknown>)['value']);
  });

  return () => new Promise<void>((resolve) => {
    consumer.close(true, () => client.close(() => resolve()));
    setTimeout(resolve, 5000).unref();
  });
}
