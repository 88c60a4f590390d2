/** Start-up checks of the PEM files, so that a failing TLS mode fails for the one reason it is named after. */
import { X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import type { KeyPair, TlsMaterial } from './config.js';

export const PROVIDER_SERVERNAMES = ['api.openai.com', 'api.anthropic.com', 'aiplatform.googleapis.com'] as const;

/** null when the files hold a certificate and its private key; otherwise what is wrong. */
export function checkKeyPair(pair: KeyPair): string | null {
  try {
    createSecureContext({ cert: pair.cert, key: pair.key });
    return null;
  } catch (error) {
    return `not a PEM certificate with its private key: ${(error as Error).message}`;
  }
}

const quoted = (names: readonly string[]): string => names.map((name) => `"${name}"`).join(', ');

/**
 * Issuers are compared by name: without the CA certificates that is what can be checked,
 * and it catches the likely mistakes (a file swapped, the leaf signed by the wrong CA).
 */
export function checkFaultCertificates(tls: TlsMaterial): string | null {
  const issuer = new X509Certificate(tls.cert).issuer;
  if (tls.untrustedCa) {
    const cert = new X509Certificate(tls.untrustedCa.cert);
    const missing = PROVIDER_SERVERNAMES.filter((name) => cert.checkHost(name) === undefined);
    if (missing.length > 0) return `MOCK_TLS_UNTRUSTED_CERT must be valid for ${quoted(PROVIDER_SERVERNAMES)} so that only its CA is wrong; it is not for ${quoted(missing)}`;
    if (cert.issuer === issuer) return `MOCK_TLS_UNTRUSTED_CERT must be issued by a CA of its own, not by the issuer of MOCK_TLS_CERT (${issuer.replace(/\n/g, ', ')})`;
  }
  if (tls.wrongName) {
    const cert = new X509Certificate(tls.wrongName.cert);
    const covered = PROVIDER_SERVERNAMES.filter((name) => cert.checkHost(name) !== undefined);
    if (covered.length > 0) return `MOCK_TLS_WRONG_NAME_CERT must be for a name no provider has; it is valid for ${quoted(covered)}`;
    if (cert.issuer !== issuer) {
      return `MOCK_TLS_WRONG_NAME_CERT must be issued by the CA that issued MOCK_TLS_CERT (${issuer.replace(/\n/g, ', ')}) so that only its name is wrong; its issuer is ${cert.issuer.replace(/\n/g, ', ')}`;
    }
  }
  return null;
}
