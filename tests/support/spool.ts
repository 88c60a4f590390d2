import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KEYS } from './keys';
import { type Stack } from './stack';

/**
 * One spool line as nginx writes it (nginx.conf, log_format lmgate_record), for records no
 * call made: a backlog, a record number skipped.
 */
export function spoolLine(fields: { producer: string; seq: number; requestId: string; uri: string; upstreamHost?: string }): string {
  return JSON.stringify({
    v: 1, producer: fields.producer, seq: fields.seq, request_id: fields.requestId, end_ms: Date.now() / 1000, request_time: 0.012,
    first_byte_ms: 10, request_uri: fields.uri, status: 200, lmgate_id: KEYS.alpha.id, upstream_host: fields.upstreamHost ?? 'api.openai.com', masked_key: 'abcdef',
    body_truncated: false, body: '{"model":"gpt-4o-mini","usage":{"prompt_tokens":3,"completion_tokens":4}}', body_tail: '',
  });
}

/**
 * Puts a file into a stack's spool as nginx could have left it. Its name sorts before
 * nginx's own (records-0000-…), so the service reads it first and deletes it once read.
 */
export async function addToSpool(stack: Stack, name: string, text: string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'lmgate-spool-'));
  try {
    writeFileSync(join(dir, name), text);
    await stack.compose(['cp', join(dir, name), `lmgate:/spool/${name}`]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
