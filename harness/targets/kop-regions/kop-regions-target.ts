// The embedded two-region KoP topology (target `kop-regions`): two Pulsar 3.3.6 standalone
// brokers with KoP, clusters `region-a` and `region-b`, started by the kop target's own code
// (startKopBroker with a cluster name), each with its own RocksDB metadata store (= its own
// configuration store), ports and data directories, and the same token key, admin JWT and CA.
// Then Pulsar's geo-replication, through the standard admin REST calls, on both sides:
//   PUT  /admin/v2/clusters/<peer>                 the peer's service URLs (+ the admin token)
//   POST /admin/v2/tenants/<tenant>                allowedClusters: both regions
//   POST /admin/v2/namespaces/<t>/<ns>/replication ["region-a","region-b"]
// for every namespace the kop target provisions for the principals (`<tenant>/<fabric>` and
// `<tenant>/default`, where vanilla KoP puts short topic names). KoP's own metadata namespaces
// (`<tenant>/__kafka`: group offsets, transactions) are not replicated.
//
// Vanilla KoP has no notion of a local topic: c8globals.* and c8locals.* land in the same
// replicated namespace, so both replicate. The harness does not fake the GDN's semantics
// (no per-topic replication policy): the local scenarios fail here and the manifest says why.
import { defaultTenantFabrics, type TenantFabric } from '../../security/principals.js';
import { groupRssKb } from '../../util/process.js';
import { progress } from '../../util/progress.js';
import { recordTiming } from '../../reporting/timings.js';
import { adminCall } from '../pulsar/pulsar-admin.js';
import { preparePulsarRun, type PulsarRun } from '../pulsar/pulsar-run.js';
import { ensureKopNar, kopNarPlan } from '../kop/kop-nar.js';
import { ensurePulsarDistribution, KOP_ADMIN_ROLE, namespacePlan, startKopBroker, tenantAdminPlan, type StartedKopBroker } from '../kop/kop-target.js';
import type { StartedTarget } from '../types.js';

export const REGION_NAMES = ['region-a', 'region-b'] as const;

/** Each region's JVM: two of them share the machine with the clients (measured RSS in the start line). */
const REGION_JVM_MEMORY = '-Xms128m -Xmx512m -XX:MaxDirectMemorySize=512m';

export interface StartedKopRegions extends StartedTarget {
  readonly brokers: readonly StartedKopBroker[];
  /** Resident memory of each region's process group right after the start, bytes. */
  readonly rssBytes: readonly (number | undefined)[];
  readonly startMs: number;
}

const mb = (b: number | undefined) => (b === undefined ? '?' : `${Math.round(b / 1e6)} MB`);

/** Both regions registered in each other's metadata, tenants allowed on both, namespaces replicated. */
export async function linkRegions(brokers: readonly StartedKopBroker[], shared: PulsarRun, tfs: TenantFabric[], kafkaNamespace: string): Promise<void> {
  const clusters = brokers.map((b) => b.clusterName);
  const plan = namespacePlan(tfs, kafkaNamespace);
  const admins = tenantAdminPlan(tfs);
  for (const self of brokers) {
    const call = (method: string, path: string, body?: unknown, ok?: number[]) => adminCall(self.ports.web, self.adminToken(), method, path, body, ok);
    for (const peer of brokers) {
      if (peer === self) continue;
      // The replicator logs in to the peer as the superuser: the token is read from its file by
      // Pulsar's AuthenticationToken (`file://…`), so no token is stored in the cluster data.
      await call('PUT', `/admin/v2/clusters/${peer.clusterName}`, {
        serviceUrl: `http://127.0.0.1:${peer.ports.web}`,
        brokerServiceUrl: `pulsar://127.0.0.1:${peer.ports.broker}`,
        authenticationPlugin: 'org.apache.pulsar.client.impl.auth.AuthenticationToken',
        authenticationParameters: `file://${shared.adminTokenPath}`,
      }, [200, 204, 409]);
    }
    for (const tenant of new Set([...plan.keys()].map((ns) => ns.split('/')[0]!))) {
      await call('POST', `/admin/v2/tenants/${tenant}`, { adminRoles: admins.get(tenant) ?? [], allowedClusters: clusters });
    }
    for (const ns of plan.keys()) {
      await call('POST', `/admin/v2/namespaces/${ns}/replication`, clusters);
    }
  }
  // Read back: every namespace lists both regions on both sides.
  for (const self of brokers) {
    for (const ns of plan.keys()) {
      const got = JSON.parse(await adminCall(self.ports.web, self.adminToken(), 'GET', `/admin/v2/namespaces/${ns}/replication`)) as string[];
      if (clusters.some((c) => !got.includes(c))) throw new Error(`${self.clusterName}: namespace ${ns} replicates to ${JSON.stringify(got)}, not ${JSON.stringify(clusters)}`);
    }
  }
}

