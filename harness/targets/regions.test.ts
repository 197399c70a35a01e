// The regions machinery without a broker: which targets run which families, the default
// selection, a region's view of a target, and the live self-test's client.properties for a
// two-region backing target read back by the live configuration.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { writeSelfTestProperties } from './registry.js';
import { DEFAULT_TARGET_IDS, runsFamily, selectedTargetIds, type TargetSlot } from './slots.js';
import { inRegion, type TargetInfo } from './types.js';
import { loadLiveConfig } from './live/live-config.js';

const dir = mkdtempSync(join(tmpdir(), 'kopc-regions-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const truststorePath = join(dir, 'truststore.p12');
writeFileSync(truststorePath, 'not a PEM file');

const listeners = (base: number) => [
  { securityProtocol: 'SASL_PLAINTEXT' as const, host: '127.0.0.1', port: base },
  { securityProtocol: 'SASL_SSL' as const, host: '127.0.0.1', port: base + 1 },
];
const twoRegions: TargetInfo = {
  id: 'kop-regions', description: 'test', listeners: listeners(9000),
  principals: [{ tenant: 'acme', fabric: 'eu', username: 'acme/eu', password: 'token:not-a-real-token' }],
  tls: { verify: true, truststorePath, truststorePassword: 'pw' },
  topics: { globalPrefix: 'c8globals.', localPrefix: 'c8locals.' }, logFiles: [],
  regions: [{ name: 'region-a', listeners: listeners(9000) }, { name: 'region-b', listeners: listeners(9100) }],
  families: ['regions'],
};

describe('regions', () => {
  test('a target that names its families runs those only, started or not; others run every family', () => {
    const started: TargetSlot = { id: 'kop-regions', state: 'started', info: twoRegions };
    expect(runsFamily(started, 'regions')).toBe(true);
    expect(runsFamily(started, 'topics')).toBe(false);
    expect(runsFamily({ id: 'kop-regions', state: 'start-failed', error: 'x' }, 'topics')).toBe(false);
    expect(runsFamily({ id: 'kop-regions', state: 'not-run', reason: 'x' }, 'regions')).toBe(true);
    expect(runsFamily({ id: 'kop', state: 'not-run', reason: 'x' }, 'topics')).toBe(true);
  });

  test('kop-regions runs only when named', () => {
    expect(DEFAULT_TARGET_IDS).not.toContain('kop-regions');
    expect(selectedTargetIds({})).toEqual([...DEFAULT_TARGET_IDS]);
    expect(selectedTargetIds({ KOPC_TARGETS: 'kop-regions,live' })).toEqual(['kop-regions', 'live']);
  });

  test('a region\'s view keeps logins and TLS, with that region\'s listeners', () => {
    const b = inRegion(twoRegions, twoRegions.regions![1]!);
    expect(b.listeners.map((l) => l.port)).toEqual([9100, 9101]);
    expect(b.principals).toBe(twoRegions.principals);
    expect(b.tls).toBe(twoRegions.tls);
  });

  test('the live self-test of a two-region backing target names the second region, and the live configuration reads it', () => {
    const cfg = loadLiveConfig({ propertiesPath: writeSelfTestProperties(twoRegions), env: {} });
    expect(cfg.bootstrap).toBe('127.0.0.1:9001');
    expect(cfg.regionName).toBe('region-a');
    expect(cfg.regions).toEqual([{ name: 'region-b', bootstrapServers: [{ host: '127.0.0.1', port: 9101 }] }]);
  });
});
