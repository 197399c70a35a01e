// HS256 JSON Web Tokens as Pulsar's token authentication issues them: the `sub` claim is
// the role, `exp` (optional) the expiry. The same secret key signs for every embedded target,
// so one `token:<jwt>` password logs in to embedded KoP and to the reference Kafka alike.
// Minting stays here, synchronous, because the targets mint while they build plain data
// (jose signs only asynchronously); the tests verify what is minted with jose, an
// implementation that is not ours.
import { createHmac, randomBytes } from 'node:crypto';
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
