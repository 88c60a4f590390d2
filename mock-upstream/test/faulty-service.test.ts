import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildFaultyService, faultModeOf } from '../src/faulty-service.js';

let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = buildFaultyService();
  await app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app.close();
});

const auth = (key: string) => fetch(`${base}/auth`, { headers: { 'x-api-key': key } });

describe('faulty LMGate service stand-in', () => {
  it('reads the mode from the key, and only known modes', () => {
    expect([faultModeOf('fault-500-t1'), faultModeOf('fault-no-id-t'), faultModeOf('fault-empty-id-t'), faultModeOf('fault-allow-x-y')]).toEqual(['500', 'no-id', 'empty-id', 'allow']);
    expect([faultModeOf('fault-bogus-t'), faultModeOf('sk-real-key'), faultModeOf(undefined)]).toEqual([null, null, null]);
  });

  it('answers each mode as named and counts every /auth call per key', async () => {
    const allow = await auth('fault-allow-a');
    const no = await auth('fault-no-id-a');
    const fivehundred = await auth('fault-500-a');
    const redirect = await auth('fault-redirect-a');
    const other = await auth('anything');
    expect([allow.status, allow.headers.get('x-lmgate-id')]).toEqual([200, 'faulty-allow']);
    expect([no.status, no.headers.get('x-lmgate-id')]).toEqual([200, null]);
    expect(fivehundred.status).toBe(500);
    expect([redirect.status, redirect.headers.get('x-accel-redirect')]).toEqual([200, '/openai/v1/models']);
    expect(other.status).toBe(403);
    await auth('fault-allow-a');
    const calls = (await (await fetch(`${base}/_faulty/auth-calls`)).json()) as Record<string, number>;
    expect(calls).toMatchObject({ 'fault-allow-a': 2, 'fault-no-id-a': 1, anything: 1 });
  });

  it('garbage: bytes that are not HTTP, then the connection closes', async () => {
    const { port } = app.server.address() as AddressInfo;
    const reply = await new Promise<string>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => socket.write('GET /auth HTTP/1.1\r\nHost: x\r\nx-api-key: fault-garbage-t\r\n\r\n'));
      let text = '';
      socket.on('data', (chunk: Buffer) => (text += chunk.toString()));
      socket.on('end', () => resolve(text));
      socket.on('error', reject);
    });
    expect(reply).toBe('this is not HTTP\r\n\r\n');
  });

  it('hang: no answer at all', async () => {
    const outcome = await Promise.race([auth('fault-hang-t').then(() => 'answered'), new Promise((r) => setTimeout(() => r('no answer'), 300))]);
    expect(outcome).toBe('no answer');
  });
});
