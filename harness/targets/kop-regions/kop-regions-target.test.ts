// The two-region topology really starts (npm test proves it even though the kop-regions target
// is not in the default selection: README, "Regions"): two KoP brokers, each registered in the
// other's metadata, every principal namespace replicating to both, a record produced in region-a
// read in region-b; and the live target, pointed at it through one client.properties with
// kop.region.region-b.bootstrap.servers, validates both regions and declares them.
import { afterAll, describe, expect, test } from 'vitest';
import { kafkaJs } from '../../clients/kafkajs/connection.js';
import { withTimeout } from '../../util/wait.js';
import { writeSelfTestProperties } from '../registry.js';
import { adminCall } from '../pulsar/pulsar-admin.js';
import { loadLiveConfig } from '../live/live-config.js';
import { startLiveTarget } from '../live/live-target.js';
import { kopNarPlan } from '../kop/kop-nar.js';
import { inRegion, targetInfo, TargetUnavailableError } from '../types.js';
import { startKopRegions, type StartedKopRegions } from './kop-regions-target.js';

/** Why the topology cannot start here (no KoP protocol handler configured), or undefined. */
const unavailable = (() => {
  try { kopNarPlan(); return undefined; } catch (err) { if (err instanceof TargetUnavailableError) return err.message; throw err; }
})();

let started: StartedKopRegions | undefined;
afterAll(async () => { await started?.stop(); }, 30_000);

describe.skipIf(Boolean(unavailable))(`kop-regions topology${unavailable ? ` (${unavailable})` : ''}`, () => {
  test('starts two geo-replicated regions; a record produced in region-a is read in region-b; the live target validates both', async () => {
    const t = started = await startKopRegions({ startTimeoutMs: 240_000 });
    expect(t.regions?.map((r) => r.name)).toEqual(['region-a', 'region-b']);
    expect(t.families).toEqual(['regions']);
    // Each region knows both clusters; every principal namespace replicates to both, on both sides.
    for (const b of t.brokers) {
      const clusters = JSON.parse(await adminCall(b.ports.web, b.adminToken(), 'GET', '/admin/v2/clusters')) as string[];
      expect(clusters).toEqual(expect.arrayContaining(['region-a', 'region-b']));
      for (const ns of ['acme/eu', 'acme/default', 'globex/us']) {
        expect(JSON.parse(await adminCall(b.ports.web, b.adminToken(), 'GET', `/admin/v2/namespaces/${ns}/replication`))).toEqual(['region-a', 'region-b']);
      }
    }
    for (const rss of t.rssBytes) expect(rss, 'each region\'s RSS is measured').toBeGreaterThan(100e6);

    // Replication end to end, through KoP's Kafka listeners of the two regions.
    const [a, b] = t.regions!;
    const topic = `c8globals.kop-regions-selftest-${Date.now()}`;
    const producer = kafkaJs(inRegion(targetInfo(t), a!), { protocol: 'SASL_PLAINTEXT', clientId: 'kopc-regions-test' }).producer();
    const consumer = kafkaJs(inRegion(targetInfo(t), b!), { protocol: 'SASL_PLAINTEXT', clientId: 'kopc-regions-test' }).consumer({ groupId: `kopc-regions-test-${Date.now()}` });
    try {
      await withTimeout('produce in region-a', 30_000, (async () => {
        await producer.connect();
        await producer.send({ topic, messages: [{ key: 'k', value: 'from region-a' }] });
      })());
      const t0 = Date.now();
      const value = await withTimeout('the record produced in region-a, read in region-b', 60_000, new Promise<string>((resolve, reject) => {
        void (async () => {
          await consumer.connect();
          await consumer.subscribe({ topic, fromBeginning: true });
          await consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
        })().catch(reject);
      }));
      expect(value).toBe('from region-a');
      console.log(`kop-regions: start ${(t.startMs / 1000).toFixed(1)} s, RSS ${t.rssBytes.map((x) => `${Math.round((x ?? 0) / 1e6)} MB`).join(' + ')}, region-a → region-b read after ${((Date.now() - t0) / 1000).toFixed(1)} s (consumer join included)`);
    } finally {
      await producer.disconnect().catch(() => undefined);
      await consumer.disconnect().catch(() => undefined);
    }

    // The live target through one client.properties naming the second region.
    const cfg = loadLiveConfig({ propertiesPath: writeSelfTestProperties(targetInfo(t)), env: {} });
    expect(cfg.regionName).toBe('region-a');
    expect(cfg.regions.map((r) => r.name)).toEqual(['region-b']);
    const live = await startLiveTarget(cfg);
    try {
      expect(live.regions?.map((r) => [r.name, r.listeners[0]!.port])).toEqual([
        ['region-a', t.brokers[0]!.ports.kafkaSaslSsl], ['region-b', t.brokers[1]!.ports.kafkaSaslSsl]]);
      expect(live.description).toContain('regions region-a, region-b');
    } finally {
      await live.stop();
    }
  }, 360_000);
});
