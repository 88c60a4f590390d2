import { execFileSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const PROVIDER_HOSTS = ['api.openai.com', 'api.anthropic.com', 'aiplatform.googleapis.com'] as const;

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const err = error as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error("The e2e suite makes its test CA with the openssl command, which is missing: install it ('apt-get install openssl').");
    throw new Error(`openssl ${args[0]} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

/** A leaf for `hosts`, signed by the CA `ca` (files `<ca>.pem`, `<ca>-key.pem` in dir). */
function makeLeaf(dir: string, name: string, ca: string, hosts: readonly string[]): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', ...ec, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`, '-subj', `/CN=${hosts[0]}`], dir);
  writeFileSync(join(dir, `${name}.ext`), [
    `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n') + '\n');
  openssl(['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`, '-CAcreateserial',
    '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`], dir);
}

function makeCa(dir: string, name: string, subject: string): void {
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`, '-days', '2', '-subj', subject,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

/**
 * A throw-away CA and the server certificate for the three provider names signed by it:
 * the mock serves the leaf, nginx trusts the CA. Also the certificates of the mock's TLS
 * failure modes (mock-upstream/README.md): the same names from a CA nginx does not trust,
 * and a leaf from the trusted CA for another name. Live two days; made fresh every run.
 */
function makeTestCertificates(dir: string): { caFile: string } {
  mkdirSync(dir, { recursive: true });
  makeCa(dir, 'ca', '/CN=LMGate e2e test CA');
  makeLeaf(dir, 'server', 'ca', PROVIDER_HOSTS);
  makeCa(dir, 'untrusted-ca', '/CN=LMGate e2e untrusted CA');
  makeLeaf(dir, 'untrusted', 'untrusted-ca', PROVIDER_HOSTS);
  makeLeaf(dir, 'wrong-name', 'ca', ['wrong.example.test']);
  // The containers read these as their own unprivileged users.
  for (const file of ['ca.pem', 'server.pem', 'server-key.pem', 'untrusted.pem', 'untrusted-key.pem', 'wrong-name.pem', 'wrong-name-key.pem']) chmodSync(join(dir, file), 0o644);
  chmodSync(dir, 0o755);
  return { caFile: join(dir, 'ca.pem') };
}

/** Where a run's first set of test certificates is (set by global setup for the workers). */
export const RUN_CERTIFICATES_ENV = 'E2E_CERTS_DIR';

/**
 * The run's test certificates in `dir`: a copy of the set RUN_CERTIFICATES_ENV points to,
 * else a new set. Every stack of a run trusts the same throw-away CA; making a set takes
 * eight openssl processes, which nine stacks side by side would otherwise repeat.
 */
export function runCertificates(dir: string): { caFile: string } {
  const source = process.env[RUN_CERTIFICATES_ENV];
  if (!source || !existsSync(join(source, 'ca.pem'))) return makeTestCertificates(dir);
  cpSync(source, dir, { recursive: true });
  chmodSync(dir, 0o755);
  return { caFile: join(dir, 'ca.pem') };
}
