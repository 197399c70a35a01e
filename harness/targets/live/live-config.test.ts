// Unit tests of the live target's configuration: the .properties format, sasl.jaas.config,
// environment overrides, every rejection message (one line, no secret) and redaction.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { format, inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import {
  LiveConfigError,
  loadLiveConfig,
  parseJaasConfig,
  parseJavaProperties,
  PropertiesSyntaxError,
  scrubSecrets,
} from './live-config.js';

const SECRET = 'token:eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXBheWxvYWQ.s1gn4ture';
const STORE_SECRET = 'truststore-pass-42';
const JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="acme/eu" password="${SECRET}";`;
const PEM = '-----BEGIN CERTIFICATE-----\nMIIBfake\n-----END CERTIFICATE-----\n';

const dir = mkdtempSync(join(tmpdir(), 'kopc-live-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function propsFile(text: string): string {
  const p = join(dir, `client-${++n}.properties`);
  writeFileSync(p, text);
  return p;
}
function values(text: string): Record<string, string> {
  return Object.fromEntries([...parseJavaProperties(text)].map(([k, v]) => [k, v.value]));
}
const base = (extra = '') => `bootstrap.servers=gdn.example.com:9092\nsecurity.protocol=SASL_PLAINTEXT\nsasl.mechanism=PLAIN\nsasl.jaas.config=${JAAS}\n${extra}`;

/** Loads and expects a LiveConfigError; checks it is one line without any secret; returns the message. */
function rejection(text: string | undefined, env: NodeJS.ProcessEnv = {}): string {
  const path = text === undefined ? undefined : propsFile(text);
  let caught: unknown;
  try {
    loadLiveConfig({ ...(path ? { propertiesPath: path } : {}), env });
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(LiveConfigError);
  const msg = (caught as Error).message;
  expect(msg).not.toMatch(/[\r\n]/);
  expect(msg.startsWith('live target config: ')).toBe(true);
  for (const s of [SECRET, SECRET.slice('token:'.length), STORE_SECRET, 's3cr']) expect(msg).not.toContain(s);
  return msg;
}

describe('parseJavaProperties', () => {
  it('reads the three separators, comments and blank lines', () => {
    expect(values('# c\n! c\n\n  a=1\nb: 2\nc 3\nd\t=\t4\ne\n f = \n')).toEqual({ a: '1', b: '2', c: '3', d: '4', e: '', f: '' });
  });

  it('joins continuation lines and drops the next line\'s leading whitespace', () => {
    expect(values('list = one, \\\n    two, \\\r\n\t three\nnext=x')).toEqual({ list: 'one, two, three', next: 'x' });
  });

  it('does not continue a comment line, and an even number of backslashes is no continuation', () => {
    expect(values('# comment \\\na=1\nb=x\\\\\nc=2')).toEqual({ a: '1', b: 'x\\', c: '2' });
  });

  it('unescapes \\\\ \\= \\: \\n \\t \\uXXXX and escaped separators in keys', () => {
    const v = values('path=C\\:\\\\dir\\\\file\nk\\=ey\\:x\\ y=v\\=1\nnl=a\\nb\\tc\nu=\\u0041\\u00e9\\u20AC\nother=\\q');
    expect(v).toEqual({ path: 'C:\\dir\\file', 'k=ey:x y': 'v=1', nl: 'a\nb\tc', u: 'Aé€', other: 'q' });
  });

  it('keeps trailing whitespace of values (as Java does), trims keys, and lets the last duplicate win', () => {
    expect(values('a = 1  \na=2 \n')).toEqual({ a: '2 ' });
    expect(parseJavaProperties('x=1\r\ny=2\r\n').get('y')).toEqual({ value: '2', line: 2 });
  });

  it('rejects a malformed \\u escape with its line', () => {
    expect(() => parseJavaProperties('a=1\nb=\\u12G4')).toThrow(PropertiesSyntaxError);
    expect(() => parseJavaProperties('a=1\nb=\\u12G4')).toThrow('line 2: malformed \\uXXXX escape');
  });
});

describe('parseJaasConfig', () => {
  it('reads the PlainLoginModule entry of the seed', () => {
    expect(parseJaasConfig(JAAS)).toEqual({
      loginModule: 'org.apache.kafka.common.security.plain.PlainLoginModule',
      controlFlag: 'required',
      options: { username: 'acme/eu', password: SECRET },
    });
  });

  it('unescapes quoted values and takes bare ones', () => {
    const e = parseJaasConfig('m.Plain required\n  username=bare/one password="to\\"k\\\\en;=x" other = \'single\' ;');
    expect(e.options).toEqual({ username: 'bare/one', password: 'to"k\\en;=x', other: 'single' });
  });

  it.each([
    ['', 'is empty'],
    ['m.Plain username="a";', 'has no control flag after m.Plain'],
    ['m.Plain required username="a" password="b"', 'does not end with ";"'],
    ['m.Plain required username="a" password="b;', 'has an unterminated quoted value'],
    ['m.Plain required username "a";', 'option username has no "=value"'],
    ['m.Plain required username=;', 'option username has no value'],
    ['m.Plain required u="a"; m.Other required;', 'has more than one login module entry'],
  ])('rejects %j', (text, problem) => {
    expect(() => parseJaasConfig(text)).toThrow(problem);
  });
});

describe('loadLiveConfig: accepted configurations', () => {
  it('reads the seed\'s SASL_PLAINTEXT properties', () => {
    const cfg = loadLiveConfig({ propertiesPath: propsFile(base()), env: {} });
    expect(cfg.bootstrapServers).toEqual([{ host: 'gdn.example.com', port: 9092 }]);
    expect(cfg.securityProtocol).toBe('SASL_PLAINTEXT');
    expect(cfg.username).toBe('acme/eu');
    expect([cfg.tenant, cfg.fabric]).toEqual(['acme', 'eu']);
    expect(cfg.password).toBe(SECRET);
    expect(cfg.topics).toEqual({ globalPrefix: 'c8globals.', localPrefix: 'c8locals.' });
    expect(cfg.tls.verify).toBe(true);
  });

  it('reads a JAAS config split over continuation lines with escaped quotes', () => {
    const cfg = loadLiveConfig({
      propertiesPath: propsFile('bootstrap.servers=h:9092\nsecurity.protocol=sasl_plaintext\n' +
        'sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n' +
        '    username="acme/eu" \\\n    password="token:a\\\\"b";\n'),
      env: {},
    });
    expect(cfg.securityProtocol).toBe('SASL_PLAINTEXT');
    expect(cfg.password).toBe('token:a"b');
  });

  it('takes several bootstrap servers, IPv6 in brackets', () => {
    const cfg = loadLiveConfig({ env: { KOPC_BOOTSTRAP_SERVERS: ' a.example:9092, [::1]:9093 ,10.0.0.1:1,', KOPC_SECURITY_PROTOCOL: 'SASL_PLAINTEXT', KOPC_USERNAME: 't/f', KOPC_PASSWORD: SECRET } });
    expect(cfg.bootstrapServers).toEqual([{ host: 'a.example', port: 9092 }, { host: '::1', port: 9093 }, { host: '10.0.0.1', port: 1 }]);
    expect(cfg.bootstrap).toBe('a.example:9092,[::1]:9093,10.0.0.1:1');
  });

  it('takes sasl.username/sasl.password instead of sasl.jaas.config, and defaults sasl.mechanism to PLAIN', () => {
    const cfg = loadLiveConfig({ propertiesPath: propsFile(`bootstrap.servers=h:1\nsecurity.protocol=SASL_PLAINTEXT\nsasl.username=t/f\nsasl.password=${SECRET}\n`), env: {} });
    expect([cfg.username, cfg.password, cfg.saslMechanism]).toEqual(['t/f', SECRET, 'PLAIN']);
  });

  it('lets the environment override the file, including the JAAS password', () => {
    const file = propsFile(base('kop.topic.global.prefix=g.\n'));
    const cfg = loadLiveConfig({
      propertiesPath: file,
      env: {
        KOPC_BOOTSTRAP_SERVERS: 'other:9093', KOPC_PASSWORD: 'token:from-env', KOPC_GLOBAL_PREFIX: 'envg.',
        KOPC_LOCAL_PREFIX: 'envl.', KOPC_USERNAME: 'globex/us',
      },
    });
    expect(cfg.bootstrap).toBe('other:9093');
    expect(cfg.username).toBe('globex/us');
    expect(cfg.password).toBe('token:from-env');
    expect(cfg.topics).toEqual({ globalPrefix: 'envg.', localPrefix: 'envl.' });
    expect(cfg.sources).toContain(`file ${file}`);
    expect(cfg.sources).toContain('env KOPC_PASSWORD');
  });

  it('finds the file through KOPC_PROPERTIES; an explicit path wins over it', () => {
    const a = propsFile(base());
    const b = propsFile(base().replace('gdn.example.com', 'b.example.com'));
    expect(loadLiveConfig({ env: { KOPC_PROPERTIES: a } }).bootstrap).toBe('gdn.example.com:9092');
    expect(loadLiveConfig({ propertiesPath: b, env: { KOPC_PROPERTIES: a } }).bootstrap).toBe('b.example.com:9092');
  });

  it('resolves ssl.ca.location relative to the file, and reads the TLS switches', () => {
    writeFileSync(join(dir, 'ca-rel.pem'), PEM);
    const ssl = (extra: string) => loadLiveConfig({
      propertiesPath: propsFile(base(`ssl.ca.location=ca-rel.pem\n${extra}`).replace('SASL_PLAINTEXT', 'SASL_SSL')),
      env: {},
    });
    const cfg = ssl('');
    expect(cfg.tls).toEqual({ caPemPath: join(dir, 'ca-rel.pem'), verify: true, verifyHostname: true });
    expect(ssl('ssl.endpoint.identification.algorithm=\n').tls).toMatchObject({ verify: true, verifyHostname: false });
    expect(ssl('ssl.endpoint.identification.algorithm=HTTPS\n').tls).toMatchObject({ verifyHostname: true });
    expect(ssl('kop.tls.verify=false\n').tls).toMatchObject({ verify: false, verifyHostname: false });
    expect(loadLiveConfig({ propertiesPath: propsFile(base('ssl.ca.location=ca-rel.pem\n').replace('SASL_PLAINTEXT', 'SASL_SSL')), env: { KOPC_TLS_VERIFY: 'false' } }).tls.verify).toBe(false);
  });

  it('accepts a PEM truststore as the CA, and a PKCS12 one with its password', () => {
    writeFileSync(join(dir, 'ts.pem'), PEM);
    writeFileSync(join(dir, 'ts.p12'), Buffer.from([0x30, 0x82, 0x01, 0x00]));
    const pem = loadLiveConfig({ propertiesPath: propsFile(base('ssl.truststore.location=ts.pem\n').replace('SASL_PLAINTEXT', 'SASL_SSL')), env: {} });
    expect(pem.tls.caPemPath).toBe(join(dir, 'ts.pem'));
    const p12 = loadLiveConfig({
      propertiesPath: propsFile(base(`ssl.truststore.location=ts.p12\nssl.truststore.password=${STORE_SECRET}\n`).replace('SASL_PLAINTEXT', 'SASL_SSL')),
      env: {},
    });
    expect(p12.tls).toMatchObject({ truststorePath: join(dir, 'ts.p12'), truststoreType: 'PKCS12' });
    expect(p12.truststorePassword).toBe(STORE_SECRET);
  });

  it('ignores SSL settings for SASL_PLAINTEXT and unknown properties', () => {
    const cfg = loadLiveConfig({ propertiesPath: propsFile(base('ssl.truststore.location=/nowhere.jks\nssl.truststore.type=BKS\nkey.serializer=x.Y\n')), env: {} });
    expect(cfg.tls.truststorePath).toBeUndefined();
  });

  it('takes kop.apikey.password as the API-key login, from the file or the environment', () => {
    expect(loadLiveConfig({ propertiesPath: propsFile(base('kop.apikey.password=token:acme.eu.key\n')), env: {} }).apiKeyPassword).toBe('token:acme.eu.key');
    expect(loadLiveConfig({ propertiesPath: propsFile(base()), env: { KOPC_API_KEY_PASSWORD: 'token:env.key' } }).apiKeyPassword).toBe('token:env.key');
    expect(loadLiveConfig({ propertiesPath: propsFile(base()), env: {} }).apiKeyPassword).toBeUndefined();
  });
});

describe('loadLiveConfig: rejected configurations name the problem in one line', () => {
  const ssl = (extra: string) => base(extra).replace('SASL_PLAINTEXT', 'SASL_SSL');

  it('names a missing bootstrap.servers and the file', () => {
    const text = base().replace(/^bootstrap.*\n/, '');
    const path = propsFile(text);
    expect(() => loadLiveConfig({ propertiesPath: path, env: {} })).toThrow(`live target config: bootstrap.servers is missing (file ${path})`);
    expect(rejection(text)).toMatch(/^live target config: bootstrap.servers is missing \(file .*client-\d+\.properties\)$/);
  });

  it('says which variable to set when there is no file', () => {
    expect(rejection(undefined, {})).toBe('live target config: bootstrap.servers is missing (no properties file; set KOPC_BOOTSTRAP_SERVERS, or KOPC_PROPERTIES to a client.properties file)');
  });

  it('names a file that does not exist', () => {
    expect(rejection(undefined, { KOPC_PROPERTIES: join(dir, 'absent.properties') })).toBe(`live target config: properties file ${join(dir, 'absent.properties')} does not exist`);
  });

  it.each([
    ['bootstrap.servers=gdn.example.com', 'bootstrap.servers entry "gdn.example.com" has no port'],
    ['bootstrap.servers=h:0', 'bootstrap.servers entry "h:0" has an invalid port "0"'],
    ['bootstrap.servers=h:99999', 'has an invalid port "99999"'],
    ['bootstrap.servers=h:abc', 'has an invalid port "abc"'],
    ['bootstrap.servers=::1:9092', 'an IPv6 address must be in brackets'],
    ['bootstrap.servers=[nothost]:9092', 'which is not an IPv6 address'],
    ['bootstrap.servers=[::1]', 'bootstrap.servers entry "[::1]" has no port'],
    ['bootstrap.servers=SASL_SSL://h:9093', 'has a scheme; write host:port'],
    ['bootstrap.servers=bad_host!:9092', 'has an invalid host name "bad_host!"'],
    ['bootstrap.servers= , ', 'bootstrap.servers is missing'],
  ])('%s', (line, problem) => {
    const msg = rejection(base().replace(/^bootstrap.*$/m, line));
    expect(msg).toContain(problem);
    expect(msg).toMatch(/\(file .* line 1\)$/);
  });

  it('rejects a misspelt security.protocol with the supported list', () => {
    expect(rejection(base().replace('SASL_PLAINTEXT', 'SASL_SSLL'))).toMatch(/^live target config: security.protocol "SASL_SSLL" is not one of SASL_PLAINTEXT, SASL_SSL \(file .* line 2\)$/);
  });

  it.each(['PLAINTEXT', 'SSL', 'ssl'])('rejects security.protocol %s: the GDN needs SASL', (p) => {
    expect(rejection(base().replace('SASL_PLAINTEXT', p))).toContain(`security.protocol "${p}" is not supported: the GDN's Kafka endpoint requires SASL (use SASL_PLAINTEXT or SASL_SSL)`);
  });

  it('rejects a missing security.protocol', () => {
    expect(rejection(base().replace(/^security.*\n/m, ''))).toContain('security.protocol is missing');
  });

  it.each([
    ['SCRAM-SHA-256', 'sasl.mechanism "SCRAM-SHA-256" is not supported: the GDN takes PLAIN'],
    ['plain', 'sasl.mechanism "plain" is not supported: the GDN takes PLAIN (mechanism names are case-sensitive)'],
  ])('rejects sasl.mechanism %s', (m, problem) => {
    expect(rejection(base().replace('sasl.mechanism=PLAIN', `sasl.mechanism=${m}`))).toContain(problem);
  });

  it('rejects a JAAS config without a password, or without a username', () => {
    const noPass = base().replace(` password="${SECRET}"`, '');
    expect(rejection(noPass)).toMatch(/^live target config: sasl.jaas.config has no password \(file .* line 4\)$/);
    expect(rejection(base().replace(' username="acme/eu"', ''))).toContain('sasl.jaas.config has no username');
  });

  it('rejects malformed JAAS without quoting it', () => {
    expect(rejection(base().replace(JAAS, JAAS.slice(0, -2)))).toContain('sasl.jaas.config has an unterminated quoted value');
    expect(rejection(base().replace(JAAS, JAAS.slice(0, -1)))).toContain('sasl.jaas.config does not end with ";"');
    expect(rejection(base().replace('plain.PlainLoginModule', 'scram.ScramLoginModule'))).toContain(
      'sasl.jaas.config uses org.apache.kafka.common.security.scram.ScramLoginModule; the GDN needs org.apache.kafka.common.security.plain.PlainLoginModule');
  });

  it('rejects a password that is not token:<…>', () => {
    const msg = rejection(base().replace(SECRET, 's3cr3t-api-key'));
    expect(msg).toMatch(/^live target config: the password \(from sasl.jaas.config\) does not start with "token:"; the GDN expects token:<API key or JWT> \(file .* line 4\)$/);
    expect(rejection(base().replace(SECRET, 'token:'))).toContain('is "token:" with nothing after it');
    expect(rejection(base(), { KOPC_PASSWORD: 's3cr3t' })).toContain('the password (from sasl.password) does not start with "token:"');
    expect(rejection(base(), { KOPC_PASSWORD: 's3cr3t' })).toContain('(env KOPC_PASSWORD)');
  });

  it('rejects a username that is not <tenant>/<fabric>', () => {
    expect(rejection(base().replace('acme/eu', 'acme'))).toContain('username "acme" is not <tenant>/<fabric>');
    expect(rejection(base().replace('acme/eu', 'a/b/c'))).toContain('username "a/b/c" is not <tenant>/<fabric>');
  });

  it('rejects missing credentials, and two sources of them', () => {
    expect(rejection('bootstrap.servers=h:1\nsecurity.protocol=SASL_PLAINTEXT\n')).toContain('no username: set sasl.jaas.config');
    expect(rejection('bootstrap.servers=h:1\nsecurity.protocol=SASL_PLAINTEXT\nsasl.username=t/f\n')).toContain('no password: set sasl.jaas.config');
    expect(rejection(base(`sasl.username=t/f\nsasl.password=${SECRET}\n`))).toContain('both sasl.jaas.config and sasl.username/sasl.password are set');
  });

  it('rejects bad TLS settings', () => {
    expect(rejection(ssl('ssl.ca.location=/no/such/ca.pem\n'))).toContain('ssl.ca.location: CA file /no/such/ca.pem does not exist');
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');
    expect(rejection(ssl('ssl.ca.location=not-pem.txt\n'))).toContain('holds no PEM certificate');
    writeFileSync(join(dir, 'store.jks'), Buffer.from([0xfe, 0xed, 0xfe, 0xed]));
    const noPw = rejection(ssl('ssl.truststore.location=store.jks\n'));
    expect(noPw).toContain(`ssl.truststore.password is missing (needed to read the JKS truststore ${join(dir, 'store.jks')})`);
    expect(rejection(ssl(`ssl.truststore.location=store.jks\nssl.truststore.password=${STORE_SECRET}\nssl.truststore.type=BKS\n`))).toContain('ssl.truststore.type "BKS" is not one of PKCS12, JKS, PEM');
    writeFileSync(join(dir, 'ts2.pem'), PEM);
    expect(rejection(ssl(`ssl.truststore.location=ts2.pem\nssl.truststore.type=PKCS12\nssl.truststore.password=${STORE_SECRET}\n`))).toContain('is a PEM file (set ssl.truststore.type=PEM)');
    expect(rejection(ssl('ssl.endpoint.identification.algorithm=none\n'))).toContain('ssl.endpoint.identification.algorithm "none" is not "https" or empty');
    expect(rejection(ssl('kop.tls.verify=nope\n'))).toContain('kop.tls.verify "nope" is not true or false');
    expect(rejection(ssl(''), { KOPC_TLS_VERIFY: 'off' })).toContain('kop.tls.verify "off" is not true or false (env KOPC_TLS_VERIFY)');
  });

  it('rejects a kop.apikey.password that is not token:<API key>, with its line', () => {
    expect(rejection(base('kop.apikey.password=acme.eu.key\n'))).toMatch(/^live target config: kop.apikey.password must be token:<API key> \(file .* line 5\)$/);
    expect(rejection(base(), { KOPC_API_KEY_PASSWORD: 'token:' })).toMatch(/kop.apikey.password must be token:<API key> \(env KOPC_API_KEY_PASSWORD\)$/);
  });

  it('rejects a topic prefix that no topic name can hold', () => {
    expect(rejection(base('kop.topic.local.prefix=c8 locals.\n'))).toContain('kop.topic.local.prefix "c8 locals." has characters a Kafka topic name cannot hold');
  });

  it('rejects a malformed \\u escape with the file and line', () => {
    expect(rejection(base('x=\\uZZZZ\n'))).toMatch(/properties file .* line 5: malformed \\uXXXX escape$/);
  });
});

