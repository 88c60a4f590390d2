import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import { rawRequest, records, startLocal, type Json } from './helpers.js';

let dir: string;
let certPath: string;
let keyPath: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mock-upstream-tls-'));
  certPath = join(dir, 'cert.pem');
  keyPath = join(dir, 'key.pem');
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-subj', '/CN=api.openai.com', '-addext', 'subjectAltName=DNS:api.openai.com,DNS:api.anthropic.com',
    '-days', '1', '-keyout', keyPath, '-out', certPath,
  ], { stdio: 'ignore' });
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('TLS', () => {
  it('serves HTTPS and records the SNI the client sent', async () => {
    const tls = loadConfig({ MOCK_TLS_CERT: certPath, MOCK_TLS_KEY: keyPath }).tls;
    const mock = await startLocal({ tls });
    try {
      expect(mock.providerUrl.startsWith('https://')).toBe(true);
      const response = await rawRequest(`https://127.0.0.1:${mock.providerPort}/v1/messages?lmgate_tag=tls`, {
        ca: readFileSync(certPath),
        servername: 'api.anthropic.com',
        headers: { host: 'api.anthropic.com', 'content-type': 'application/json' },
        body: '{"model":"claude"}',
      });
      expect(response.status).toBe(200);
      expect((JSON.parse(response.body.toString()) as Json).type).toBe('message');
      const [record] = await records(mock, 'tls');
      expect(record!.sni).toBe('api.anthropic.com');
      expect(record!.host).toBe('api.anthropic.com');
    } finally {
      await mock.close();
    }
  });
});

describe('configuration', () => {
  it('needs TLS files unless plain HTTP is asked for, and names what is wrong', () => {
    expect(() => loadConfig({})).toThrow(/MOCK_TLS_CERT is not set/);
    expect(() => loadConfig({ MOCK_TLS_CERT: certPath })).toThrow(/MOCK_TLS_KEY is not set/);
    expect(() => loadConfig({ MOCK_TLS_CERT: join(dir, 'missing.pem'), MOCK_TLS_KEY: keyPath })).toThrow(/MOCK_TLS_CERT: cannot read .*missing\.pem/);
    expect(() => loadConfig({ MOCK_INSECURE_HTTP: '1', MOCK_TLS_PORT: 'https' })).toThrow(ConfigError);
    expect(loadConfig({ MOCK_INSECURE_HTTP: '1' })).toEqual({ providerPort: 443, adminPort: 8090, tls: null });
    expect(loadConfig({ MOCK_INSECURE_HTTP: '1', MOCK_TLS_PORT: '18443', MOCK_ADMIN_PORT: '18090' })).toMatchObject({ providerPort: 18443, adminPort: 18090 });
    const withTls = loadConfig({ MOCK_TLS_CERT: certPath, MOCK_TLS_KEY: keyPath, MOCK_INSECURE_HTTP: '1' });
    expect(withTls.tls?.cert.toString()).toContain('BEGIN CERTIFICATE');
  });

  it('refuses a request body over the limit, still recording the request', async () => {
    const mock = await startLocal({ bodyLimitBytes: 1024 });
    try {
      const response = await rawRequest(`${mock.providerUrl}/v1/chat/completions?lmgate_tag=big`, { headers: { 'content-type': 'application/json' }, body: Buffer.alloc(4096, 0x61) });
      expect(response.status).toBe(413);
      expect((JSON.parse(response.body.toString()) as Json).error.type).toBe('invalid_request_error');
      const [record] = await records(mock, 'big');
      expect(record!.response?.status).toBe(413);
    } finally {
      await mock.close();
    }
  });
});