export async function startKopRegions(opts: { tenantFabrics?: TenantFabric[]; startTimeoutMs?: number } = {}): Promise<StartedKopRegions> {
  const tenantFabrics = opts.tenantFabrics ?? defaultTenantFabrics;
  const kafkaNamespace = 'default';
  // "not run" before anything slow, as the kop target.
  const plan = kopNarPlan();
  const pulsarHome = await ensurePulsarDistribution();
  const nar = await ensureKopNar(plan, pulsarHome);
  const shared = await preparePulsarRun('kop-regions', nar.path, KOP_ADMIN_ROLE);
  const t0 = Date.now();
  progress('kop-regions', `starting two Pulsar standalone brokers with KoP ${nar.version}: ${REGION_NAMES.join(', ')}`);
  // Both at once: each waits mostly on its own JVM's start.
  const settled = await Promise.allSettled(REGION_NAMES.map((clusterName) => startKopBroker({
    clusterName, shareSecretsOf: shared, label: `kop-regions ${clusterName}`, tenantFabrics, kafkaNamespace,
    jvmMemory: REGION_JVM_MEMORY, ...(opts.startTimeoutMs ? { startTimeoutMs: opts.startTimeoutMs } : {}),
  })));
  const brokers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stopAll = async () => { for (const b of brokers) await b.stop().catch(() => undefined); };
  const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    await stopAll();
    throw failed.reason;
  }
  try {
    await linkRegions(brokers, shared, tenantFabrics, kafkaNamespace);
  } catch (err) {
    await stopAll();
    throw err;
  }
  const startMs = Date.now() - t0;
  recordTiming('kop-regions start (two brokers + geo-replication)', startMs);
  const rssBytes = brokers.map((b) => { const kb = groupRssKb(b.pid); return kb === undefined ? undefined : kb * 1024; });
  progress('kop-regions', `ready in ${(startMs / 1000).toFixed(1)} s; RSS ${brokers.map((b, i) => `${b.clusterName} ${mb(rssBytes[i])}`).join(', ')}`);
  const [a] = brokers as [StartedKopBroker, StartedKopBroker];
  let stopped = false;
  return {
    ...a,
    id: 'kop-regions',
    description: `two regions (${REGION_NAMES.join(', ')}) of KoP ${nar.version} on Apache Pulsar standalone, geo-replicated namespaces (embedded)`,
    notes: [`KoP protocol handler: ${nar.describe}`, `regions: ${brokers.map((b) => `${b.clusterName} (Kafka SASL_PLAINTEXT 127.0.0.1:${b.ports.kafkaSaslPlaintext})`).join(', ')}`,
      'geo-replication: every principal namespace replicates to both regions (vanilla KoP puts c8globals.* and c8locals.* in the same namespace)'],
    logFiles: brokers.flatMap((b) => b.logFiles),
    regions: brokers.map((b) => ({ name: b.clusterName, listeners: b.listeners, logFiles: b.logFiles })),
    families: ['regions'],
    familiesReason: 'the kop-regions target runs the regions family only (the kop target runs the others on the same KoP)',
    proxied: undefined,
    proxiedUnavailable: 'the kop-regions target runs the regions family only',
    brokers,
    rssBytes,
    startMs,
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(brokers.map((b) => b.stop().catch(() => undefined)));
    },
  };
}