describe('LiveConfig never shows a secret', () => {
  const cfg = () => {
    writeFileSync(join(dir, 'r.p12'), Buffer.from([0x30, 0x82]));
    return loadLiveConfig({
      propertiesPath: propsFile(base(`ssl.truststore.location=r.p12\nssl.truststore.password=${STORE_SECRET}\n`).replace('SASL_PLAINTEXT', 'SASL_SSL')),
      env: {},
    });
  };

  it('redacts JSON, inspect, toString, format and keys', () => {
    const c = cfg();
    const outputs = [
      JSON.stringify(c), JSON.stringify({ nested: { c } }), inspect(c), inspect({ deep: [c] }, { depth: 10 }),
      inspect(c, { showHidden: true }), String(c), `${c}`, format('%o %O %j %s', c, c, c, c), Object.keys(c).join(','),
      JSON.stringify({ ...c }),
    ];
    for (const out of outputs) {
      expect(out).not.toContain(SECRET.slice('token:'.length));
      expect(out).not.toContain(STORE_SECRET);
    }
    expect(JSON.parse(JSON.stringify(c))).toMatchObject({ username: 'acme/eu', password: '<redacted>', tls: { truststorePassword: '<redacted>' } });
    expect(inspect(c)).toContain('acme/eu');
    // The getters still give the real values to the code that needs them.
    expect(c.password).toBe(SECRET);
    expect(c.truststorePassword).toBe(STORE_SECRET);
  });

  it('scrubs secrets from foreign messages', () => {
    const c = cfg();
    expect(scrubSecrets(`auth failed for ${SECRET} and ${STORE_SECRET}`, c.secrets())).toBe('auth failed for <redacted> and <redacted>');
    expect(scrubSecrets(`raw jwt ${SECRET.slice(6)}`, c.secrets())).toBe('raw jwt <redacted>');
  });
});
