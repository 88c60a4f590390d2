import { readFileSync } from 'node:fs';
import { checkFaultCertificates, checkKeyPair } from './tls-material.js';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface KeyPair {
  cert: Buffer;
  key: Buffer;
}

/** The certificate served normally, and the optional ones the failing TLS modes serve instead. */
export interface TlsMaterial extends KeyPair {
  /** untrusted-ca mode: a leaf for the provider names, issued by a CA nginx does not trust. */
  untrustedCa?: KeyPair | null;
  /** wrong-name mode: a leaf issued by the trusted CA for a name no provider has. */
  wrongName?: KeyPair | null;
}

export interface MockConfig {
  providerPort: number;
  adminPort: number;
  /** null only when plain HTTP was explicitly asked for (local tests). */
  tls: TlsMaterial | null;
}

type Env = Record<string, string | undefined>;

function port(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value > 65_535) throw new ConfigError(`${name} must be a TCP port number (0-65535), got "${raw}"`);
  return value;
}

function pemFile(env: Env, name: string): Buffer {
  const path = env[name];
  if (!path) throw new ConfigError(`${name} is not set: it must name a PEM file`);
  try {
    return readFileSync(path);
  } catch (error) {
    throw new ConfigError(`${name}: cannot read ${path}: ${(error as Error).message}`);
  }
}

function keyPair(env: Env, certName: string, keyName: string): KeyPair {
  const pair = { cert: pemFile(env, certName), key: pemFile(env, keyName) };
  const problem = checkKeyPair(pair);
  if (problem) throw new ConfigError(`${certName}, ${keyName}: ${problem}`);
  return pair;
}

/** Half a pair is a mistake worth stopping for; neither means the mode is unavailable. */
function optionalKeyPair(env: Env, certName: string, keyName: string): KeyPair | null {
  if (!env[certName] && !env[keyName]) return null;
  return keyPair(env, certName, keyName);
}

function loadTls(env: Env): TlsMaterial {
  const tls: TlsMaterial = {
    ...keyPair(env, 'MOCK_TLS_CERT', 'MOCK_TLS_KEY'),
    untrustedCa: optionalKeyPair(env, 'MOCK_TLS_UNTRUSTED_CERT', 'MOCK_TLS_UNTRUSTED_KEY'),
    wrongName: optionalKeyPair(env, 'MOCK_TLS_WRONG_NAME_CERT', 'MOCK_TLS_WRONG_NAME_KEY'),
  };
  const problem = checkFaultCertificates(tls);
  if (problem) throw new ConfigError(problem);
  return tls;
}

export function loadConfig(env: Env = process.env): MockConfig {
  const providerPort = port(env, 'MOCK_TLS_PORT', 443);
  const adminPort = port(env, 'MOCK_ADMIN_PORT', 8090);
  if (!env['MOCK_TLS_CERT'] && env['MOCK_INSECURE_HTTP'] === '1') return { providerPort, adminPort, tls: null };
  if (!env['MOCK_TLS_CERT']) {
    throw new ConfigError('MOCK_TLS_CERT is not set: set MOCK_TLS_CERT and MOCK_TLS_KEY to PEM files (or MOCK_INSECURE_HTTP=1 for plain HTTP in local tests)');
  }
  return { providerPort, adminPort, tls: loadTls(env) };
}
