import { appendFile, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SEGMENT_NAME, Spool, type Offsets, type SpoolOptions } from '../src/spool.js';
import { makeTempDir, removeDir } from './helpers.js';

/** Spool file names as nginx makes them: one per minute, sorting by time. */
const MINUTE_1 = 'records-2026-01-15T10-30.jsonl';
const MINUTE_2 = 'records-2026-01-15T10-31.jsonl';
const MINUTE_3 = 'records-2026-01-15T10-32.jsonl';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir('lmgate-spool-');
});

afterEach(async () => {
  await removeDir(dir);
});

function spool(options: Partial<SpoolOptions> = {}): Spool {
  return new Spool({ dir, maxChunkBytes: 1024 * 1024, maxChunkLines: 1000, ...options });
}

async function write(name: string, text: string | Buffer): Promise<void> {
  await appendFile(join(dir, name), text);
}

/** Reads until the spool has nothing more, as the recorder does; every chunk's lines, in order. */
async function readAll(from: Spool, offsets: Offsets = {}): Promise<{ chunks: string[][]; offsets: Offsets }> {
  const chunks: string[][] = [];
  for (;;) {
    const chunk = await from.read(offsets);
    if (chunk.bytes === 0) return { chunks, offsets };
    chunks.push(chunk.lines);
    offsets = chunk.offsets;
  }
}

describe('Spool.segments', () => {
  it('lists the records-*.jsonl files, oldest first, and nothing else of the directory', async () => {
    for (const name of [MINUTE_3, MINUTE_1, 'records-.jsonl', 'lmgate-checkpoint.json', `${MINUTE_2}.tmp`, 'stats.jsonl', 'records-2026.jsonl.gz', MINUTE_2]) {
      await writeFile(join(dir, name), 'x\n');
    }
    expect(await spool().segments()).toEqual([MINUTE_1, MINUTE_2, MINUTE_3]);
  });

  it('names a spool file by the pattern of nginx.conf', () => {
    expect([MINUTE_1, 'records-unknown.jsonl'].every((name) => SEGMENT_NAME.test(name))).toBe(true);
    expect(['records-.jsonl', 'records-a.jsonl.1', 'xrecords-a.jsonl', 'records-a.json', 'records-a/b.jsonl'].some((name) => SEGMENT_NAME.test(name))).toBe(false);
  });
});

describe('Spool.read: whole lines', () => {
  it('reads nothing from an empty spool', async () => {
    expect(await spool().read({})).toEqual({ lines: [], offsets: {}, bytes: 0 });
  });

  it('reads each line without its newline, and where the next read starts', async () => {
    await write(MINUTE_1, '{"a":1}\n{"b":2}\n');
    expect(await spool().read({})).toEqual({ lines: ['{"a":1}', '{"b":2}'], offsets: { [MINUTE_1]: 16 }, bytes: 16 });
  });

  it('leaves a last line without its newline for a later read: nginx is still writing it', async () => {
    await write(MINUTE_1, 'one\ntwo\nthr');
    const first = await spool().read({});
    expect(first).toEqual({ lines: ['one', 'two'], offsets: { [MINUTE_1]: 8 }, bytes: 8 });
    expect(await spool().read(first.offsets)).toEqual({ lines: [], offsets: first.offsets, bytes: 0 });
    await write(MINUTE_1, 'ee\n');
    expect(await spool().read(first.offsets)).toEqual({ lines: ['three'], offsets: { [MINUTE_1]: 14 }, bytes: 6 });
  });

  it('reads nothing of a file that holds only part of a line, and records no position for it', async () => {
    await write(MINUTE_1, '{"v":1,"produ');
    expect(await spool().read({})).toEqual({ lines: [], offsets: {}, bytes: 0 });
  });

  it('passes empty lines on as they are (the recorder rejects them)', async () => {
    await write(MINUTE_1, 'a\n\nb\n\n');
    expect((await spool().read({})).lines).toEqual(['a', '', 'b', '']);
  });

  it('leaves the offsets it was given as they were', async () => {
    await write(MINUTE_1, 'a\nb\n');
    const from = { [MINUTE_1]: 2 };
    const chunk = await spool().read(from);
    expect([chunk.lines, chunk.offsets, from]).toEqual([['b'], { [MINUTE_1]: 4 }, { [MINUTE_1]: 2 }]);
  });
});

