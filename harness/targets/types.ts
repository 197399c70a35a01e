// The target contract: where an endpoint is, and how a client reaches it.
// Modelled on testcontainers' start() → Started… object: start() does the work
// (or, for a live endpoint, only validates and connects) and returns an object
// that knows listeners, credentials, CA and the topic-naming scheme.

export type SecurityProtocol = 'SASL_PLAINTEXT' | 'SASL_SSL';

export interface Listener {
  /** SASL_PLAINTEXT (the GDN's 9092) or SASL_SSL (the GDN's 9093). */
  securityProtocol: SecurityProtocol;
  host: string;
  port: number;
}

/** One tenant/fabric login: username `<tenant>/<fabric>`, password `token:<jwt>`. */
export interface Principal {
  tenant: string;
  fabric: string;
  /** `<tenant>/<fabric>`: the SASL PLAIN username. */
  username: string;
  /** `token:<jwt or api key>`: the SASL PLAIN password. A secret: never print it. */
  password: string;
  /**
   * `token:<API key>`: the same login with an API key instead of a JWT, where the target
   * issues (or the configuration names) one. A secret: never print it.
   */
  apiKeyPassword?: string;
}

export interface TlsSettings {
  /** PEM file of the CA that signed the endpoint's certificate (absent: system CAs). */
  caPemPath?: string;
  /** The same CA as a PKCS12 truststore, for Java clients. */
  truststorePath?: string;
  /** Truststore password. A secret: never print it. */
  truststorePassword?: string;
  /** false only when a configuration turned verification off explicitly; reports say so. */
  verify: boolean;
  /** false when host-name checking is off but the chain is still verified (the seed's Java way). */
  verifyHostname?: boolean;
}

export interface TopicNaming {
  /** `c8globals.`: replicated to every region of the fabric. */
  globalPrefix: string;
  /** `c8locals.`: one region only. */
  localPrefix: string;
}

/** What tests need to know of a started target: plain data, passed from the global setup to workers. */
export interface TargetInfo {
  /** Stable id used in reports and expectation manifests: `kop`, `kafka`, `live`, `container`. */
  readonly id: string;
  /** Human description with versions, e.g. `Apache Kafka 3.9.1 (KRaft, embedded)`. */
  readonly description: string;
  readonly listeners: Listener[];
  /** Principals the suite may log in as; [0] is the default, further ones exist for isolation checks. */
  readonly principals: Principal[];
  readonly tls: TlsSettings;
  readonly topics: TopicNaming;
  /** Broker log file(s) to attach to failing tests. */
  readonly logFiles: string[];
  /**
   * Passwords that must be refused, index-aligned with principals: the same claims signed
   * with another key. Absent for live targets (the suite cannot mint their tokens).
   */
  readonly forgedPasswords?: string[];
  /** Passwords whose JWT expired (right key, `exp` in the past), index-aligned with principals. */
  readonly expiredPasswords?: string[];
  /** Things a reader of the report must know (e.g. TLS verification turned off by configuration). */
  readonly notes?: string[];
  /** Which expectation manifest applies (suites/expectations/<name>.json); default: the id. */
  readonly expectations?: string;
  /**
   * Set (to the reason) when this endpoint's tests corrupt each other if they overlap with a
   * test that logs in as another principal: the fixtures then run such tests alone across all
   * workers, while tests that log in only as the first principal share the target
   * (fixtures/target-lock.ts).
   */
  readonly oneTestAtATime?: string;
  /**
   * A SASL_PLAINTEXT listener meant to sit behind a fault-injection proxy (suites/faults/): the
   * broker listens on `upstream` and advertises `advertised` in Metadata, where the proxy must
   * listen, so a client that reconnects to the advertised address stays behind the proxy.
   * The advertised port is reserved when the target starts; nothing listens there until a
   * proxy does. Absent: see `proxiedUnavailable`.
   */
  readonly proxied?: ProxiedListener;
  /**
   * Why this target offers no proxied listener. Where the registry can start a private broker that
   * has one (registry.ts offersPrivateProxiedTarget / startProxiedTarget: gdn) the faults family
   * runs there and this only explains why; elsewhere faults cells read "not applicable: <this>".
   */
  readonly proxiedUnavailable?: string;
  /**
   * Set on the live target's self-test (no endpoint configured): the embedded target it reaches
   * through a generated client.properties. Its verdicts then repeat that target's wherever the
   * live-target path plays no part, so only some families run on it (KOPC_LIVE_SELFTEST_FAMILIES).
   */
  readonly selfTestOf?: string;
  /**
   * The regions of this endpoint when it has more than one (suites/regions/): [0] is the region
   * `listeners` reach, every region takes the same principals and TLS settings. Absent or one
   * entry: a one-region target, whose regions cells read "not applicable: one region".
   */
  readonly regions?: Region[];
  /**
   * Set when only these families (folders of suites/) run on this target; no cells of the others
   * are declared for it (familiesReason says why). The kop-regions target runs the regions family only.
   */
  readonly families?: string[];
  readonly familiesReason?: string;
}

