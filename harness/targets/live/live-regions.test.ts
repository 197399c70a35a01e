// The live target's optional further regions (kop.region.<name>.bootstrap.servers, or
// KOPC_REGION_<NAME>_BOOTSTRAP_SERVERS): read, validated like bootstrap.servers, each rejection
// one line naming the setting and where it came from, never a secret.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { LiveConfigError, loadLiveConfig, regionKeyOfEnv } from './live-config.js';

const SECRET = 'token:eyJhbGciOiJIUzI1NiJ9.cmVnaW9ucw.s1gn4ture';
const JAAS = `org.apache.kafka.common.security.plain.PlainLoginModule required username="acme/eu" password="${SECRET}";`;
const dir = mkdtempSync(join(tmpdir(), 'kopc-live-regions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const props = (extra: string) => {
  const p = join(dir, `client-${++n}.properties`);
  writeFileSync(p, `bootstrap.servers=a.example.com:9092\nsecurity.protocol=SASL_PLAINTEXT\nsasl.jaas.config=${JAAS}\n${extra}`);
  return p;
};
function rejection(extra: string, env: NodeJS.ProcessEnv = {}): string {
  try {
    loadLiveConfig({ propertiesPath: props(extra), env });
  } catch (err) {
    expect(err).toBeInstanceOf(LiveConfigError);
    const msg = (err as Error).message;
    expect(msg).not.toMatch(/[\r\n]/);
    expect(msg).not.toContain(SECRET.slice('token:'.length));
    return msg;
  }
  throw new Error('expected a LiveConfigError');
}

describe('live target regions', () => {
  it('has one region when none is configured', () => {
    const cfg = loadLiveConfig({ propertiesPath: props(''), env: {} });
    expect(cfg.regions).toEqual([]);
    expect(cfg.regionName).toBe('primary');
    expect(JSON.parse(JSON.stringify(cfg)).regions).toBeUndefined();
  });

  it('reads further regions, in name order, and the first region\'s name', () => {
    const cfg = loadLiveConfig({
      propertiesPath: props('kop.region.name=eu-west\nkop.region.us-east.bootstrap.servers=b.example.com:9093, b2.example.com:9093\nkop.region.ap.bootstrap.servers=[::1]:9092\n'),
      env: {},
    });
    expect(cfg.regionName).toBe('eu-west');
    expect(cfg.regions).toEqual([
      { name: 'ap', bootstrapServers: [{ host: '::1', port: 9092 }] },
      { name: 'us-east', bootstrapServers: [{ host: 'b.example.com', port: 9093 }, { host: 'b2.example.com', port: 9093 }] },
    ]);
    // The same login and TLS, that region's servers.
    const us = cfg.forRegion('us-east');
    expect(us.bootstrap).toBe('b.example.com:9093,b2.example.com:9093');
    expect(us.username).toBe('acme/eu');
    expect(us.password).toBe(SECRET);
    expect(us.regions).toEqual([]);
    expect(JSON.stringify(cfg)).not.toContain(SECRET);
    expect(JSON.parse(JSON.stringify(cfg)).regions).toEqual([{ name: 'ap', bootstrapServers: '[::1]:9092' }, { name: 'us-east', bootstrapServers: 'b.example.com:9093,b2.example.com:9093' }]);
  });

  it('takes a region from the environment (KOPC_REGION_<NAME>_BOOTSTRAP_SERVERS), which wins over the file', () => {
    expect(regionKeyOfEnv('KOPC_REGION_REGION_B_BOOTSTRAP_SERVERS')).toBe('kop.region.region-b.bootstrap.servers');
    expect(regionKeyOfEnv('KOPC_BOOTSTRAP_SERVERS')).toBeUndefined();
    const cfg = loadLiveConfig({
      propertiesPath: props('kop.region.region-b.bootstrap.servers=file.example.com:1\n'),
      env: { KOPC_REGION_REGION_B_BOOTSTRAP_SERVERS: 'env.example.com:2', KOPC_REGION_NAME: 'region-a' },
    });
    expect(cfg.regionName).toBe('region-a');
    expect(cfg.regions).toEqual([{ name: 'region-b', bootstrapServers: [{ host: 'env.example.com', port: 2 }] }]);
    expect(cfg.sources).toContain('env KOPC_REGION_REGION_B_BOOTSTRAP_SERVERS');
  });

  it.each([
    ['kop.region.b.bootstrap.servers=b.example.com', /^live target config: kop\.region\.b\.bootstrap\.servers entry "b\.example\.com" has no port \(file .*line 4\)$/],
    ['kop.region.b.bootstrap.servers=b.example.com:0', /kop\.region\.b\.bootstrap\.servers entry "b\.example\.com:0" has an invalid port "0"/],
    ['kop.region.b.bootstrap.servers=', /kop\.region\.b\.bootstrap\.servers is missing/],
    ['kop.region.b.bootstrap.servers=a.example.com:9092', /kop\.region\.b\.bootstrap\.servers entry "a\.example\.com:9092" is also in bootstrap\.servers: each region is its own endpoint/],
    ['kop.region.b.bootstrap.servers=x:1\nkop.region.c.bootstrap.servers=x:1', /kop\.region\.c\.bootstrap\.servers entry "x:1" is also in kop\.region\.b\.bootstrap\.servers/],
    ['kop.region.primary.bootstrap.servers=b:1', /kop\.region\.primary\.bootstrap\.servers names the region bootstrap\.servers reaches \("primary", kop\.region\.name\)/],
    ['kop.region.b.c.bootstrap.servers=b:1', /"b\.c" is not a region name/],
    ['kop.region.name=a/b', /kop\.region\.name "a\/b" is not a region name/],
  ])('refuses %j in one line', (extra, want) => {
    expect(rejection(extra)).toMatch(want);
  });

  it('names the environment variable of a bad region from the environment', () => {
    expect(rejection('', { KOPC_REGION_WEST_BOOTSTRAP_SERVERS: 'w.example.com' }))
      .toBe('live target config: kop.region.west.bootstrap.servers entry "w.example.com" has no port (env KOPC_REGION_WEST_BOOTSTRAP_SERVERS)');
  });
});
