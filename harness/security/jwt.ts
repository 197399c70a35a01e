// HS256 JSON Web Tokens as Pulsar's token authentication issues them: the `sub` claim is
// the role, `exp` (optional) the expiry. The same secret key signs for every embedded target,
// so one `token:<jwt>` password logs in to embedded KoP and to the reference Kafka alike.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { writeFileSync } from 'node:fs';

const b64url = (buf: Buffer | string) => Buffer.from(buf).toString('base64url');

export interface JwtClaims {
  sub: string;
  /** Seconds since the epoch. */
  exp?: number;
}

export function newSecretKey(): Buffer {
  return randomBytes(32);
}

/** Pulsar reads `tokenSecretKey=file://…` as the raw key bytes. */
export function writeSecretKey(path: string, key: Buffer): void {
  writeFileSync(path, key, { mode: 0o600 });
}

export function mintJwt(key: Buffer, claims: JwtClaims): string {
  const header = b64url(JSON.stringify({ alg: 'HS256' }));
  const payload = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', key).update(`${header}.${payload}`).digest();
  return `${header}.${payload}.${b64url(sig)}`;
}

/** Verification as the brokers do it; used by tests of the minting itself. */
export function verifyJwt(key: Buffer, token: string, nowSec = Math.floor(Date.now() / 1000)): JwtClaims {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed JWT');
  const expected = createHmac('sha256', key).update(`${parts[0]}.${parts[1]}`).digest();
  const got = Buffer.from(parts[2]!, 'base64url');
  if (got.length !== expected.length || !timingSafeEqual(got, expected)) throw new Error('bad JWT signature');
  const claims = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8')) as JwtClaims;
  if (claims.exp !== undefined && claims.exp < nowSec) throw new Error('JWT expired');
  return claims;
}
