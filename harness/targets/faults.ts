// Fault injection for checking the suite itself: `KOPC_FAULT=auth-off` makes an embedded
// broker accept any login; `KOPC_FAULT=wrong-ca` hands clients a CA that did not sign the
// broker's certificate. Named scenarios must then fail: a suite that stays green has a bug.
import { join } from 'node:path';
import { registerSecret } from '../security/redact.js';
import { generateTls } from '../security/tls.js';
import { progress } from '../util/progress.js';
import type { TlsSettings } from './types.js';

export type Fault = 'auth-off' | 'wrong-ca';
const KNOWN: Fault[] = ['auth-off', 'wrong-ca'];

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
