import { describe, expect, it } from 'vitest';
import { mintJwt, newSecretKey, verifyJwt } from './jwt.js';
import { principalFor, roleOf } from './principals.js';
import { redact, registerSecret } from './redact.js';

describe('JWT minting', () => {
  const key = newSecretKey();
  it('mints HS256 tokens that verify with the same key and carry the role', () => {
    const jwt = mintJwt(key, { sub: 'acme.eu.client' });
    expect(JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString())).toEqual({ alg: 'HS256' });
    expect(verifyJwt(key, jwt).sub).toBe('acme.eu.client');
  });
  it('rejects another key, a tampered payload and an expired token', () => {
    const jwt = mintJwt(key, { sub: 'r' });
    expect(() => verifyJwt(newSecretKey(), jwt)).toThrow(/signature/);
    const [h, , s] = jwt.split('.');
    const forgedPayload = Buffer.from(JSON.stringify({ sub: 'admin' })).toString('base64url');
    expect(() => verifyJwt(key, `${h}.${forgedPayload}.${s}`)).toThrow(/signature/);
    expect(() => verifyJwt(key, mintJwt(key, { sub: 'r', exp: 1 }))).toThrow(/expired/);
  });
  it('builds GDN-style principals', () => {
    const p = principalFor(key, { tenant: 'acme', fabric: 'eu' });
    expect(p.username).toBe('acme/eu');
    expect(p.password.startsWith('token:')).toBe(true);
    expect(verifyJwt(key, p.password.slice('token:'.length)).sub).toBe(roleOf({ tenant: 'acme', fabric: 'eu' }));
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
