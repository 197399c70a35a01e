// Which targets exist and how each is started. The matrix of a run is the selected ids
// (KOPC_TARGETS); a target that cannot run here becomes a "not run" slot with its reason.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { selfTestFamiliesNote } from './live/self-test.js';
import { selectedTargetIds, type TargetId, type TargetSlot } from './slots.js';
import { targetInfo, TargetUnavailableError, type ProxiedListener, type RestartableTarget, type StartedTarget, type TargetInfo } from './types.js';
import { registerSecret } from '../security/redact.js';
import { ensureDir, workDir } from '../util/paths.js';
import { progress } from '../util/progress.js';
import { TARGET_TOTAL, timed, withTimingScope } from '../reporting/timings.js';

/** True when the environment names a real live endpoint (rather than the self-test). */
export function liveEndpointConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.KOPC_PROPERTIES || env.KOPC_BOOTSTRAP_SERVERS);
}

/**
 * The live target's self-test: a client.properties file, in Kafka's own property names,
 * that points at an embedded broker as if it were a remote endpoint.
 */
export function writeSelfTestProperties(info: TargetInfo): string {
  const listener = info.listeners.find((l) => l.securityProtocol === 'SASL_SSL');
  const principal = info.principals[0];
  if (!listener || !principal || !info.tls.truststorePath) throw new Error(`target ${info.id} cannot back the live self-test`);
  const q = (s: string) => s.replace(/\\/g, '\\\\').replace(/"/g, '\\"');
  const esc = (s: string) => s.replace(/\\/g, '\\\\');
  const path = join(ensureDir(join(workDir, `live-selftest-${process.pid}`)), 'client.properties');
  writeFileSync(path, [
    `# live target self-test: the embedded ${info.id} broker, reached as if it were remote`,
    `bootstrap.servers=${listener.host}:${listener.port}`,
    'security.protocol=SASL_SSL',
    'sasl.mechanism=PLAIN',
    ...(principal.apiKeyPassword ? [`kop.apikey.password=${esc(principal.apiKeyPassword)}`] : []),
    `sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username="${q(principal.username)}" password="${q(principal.password)}";`,
    `ssl.truststore.location=${esc(info.tls.truststorePath)}`,
    `ssl.truststore.password=${esc(info.tls.truststorePassword ?? '')}`,
    'ssl.truststore.type=PKCS12',
    // A multi-region backing broker (kop-regions): its other regions, as a live endpoint's would be named.
    ...regionLines(info),
    '',
  ].join('\n'), { mode: 0o600 });
  return path;
}

function regionLines(info: TargetInfo): string[] {
  const [first, ...others] = info.regions ?? [];
  if (!first || !others.length) return [];
  const sslOf = (r: NonNullable<TargetInfo['regions']>[number]) => {
    const l = r.listeners.find((x) => x.securityProtocol === 'SASL_SSL');
    if (!l) throw new Error(`target ${info.id}: region ${r.name} has no SASL_SSL listener for the live self-test`);
    return `${l.host}:${l.port}`;
  };
  return [`kop.region.name=${first.name}`, ...others.map((r) => `kop.region.${r.name}.bootstrap.servers=${sslOf(r)}`)];
}

async function startOne(id: TargetId, started: Map<TargetId, StartedTarget>): Promise<StartedTarget> {
  // Loaded on demand: a run that selects one target loads only that target's code.
  switch (id) {
    case 'kop':
      return await (await import('./kop/kop-target.js')).startKopBroker();
    case 'kafka':
      return await (await import('./kafka/kafka-target.js')).startKafkaBroker();
    case 'gdn':
      return await (await import('./gdn/gdn-target.js')).startGdnBroker();
    case 'kop-regions':
      return await (await import('./kop-regions/kop-regions-target.js')).startKopRegions();
    case 'container':
      return await (await import('./container/container-target.js')).startContainerTarget();
    case 'live': {
      const { loadLiveConfig } = await import('./live/live-config.js');
      const { startLiveTarget } = await import('./live/live-target.js');
      if (liveEndpointConfigured()) {
        const cfg = loadLiveConfig({ propertiesPath: process.env.KOPC_PROPERTIES });
        for (const s of cfg.secrets()) registerSecret(s);
        return await startLiveTarget(cfg);
      }
      // The reference broker backs it: the self-test is about the live-target path (configuration in, one
      // connection out), and its verdicts then differ from the kafka column only where that path does.
      // kop-regions backs it only when neither runs (`--targets kop-regions,live`): then the self-test
      // has two regions (kop.region.<name>.bootstrap.servers) and runs the regions family.
      const backing = started.get('kafka') ?? started.get('kop') ?? started.get('kop-regions');
      if (!backing) {
        throw new TargetUnavailableError('live', 'not run: no live endpoint configured (set KOPC_PROPERTIES=client.properties) and no embedded broker started to self-test against');
      }
      const live = await startLiveTarget(loadLiveConfig({ propertiesPath: writeSelfTestProperties(backing), env: {} }));
      // The self-test reaches the backing broker: that broker's known deviations apply.
      // A backing target that serves some families only (kop-regions) limits its self-test the same way.
      return {
        ...live,
        description: `${live.description} — self-test against embedded ${backing.id} via client.properties`,
        expectations: backing.expectations ?? backing.id,
        selfTestOf: backing.id,
        notes: [...live.notes ?? [], selfTestFamiliesNote()],
        ...(backing.families ? { families: backing.families, familiesReason: `the live self-test against ${backing.id}: ${backing.familiesReason ?? 'its families only'}` } : {}),
      };
    }
  }
}

/**
 * How long a private broker (started mid-run, next to the shared brokers and three busy test
 * workers) may take to get ready. A shared broker starts at the run's start, bounded at 240 s; a
 * private gdn broker took 163 s and 180 s under stress-ng (2 cores), and in stop 25's CI it was
 * still not listening at 240 s, so its six cells failed.
 */
export const PRIVATE_BROKER_START_MS = 480_000;

/**
 * A broker of the target's kind that the caller owns and may restart (faults.broker-restart), next
 * to the shared per-run one. Throws TargetUnavailableError (the reason a cell reads "not
 * applicable") for targets whose broker the suite cannot restart.
 */
export async function startRestartableTarget(id: string): Promise<RestartableTarget> {
  switch (id) {
    case 'kafka':
      return await (await import('./kafka/kafka-target.js')).startRestartableKafkaBroker({ startTimeoutMs: PRIVATE_BROKER_START_MS });
    case 'kop':
      return await (await import('./kop/kop-target.js')).startRestartableKopBroker({ startTimeoutMs: PRIVATE_BROKER_START_MS });
    case 'gdn':
      return await (await import('./gdn/gdn-target.js')).startRestartableGdnBroker({ startTimeoutMs: PRIVATE_BROKER_START_MS });
    case 'live':
      throw new TargetUnavailableError(id, 'not applicable: a live endpoint is not the suite\'s to stop and start (its broker processes run elsewhere)');
    case 'container':
      throw new TargetUnavailableError(id, 'not applicable: the container target offers no restartable private broker');
    default:
      throw new TargetUnavailableError(id, `not applicable: no restartable broker for target ${id}`);
  }
}

/**
 * Targets whose shared broker has no proxied listener (TargetInfo.proxied) but which can start a
 * private broker that has one (startProxiedTarget); decided without starting anything, so a cell
 * elsewhere reads "not applicable" before any driver or login.
 */
export function offersPrivateProxiedTarget(id: string): boolean {
  return id === 'gdn';
}

/**
 * A private broker of the target's kind whose TargetInfo.proxied is set, next to the shared per-run
 * one, for the faults family's Toxiproxy scenarios where the shared broker cannot offer a proxied
 * listener (gdn: its fork keys listeners by protocol, so its private broker's one SASL_PLAINTEXT
 * listener is the proxied one and SASL_SSL bypasses the proxy: `proxied.direct`). The caller owns
 * it and stops it. Throws TargetUnavailableError where offersPrivateProxiedTarget(id) is false.
 */
export async function startProxiedTarget(id: string): Promise<StartedTarget & Partial<RestartableTarget> & { proxied: ProxiedListener }> {
  if (!offersPrivateProxiedTarget(id)) throw new TargetUnavailableError(id, `not applicable: no private proxied broker for target ${id}`);
  const t = await (await import('./gdn/gdn-target.js')).startProxiedGdnBroker({ startTimeoutMs: PRIVATE_BROKER_START_MS });
  if (!t.proxied) {
    await t.stop();
    throw new Error(`target ${id}: the private broker started without a proxied listener`);
  }
  return t as typeof t & { proxied: ProxiedListener };
}

export async function startTargets(ids: TargetId[] = selectedTargetIds()): Promise<{ slots: TargetSlot[]; started: StartedTarget[]; stopAll: () => Promise<void> }> {
  const started = new Map<TargetId, StartedTarget>();
  const slots: TargetSlot[] = [];
  // Embedded brokers first: the live self-test needs one of them.
  const order = [...ids].sort((a, b) => Number(a === 'live') - Number(b === 'live'));
  for (const id of order) {
    try {
      const t = await withTimingScope('target', id, () => timed(TARGET_TOTAL, () => startOne(id, started)));
      started.set(id, t);
      slots.push({ id, state: 'started', info: targetInfo(t) });
    } catch (err) {
      if (err instanceof TargetUnavailableError) {
        progress(`target ${id}`, err.message);
        slots.push({ id, state: 'not-run', reason: err.message });
      } else {
        const msg = err instanceof Error ? err.message : String(err);
        progress(`target ${id}`, `start failed: ${msg.split('\n')[0]}`);
        slots.push({ id, state: 'start-failed', error: msg });
      }
    }
  }
  slots.sort((a, b) => ids.indexOf(a.id as TargetId) - ids.indexOf(b.id as TargetId));
  const stopAll = async () => {
    for (const t of [...started.values()].reverse()) await t.stop().catch(() => undefined);
  };
  return { slots, started: [...started.values()], stopAll };
}
