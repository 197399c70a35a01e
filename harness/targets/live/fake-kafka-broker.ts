// Test-only: the smallest Kafka broker KafkaJS will log in to over loopback. It answers
// ApiVersions, SaslHandshake (PLAIN), SaslAuthenticate (one fixed username/password) and
// Metadata v0–v2 with no topics, so that the live target's SASL and metadata steps can be
// tested, success and failure, without a real broker. Not a Kafka implementation.
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';

export interface AdvertisedBroker {
  nodeId: number;
  host: string;
  port: number;
}

export interface FakeKafkaBrokerOptions {
  username: string;
  password: string;
  clusterId?: string;
  /** The brokers Metadata lists; default: this broker, node 1. */
  advertise?: (self: { host: string; port: number }) => AdvertisedBroker[];
  /** Serve TLS with this key and certificate (PEM). */
  tls?: { key: string; cert: string };
}

export interface FakeKafkaBroker {
  host: string;
  port: number;
  /** Usernames of every SASL PLAIN attempt, in order (never the passwords). */
  readonly loginAttempts: string[];
  close(): Promise<void>;
}

const API_VERSIONS = 18;
const SASL_HANDSHAKE = 17;
const SASL_AUTHENTICATE = 36;
const METADATA = 3;
const SUPPORTED: [number, number, number][] = [[API_VERSIONS, 0, 2], [SASL_HANDSHAKE, 0, 1], [SASL_AUTHENTICATE, 0, 1], [METADATA, 0, 2]];

class Writer {
  private parts: Buffer[] = [];
  int16(v: number) { const b = Buffer.alloc(2); b.writeInt16BE(v); this.parts.push(b); return this; }
  int32(v: number) { const b = Buffer.alloc(4); b.writeInt32BE(v); this.parts.push(b); return this; }
  int64(v: bigint) { const b = Buffer.alloc(8); b.writeBigInt64BE(v); this.parts.push(b); return this; }
  string(s: string | null) {
    if (s === null) return this.int16(-1);
    const b = Buffer.from(s, 'utf8');
    this.int16(b.length); this.parts.push(b); return this;
  }
  bytes(b: Buffer) { this.int32(b.length); this.parts.push(b); return this; }
  build() { return Buffer.concat(this.parts); }
}

export async function startFakeKafkaBroker(opts: FakeKafkaBrokerOptions): Promise<FakeKafkaBroker> {
  const loginAttempts: string[] = [];
  const sockets = new Set<Socket>();
  let self = { host: '127.0.0.1', port: 0 };

  const onConnection = (sock: Socket) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 4) {
        const size = buf.readInt32BE(0);
        if (buf.length < 4 + size) break;
        const frame = buf.subarray(4, 4 + size);
        buf = buf.subarray(4 + size);
        handle(sock, frame);
      }
    });
  };

  const reply = (sock: Socket, correlationId: number, body: Buffer) => {
    const head = new Writer().int32(body.length + 4).int32(correlationId).build();
    sock.write(Buffer.concat([head, body]));
  };

  const handle = (sock: Socket, frame: Buffer) => {
    const apiKey = frame.readInt16BE(0);
    const version = frame.readInt16BE(2);
    const correlationId = frame.readInt32BE(4);
    const clientIdLen = frame.readInt16BE(8);
    let off = 10 + Math.max(0, clientIdLen);
    if (apiKey === API_VERSIONS) {
      const w = new Writer().int16(0).int32(SUPPORTED.length);
      for (const [k, min, max] of SUPPORTED) w.int16(k).int16(min).int16(max);
      if (version >= 1) w.int32(0);
      reply(sock, correlationId, w.build());
    } else if (apiKey === SASL_HANDSHAKE) {
      const len = frame.readInt16BE(off);
      const mechanism = frame.subarray(off + 2, off + 2 + len).toString('utf8');
      reply(sock, correlationId, new Writer().int16(mechanism === 'PLAIN' ? 0 : 33).int32(1).string('PLAIN').build());
    } else if (apiKey === SASL_AUTHENTICATE) {
      const len = frame.readInt32BE(off);
      off += 4;
      const [, user = '', pass = ''] = frame.subarray(off, off + len).toString('utf8').split('\0');
      loginAttempts.push(user);
      const ok = user === opts.username && pass === opts.password;
      const w = new Writer().int16(ok ? 0 : 58).string(ok ? null : 'Authentication failed: invalid credentials').bytes(Buffer.alloc(0));
      if (version >= 1) w.int64(0n);
      reply(sock, correlationId, w.build());
      if (!ok) sock.end();
    } else if (apiKey === METADATA) {
      const brokers = opts.advertise?.(self) ?? [{ nodeId: 1, ...self }];
      const w = new Writer().int32(brokers.length);
      for (const b of brokers) {
        w.int32(b.nodeId).string(b.host).int32(b.port);
        if (version >= 1) w.string(null);
      }
      if (version >= 2) w.string(opts.clusterId ?? 'fake-cluster');
      if (version >= 1) w.int32(brokers[0]?.nodeId ?? -1);
      w.int32(0);
      reply(sock, correlationId, w.build());
    } else {
      sock.destroy();
    }
  };

  const server: Server = opts.tls
    ? createTlsServer({ key: opts.tls.key, cert: opts.tls.cert }, onConnection)
    : createNetServer(onConnection);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const addr = server.address();
  self = { host: '127.0.0.1', port: typeof addr === 'object' && addr ? addr.port : 0 };
  return {
    ...self,
    loginAttempts,
    close: () => new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}
