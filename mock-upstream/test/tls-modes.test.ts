import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SecureVersion } from 'node:tls';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config.js';
import type { MockUpstream } from '../src/server.js';
import { PROVIDER_SERVERNAMES } from '../src/tls-material.js';
import { TLS_MODES } from '../src/tls-modes.js';
import { records, startLocal } from './helpers.js';
import { captureClientHello, closed, httpOver, sendRaw, setMode, tlsHandshake, tlsStatus } from './tls-client.js';
import { makeLeaf, makeTestCertificates, WRONG_NAME, type TestCertificates } from './tls-certs.js';

const OPENAI = 'api.openai.com';
const ANTHROPIC = 'api.anthropic.com';

let dir: string;
let certs: TestCertificates;
let mock: MockUpstream;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mock-upstream-tls-modes-'));
  certs = makeTestCertificates(dir);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(async () => {
  mock = await startLocal({ tls: certs.material });
});
afterEach(async () => {
  await mock.close();
});

const trusting = (servername: string) => ({ servername, ca: certs.ca });

describe('TLS modes per server name', () => {
  it('valid by default: the handshake succeeds with the trusted CA, and GET /tls counts it', async () => {
    const result = await tlsHandshake(mock.providerPort, { ...trusting(OPENAI), ALPNProtocols: ['h2', 'http/1.1'] });
    expect(result.kind).toBe('secure');
    expect(result.socket.alpnProtocol).toBe('http/1.1');
    const status = await tlsStatus(mock);
    expect(status.available).toEqual([...TLS_MODES]);
    expect(Object.keys(status.servernames).sort()).toEqual([...PROVIDER_SERVERNAMES].sort());
    expect(status.servernames[OPENAI]).toEqual({
      mode: 'valid',
      changes: 0,
      openConnections: 1,
      connections: { valid: 1, 'untrusted-ca': 0, 'wrong-name': 0, reset: 0, stall: 0 },
    });
    expect(status.servernames[ANTHROPIC]?.connections.valid).toBe(0);
    result.socket.destroy();
  });

  it('untrusted-ca: a certificate for the right name from a CA the client does not trust', async () => {
    const change = await setMode(mock, OPENAI, 'untrusted-ca');
    expect(change.status).toBe(200);
    expect(change.body).toMatchObject({ servername: OPENAI, mode: 'untrusted-ca', previousMode: 'valid', changed: true, closedConnections: 0, changes: 1 });

    const refused = await tlsHandshake(mock.providerPort, trusting(OPENAI));
    expect(refused.kind).toBe('error');
    expect(refused.kind === 'error' && refused.error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');

    // Only the CA is wrong: the name matches, and the other names are untouched.
    const looked = await tlsHandshake(mock.providerPort, { servername: OPENAI, rejectUnauthorized: false });
    expect(looked.kind).toBe('secure');
    const peer = looked.socket.getPeerCertificate();
    expect(peer.subjectaltname).toContain(`DNS:${OPENAI}`);
    expect(peer.issuer.CN).toBe('mock-upstream untrusted CA');
    looked.socket.destroy();
    const other = await tlsHandshake(mock.providerPort, trusting(ANTHROPIC));
    expect(other.kind).toBe('secure');
    other.socket.destroy();

    const status = await tlsStatus(mock);
    expect(status.servernames[OPENAI]?.connections).toMatchObject({ valid: 0, 'untrusted-ca': 2 });
    expect(status.servernames[ANTHROPIC]?.connections.valid).toBe(1);
  });

  it('wrong-name: a certificate from the trusted CA for another name', async () => {
    expect((await setMode(mock, ANTHROPIC, 'wrong-name')).status).toBe(200);

    const refused = await tlsHandshake(mock.providerPort, trusting(ANTHROPIC));
    expect(refused.kind === 'error' && refused.error.code).toBe('ERR_TLS_CERT_ALTNAME_INVALID');

    // Only the name is wrong: the chain verifies.
    const chainOnly = await tlsHandshake(mock.providerPort, { ...trusting(ANTHROPIC), checkServerIdentity: () => undefined });
    expect(chainOnly.kind).toBe('secure');
    expect(chainOnly.socket.authorized).toBe(true);
    expect(chainOnly.socket.getPeerCertificate().subjectaltname).toBe(`DNS:${WRONG_NAME}`);
    chainOnly.socket.destroy();
    expect((await tlsStatus(mock)).servernames[ANTHROPIC]?.connections['wrong-name']).toBe(2);
  });

  it('reset: the connection is closed before any TLS byte', async () => {
    expect((await setMode(mock, OPENAI, 'reset')).status).toBe(200);

    const hello = await captureClientHello({ servername: OPENAI });
    const raw = await sendRaw(mock.providerPort, hello);
    expect(raw.received.length).toBe(0);
    expect(raw.error?.code).toBe('ECONNRESET');

    const started = performance.now();
    const refused = await tlsHandshake(mock.providerPort, trusting(OPENAI));
    expect(refused.kind).toBe('error');
    expect(refused.kind === 'error' && refused.error.code).toBe('ECONNRESET');
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await tlsStatus(mock)).servernames[OPENAI]?.connections.reset).toBe(2);
  });

  it('stall: the handshake gets no answer, until the mode changes', async () => {
    expect((await setMode(mock, OPENAI, 'stall')).status).toBe(200);

    const stalled = await tlsHandshake(mock.providerPort, { ...trusting(OPENAI), waitMs: 300 });
    expect(stalled.kind).toBe('pending');
    const status = await tlsStatus(mock);
    expect(status.servernames[OPENAI]).toMatchObject({ mode: 'stall', openConnections: 1, connections: { stall: 1 } });

    const wasClosed = closed(stalled.socket);
    const change = await setMode(mock, OPENAI, 'valid');
    expect(change.body).toMatchObject({ mode: 'valid', previousMode: 'stall', closedConnections: 1, openConnections: 0 });
    expect(await wasClosed).toBe(true);
  });

  it("a mode change destroys the connections set up for that name, and only those", async () => {
    const openai = await tlsHandshake(mock.providerPort, trusting(OPENAI));
    const anthropic = await tlsHandshake(mock.providerPort, trusting(ANTHROPIC));
    expect([openai.kind, anthropic.kind]).toEqual(['secure', 'secure']);

    const wasClosed = closed(openai.socket);
    const change = await setMode(mock, OPENAI, 'untrusted-ca');
    expect(change.body.closedConnections).toBe(1);
    expect(await wasClosed).toBe(true);

    const answer = await httpOver(anthropic.socket, '/v1/messages?lmgate_tag=still-open', ANTHROPIC);
    expect(answer).toMatch(/^HTTP\/1\.1 \d{3} /);
    const [record] = await records(mock, 'still-open');
    expect(record?.sni).toBe(ANTHROPIC);
  });

  it('a mode change without a change keeps the connections', async () => {
    const openai = await tlsHandshake(mock.providerPort, trusting(OPENAI));
    const change = await setMode(mock, OPENAI, 'valid');
    expect(change.body).toMatchObject({ changed: false, closedConnections: 0, changes: 0, openConnections: 1 });
    expect(openai.socket.destroyed).toBe(false);
    openai.socket.destroy();
  });

  it.each<SecureVersion>(['TLSv1.2', 'TLSv1.3'])('%s: a session from before a mode change is not resumed', async (version) => {
    const options = { ...trusting(OPENAI), minVersion: version, maxVersion: version };
    const first = await tlsHandshake(mock.providerPort, options);
    if (first.kind !== 'secure') throw new Error(`first handshake: ${first.kind}`);
    const session = await first.session;
    first.socket.destroy();

    // Without a change the session is resumed: the proof below is not vacuous.
    const resumed = await tlsHandshake(mock.providerPort, { ...options, session });
    expect(resumed.kind === 'secure' && resumed.socket.isSessionReused()).toBe(true);
    resumed.socket.destroy();

    await setMode(mock, OPENAI, 'untrusted-ca');
    const refused = await tlsHandshake(mock.providerPort, { ...options, session });
    expect(refused.kind === 'error' && refused.error.code).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    const full = await tlsHandshake(mock.providerPort, { ...options, session, rejectUnauthorized: false });
    if (full.kind !== 'secure') throw new Error(`handshake without verification: ${full.kind}`);
    expect(full.socket.isSessionReused()).toBe(false);
    expect(full.socket.getPeerCertificate().issuer.CN).toBe('mock-upstream untrusted CA');
    full.socket.destroy();

    // Back to valid is a change too: the old session is not resumed either.
    await setMode(mock, OPENAI, 'valid');
    const fresh = await tlsHandshake(mock.providerPort, { ...options, session });
    expect(fresh.kind === 'secure' && fresh.socket.isSessionReused()).toBe(false);
    fresh.socket.destroy();
  });

  it('takes any DNS name, and serves a client that sends none as valid', async () => {
    const change = await setMode(mock, 'Other.Example.Test', 'reset');
    expect(change.body).toMatchObject({ servername: 'other.example.test', mode: 'reset' });
    const refused = await tlsHandshake(mock.providerPort, { servername: 'other.example.test', ca: certs.ca });
    expect(refused.kind === 'error' && refused.error.code).toBe('ECONNRESET');

    // No SNI at all (a client connecting to an address): the normal certificate.
    const unnamed = await tlsHandshake(mock.providerPort, { ca: certs.ca, checkServerIdentity: () => undefined });
    expect(unnamed.kind).toBe('secure');
    unnamed.socket.destroy();
    // Bytes that are no TLS at all: counted without a name too, and refused by the TLS layer.
    const plain = await sendRaw(mock.providerPort, Buffer.from('GET / HTTP/1.1\r\nHost: api.openai.com\r\n\r\n'));
    expect(plain.received.toString()).not.toMatch(/^HTTP/);

    const status = await tlsStatus(mock);
    expect(status.servernames['other.example.test']?.connections.reset).toBe(1);
    expect(status.withoutServername.connections.valid).toBe(2);
  });

  it('closes stalled and open connections on shutdown', async () => {
    await setMode(mock, OPENAI, 'stall');
    const stalled = await tlsHandshake(mock.providerPort, { ...trusting(OPENAI), waitMs: 100 });
    const open = await tlsHandshake(mock.providerPort, trusting(ANTHROPIC));
    const bothClosed = Promise.all([closed(stalled.socket), closed(open.socket)]);
    await mock.close();
    expect(await bothClosed).toEqual([true, true]);
    mock = await startLocal({ tls: certs.material });
  });
});

