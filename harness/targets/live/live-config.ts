// Configuration of the "live" target: a real KoP endpoint (a GDN's Kafka port) that the suite
// only connects to. Read from a Java client.properties file with Kafka's own property names
// and/or KOPC_* environment variables (environment wins), and validated completely before
// anything connects, so that a typo costs one line of error instead of a run of timeouts.
//
// Properties understood (everything else in the file is ignored, so an existing Java client's
// file can be used as it is):
//   bootstrap.servers                    host:port[,host:port…]; IPv6 as [addr]:port
//   security.protocol                    SASL_PLAINTEXT | SASL_SSL (the GDN always needs SASL)
//   sasl.mechanism                       PLAIN (the default when absent)
//   sasl.jaas.config                     PlainLoginModule required username="…" password="…";
//   sasl.username / sasl.password        librdkafka's names; an alternative to sasl.jaas.config
//   ssl.ca.location                      CA certificate(s) as PEM (librdkafka's name)
//   ssl.truststore.location/.password/.type   Java truststore: PKCS12, JKS or PEM
//   ssl.endpoint.identification.algorithm     "https" (default) or "" = no hostname verification
//   kop.tls.verify                       false = no certificate verification at all (reported)
//   kop.apikey.password                  optional token:<API key> of the same tenant/fabric, for the
//                                        API-key login scenarios (when the main password is a JWT)
//   kop.topic.global.prefix / kop.topic.local.prefix   default c8globals. / c8locals.
//   kop.region.name                      optional name of the region bootstrap.servers reaches
//                                        (default "primary")
//   kop.region.<name>.bootstrap.servers  optional: another region of the same fabric (host:port
//                                        list, checked like bootstrap.servers; same login and TLS),
//                                        for the regions family (suites/regions/)
// Environment: KOPC_PROPERTIES (the file, when no path is passed), KOPC_BOOTSTRAP_SERVERS,
// KOPC_SECURITY_PROTOCOL, KOPC_USERNAME, KOPC_PASSWORD, KOPC_CA_LOCATION, KOPC_TLS_VERIFY,
// KOPC_GLOBAL_PREFIX, KOPC_LOCAL_PREFIX, KOPC_REGION_NAME, and KOPC_REGION_<NAME>_BOOTSTRAP_SERVERS
// for kop.region.<name>.bootstrap.servers (<NAME> upper case, `_` for `-`: KOPC_REGION_REGION_B_…
// is region-b).
// Relative paths in the file are resolved against the file's directory, those from the
// environment against the working directory.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { dirname, resolve } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import type { SecurityProtocol } from '../types.js';
import { TargetUnavailableError } from '../types.js';

const PREFIX = 'live target config: ';
const REDACTED = '<redacted>';
const PLAIN_LOGIN_MODULE = 'org.apache.kafka.common.security.plain.PlainLoginModule';

/** A malformed or incomplete live-target configuration. The message is one line and holds no secret. */
export class LiveConfigError extends TargetUnavailableError {
  constructor(problem: string) {
    super('live', PREFIX + oneLine(problem));
    this.name = 'LiveConfigError';
  }
}

function oneLine(s: string): string {
  return s.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

// ---------------------------------------------------------------------------------------------
// java.util.Properties text format

/** Thrown by parseJavaProperties for a malformed \uXXXX escape; `line` is 1-based. */
export class PropertiesSyntaxError extends Error {
  constructor(readonly line: number, problem: string) {
    super(`line ${line}: ${problem}`);
    this.name = 'PropertiesSyntaxError';
  }
}

const isPropWhitespace = (c: string | undefined) => c === ' ' || c === '\t' || c === '\f';

interface LogicalLine {
  text: string;
  line: number;
}

/** Joins natural lines into logical ones as Properties.load does (comments never continue). */
function logicalLines(text: string): LogicalLine[] {
  const natural = text.replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  const out: LogicalLine[] = [];
  let buf: string | undefined;
  let startLine = 0;
  for (let i = 0; i < natural.length; i++) {
    let line = natural[i]!;
    if (buf === undefined) {
      const first = line.search(/[^ \t\f]/);
      if (first < 0) continue;
      if (line[first] === '#' || line[first] === '!') continue;
      line = line.slice(first);
      startLine = i + 1;
    } else {
      line = line.replace(/^[ \t\f]+/, '');
    }
    let trailing = 0;
    for (let j = line.length - 1; j >= 0 && line[j] === '\\'; j--) trailing++;
    const continues = trailing % 2 === 1;
    const piece = continues ? line.slice(0, -1) : line;
    buf = (buf ?? '') + piece;
    if (!continues || i === natural.length - 1) {
      out.push({ text: buf, line: startLine });
      buf = undefined;
    }
  }
  return out;
}

function unescapeProperty(s: string, line: number): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (c !== '\\') {
      out += c;
      continue;
    }
    const n = s[++i];
    if (n === undefined) break;
    switch (n) {
      case 't': out += '\t'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 'f': out += '\f'; break;
      case 'u': {
        const hex = s.slice(i + 1, i + 5);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw new PropertiesSyntaxError(line, 'malformed \\uXXXX escape');
        out += String.fromCharCode(parseInt(hex, 16));
        i += 4;
        break;
      }
      default: out += n;
    }
  }
  return out;
}

