import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
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

/**
 * A throw-away CA and one server certificate for the three provider names, signed by it:
 * the mock serves the leaf, nginx trusts the CA. Lives two days; made fresh every run.
 */
export function makeTestCertificates(dir: string): { caFile: string } {
  mkdirSync(dir, { recursive: true });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  openssl(['req', '-x509', ...ec, '-keyout', 'ca-key.pem', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=LMGate e2e test CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
  openssl(['req', ...ec, '-keyout', 'server-key.pem', '-out', 'server.csr', '-subj', `/CN=${PROVIDER_HOSTS[0]}`], dir);
  writeFileSync(join(dir, 'server.ext'), [
    `subjectAltName=${PROVIDER_HOSTS.map((h) => `DNS:${h}`).join(',')}`,
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature',
    'extendedKeyUsage=serverAuth',
  ].join('\n') + '\n');
  openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial',
    '-out', 'server.pem', '-days', '2', '-extfile', 'server.ext'], dir);
  // The containers read these as their own unprivileged users.
  for (const file of ['ca.pem', 'server.pem', 'server-key.pem']) chmodSync(join(dir, file), 0o644);
  chmodSync(dir, 0o755);
  return { caFile: join(dir, 'ca.pem') };
}