describe('Spool.read: order', () => {
  it('reads the oldest file first, whatever order the files were made in', async () => {
    await write(MINUTE_2, 'second-1\nsecond-2\n');
    await write(MINUTE_1, 'first-1\n');
    await write(MINUTE_3, 'third-1\n');
    const chunk = await spool().read({});
    expect(chunk.lines).toEqual(['first-1', 'second-1', 'second-2', 'third-1']);
    expect(chunk.offsets).toEqual({ [MINUTE_1]: 8, [MINUTE_2]: 18, [MINUTE_3]: 8 });
    expect(chunk.bytes).toBe(34);
  });

  it('holds the newer files back while a line of an older one is still being written, so lines stay in order', async () => {
    await write(MINUTE_1, 'old-1\nold-2 half');
    await write(MINUTE_2, 'new-1\n');
    const first = await spool().read({});
    expect([first.lines, first.offsets]).toEqual([['old-1'], { [MINUTE_1]: 6 }]);
    await write(MINUTE_1, '\n');
    const second = await spool().read(first.offsets);
    expect([second.lines, second.offsets]).toEqual([['old-2 half', 'new-1'], { [MINUTE_1]: 17, [MINUTE_2]: 6 }]);
  });

  it('goes on from the offsets: each line once, new lines of any file after the old ones', async () => {
    await write(MINUTE_1, 'a1\na2\n');
    const first = await spool().read({});
    await write(MINUTE_1, 'a3\n');
    await write(MINUTE_2, 'b1\n');
    const second = await spool().read(first.offsets);
    expect([first.lines, second.lines]).toEqual([['a1', 'a2'], ['a3', 'b1']]);
    expect(await spool().read(second.offsets)).toEqual({ lines: [], offsets: second.offsets, bytes: 0 });
  });

  it('reads a file it had read to the end again only for what was added', async () => {
    await write(MINUTE_1, 'a1\n');
    await write(MINUTE_2, 'b1\n');
    const chunk = await spool().read({ [MINUTE_1]: 3 });
    expect([chunk.lines, chunk.offsets]).toEqual([['b1'], { [MINUTE_1]: 3, [MINUTE_2]: 3 }]);
  });

  it('keeps the offset of a file no longer there as it was given', async () => {
    await write(MINUTE_2, 'b1\n');
    const chunk = await spool().read({ [MINUTE_1]: 99 });
    expect(chunk.offsets).toEqual({ [MINUTE_1]: 99, [MINUTE_2]: 3 });
  });
});