/** One region of a multi-region endpoint. */
export interface Region {
  /** The region's name (Pulsar's cluster name on the embedded topology, e.g. `region-a`). */
  name: string;
  listeners: Listener[];
  /** Broker log file(s) of this region. */
  logFiles?: string[];
}

/** The target as a client in `region` sees it: that region's listeners, the same logins and TLS. */
export function inRegion(target: TargetInfo, region: Region): TargetInfo {
  return { ...target, listeners: region.listeners };
}

export interface ProxiedListener {
  securityProtocol: 'SASL_PLAINTEXT';
  /** What the broker advertises for this listener: the proxy listens here. */
  advertised: { host: string; port: number };
  /** Where the broker really listens: the proxy forwards here. */
  upstream: { host: string; port: number };
  /**
   * The listener that reaches the broker without the proxy (a scenario's set-up, a producer that
   * is not under test). Default SASL_PLAINTEXT: the target's own plaintext listener, which
   * advertises itself. SASL_SSL on a broker whose one SASL_PLAINTEXT listener is the proxied one
   * (the private gdn broker), since a client bootstrapped there goes on to the proxy.
   */
  direct?: SecurityProtocol;
}

export interface StartedTarget extends TargetInfo {
  /** Stops what start() started (the whole process tree). Idempotent. */
  stop(): Promise<void>;
  /** The embedded broker's thread count now (undefined: not known). */
  threads?(): number | undefined;
  /**
   * Past this many threads the broker watch (fixtures/broker-watch.ts) restarts the broker
   * (RestartableTarget.restart, SIGTERM) between tests: for an endpoint that leaks a thread per
   * connection (gdn F17). 0 or absent: never.
   */
  restartAboveThreads?: number;
  /** Replaces the embedded broker by a fresh one on the same listeners and logins (its data thrown away); only while no test runs. */
  renew?(): Promise<void>;
}

/** How a broker restart went (faults.broker-restart), in milliseconds. */
export interface RestartTiming {
  signal: 'SIGTERM' | 'SIGKILL';
  /** Signal sent → every process of the broker gone. */
  stopMs: number;
  /** Launched again → a real SASL-authenticated metadata round trip answered. */
  startMs: number;
}

/**
 * A broker that one scenario owns (never the shared per-run one, whose restart would disturb
 * every other cell): it can be ended and started again on the same data directory and ports.
 */
export interface RestartableTarget extends StartedTarget {
  /**
   * Ends the broker with `signal` (SIGTERM: a clean close, bounded, then SIGKILL; SIGKILL: a crash),
   * waits (bounded) until its ports can be bound again, starts it on the same data and ports, and
   * resolves once it answers a metadata round trip. `whileDown` is called once the broker is gone,
   * before it is launched again (a scenario starts the work that must ride out the outage there).
   */
  restart(signal: 'SIGTERM' | 'SIGKILL', whileDown?: () => void): Promise<RestartTiming>;
  /** The broker's resident memory now (every process of it), in KiB; undefined where /proc is absent. */
  rssKb(): number | undefined;
}

/** `t` as a RestartableTarget; throws when it has no restart (a broker kept by KOPC_REUSE=1). */
export function asRestartable<T extends StartedTarget & Partial<RestartableTarget>>(t: T): T & RestartableTarget {
  if (!t.restart) throw new Error(`target ${t.id}: this broker cannot be restarted (a reused one)`);
  return t as T & RestartableTarget;
}

/** The plain-data view of a started target. */
export function targetInfo(t: StartedTarget): TargetInfo {
  const { id, description, listeners, principals, tls, topics, logFiles, forgedPasswords, expiredPasswords, notes, expectations, oneTestAtATime, proxied, proxiedUnavailable, selfTestOf, regions, families, familiesReason } = t;
  return { id, description, listeners, principals, tls, topics, logFiles, forgedPasswords, expiredPasswords, notes, expectations, oneTestAtATime, proxied, proxiedUnavailable, selfTestOf, regions, families, familiesReason };
}

export function listenerFor(target: TargetInfo, protocol: SecurityProtocol): Listener {
  const l = target.listeners.find((x) => x.securityProtocol === protocol);
  if (!l) throw new Error(`target ${target.id} has no ${protocol} listener`);
  return l;
}

export function bootstrap(l: Listener): string {
  return `${l.host}:${l.port}`;
}

/** Thrown when a target cannot run here; the message is the report's "not run" reason. */
export class TargetUnavailableError extends Error {
  constructor(readonly targetId: string, reason: string) {
    super(reason);
    this.name = 'TargetUnavailableError';
  }
}