export interface PropertyEntry {
  value: string;
  /** 1-based line where the entry starts. */
  line: number;
}

/**
 * Parses the text format of java.util.Properties: `#`/`!` comments, `key=value`, `key: value`
 * and `key value`, backslash continuations, and escapes (\t \n \r \f \uXXXX, `\x` → x).
 * Later duplicates win. Values keep trailing whitespace, as Java does.
 */
export function parseJavaProperties(text: string): Map<string, PropertyEntry> {
  const props = new Map<string, PropertyEntry>();
  for (const { text: l, line } of logicalLines(text)) {
    let i = 0;
    let rawKey = '';
    for (; i < l.length; i++) {
      const c = l[i]!;
      if (c === '\\') {
        rawKey += c + (l[i + 1] ?? '');
        i++;
        continue;
      }
      if (c === '=' || c === ':' || isPropWhitespace(c)) break;
      rawKey += c;
    }
    while (isPropWhitespace(l[i])) i++;
    if (l[i] === '=' || l[i] === ':') {
      i++;
      while (isPropWhitespace(l[i])) i++;
    }
    const key = unescapeProperty(rawKey, line).trim();
    const value = unescapeProperty(l.slice(i), line);
    props.set(key, { value, line });
  }
  return props;
}

// ---------------------------------------------------------------------------------------------
// sasl.jaas.config

export interface JaasEntry {
  loginModule: string;
  controlFlag: 'required' | 'requisite' | 'sufficient' | 'optional';
  options: Record<string, string>;
}

/** Thrown by parseJaasConfig. Messages never quote option values (they hold the password). */
export class JaasSyntaxError extends Error {
  constructor(problem: string) {
    super(problem);
    this.name = 'JaasSyntaxError';
  }
}

type JaasToken = { kind: 'word' | 'quoted'; text: string } | { kind: '=' | ';' };

