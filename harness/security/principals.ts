// The tenant/fabric logins an embedded target issues. Two pairs exist so that isolation
// between tenants (and between fabrics of one tenant) can be tested.
import { createHash, createHmac } from 'node:crypto';
import type { Principal } from '../targets/types.js';
import { mintJwt } from './jwt.js';

export interface TenantFabric {
  tenant: string;
  fabric: string;
}

/** Default pairs: a second tenant, and a second fabric of the first tenant. */
export const defaultTenantFabrics: TenantFabric[] = [
  { tenant: 'acme', fabric: 'eu' },
  { tenant: 'globex', fabric: 'us' },
  { tenant: 'acme', fabric: 'ap' },
];

/** The Pulsar role a tenant/fabric's token carries (no `/`: roles appear in admin URL paths). */
export function roleOf(tf: TenantFabric): string {
  return `${tf.tenant}.${tf.fabric}.client`;
}

/**
 * An API-key style token for a tenant/fabric: opaque (not a JWT), `<tenant>.<key name>.<secret>`,
 * derived from the target's key so that a run can recompute it (the secrets scan does).
 */
export function apiKeyFor(key: Buffer, tf: TenantFabric): string {
  const secret = createHmac('sha256', key).update(`api-key:${tf.tenant}/${tf.fabric}`).digest('base64url');
  return `${tf.tenant}.kopc-${tf.fabric}.${secret}`;
}

/** How a target stores an API key: its SHA-256, hex (the key itself is never written). */
export function apiKeyDigest(apiKey: string): string {
  return createHash('sha256').update(apiKey, 'utf8').digest('hex');
}

export function principalFor(key: Buffer, tf: TenantFabric): Principal {
  return {
    tenant: tf.tenant,
    fabric: tf.fabric,
    username: `${tf.tenant}/${tf.fabric}`,
    password: `token:${mintJwt(key, { sub: roleOf(tf) })}`,
  };
}
