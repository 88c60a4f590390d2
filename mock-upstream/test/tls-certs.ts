import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { KeyPair, TlsMaterial } from '../src/config.js';
import { PROVIDER_SERVERNAMES } from '../src/tls-material.js';

export const WRONG_NAME = 'wrong.example.test';

export interface TestCertificates {
  /** The CA the clients trust, as nginx trusts the suite's test CA. */
  ca: Buffer;
  material: TlsMaterial;
  /** Paths, for the configuration tests. */
  files: Record<'cert' | 'key' | 'untrustedCert' | 'untrustedKey' | 'wrongNameCert' | 'wrongNameKey', string>;
}

const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

function makeCa(dir: string, name: string, subject: string): void {
  openssl(['req', '-x509', ...EC, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '1', '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

export function makeLeaf(dir: string, name: string, ca: string, hosts: readonly string[]): void {
  openssl(['req', ...EC, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${hosts[0]}`], dir);
  writeFileSync(join(dir, `${name}.ext`), `subjectAltName=${hosts.map((host) => `DNS:${host}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`);
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial', '-out', `${name}.pem`, '-days', '1', '-extfile', `${name}.ext`], dir);
}

/** What the e2e suite's certificate maker is expected to provide, made the same way. */
export function makeTestCertificates(dir: string): TestCertificates {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca', '/CN=mock-upstream test CA');
  makeCa(dir, 'untrusted-ca', '/CN=mock-upstream untrusted CA');
  makeLeaf(dir, 'server', 'ca', PROVIDER_SERVERNAMES);
  makeLeaf(dir, 'untrusted', 'untrusted-ca', PROVIDER_SERVERNAMES);
  makeLeaf(dir, 'wrong-name', 'ca', [WRONG_NAME]);
  const pair = (name: string): KeyPair => ({ cert: readFileSync(join(dir, `${name}.pem`)), key: readFileSync(join(dir, `${name}-key.pem`)) });
  return {
    ca: readFileSync(join(dir, 'ca.pem')),
    material: { ...pair('server'), untrustedCa: pair('untrusted'), wrongName: pair('wrong-name') },
    files: {
      cert: join(dir, 'server.pem'),
      key: join(dir, 'server-key.pem'),
      untrustedCert: join(dir, 'untrusted.pem'),
      untrustedKey: join(dir, 'untrusted-key.pem'),
      wrongNameCert: join(dir, 'wrong-name.pem'),
      wrongNameKey: join(dir, 'wrong-name-key.pem'),
    },
  };
}
