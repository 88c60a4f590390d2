import { rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AllowList, AllowListError, MAX_ID_LENGTH, parseAllowList, readAllowList } from '../src/allowlist.js';
import { ALLOWLIST_HEADER, FakeLogger, makeTempDir, removeDir, waitFor } from './helpers.js';

const KEY_A = 'sk-proj-aaaaaaaaaaaaaaaaaaaaaaaaaaaa1111';
const KEY_B = 'sk-ant-api03-bbbbbbbbbbbbbbbbbbbbbbbbbb2222';
const KEY_C = 'AIzaSyCccccccccccccccccccccccccccccc3333';
const FILE = '/data/allowlist.csv';

function csv(...rows: string[]): string {
  return [ALLOWLIST_HEADER, ...rows].join('\n') + '\n';
}

/** Expects `action` to throw an AllowListError whose message contains every fragment. */
function expectAllowListError(action: () => unknown, ...fragments: string[]): void {
  let caught: unknown;
  try {
    action();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(AllowListError);
  for (const fragment of fragments) expect((caught as Error).message).toContain(fragment);
}

describe('parseAllowList', () => {
  it('maps each api_key to its row', () => {
    const entries = parseAllowList(csv(`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_B},team-beta,2025-02-01`), FILE);
    expect([...entries.keys()]).toEqual([KEY_A, KEY_B]);
    expect(entries.get(KEY_B)).toEqual({ id: '2', api_key: KEY_B, owner: 'team-beta', added: '2025-02-01' });
  });

  it('accepts the columns in any order, in any case', () => {
    const entries = parseAllowList(`Owner,API_KEY,added,ID\nteam-alpha,${KEY_A},2025-01-15,17\n`, FILE);
    expect(entries.get(KEY_A)).toEqual({ id: '17', api_key: KEY_A, owner: 'team-alpha', added: '2025-01-15' });
  });

  it('allows extra columns', () => {
    const entries = parseAllowList(`id,api_key,owner,added,notes,expires\n1,${KEY_A},team-alpha,2025-01-15,"on-call, EU",2026-01-01\n`, FILE);
    expect(entries.get(KEY_A)?.id).toBe('1');
  });

  it('applies standard CSV quoting: commas, doubled quotes and newlines inside quotes', () => {
    const entries = parseAllowList(csv(`"1","${KEY_A}","team ""alpha"", platform\nsecond line","2025-01-15"`), FILE);
    expect(entries.get(KEY_A)?.owner).toBe('team "alpha", platform\nsecond line');
  });

  it('strips a UTF-8 byte-order mark and accepts CRLF line ends', () => {
    const entries = parseAllowList(`\uFEFF${ALLOWLIST_HEADER}\r\n1,${KEY_A},team-alpha,2025-01-15\r\n`, FILE);
    expect(entries.get(KEY_A)?.id).toBe('1');
  });

  it('trims spaces around fields and skips blank lines', () => {
    const entries = parseAllowList(`${ALLOWLIST_HEADER}\n\n 1 , ${KEY_A} , team-alpha , 2025-01-15 \n\n`, FILE);
    expect([...entries.keys()]).toEqual([KEY_A]);
    expect(entries.get(KEY_A)?.id).toBe('1');
  });

  it('accepts a header without rows as an empty list', () => {
    expect(parseAllowList(`${ALLOWLIST_HEADER}\n`, FILE).size).toBe(0);
  });

  it('rejects an empty file, naming the file', () => {
    expectAllowListError(() => parseAllowList('', FILE), FILE, 'empty');
  });

  it('rejects a header that lacks a required column, naming file and column', () => {
    expectAllowListError(() => parseAllowList(`id,owner,added\n1,team-alpha,2025-01-15\n`, FILE), FILE, 'api_key');
    expectAllowListError(() => parseAllowList(`id,api_key,owner\n1,${KEY_A},team-alpha\n`, FILE), FILE, 'added');
  });

  it('rejects an unclosed quote, naming the file', () => {
    expectAllowListError(() => parseAllowList(csv(`1,"${KEY_A},team-alpha,2025-01-15`), FILE), FILE, 'not valid CSV');
  });

  it('rejects a row with a different number of columns, naming the file', () => {
    expectAllowListError(() => parseAllowList(csv(`1,${KEY_A},team-alpha`), FILE), FILE);
  });

  it('rejects a row with an empty api_key or id, naming file and row', () => {
    expectAllowListError(() => parseAllowList(csv(`1,${KEY_A},team-alpha,2025-01-15`, '2,,team-beta,2025-02-01'), FILE), FILE, 'row 3');
    expectAllowListError(() => parseAllowList(csv(`,${KEY_A},team-alpha,2025-01-15`), FILE), FILE, 'row 2');
  });

  it('accepts an id of up to MAX_ID_LENGTH printable ASCII characters, spaces and quotes included', () => {
    const longest = 'x'.repeat(MAX_ID_LENGTH);
    const entries = parseAllowList(csv(`${longest},${KEY_A},team-alpha,2025-01-15`, `"team ""b"", #2",${KEY_B},team-beta,2025-02-01`), FILE);
    expect([entries.get(KEY_A)?.id, entries.get(KEY_B)?.id]).toEqual([longest, 'team "b", #2']);
  });

  it('rejects an id that cannot travel as a header or in a record, naming file and row', () => {
    for (const id of ['x'.repeat(MAX_ID_LENGTH + 1), 'équipe', '"a\tb"', '"a\nb"', '"  "', '" 7 "', '"7 "']) {
      expectAllowListError(() => parseAllowList(csv(`1,${KEY_B},team-beta,2025-01-15`, `${id},${KEY_A},team-alpha,2025-01-15`), FILE), FILE, 'row 3: the id must be');
    }
  });

  it('rejects a repeated api_key, naming file and row', () => {
    expectAllowListError(() => parseAllowList(csv(`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_A},team-beta,2025-02-01`), FILE), FILE, 'row 3');
  });
});

describe('readAllowList and AllowList.load', () => {
  let dir: string;
  let path: string;
  let logger: FakeLogger;

  beforeEach(async () => {
    dir = await makeTempDir('lmgate-allow-');
    path = join(dir, 'allowlist.csv');
    logger = new FakeLogger();
  });

  afterEach(async () => {
    vi.useRealTimers();
    await removeDir(dir);
  });

  it('rejects a missing file with a message naming it', async () => {
    await expect(readAllowList(path)).rejects.toThrow(AllowListError);
    await expect(AllowList.load(path, logger)).rejects.toThrow(`allow-list ${path} does not exist`);
  });

  it('rejects a file that cannot be read (a directory), naming it', async () => {
    await expect(AllowList.load(dir, logger)).rejects.toThrow(new RegExp(`allow-list ${dir} cannot be read`));
  });

  it('loads the file, answers lookups by exact key and logs the key count (never a key)', async () => {
    await writeFile(path, csv(`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_B},team-beta,2025-02-01`));
    const list = await AllowList.load(path, logger);
    expect([list.size, list.lookup(KEY_A)?.id, list.lookup(KEY_B)?.id, list.lookup(KEY_C), list.lookup(KEY_A.toUpperCase())]).toEqual([2, '1', '2', undefined, undefined]);
    expect(logger.at('info').map((call) => call.obj)).toEqual([{ path, keys: 2 }]);
    expect(JSON.stringify(logger.calls)).not.toContain(KEY_A);
  });

  describe('reload', () => {
    let list: AllowList;

    beforeEach(async () => {
      await writeFile(path, csv(`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_B},team-beta,2025-02-01`));
      list = await AllowList.load(path, logger);
    });

    afterEach(() => list.stopPolling());

    it('picks up an added key after the file changed', async () => {
      await writeFile(path, csv(`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_B},team-beta,2025-02-01`, `3,${KEY_C},team-gamma,2025-03-01`));
      await list.checkForChange();
      expect([list.size, list.lookup(KEY_C)?.id]).toEqual([3, '3']);
    });

    it('refuses a removed key after the reload', async () => {
      await writeFile(path, csv(`1,${KEY_A},team-alpha,2025-01-15`));
      await list.checkForChange();
      expect(list.lookup(KEY_B)).toBeUndefined();
      expect(list.lookup(KEY_A)?.id).toBe('1');
    });

    it('picks up a file replaced by rename (new inode)', async () => {
      await writeFile(join(dir, 'next.csv'), csv(`9,${KEY_C},team-gamma,2025-03-01`));
      await rename(join(dir, 'next.csv'), path);
      await list.checkForChange();
      expect([list.lookup(KEY_A), list.lookup(KEY_C)?.id]).toEqual([undefined, '9']);
    });

    it('does not re-read an unchanged file', async () => {
      await list.checkForChange();
      await list.checkForChange();
      expect(logger.calls.filter((call) => call.msg.includes('reloaded'))).toHaveLength(0);
    });

    it('keeps the previous list when the new file is broken', async () => {
      await writeFile(path, `id,owner,added\n1,team-alpha,2025-01-15\n`);
      await list.checkForChange();
      expect([list.size, list.lookup(KEY_A)?.id, list.lookup(KEY_B)?.id]).toEqual([2, '1', '2']);
    });

    it('warns once about a broken file, naming it, however often it is polled', async () => {
      await writeFile(path, csv(`1,"${KEY_A},team-alpha,2025-01-15`));
      await list.checkForChange();
      await list.checkForChange();
      await list.checkForChange();
      expect(logger.at('warn')).toHaveLength(1);
      expect(JSON.stringify(logger.at('warn')[0])).toContain(path);
    });

    it('loads the file again once the broken file is fixed', async () => {
      await writeFile(path, 'garbage');
      await list.checkForChange();
      await writeFile(path, csv(`5,${KEY_C},team-gamma,2025-03-01`));
      await list.checkForChange();
      expect([list.size, list.lookup(KEY_C)?.id, list.lookup(KEY_A)]).toEqual([1, '5', undefined]);
    });

    it('keeps the previous list when the file disappears', async () => {
      await rm(path);
      await list.checkForChange();
      expect([list.size, list.lookup(KEY_A)?.id]).toEqual([2, '1']);
      expect(logger.at('warn')).toHaveLength(1);
    });

    it('never misses a key present in both versions while the file is rewritten under lookups', async () => {
      const oldText = csv(`1,${KEY_A},team-alpha,2025-01-15`, `2,${KEY_B},team-beta,2025-02-01`);
      const newText = csv(`3,${KEY_C},team-gamma,2025-03-01`, `1,${KEY_A},team-alpha,2025-01-15`);
      let running = true;
      let lookups = 0;
      let misses = 0;
      const looker = (async () => {
        while (running) {
          for (let i = 0; i < 200; i++) {
            lookups++;
            if (list.lookup(KEY_A)?.id !== '1') misses++;
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();
      for (let round = 0; round < 60; round++) {
        const text = round % 2 === 0 ? newText : oldText;
        if (round % 3 === 0) {
          await writeFile(join(dir, 'next.csv'), text);
          await rename(join(dir, 'next.csv'), path);
          await list.checkForChange();
        } else {
          // In-place rewrite, checked while the write is still in flight.
          await Promise.all([writeFile(path, text), list.checkForChange()]);
          await list.checkForChange();
        }
      }
      running = false;
      await looker;
      expect(logger.calls.filter((call) => call.msg.includes('reloaded')).length).toBeGreaterThan(20);
      expect(lookups).toBeGreaterThan(1000);
      expect(misses).toBe(0);
    });
  });

  describe('polling', () => {
    let list: AllowList;

    beforeEach(async () => {
      await writeFile(path, csv(`1,${KEY_A},team-alpha,2025-01-15`));
      list = await AllowList.load(path, logger);
    });

    afterEach(() => list.stopPolling());

    it('checks the file every poll interval', () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const check = vi.spyOn(list, 'checkForChange').mockResolvedValue();
      list.startPolling(30);
      vi.advanceTimersByTime(29_999);
      expect(check).not.toHaveBeenCalled();
      vi.advanceTimersByTime(1);
      expect(check).toHaveBeenCalledTimes(1);
      vi.advanceTimersByTime(60_000);
      expect(check).toHaveBeenCalledTimes(3);
    });

    it('stops checking after stopPolling', () => {
      vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const check = vi.spyOn(list, 'checkForChange').mockResolvedValue();
      list.startPolling(1);
      list.stopPolling();
      vi.advanceTimersByTime(10_000);
      expect(check).not.toHaveBeenCalled();
    });

    it('reloads a changed file by itself on a real short interval', async () => {
      list.startPolling(0.02);
      await writeFile(path, csv(`2,${KEY_B},team-beta,2025-02-01`));
      await waitFor(() => list.lookup(KEY_B)?.id === '2', 3000, 'the polled reload');
      expect(list.lookup(KEY_A)).toBeUndefined();
    });
  });
});
