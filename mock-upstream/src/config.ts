import { readFileSync } from 'node:fs';

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
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

export function loadConfig(env: Env = process.env): MockConfig {
  const providerPort = port(env, 'MOCK_TLS_PORT', 443);
  const adminPort = port(env, 'MOCK_ADMIN_PORT', 8090);
  if (!env['MOCK_TLS_CERT'] && env['MOCK_INSECURE_HTTP'] === '1') return { providerPort, adminPort, tls: null };
  if (!env['MOCK_TLS_CERT']) {
    throw new ConfigError('MOCK_TLS_CERT is not set: set MOCK_TLS_CERT and MOCK_TLS_KEY to PEM files (or MOCK_INSECURE_HTTP=1 for plain HTTP in local tests)');
  }
  return { providerPort, adminPort, tls: { cert: pemFile(env, 'MOCK_TLS_CERT'), key: pemFile(env, 'MOCK_TLS_KEY') } };
}
