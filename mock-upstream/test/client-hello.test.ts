import { describe, expect, it } from 'vitest';
import { firstRecordLength, normalizeServername, servernameFromClientHello } from '../src/client-hello.js';
import { captureClientHello } from './tls-client.js';

describe('ClientHello server name', () => {
  it.each(['TLSv1.2', 'TLSv1.3'] as const)('reads it from a real %s ClientHello, lower-cased', async (version) => {
    const hello = await captureClientHello({ servername: 'API.Anthropic.com', minVersion: version, maxVersion: version });
    expect(firstRecordLength(hello)).toBe(hello.length);
    expect(servernameFromClientHello(hello)).toBe('api.anthropic.com');
  });

  it('is null when the client sends none', async () => {
    const hello = await captureClientHello({});
    expect(firstRecordLength(hello)).toBe(hello.length);
    expect(servernameFromClientHello(hello)).toBeNull();
  });

  it('is null, never an exception, for a cut or damaged record', async () => {
    const hello = await captureClientHello({ servername: 'aiplatform.googleapis.com' });
    for (let length = 0; length < hello.length; length += 1) expect(servernameFromClientHello(hello.subarray(0, length))).toBeNull();
    const damaged = Buffer.from(hello);
    const at = damaged.indexOf('aiplatform.googleapis.com');
    damaged.write('aiplatform googleapis.com', at, 'latin1');
    expect(servernameFromClientHello(damaged)).toBeNull();
    for (let seed = 1; seed <= 200; seed += 1) {
      const noise = Buffer.from(hello);
      for (let i = 9; i < noise.length; i += 7 + (seed % 11)) noise[i] = (noise[i]! * seed + i) & 0xff;
      expect(() => servernameFromClientHello(noise)).not.toThrow();
    }
  });

  it('knows the first record length only for a TLS handshake record', () => {
    expect(firstRecordLength(Buffer.from('GET / HTTP/1.1\r\n'))).toBeNull();
    expect(firstRecordLength(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]))).toBe(5 + 512);
    expect(firstRecordLength(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]))).toBeNull();
    expect(firstRecordLength(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff]))).toBeNull();
    expect(() => firstRecordLength(Buffer.from([0x16, 0x03]))).toThrow(RangeError);
  });

  it('accepts DNS names only', () => {
    expect(normalizeServername('Api.OpenAI.com')).toBe('api.openai.com');
    expect(normalizeServername('us-central1-aiplatform.googleapis.com')).toBe('us-central1-aiplatform.googleapis.com');
    for (const bad of ['', '__proto__', 'a..b', '-a.com', 'a-.com', 'a b', 'a.com.', `${'a'.repeat(64)}.com`]) expect(normalizeServername(bad)).toBeNull();
  });
});
