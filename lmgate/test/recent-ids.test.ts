import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { RecentIds, requestIdsInTail } from '../src/recent-ids.js';
import { makeTempDir, removeDir } from './helpers.js';

describe('RecentIds', () => {
  it('remembers what it was given and says when an id is new', () => {
    const ids = new RecentIds(3);
    expect(ids.add('a')).toBe(true);
    expect(ids.add('a')).toBe(false);
    expect(ids.has('a')).toBe(true);
    expect(ids.has('b')).toBe(false);
    expect(ids.size).toBe(1);
  });

  it('forgets the oldest id first once full', () => {
    const ids = new RecentIds(3);
    ['a', 'b', 'c', 'd'].forEach((id) => ids.add(id));
    expect(ids.has('a')).toBe(false);
    expect(['b', 'c', 'd'].every((id) => ids.has(id))).toBe(true);
    expect(ids.size).toBe(3);
  });

  it('does not let a repeated id take a second place', () => {
    const ids = new RecentIds(2);
    ids.add('a');
    ids.add('a');
    ids.add('b');
    expect(ids.has('a')).toBe(true);
    expect(ids.has('b')).toBe(true);
  });

  it('keeps exactly the last `capacity` ids over many rounds of eviction', () => {
    const capacity = 1000;
    const ids = new RecentIds(capacity);
    const total = capacity * 25 + 7;
    for (let i = 0; i < total; i++) ids.add(`id-${i}`);
    expect(ids.size).toBe(capacity);
    expect(ids.has(`id-${total - capacity - 1}`)).toBe(false);
    expect(ids.has(`id-${total - capacity}`)).toBe(true);
    expect(ids.has(`id-${total - 1}`)).toBe(true);
  });

  it('remembers nothing with a capacity of 0', () => {
    const ids = new RecentIds(0);
    expect(ids.add('a')).toBe(true);
    expect(ids.has('a')).toBe(false);
    expect(ids.size).toBe(0);
  });
});

describe('requestIdsInTail', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await removeDir(dir);
    dir = undefined;
  });
  const line = (id: string) => JSON.stringify({ timestamp: '2026-01-01T00:00:00.000Z', request_id: id, status: 200 });

  it('reads the ids of the whole lines, oldest first, skipping lines without one', async () => {
    dir = await makeTempDir('lmgate-ids-');
    const path = join(dir, 'stats.jsonl');
    await writeFile(path, [line('a'), '{"status":200}', 'not json', line('b'), JSON.stringify({ request_id: 7 }), line('c')].join('\n') + '\n');
    expect(await requestIdsInTail(path, 1024 * 1024)).toEqual(['a', 'b', 'c']);
  });

  it('leaves out the half-written last line and, from a tail, the cut first line', async () => {
    dir = await makeTempDir('lmgate-ids-');
    const path = join(dir, 'stats.jsonl');
    const text = [line('first'), line('second'), line('third')].join('\n') + '\n' + line('half').slice(0, 20);
    await writeFile(path, text);
    // A tail that starts inside the first line.
    const tail = text.length - line('first').length + 5;
    expect(await requestIdsInTail(path, tail)).toEqual(['second', 'third']);
    expect(await requestIdsInTail(path, text.length)).toEqual(['first', 'second', 'third']);
  });

  it('is empty for a file that is not there yet', async () => {
    dir = await makeTempDir('lmgate-ids-');
    expect(await requestIdsInTail(join(dir, 'stats.jsonl'), 1024)).toEqual([]);
  });
});
