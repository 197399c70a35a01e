// Fault injection for checking the suite itself: `KOPC_FAULT=auth-off` makes an embedded
// broker accept any login; `KOPC_FAULT=wrong-ca` hands clients a CA that did not sign the
// broker's certificate; `KOPC_FAULT=wrong-topic` makes every producer write to a topic next to
// the one the scenario named. Named scenarios must then fail: a suite that stays green has a bug.
import { join } from 'node:path';
import { registerSecret } from '../security/redact.js';
import { generateTls } from '../security/tls.js';
import { progress } from '../util/progress.js';
import type { ClientDriver } from '../clients/types.js';
import type { TlsSettings } from './types.js';

export type Fault = 'auth-off' | 'wrong-ca' | 'wrong-topic';
const KNOWN: Fault[] = ['auth-off', 'wrong-ca', 'wrong-topic'];

export function activeFaults(env: NodeJS.ProcessEnv = process.env): Set<Fault> {
  const raw = (env.KOPC_FAULT ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const bad = raw.filter((f) => !KNOWN.includes(f as Fault));
  if (bad.length) throw new Error(`KOPC_FAULT: unknown fault(s) ${bad.join(', ')}; known: ${KNOWN.join(', ')}`);
  if (raw.length) progress('FAULT INJECTION ACTIVE', `${raw.join(', ')}: scenarios are expected to fail`);
  return new Set(raw as Fault[]);
}

/** TLS settings that trust an unrelated CA: every verified TLS connection must fail. */
export async function wrongCaTls(dir: string): Promise<TlsSettings> {
  const other = await generateTls(join(dir, 'wrong-ca'), { caName: 'unrelated CA' });
  registerSecret(other.storePassword);
  return { caPemPath: other.caPemPath, truststorePath: other.truststorePath, truststorePassword: other.storePassword, verify: true };
}

/**
 * `wrong-topic`: the driver's producer writes to `<topic>-misdirected` instead of the topic the
 * scenario named, everything else unchanged. Returns the driver itself without that fault.
 */
export function withTopicFault(driver: ClientDriver, env: NodeJS.ProcessEnv = process.env): ClientDriver {
  if (!(env.KOPC_FAULT ?? '').split(',').map((s) => s.trim()).includes('wrong-topic')) return driver;
  return new Proxy(driver, {
    get(target, prop, receiver) {
      if (prop === 'produce') {
        return (conn: Parameters<ClientDriver['produce']>[0], topic: string, ...rest: [Parameters<ClientDriver['produce']>[2], Parameters<ClientDriver['produce']>[3]]) =>
          target.produce(conn, `${topic}-misdirected`, ...rest);
      }
      const v = Reflect.get(target, prop, receiver) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
