import { errors, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { mintJwt, newSecretKey } from './jwt.js';
import { principalFor, roleOf } from './principals.js';
import { redact, registerSecret } from './redact.js';

describe('JWT minting', () => {
  const key = newSecretKey();
  // Verified by jose as a broker would: HS256 only, `sub` is the role, no `iat` required.
  const verify = async (k: Buffer, token: string) => (await jwtVerify(token, k, { algorithms: ['HS256'] })).payload;
  it('mints HS256 tokens that jose verifies with the same key, carrying the role and no iat', async () => {
    const jwt = mintJwt(key, { sub: 'acme.eu.client' });
    expect(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'HS256' });
    expect(await verify(key, jwt)).toEqual({ sub: 'acme.eu.client' });
    const exp = Math.floor(Date.now() / 1000) + 3600;
    expect(await verify(key, mintJwt(key, { sub: 'r', exp }))).toEqual({ sub: 'r', exp });
  });
  it('is refused under another key, with a tampered payload, and once expired', async () => {
    const jwt = mintJwt(key, { sub: 'r' });
    await expect(verify(newSecretKey(), jwt)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
    const [h, , s] = jwt.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url');
    await expect(verify(key, `${h}.${forgedPayload}.${s}`)).rejects.toBeInstanceOf(errors.JWSSignatureVerificationFailed);
    await expect(verify(key, mintJwt(key, { sub: 'r', exp: 1 }))).rejects.toBeInstanceOf(errors.JWTExpired);
  });
  it('builds GDN-style principals', async () => {
    const p = principalFor(key, { tenant: 'acme', fabric: 'eu' });
    expect(p.username).toBe('acme/eu');
    expect(p.password.startsWith('token:')).toBe(true);
    expect((await verify(key, p.password.slice('token:'.length))).sub).toBe(roleOf({ tenant: 'acme', fabric: 'eu' }));
  });
});

describe('redaction', () => {
  it('masks registered secrets, JWTs and token: passwords', () => {
    const jwt = mintJwt(newSecretKey(), { sub: 'x' });
    registerSecret('s3cr3t-store-pass');
    const out = redact(`pw=s3cr3t-store-pass jwt=${jwt} sasl password="token:abc.def"`);
    expect(out).not.toContain('s3cr3t-store-pass');
    expect(out).not.toContain(jwt);
    expect(out).not.toContain('abc.def');
  });
});