describe('Spool.read: bounds', () => {
  it('takes at most maxChunkLines lines, and the next read goes on after them', async () => {
    await write(MINUTE_1, 'l1\nl2\nl3\nl4\nl5\n');
    const lines = spool({ maxChunkLines: 2 });
    const first = await lines.read({});
    expect(first).toEqual({ lines: ['l1', 'l2'], offsets: { [MINUTE_1]: 6 }, bytes: 6 });
    expect((await readAll(lines)).chunks).toEqual([['l1', 'l2'], ['l3', 'l4'], ['l5']]);
  });

  it('counts maxChunkLines across files', async () => {
    await write(MINUTE_1, 'a1\na2\n');
    await write(MINUTE_2, 'b1\nb2\nb3\n');
    const chunk = await spool({ maxChunkLines: 3 }).read({});
    expect([chunk.lines, chunk.offsets, chunk.bytes]).toEqual([['a1', 'a2', 'b1'], { [MINUTE_1]: 6, [MINUTE_2]: 3 }, 9]);
  });

  it('stops at the last file boundary when the lines of the older files fill maxChunkLines exactly', async () => {
    await write(MINUTE_1, 'a1\na2\n');
    await write(MINUTE_2, 'b1\n');
    const chunk = await spool({ maxChunkLines: 2 }).read({});
    expect([chunk.lines, chunk.offsets]).toEqual([['a1', 'a2'], { [MINUTE_1]: 6 }]);
  });

  it('takes at most maxChunkBytes bytes, cut after the last whole line', async () => {
    await write(MINUTE_1, 'aaaa\nbbbb\ncccc\n');
    const bytes = spool({ maxChunkBytes: 12 });
    expect(await bytes.read({})).toEqual({ lines: ['aaaa', 'bbbb'], offsets: { [MINUTE_1]: 10 }, bytes: 10 });
    expect((await readAll(bytes)).chunks).toEqual([['aaaa', 'bbbb'], ['cccc']]);
  });

  it('takes a line that ends exactly at maxChunkBytes', async () => {
    await write(MINUTE_1, 'aaaa\nbbbb\n');
    expect((await spool({ maxChunkBytes: 10 }).read({})).lines).toEqual(['aaaa', 'bbbb']);
    expect((await spool({ maxChunkBytes: 9 }).read({})).lines).toEqual(['aaaa']);
  });

  it('counts maxChunkBytes across files', async () => {
    await write(MINUTE_1, 'aaaa\n');
    await write(MINUTE_2, 'bbbb\ncccc\n');
    const chunk = await spool({ maxChunkBytes: 12 }).read({});
    expect([chunk.lines, chunk.offsets, chunk.bytes]).toEqual([['aaaa', 'bbbb'], { [MINUTE_1]: 5, [MINUTE_2]: 5 }, 10]);
  });

  it('cuts at a line boundary in bytes when multi-byte UTF-8 characters fill the chunk', async () => {
    // 'ééé' is 6 bytes, '€€€' 9: a 12-byte chunk ends inside the second '€'.
    await write(MINUTE_1, 'ééé\n€€€\nü\n');
    const bytes = spool({ maxChunkBytes: 12 });
    expect(await bytes.read({})).toEqual({ lines: ['ééé'], offsets: { [MINUTE_1]: 7 }, bytes: 7 });
    expect(await bytes.read({ [MINUTE_1]: 7 })).toEqual({ lines: ['€€€'], offsets: { [MINUTE_1]: 17 }, bytes: 10 });
    expect(await bytes.read({ [MINUTE_1]: 17 })).toEqual({ lines: ['ü'], offsets: { [MINUTE_1]: 20 }, bytes: 3 });
  });

  it('keeps offsets in bytes when maxChunkLines cuts lines of multi-byte characters', async () => {
    await write(MINUTE_1, '日本\nü\nx\n');
    const lines = spool({ maxChunkLines: 2 });
    const first = await lines.read({});
    expect([first.lines, first.offsets, first.bytes]).toEqual([['日本', 'ü'], { [MINUTE_1]: 10 }, 10]);
    expect((await lines.read(first.offsets)).lines).toEqual(['x']);
  });

  it('passes on a line of invalid UTF-8 and keeps the next line and the offsets exact', async () => {
    // nginx's escape=json leaves bytes of 0x80 and above as they are: a provider's broken
    // UTF-8 reaches the spool as it came.
    const broken = Buffer.concat([Buffer.from('{"body":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}\n')]);
    await write(MINUTE_1, Buffer.concat([broken, Buffer.from('next\n')]));
    const all = await spool().read({});
    expect(all.lines).toEqual(['{"body":"\ufffd\ufffd\ufffd"}', 'next']);
    expect([all.offsets, all.bytes]).toEqual([{ [MINUTE_1]: broken.length + 5 }, broken.length + 5]);
    // The chunk bound counts the bytes on disk, not those of the decoded text (3 per U+FFFD).
    const bounded = await spool({ maxChunkBytes: broken.length + 2 }).read({});
    expect([bounded.lines, bounded.offsets]).toEqual([['{"body":"\ufffd\ufffd\ufffd"}'], { [MINUTE_1]: broken.length }]);
    expect((await spool().read(bounded.offsets)).lines).toEqual(['next']);
  });

  it('takes a line longer than maxChunkBytes alone, and loses or doubles none of its bytes nor any later line', async () => {
    const long = 'x'.repeat(20);
    await write(MINUTE_1, `ok\n${long}\nafter\n`);
    const small = spool({ maxChunkBytes: 8 });
    const first = await small.read({});
    expect(first).toEqual({ lines: ['ok'], offsets: { [MINUTE_1]: 3 }, bytes: 3 });
    const second = await small.read(first.offsets);
    expect(second).toEqual({ lines: ['x'.repeat(8)], offsets: { [MINUTE_1]: 11 }, bytes: 8 });
    const rest = await readAll(small, second.offsets);
    expect(rest.chunks.flat().join('')).toBe(long.slice(8) + 'after');
    expect(rest.chunks.flat().at(-1)).toBe('after');
    expect(rest.offsets).toEqual({ [MINUTE_1]: 3 + 21 + 6 });
  });

  it('waits for the rest of a line longer than what is left of a chunk, rather than cut it', async () => {
    await write(MINUTE_1, 'aaaa\n');
    await write(MINUTE_2, 'bbbbbbbbbb\n');
    const bytes = spool({ maxChunkBytes: 12 });
    const first = await bytes.read({});
    expect([first.lines, first.offsets]).toEqual([['aaaa'], { [MINUTE_1]: 5 }]);
    expect((await bytes.read(first.offsets)).lines).toEqual(['bbbbbbbbbb']);
  });
});

