// The tenant/fabric logins an embedded target issues. Two pairs exist so that isolation
// between tenants (and between fabrics of one tenant) can be tested.
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

export function principalFor(key: Buffer, tf: TenantFabric): Principal {
  return {
    tenant: tf.tenant,
    fabric: tf.fabric,
    username: `${tf.tenant}/${tf.fabric}`,
    password: `token:${mintJwt(key, { sub: roleOf(tf) })}`,
  };
}