describe('admin API for the TLS modes', () => {
  it('answers 400 for a bad mode, name or body, and reports unchanged modes', async () => {
    const badMode = await setMode(mock, OPENAI, 'broken');
    expect(badMode.status).toBe(400);
    expect(badMode.body).toMatchObject({ error: 'invalid_request', message: expect.stringContaining('valid, untrusted-ca, wrong-name, reset, stall') });
    expect((await setMode(mock, 'not_a_name', 'reset')).status).toBe(400);
    const notObject = await fetch(`${mock.adminUrl}/tls/${OPENAI}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '["reset"]' });
    expect(notObject.status).toBe(400);
    expect((await tlsStatus(mock)).servernames[OPENAI]?.mode).toBe('valid');
  });

  it('DELETE /tls puts every name back to valid', async () => {
    await setMode(mock, OPENAI, 'reset');
    await setMode(mock, ANTHROPIC, 'stall');
    const response = await fetch(`${mock.adminUrl}/tls`, { method: 'DELETE' });
    expect(response.status).toBe(204);
    const status = await tlsStatus(mock);
    expect(Object.values(status.servernames).map((entry) => entry.mode)).toEqual(['valid', 'valid', 'valid']);
    expect(status.servernames[ANTHROPIC]?.changes).toBe(2);
  });

  it('answers 409 for a mode whose certificate was not given, and when TLS is off', async () => {
    const partial = await startLocal({ tls: { cert: certs.material.cert, key: certs.material.key, untrustedCa: certs.material.untrustedCa } });
    const plain = await startLocal();
    try {
      const missing = await setMode(partial, OPENAI, 'wrong-name');
      expect(missing.status).toBe(409);
      expect(missing.body).toMatchObject({ error: 'mode_unavailable', message: expect.stringContaining('MOCK_TLS_WRONG_NAME_CERT and MOCK_TLS_WRONG_NAME_KEY') });
      expect((await tlsStatus(partial)).available).toEqual(['valid', 'untrusted-ca', 'reset', 'stall']);
      expect((await tlsStatus(partial)).servernames[OPENAI]?.mode).toBe('valid');
      expect((await setMode(partial, OPENAI, 'untrusted-ca')).status).toBe(200);

      const off = await setMode(plain, OPENAI, 'reset');
      expect(off.status).toBe(409);
      expect(off.body.error).toBe('tls_disabled');
      expect((await fetch(`${plain.adminUrl}/tls`)).status).toBe(409);
    } finally {
      await Promise.all([partial.close(), plain.close()]);
    }
  });
});

describe('configuration of the failing certificates', () => {
  const env = (overrides: Record<string, string | undefined> = {}) => ({
    MOCK_TLS_CERT: certs.files.cert,
    MOCK_TLS_KEY: certs.files.key,
    MOCK_TLS_UNTRUSTED_CERT: certs.files.untrustedCert,
    MOCK_TLS_UNTRUSTED_KEY: certs.files.untrustedKey,
    MOCK_TLS_WRONG_NAME_CERT: certs.files.wrongNameCert,
    MOCK_TLS_WRONG_NAME_KEY: certs.files.wrongNameKey,
    ...overrides,
  });

  it('reads both pairs, and neither is needed', () => {
    const tls = loadConfig(env()).tls;
    expect(tls?.untrustedCa?.cert.equals(certs.material.untrustedCa!.cert)).toBe(true);
    expect(tls?.wrongName?.key.equals(certs.material.wrongName!.key)).toBe(true);
    const without = loadConfig({ MOCK_TLS_CERT: certs.files.cert, MOCK_TLS_KEY: certs.files.key }).tls;
    expect(without).toMatchObject({ untrustedCa: null, wrongName: null });
  });

  it('refuses half a pair, a key of another certificate, and certificates that would fail for the wrong reason', () => {
    expect(() => loadConfig(env({ MOCK_TLS_UNTRUSTED_KEY: undefined }))).toThrow(/MOCK_TLS_UNTRUSTED_KEY is not set/);
    expect(() => loadConfig(env({ MOCK_TLS_WRONG_NAME_KEY: certs.files.key }))).toThrow(/MOCK_TLS_WRONG_NAME_CERT, MOCK_TLS_WRONG_NAME_KEY: not a PEM certificate with its private key/);
    // The trusted leaf as the untrusted one: its CA is the trusted one.
    expect(() => loadConfig(env({ MOCK_TLS_UNTRUSTED_CERT: certs.files.cert, MOCK_TLS_UNTRUSTED_KEY: certs.files.key }))).toThrow(/MOCK_TLS_UNTRUSTED_CERT must be issued by a CA of its own/);
    // A wrong-name certificate that covers the provider names.
    expect(() => loadConfig(env({ MOCK_TLS_WRONG_NAME_CERT: certs.files.cert, MOCK_TLS_WRONG_NAME_KEY: certs.files.key }))).toThrow(/MOCK_TLS_WRONG_NAME_CERT must be for a name no provider has/);
    // A wrong-name certificate from the untrusted CA would fail on its CA first.
    makeLeaf(dir, 'wrong-name-untrusted', 'untrusted-ca', [WRONG_NAME]);
    expect(() => loadConfig(env({ MOCK_TLS_WRONG_NAME_CERT: join(dir, 'wrong-name-untrusted.pem'), MOCK_TLS_WRONG_NAME_KEY: join(dir, 'wrong-name-untrusted-key.pem') }))).toThrow(/must be issued by the CA that issued MOCK_TLS_CERT/);
    // An untrusted certificate that misses a provider name.
    makeLeaf(dir, 'untrusted-partial', 'untrusted-ca', [OPENAI]);
    expect(() => loadConfig(env({ MOCK_TLS_UNTRUSTED_CERT: join(dir, 'untrusted-partial.pem'), MOCK_TLS_UNTRUSTED_KEY: join(dir, 'untrusted-partial-key.pem') }))).toThrow(ConfigError);
  });
});
