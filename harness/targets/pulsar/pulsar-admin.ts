// What every embedded Pulsar-based target does through Pulsar's admin REST API and its Kafka
// listeners, independent of which KoP runs in it: wait for the cluster, provision tenants and
// namespaces from a plan (namespace → roles granted produce+consume), and the readiness check
// (a SASL-authenticated Kafka metadata round trip on every listener).
import { metadataRoundTrip } from '../../clients/kafkajs/connection.js';
import { pollUntil } from '../../util/wait.js';
import type { TargetInfo } from '../types.js';

/** One admin REST call with the given JWT (or none); answers status and body, bounded at 15 s. */
export async function adminRequest(webPort: number, token: string | undefined, method: string, path: string,
  body?: unknown): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`http://127.0.0.1:${webPort}${path}`, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(15_000),
  });
  return { status: res.status, text: await res.text() };
}

/** namespace (`tenant/ns`) → the roles granted produce and consume on it. */
export type NamespacePlan = Map<string, string[]>;

export async function adminCall(webPort: number, token: string, method: string, path: string, body?: unknown,
  okStatuses = [200, 204]): Promise<string> {
  const r = await adminRequest(webPort, token, method, path, body);
  if (!okStatuses.includes(r.status)) {
    throw new Error(`Pulsar admin ${method} ${path} answered HTTP ${r.status}: ${r.text.slice(0, 300)}`);
  }
  return r.text;
}

/** Waits until the admin REST API lists `cluster` (standalone writes it after the web service is up). */
export async function waitForCluster(webPort: number, token: string, cluster: string, timeoutMs: number,
  abort?: () => Error | undefined): Promise<void> {
  await pollUntil(`Pulsar admin REST listing cluster "${cluster}" (GET /admin/v2/clusters with the admin JWT) on 127.0.0.1:${webPort}`,
    async () => {
      const clusters = JSON.parse(await adminCall(webPort, token, 'GET', '/admin/v2/clusters')) as string[];
      if (!clusters.includes(cluster)) throw new Error(`clusters listed: ${JSON.stringify(clusters)}`);
    }, { timeoutMs, intervalMs: 500, abort });
}

/**
 * Creates every tenant and namespace of the plan (existing ones are kept) and grants the roles.
 * `tenantAdmins` (tenant → roles) makes those roles the tenant's admins: Pulsar's authorization
 * provider allows creating and deleting topics only to a tenant admin or a superuser.
 */
export async function provisionNamespaces(webPort: number, token: string, cluster: string, plan: NamespacePlan,
  tenantAdmins: Map<string, string[]> = new Map()): Promise<void> {
  for (const tenant of new Set([...plan.keys()].map((ns) => ns.split('/')[0]!))) {
    await adminCall(webPort, token, 'PUT', `/admin/v2/tenants/${tenant}`,
      { adminRoles: tenantAdmins.get(tenant) ?? [], allowedClusters: [cluster] }, [204, 409]);
  }
  for (const [ns, roles] of plan) {
    await adminCall(webPort, token, 'PUT', `/admin/v2/namespaces/${ns}`, undefined, [204, 409]);
    for (const role of roles) {
      await adminCall(webPort, token, 'POST', `/admin/v2/namespaces/${ns}/permissions/${role}`, ['produce', 'consume']);
    }
  }
}

/** A real SASL/PLAIN metadata round trip as principals[0], on every Kafka listener of `t`. */
export async function kafkaListenersReady(t: TargetInfo, timeoutMs: number, abort?: () => Error | undefined): Promise<void> {
  const p = t.principals[0]!;
  const deadline = Date.now() + timeoutMs;
  for (const l of t.listeners) {
    await pollUntil(`a SASL/PLAIN Kafka metadata round trip (describeCluster as ${p.username}) on ${l.securityProtocol} ${l.host}:${l.port}`,
      () => metadataRoundTrip(t, { protocol: l.securityProtocol, principal: p, retries: 0, clientId: 'kopc-readiness' }),
      { timeoutMs: Math.max(1000, deadline - Date.now()), intervalMs: 500, abort });
  }
}