function tokenizeJaas(s: string): JaasToken[] {
  const tokens: JaasToken[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '=' || c === ';') { tokens.push({ kind: c }); i++; continue; }
    if (c === '"' || c === "'") {
      const quote = c;
      let text = '';
      i++;
      for (;;) {
        if (i >= s.length) throw new JaasSyntaxError('has an unterminated quoted value');
        const d = s[i]!;
        if (d === quote) { i++; break; }
        if (d === '\\') {
          const n = s[i + 1];
          if (n === undefined) throw new JaasSyntaxError('has an unterminated quoted value');
          text += n === 'n' ? '\n' : n === 't' ? '\t' : n === 'r' ? '\r' : n;
          i += 2;
          continue;
        }
        text += d;
        i++;
      }
      tokens.push({ kind: 'quoted', text });
      continue;
    }
    let text = '';
    while (i < s.length && !/[\s=;"']/.test(s[i]!)) text += s[i++];
    tokens.push({ kind: 'word', text });
  }
  return tokens;
}

/**
 * Parses a Kafka `sasl.jaas.config` value: exactly one `LoginModule flag key=value… ;` entry,
 * values bare or double-quoted with backslash escapes.
 */
export function parseJaasConfig(s: string): JaasEntry {
  const tokens = tokenizeJaas(s);
  if (tokens.length === 0) throw new JaasSyntaxError('is empty');
  const [mod, flag] = tokens;
  if (mod?.kind !== 'word') throw new JaasSyntaxError('does not start with a login module class name');
  if (flag?.kind !== 'word' || !['required', 'requisite', 'sufficient', 'optional'].includes(flag.text)) {
    throw new JaasSyntaxError(`has no control flag after ${mod.text} (expected "required")`);
  }
  const options: Record<string, string> = {};
  let i = 2;
  for (;;) {
    const t = tokens[i];
    if (t === undefined) throw new JaasSyntaxError('does not end with ";"');
    if (t.kind === ';') { i++; break; }
    if (t.kind !== 'word') throw new JaasSyntaxError('has a value where an option name was expected');
    const eq = tokens[i + 1];
    const val = tokens[i + 2];
    if (eq?.kind !== '=') throw new JaasSyntaxError(`option ${t.text} has no "=value"`);
    if (val?.kind !== 'word' && val?.kind !== 'quoted') throw new JaasSyntaxError(`option ${t.text} has no value`);
    options[t.text] = val.text;
    i += 3;
  }
  if (i < tokens.length) throw new JaasSyntaxError('has more than one login module entry (Kafka clients take exactly one)');
  return { loginModule: mod.text, controlFlag: flag.text as JaasEntry['controlFlag'], options };
}

// ---------------------------------------------------------------------------------------------
// The validated configuration

export interface BootstrapServer {
  /** Host name or IP address; IPv6 without brackets. */
  host: string;
  port: number;
}

export type TruststoreType = 'PKCS12' | 'JKS' | 'PEM';

export interface LiveTlsConfig {
  /** A PEM file of trusted CA certificates, when one was given (ssl.ca.location or a PEM truststore). */
  caPemPath?: string;
  /** A Java truststore (ssl.truststore.location) that is not PEM: converted to PEM at start. */
  truststorePath?: string;
  truststoreType?: Exclude<TruststoreType, 'PEM'>;
  /** false: kop.tls.verify=false, no certificate verification at all. Reports must say so. */
  verify: boolean;
  /** false: ssl.endpoint.identification.algorithm is empty (chain still verified, host name not). */
  verifyHostname: boolean;
}

/** Another region of the endpoint (kop.region.<name>.bootstrap.servers). */
export interface LiveRegion {
  name: string;
  bootstrapServers: readonly BootstrapServer[];
}

interface LiveConfigInit {
  bootstrapServers: BootstrapServer[];
  /** The name of the region bootstrapServers reach (kop.region.name, default `primary`). */
  regionName?: string;
  /** Further regions, in name order. */
  regions?: LiveRegion[];
  securityProtocol: SecurityProtocol;
  username: string;
  password: string;
  apiKeyPassword?: string;
  tls: LiveTlsConfig;
  truststorePassword?: string;
  topics: { globalPrefix: string; localPrefix: string };
  sources: string[];
  propertiesPath?: string;
}

/**
 * A validated live-target configuration. The password and truststore password are private
 * fields behind getters: JSON.stringify, util.inspect, toString and object spread never show them.
 */
export class LiveConfig {
  readonly bootstrapServers: readonly BootstrapServer[];
  readonly securityProtocol: SecurityProtocol;
  readonly saslMechanism = 'PLAIN' as const;
  /** `<tenant>/<fabric>`: not a secret. */
  readonly username: string;
  readonly tenant: string;
  readonly fabric: string;
  readonly tls: Readonly<LiveTlsConfig>;
  readonly topics: Readonly<{ globalPrefix: string; localPrefix: string }>;
  /** Where the settings came from, e.g. `file /x/client.properties`, `env KOPC_PASSWORD`. */
  readonly sources: readonly string[];
  readonly propertiesPath?: string;
  /** The name of the region `bootstrapServers` reach. */
  readonly regionName: string;
  /** The endpoint's other regions (kop.region.<name>.bootstrap.servers); empty: one region. */
  readonly regions: readonly LiveRegion[];
  readonly #init: LiveConfigInit;
  readonly #password: string;
  readonly #apiKeyPassword: string | undefined;
  readonly #truststorePassword: string | undefined;

  constructor(init: LiveConfigInit) {
    this.bootstrapServers = Object.freeze(init.bootstrapServers.map((b) => Object.freeze({ ...b })));
    this.securityProtocol = init.securityProtocol;
    this.username = init.username;
    const [tenant, fabric] = init.username.split('/') as [string, string];
    this.tenant = tenant;
    this.fabric = fabric;
    this.tls = Object.freeze({ ...init.tls });
    this.topics = Object.freeze({ ...init.topics });
    this.sources = Object.freeze([...init.sources]);
    if (init.propertiesPath !== undefined) this.propertiesPath = init.propertiesPath;
    this.regionName = init.regionName ?? DEFAULT_REGION_NAME;
    this.regions = Object.freeze((init.regions ?? []).map((r) => Object.freeze({ name: r.name, bootstrapServers: Object.freeze(r.bootstrapServers.map((b) => Object.freeze({ ...b }))) })));
    this.#init = init;
    this.#password = init.password;
    this.#apiKeyPassword = init.apiKeyPassword;
    this.#truststorePassword = init.truststorePassword;
  }

  /** `token:<API key or JWT>`. A secret: never print it. */
  get password(): string {
    return this.#password;
  }

  /** `token:<API key>` (kop.apikey.password), when configured. A secret: never print it. */
  get apiKeyPassword(): string | undefined {
    return this.#apiKeyPassword;
  }

  /** A secret: never print it. */
  get truststorePassword(): string | undefined {
    return this.#truststorePassword;
  }

  /** Every secret of this configuration, for scrubbing messages that come from outside. */
  secrets(): string[] {
    const s = [this.#password, this.#password.replace(/^token:/, ''), this.#truststorePassword,
      this.#apiKeyPassword, this.#apiKeyPassword?.replace(/^token:/, '')];
    return s.filter((x): x is string => typeof x === 'string' && x.length >= 4);
  }

  /** The same configuration reaching region `name` (one of `regions`) instead: its bootstrap servers, the same login and TLS. */
  forRegion(name: string): LiveConfig {
    const r = this.regions.find((x) => x.name === name);
    if (!r) throw new Error(`live target config: no region ${name}`);
    return new LiveConfig({ ...this.#init, bootstrapServers: [...r.bootstrapServers], regionName: r.name, regions: [] });
  }

  /** `host:port,host:port` as Kafka clients take it. */
  get bootstrap(): string {
    return this.bootstrapServers.map(formatHostPort).join(',');
  }

  toJSON(): Record<string, unknown> {
    return {
      bootstrapServers: this.bootstrap,
      securityProtocol: this.securityProtocol,
      saslMechanism: this.saslMechanism,
      username: this.username,
      password: REDACTED,
      ...(this.#apiKeyPassword !== undefined ? { apiKeyPassword: REDACTED } : {}),
      tls: {
        ...this.tls,
        ...(this.#truststorePassword !== undefined ? { truststorePassword: REDACTED } : {}),
      },
      topics: { ...this.topics },
      ...(this.regions.length ? { regionName: this.regionName, regions: this.regions.map((r) => ({ name: r.name, bootstrapServers: r.bootstrapServers.map(formatHostPort).join(',') })) } : {}),
      sources: [...this.sources],
    };
  }

  toString(): string {
    return `LiveConfig ${JSON.stringify(this.toJSON())}`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object): string {
    return `LiveConfig ${inspect(this.toJSON(), { ...options, depth: 4 })}`;
  }
}

export function formatHostPort(b: BootstrapServer): string {
  return `${isIPv6(b.host) ? `[${b.host}]` : b.host}:${b.port}`;
}

/** Redacts every occurrence of the given secrets in `text`. */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  return out;
}

// ---------------------------------------------------------------------------------------------
// loadLiveConfig

export interface LoadLiveConfigOptions {
  /** The client.properties file; default: KOPC_PROPERTIES. */
  propertiesPath?: string;
  /** Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

/** Environment variables and the property each one overrides. */
export const LIVE_ENV_VARS = {
  KOPC_BOOTSTRAP_SERVERS: 'bootstrap.servers',
  KOPC_SECURITY_PROTOCOL: 'security.protocol',
  KOPC_USERNAME: 'sasl.username',
  KOPC_PASSWORD: 'sasl.password',
  KOPC_CA_LOCATION: 'ssl.ca.location',
  KOPC_TLS_VERIFY: 'kop.tls.verify',
  KOPC_API_KEY_PASSWORD: 'kop.apikey.password',
  KOPC_GLOBAL_PREFIX: 'kop.topic.global.prefix',
  KOPC_LOCAL_PREFIX: 'kop.topic.local.prefix',
  KOPC_REGION_NAME: 'kop.region.name',
} as const;

interface Setting {
  value: string;
  /** Human origin for messages: `file /x/client.properties line 3` or `env KOPC_…`. */
  origin: string;
  /** Base directory for relative paths. */
  baseDir: string;
  fromEnv: boolean;
}

class Settings {
  private readonly map = new Map<string, Setting>();
  constructor(private readonly filePath: string | undefined) {}

  set(key: string, s: Setting): void {
    this.map.set(key, s);
  }

  get(key: string): Setting | undefined {
    return this.map.get(key);
  }

  keys(): string[] {
    return [...this.map.keys()];
  }

  /** Trimmed value, or undefined when absent. */
  str(key: string): string | undefined {
    return this.map.get(key)?.value.trim();
  }

  where(key: string): string {
    const s = this.map.get(key);
    if (s) return `(${s.origin})`;
    const envVar = Object.entries(LIVE_ENV_VARS).find(([, p]) => p === key)?.[0];
    if (this.filePath) return `(file ${this.filePath})`;
    return envVar
      ? `(no properties file; set ${envVar}, or KOPC_PROPERTIES to a client.properties file)`
      : '(no properties file; set KOPC_PROPERTIES to a client.properties file)';
  }

  fail(key: string, problem: string): never {
    throw new LiveConfigError(`${problem} ${this.where(key)}`);
  }
}

function readPropertiesFile(path: string): Map<string, PropertyEntry> {
  if (!existsSync(path)) throw new LiveConfigError(`properties file ${path} does not exist`);
  if (!statSync(path).isFile()) throw new LiveConfigError(`properties file ${path} is not a regular file`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new LiveConfigError(`properties file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  try {
    return parseJavaProperties(text);
  } catch (err) {
    if (err instanceof PropertiesSyntaxError) throw new LiveConfigError(`properties file ${path} ${err.message}`);
    throw err;
  }
}

const SUPPORTED_PROTOCOLS: SecurityProtocol[] = ['SASL_PLAINTEXT', 'SASL_SSL'];

function parseBootstrap(st: Settings, key = 'bootstrap.servers'): BootstrapServer[] {
  const raw = st.str(key);
  const entries = (raw ?? '').split(',').map((x) => x.trim()).filter((x) => x !== '');
  if (entries.length === 0) st.fail(key, `${key} is missing`);
  const out: BootstrapServer[] = [];
  for (const e of entries) {
    if (/^[a-z][a-z0-9+_-]*:\/\//i.test(e)) st.fail(key, `${key} entry "${e}" has a scheme; write host:port`);
    let host: string;
    let portText: string;
    const bracketed = /^\[([^\]]*)\](?::(.*))?$/.exec(e);
    if (bracketed) {
      host = bracketed[1]!;
      if (!isIPv6(host)) st.fail(key, `${key} entry "${e}" has "${host}" in brackets, which is not an IPv6 address`);
      if (bracketed[2] === undefined) st.fail(key, `${key} entry "${e}" has no port`);
      portText = bracketed[2];
    } else {
      const colons = e.split(':').length - 1;
      if (colons === 0) st.fail(key, `${key} entry "${e}" has no port`);
      if (colons > 1) st.fail(key, `${key} entry "${e}": an IPv6 address must be in brackets, e.g. [::1]:9092`);
      [host, portText] = e.split(':') as [string, string];
      if (!/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/.test(host)) st.fail(key, `${key} entry "${e}" has an invalid host name "${host}"`);
    }
    const port = /^\d{1,5}$/.test(portText) ? Number(portText) : NaN;
    if (!(port >= 1 && port <= 65535)) st.fail(key, `${key} entry "${e}" has an invalid port "${portText}"`);
    out.push({ host, port });
  }
  return out;
}

const DEFAULT_REGION_NAME = 'primary';
const REGION_KEY = /^kop\.region\.(.+)\.bootstrap\.servers$/;
const REGION_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** kop.region.name and every kop.region.<name>.bootstrap.servers, validated as bootstrap.servers is. */
function parseRegions(st: Settings, first: BootstrapServer[]): { regionName: string; regions: LiveRegion[] } {
  const nameSetting = st.str('kop.region.name');
  const regionName = nameSetting || DEFAULT_REGION_NAME;
  if (!REGION_NAME.test(regionName)) st.fail('kop.region.name', `kop.region.name "${regionName}" is not a region name (letters, digits, - and _)`);
  const regions: LiveRegion[] = [];
  const key = (b: BootstrapServer) => formatHostPort(b).toLowerCase();
  const seen = new Map<string, string>(first.map((b) => [key(b), 'bootstrap.servers']));
  for (const k of st.keys().filter((x) => REGION_KEY.test(x)).sort()) {
    const name = REGION_KEY.exec(k)![1]!;
    if (!REGION_NAME.test(name)) st.fail(k, `${k}: "${name}" is not a region name (letters, digits, - and _)`);
    if (name === regionName) st.fail(k, `${k} names the region bootstrap.servers reaches ("${regionName}", kop.region.name); name another region`);
    const servers = parseBootstrap(st, k);
    for (const b of servers) {
      const other = seen.get(key(b));
      if (other) st.fail(k, `${k} entry "${formatHostPort(b)}" is also in ${other}: each region is its own endpoint`);
      seen.set(key(b), k);
    }
    regions.push({ name, bootstrapServers: servers });
  }
  return { regionName, regions };
}

/** KOPC_REGION_<NAME>_BOOTSTRAP_SERVERS → kop.region.<name>.bootstrap.servers (`_` → `-`, lower case). */
export function regionKeyOfEnv(envVar: string): string | undefined {
  const m = /^KOPC_REGION_(.+)_BOOTSTRAP_SERVERS$/.exec(envVar);
  return m ? `kop.region.${m[1]!.toLowerCase().replace(/_/g, '-')}.bootstrap.servers` : undefined;
}

/** A value that must be one of `values`, compared without case; yields the upper-case form. */
const upperOneOf = <T extends string>(key: string, values: readonly T[]) => z.string().trim()
  .refine((v) => (values as readonly string[]).includes(v.toUpperCase()), { error: (iss) => `${key} "${iss.input}" is not one of ${values.join(', ')}` })
  .transform((v) => v.toUpperCase() as T);
const bool = (key: string) => z.string().trim()
  .regex(/^(true|false)$/i, { error: (iss) => `${key} "${iss.input}" is not true or false` }).transform((v) => v.toLowerCase() === 'true');
const topicPrefix = (key: string) => z.string().trim()
  .regex(/^[A-Za-z0-9._-]+$/, { error: (iss) => `${key} "${iss.input}" has characters a Kafka topic name cannot hold` });
/** An empty setting counts as absent. */
const blank = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : v);
const blankIsAbsent = <S extends z.ZodType>(schema: S) => z.preprocess(blank, schema.optional());

/**
 * What each single setting may be, in one place (the raw values, keyed by property name). The
 * checks that need several settings or the file system (credentials, TLS files) follow it.
 */
const SINGLE_SETTINGS = z.object({
  'security.protocol': z.preprocess(blank, z.string({ error: 'security.protocol is missing (the GDN needs SASL_PLAINTEXT or SASL_SSL)' }).trim()
    .refine((v) => !['PLAINTEXT', 'SSL'].includes(v.toUpperCase()), {
      error: (iss) => `security.protocol "${iss.input}" is not supported: the GDN's Kafka endpoint requires SASL (use SASL_PLAINTEXT or SASL_SSL)`, abort: true,
    })
    .pipe(upperOneOf('security.protocol', SUPPORTED_PROTOCOLS))),
  'sasl.mechanism': blankIsAbsent(z.string().trim().refine((v) => v === 'PLAIN', {
    error: (iss) => `sasl.mechanism "${iss.input}" is not supported: the GDN takes PLAIN${String(iss.input).toUpperCase() === 'PLAIN' ? ' (mechanism names are case-sensitive)' : ''}`,
  })),
  'kop.apikey.password': z.string().regex(/^token:\S/, { error: 'kop.apikey.password must be token:<API key>' }).optional(),
  'kop.tls.verify': blankIsAbsent(bool('kop.tls.verify')).transform((v) => v ?? true),
  // Empty is meaningful here: no host-name verification.
  'ssl.endpoint.identification.algorithm': z.string().trim()
    .regex(/^(https)?$/i, { error: (iss) => `ssl.endpoint.identification.algorithm "${iss.input}" is not "https" or empty` }).optional(),
  'kop.topic.global.prefix': blankIsAbsent(topicPrefix('kop.topic.global.prefix')).transform((v) => v ?? 'c8globals.'),
  'kop.topic.local.prefix': blankIsAbsent(topicPrefix('kop.topic.local.prefix')).transform((v) => v ?? 'c8locals.'),
});
type SingleSettings = z.output<typeof SINGLE_SETTINGS>;
/** Checked only when a truststore is given (a SASL_PLAINTEXT client's file may carry anything here). */
const TRUSTSTORE_TYPE = blankIsAbsent(upperOneOf('ssl.truststore.type', ['PKCS12', 'JKS', 'PEM'] as const));

/** Validates the single settings; the first problem fails with where its setting came from. */
function parseSingleSettings(st: Settings): SingleSettings {
  const raw = Object.fromEntries(Object.keys(SINGLE_SETTINGS.shape).map((k) => [k, st.get(k)?.value]));
  const r = SINGLE_SETTINGS.safeParse(raw);
  if (r.success) return r.data;
  const first = r.error.issues[0]!;
  return st.fail(String(first.path[0]), first.message);
}

function parseCredentials(st: Settings): { username: string; password: string } {
  let username: string | undefined;
  let password: string | undefined;
  let userKey = 'sasl.username';
  let passKey = 'sasl.password';

  const jaasRaw = st.str('sasl.jaas.config');
  const fileUser = st.get('sasl.username');
  const filePass = st.get('sasl.password');
  if (jaasRaw !== undefined && jaasRaw !== '') {
    if ((fileUser && !fileUser.fromEnv) || (filePass && !filePass.fromEnv)) {
      st.fail('sasl.jaas.config', 'both sasl.jaas.config and sasl.username/sasl.password are set; use one of them');
    }
    let jaas: JaasEntry;
    try {
      jaas = parseJaasConfig(jaasRaw);
    } catch (err) {
      if (err instanceof JaasSyntaxError) st.fail('sasl.jaas.config', `sasl.jaas.config ${err.message}`);
      throw err;
    }
    if (jaas.loginModule !== PLAIN_LOGIN_MODULE) {
      st.fail('sasl.jaas.config', `sasl.jaas.config uses ${jaas.loginModule}; the GDN needs ${PLAIN_LOGIN_MODULE}`);
    }
    if (jaas.options.username !== undefined) {
      username = jaas.options.username;
      userKey = 'sasl.jaas.config';
    }
    if (jaas.options.password !== undefined) {
      password = jaas.options.password;
      passKey = 'sasl.jaas.config';
    }
    // Environment overrides (KOPC_USERNAME/KOPC_PASSWORD) take precedence over the JAAS values.
    if (fileUser?.fromEnv) { username = fileUser.value; userKey = 'sasl.username'; }
    if (filePass?.fromEnv) { password = filePass.value; passKey = 'sasl.password'; }
    if (username === undefined) st.fail('sasl.jaas.config', 'sasl.jaas.config has no username');
    if (password === undefined) st.fail('sasl.jaas.config', 'sasl.jaas.config has no password');
  } else {
    username = fileUser?.value;
    password = filePass?.value;
    if (username === undefined || username.trim() === '') {
      st.fail('sasl.username', 'no username: set sasl.jaas.config (PlainLoginModule with username and password) or sasl.username');
    }
    if (password === undefined || password === '') {
      st.fail('sasl.password', 'no password: set sasl.jaas.config (PlainLoginModule with username and password) or sasl.password');
    }
  }

  username = username.trim();
  const parts = username.split('/');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    st.fail(userKey, `username "${username}" is not <tenant>/<fabric>`);
  }
  if (!password.startsWith('token:')) {
    st.fail(passKey, `the password (from ${passKey}) does not start with "token:"; the GDN expects token:<API key or JWT>`);
  }
  if (password.slice('token:'.length).trim() === '') {
    st.fail(passKey, `the password (from ${passKey}) is "token:" with nothing after it`);
  }
  return { username, password };
}

function looksLikePem(path: string): boolean {
  try {
    const head = readFileSync(path).subarray(0, 4096).toString('latin1');
    return /-----BEGIN (TRUSTED )?CERTIFICATE-----/.test(head);
  } catch {
    return false;
  }
}

function existingFile(st: Settings, key: string, what: string): string {
  const s = st.get(key)!;
  const path = resolve(s.baseDir, s.value.trim());
  if (!existsSync(path)) st.fail(key, `${key}: ${what} ${path} does not exist`);
  if (!statSync(path).isFile()) st.fail(key, `${key}: ${what} ${path} is not a regular file`);
  return path;
}

function parseTls(st: Settings, single: SingleSettings): { tls: LiveTlsConfig; truststorePassword?: string } {
  const verify = single['kop.tls.verify'];
  const alg = single['ssl.endpoint.identification.algorithm'];
  const verifyHostname = verify && (alg === undefined || alg !== '');
  const tls: LiveTlsConfig = { verify, verifyHostname };
  if (single['security.protocol'] !== 'SASL_SSL') return { tls };

  let truststorePassword: string | undefined;
  const caKey = 'ssl.ca.location';
  if (st.str(caKey)) {
    const path = existingFile(st, caKey, 'CA file');
    if (!looksLikePem(path)) st.fail(caKey, `${caKey}: ${path} holds no PEM certificate (-----BEGIN CERTIFICATE-----)`);
    tls.caPemPath = path;
  }
  const tsKey = 'ssl.truststore.location';
  if (st.str(tsKey)) {
    const path = existingFile(st, tsKey, 'truststore');
    const typeKey = 'ssl.truststore.type';
    const typed = TRUSTSTORE_TYPE.safeParse(st.get(typeKey)?.value);
    if (!typed.success) st.fail(typeKey, typed.error.issues[0]!.message);
    const type: TruststoreType = typed.data ?? (looksLikePem(path) ? 'PEM' : /\.(p12|pfx)$/i.test(path) ? 'PKCS12' : 'JKS');
    if (type === 'PEM') {
      if (!looksLikePem(path)) st.fail(tsKey, `${tsKey}: ${path} holds no PEM certificate but ssl.truststore.type is PEM`);
      // ssl.ca.location, when given too, is what Node clients use; a PEM truststore adds nothing.
      tls.caPemPath ??= path;
    } else {
      if (looksLikePem(path)) st.fail(typeKey, `${typeKey} is ${type} but ${path} is a PEM file (set ssl.truststore.type=PEM)`);
      const pw = st.get('ssl.truststore.password')?.value;
      if (pw === undefined || pw === '') {
        st.fail('ssl.truststore.password', `ssl.truststore.password is missing (needed to read the ${type} truststore ${path})`);
      }
      truststorePassword = pw;
      tls.truststorePath = path;
      tls.truststoreType = type;
    }
  }
  return truststorePassword === undefined ? { tls } : { tls, truststorePassword };
}

/**
 * Loads and validates the live target's configuration. Throws a LiveConfigError (one line,
 * no secret) naming the first problem and where the setting came from.
 */
export function loadLiveConfig(opts: LoadLiveConfigOptions = {}): LiveConfig {
  const env = opts.env ?? process.env;
  const envFile = env.KOPC_PROPERTIES?.trim() || undefined;
  const fileArg = opts.propertiesPath ?? envFile;
  const filePath = fileArg ? resolve(fileArg) : undefined;
  const st = new Settings(filePath);
  const sources: string[] = [];

  if (filePath) {
    const props = readPropertiesFile(filePath);
    for (const [key, { value, line }] of props) {
      st.set(key, { value, origin: `file ${filePath} line ${line}`, baseDir: dirname(filePath), fromEnv: false });
    }
    sources.push(`file ${filePath}`);
  }
  for (const [envVar, key] of Object.entries(LIVE_ENV_VARS)) {
    const value = env[envVar];
    if (value === undefined || value === '') continue;
    st.set(key, { value, origin: `env ${envVar}`, baseDir: process.cwd(), fromEnv: true });
    sources.push(`env ${envVar}`);
  }
  for (const [envVar, value] of Object.entries(env)) {
    const key = regionKeyOfEnv(envVar);
    if (!key || value === undefined || value === '') continue;
    st.set(key, { value, origin: `env ${envVar}`, baseDir: process.cwd(), fromEnv: true });
    sources.push(`env ${envVar}`);
  }

  const bootstrapServers = parseBootstrap(st);
  const { regionName, regions } = parseRegions(st, bootstrapServers);
  const single = parseSingleSettings(st);
  const { username, password } = parseCredentials(st);
  const { tls, truststorePassword } = parseTls(st, single);

  const init: LiveConfigInit = {
    bootstrapServers, securityProtocol: single['security.protocol'], username, password, tls,
    topics: { globalPrefix: single['kop.topic.global.prefix'], localPrefix: single['kop.topic.local.prefix'] }, sources,
    regionName, regions,
  };
  if (truststorePassword !== undefined) init.truststorePassword = truststorePassword;
  const apiKey = single['kop.apikey.password'];
  if (apiKey !== undefined) init.apiKeyPassword = apiKey;
  if (filePath) init.propertiesPath = filePath;
  return new LiveConfig(init);
}