describe('Spool.removeRead', () => {
  const NOW = Date.parse('2026-01-15T10:40:00.000Z');
  const QUIET_MS = 120_000;

  /** Sets a file's last write time `ageMs` before NOW (whole seconds: exact in every file system). */
  async function age(name: string, ageMs: number): Promise<void> {
    const seconds = (NOW - ageMs) / 1000;
    await utimes(join(dir, name), seconds, seconds);
  }

  async function files(): Promise<string[]> {
    return (await readdir(dir)).sort();
  }

  it('deletes a file read to its end and not written for quietMs, and drops its offset', async () => {
    await write(MINUTE_1, 'a\n');
    await write(MINUTE_2, 'b\n');
    await age(MINUTE_1, QUIET_MS);
    const kept = await spool().removeRead({ [MINUTE_1]: 2, [MINUTE_2]: 2 }, QUIET_MS, NOW);
    expect([kept, await files()]).toEqual([{ [MINUTE_2]: 2 }, [MINUTE_2]]);
  });

  it('keeps a file read to its end that nginx wrote less than quietMs ago', async () => {
    await write(MINUTE_1, 'a\n');
    await write(MINUTE_2, 'b\n');
    await age(MINUTE_1, QUIET_MS - 1000);
    const kept = await spool().removeRead({ [MINUTE_1]: 2 }, QUIET_MS, NOW);
    expect([kept, await files()]).toEqual([{ [MINUTE_1]: 2 }, [MINUTE_1, MINUTE_2]]);
  });

  it('keeps a quiet file not read to its end', async () => {
    await write(MINUTE_1, 'a\nb\n');
    await write(MINUTE_2, 'c\n');
    await age(MINUTE_1, 10 * QUIET_MS);
    const kept = await spool().removeRead({ [MINUTE_1]: 2 }, QUIET_MS, NOW);
    expect([kept, await files()]).toEqual([{ [MINUTE_1]: 2 }, [MINUTE_1, MINUTE_2]]);
  });

  it('never deletes the newest file, even read to its end and quiet: nginx may still write to it', async () => {
    await write(MINUTE_1, 'a\n');
    await write(MINUTE_2, 'b\n');
    await age(MINUTE_1, 10 * QUIET_MS);
    await age(MINUTE_2, 10 * QUIET_MS);
    const kept = await spool().removeRead({ [MINUTE_1]: 2, [MINUTE_2]: 2 }, QUIET_MS, NOW);
    expect([kept, await files()]).toEqual([{ [MINUTE_2]: 2 }, [MINUTE_2]]);
  });

  it('counts a newer file not read yet as the newest', async () => {
    await write(MINUTE_1, 'a\n');
    await write(MINUTE_2, 'b\n');
    await age(MINUTE_1, 10 * QUIET_MS);
    const kept = await spool().removeRead({ [MINUTE_1]: 2 }, QUIET_MS, NOW);
    expect([kept, await files()]).toEqual([{}, [MINUTE_2]]);
  });

  it('deletes every quiet file read to its end but the newest, and keeps files never read out of the offsets', async () => {
    for (const name of [MINUTE_1, MINUTE_2, MINUTE_3]) await write(name, 'line\n');
    await write('records-2026-01-15T10-33.jsonl', 'unread\n');
    for (const name of [MINUTE_1, MINUTE_2, MINUTE_3]) await age(name, QUIET_MS * 2);
    const kept = await spool().removeRead({ [MINUTE_1]: 5, [MINUTE_2]: 5 }, QUIET_MS, NOW);
    expect([kept, await files()]).toEqual([{}, [MINUTE_3, 'records-2026-01-15T10-33.jsonl']]);
  });

  it('drops the offsets of files no longer there', async () => {
    await write(MINUTE_2, 'b\n');
    const kept = await spool().removeRead({ [MINUTE_1]: 40, [MINUTE_2]: 1 }, QUIET_MS, NOW);
    expect(kept).toEqual({ [MINUTE_2]: 1 });
  });

  it('never touches files that are not spool files', async () => {
    await mkdir(join(dir, 'sub'));
    for (const name of ['lmgate-checkpoint.json', 'notes.txt']) {
      await write(name, 'x\n');
      await age(name, 10 * QUIET_MS);
    }
    await write(MINUTE_1, 'a\n');
    expect(await spool().removeRead({ 'lmgate-checkpoint.json': 2, 'notes.txt': 2, [MINUTE_1]: 2 }, QUIET_MS, NOW)).toEqual({ [MINUTE_1]: 2 });
    expect(await files()).toEqual(['lmgate-checkpoint.json', 'notes.txt', MINUTE_1, 'sub'].sort());
  });
});
