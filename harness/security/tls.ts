// TLS material for the embedded targets, generated per broker with openssl and keytool
// (both on every machine of this kind): a CA, a server certificate with SANs for
// 127.0.0.1 and localhost, the CA as PEM (Node and Python clients) and as a PKCS12
// truststore (Java clients), and the server key pair as a PKCS12 keystore.
import { randomBytes } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { ensureDir } from '../util/paths.js';

export interface TlsMaterial {
  dir: string;
  caPemPath: string;
  caKeyPath: string;
  serverCertPath: string;
  serverKeyPath: string;
  /** Server key + chain, PKCS12. */
  keystorePath: string;
  /** CA only, PKCS12 with a trusted-certificate entry. */
  truststorePath: string;
  /** Same password for keystore, key and truststore. A secret: never print it. */
  storePassword: string;
}

export interface TlsOptions {
  /** Subject alternative names of the server certificate. */
  sans?: string[];
  /** CA common name (a second CA with another name makes a "wrong CA"). */
  caName?: string;
}

async function run(cmd: string, args: string[], cwd: string): Promise<void> {
  await execa(cmd, args, { cwd, stdin: 'ignore', timeout: 60_000 });
}

export async function generateTls(dir: string, opts: TlsOptions = {}): Promise<TlsMaterial> {
  ensureDir(dir);
  const sans = opts.sans ?? ['IP:127.0.0.1', 'DNS:localhost'];
  const m: TlsMaterial = {
    dir,
    caPemPath: join(dir, 'ca.pem'),
    caKeyPath: join(dir, 'ca.key'),
    serverCertPath: join(dir, 'server.pem'),
    serverKeyPath: join(dir, 'server.key'),
    keystorePath: join(dir, 'server.keystore.p12'),
    truststorePath: join(dir, 'client.truststore.p12'),
    storePassword: randomBytes(12).toString('hex'),
  };
  const caName = opts.caName ?? 'kop-conformance test CA';
  await run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30',
    '-subj', `/CN=${caName}`, '-keyout', m.caKeyPath, '-out', m.caPemPath,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  const csr = join(dir, 'server.csr');
  await run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost',
    '-keyout', m.serverKeyPath, '-out', csr], dir);
  const ext = join(dir, 'server.ext');
  writeFileSync(ext, `subjectAltName=${sans.join(',')}\nextendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n`);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', m.caPemPath, '-CAkey', m.caKeyPath,
    '-CAcreateserial', '-days', '30', '-sha256', '-extfile', ext, '-out', m.serverCertPath], dir);
  // Passwords go through the environment, never the command line (visible in ps).
  const env = { ...process.env, KOPC_STOREPASS: m.storePassword };
  await execa('openssl', ['pkcs12', '-export', '-in', m.serverCertPath, '-inkey', m.serverKeyPath,
    '-certfile', m.caPemPath, '-name', 'server', '-out', m.keystorePath, '-passout', 'env:KOPC_STOREPASS'],
    { cwd: dir, env, stdin: 'ignore', timeout: 60_000 });
  if (!existsSync(m.truststorePath)) {
    await execa('keytool', ['-importcert', '-noprompt', '-alias', 'ca', '-file', m.caPemPath,
      '-keystore', m.truststorePath, '-storetype', 'PKCS12', '-storepass:env', 'KOPC_STOREPASS'],
      { cwd: dir, env, stdin: 'ignore', timeout: 60_000 });
  }
  return m;
}
