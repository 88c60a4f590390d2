import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { test, expect, useOwnStack } from '../fixtures';
import { scrape, sumOf } from '../support/metrics';
import { allowListCsv, bearerSpelledApart, HOT_RELOAD_KEY, INITIAL_KEYS, KEYS, type TestKey } from '../support/keys';

// Changes the stack's state: a stack of its own, its tests one after another.
// The service's files — the allow-list it reloads, the stats file it writes — changed under
// it, on a stack of its own. The allow-list poll is a knob of the e2e overlay
// (E2E_ALLOWLIST_POLL_SECONDS).
const POLL_SECONDS = 0.2;
// nginx keeps a decision this long (production: 2 s): every reload below waits it out.
const AUTH_CACHE_SECONDS = 0.5;
// These tests are about what the service decides, not how fast: nginx waits up to 15 s for
// its answer, so that a service starved of CPU on a loaded machine for the production
// default's 3 s (twice a timed-out call under a 5,000-row reload: 3.05 s, a fail-closed 403)
// is not taken for a key the list lost. A wrong refusal is the service's own, prompt 403.
useOwnStack({ label: 'files', env: { E2E_ALLOWLIST_POLL_SECONDS: String(POLL_SECONDS), E2E_AUTH_CACHE_TTL: `${AUTH_CACHE_SECONDS * 1000}ms`, E2E_AUTH_TIMEOUT: '15s' } });

const NEW_KEY: TestKey = HOT_RELOAD_KEY;
// The poll plus a slow machine.
const RELOAD_WITHIN_MS = 5_000;

/** Rewrites the allow-list in place, as an operator's editor would. */
function writeAllowList(path: string, text: string): void {
  writeFileSync(path, text);
}

const okReloads = async (metricsURL: string) => sumOf(await scrape(metricsURL), 'lmgate_allowlist_reloads_total', { result: 'ok' });

/** Puts a good list back and waits until the service has taken it: no reload spills into the next test. */
async function restoreAllowList(stack: { allowListFile: string; metricsURL: string }, text: string): Promise<void> {
  const before = await okReloads(stack.metricsURL);
  writeAllowList(stack.allowListFile, text);
  await expect.poll(() => okReloads(stack.metricsURL), { timeout: RELOAD_WITHIN_MS, intervals: [100] }).toBeGreaterThan(before);
}

test.describe('allow-list hot reload', () => {
  let original = '';
  test.beforeAll(({ stack }) => {
    original = readFileSync(stack.allowListFile, 'utf8');
  });

  const status = async (request: import('@playwright/test').APIRequestContext, path: string, key: string) =>
    (await request.post(path, { headers: { authorization: `Bearer ${key}` }, data: '{}' })).status();

  test('a key added to the file is accepted within the poll interval (plus the kept refusal and a busy machine\'s second), and a removed key is refused', async ({ request, stack, tagged, stats, tag }) => {
    await test.step('a key not on the list is refused', async () => expect(await status(request, tagged('/openai/v1/chat/completions?step=before'), NEW_KEY.key)).toBe(403));
    await test.step('added to the file: accepted within the poll interval plus the kept refusal, recorded under its id', async () => {
      writeAllowList(stack.allowListFile, allowListCsv([...INITIAL_KEYS, NEW_KEY]));
      const writtenAt = Date.now();
      await expect.poll(() => status(request, tagged('/openai/v1/chat/completions?step=added'), NEW_KEY.key), { timeout: RELOAD_WITHIN_MS, intervals: [50] }).toBe(200);
      // The service's poll, then nginx's kept refusal of the key (the 403 above) runs out.
      expect(Date.now() - writtenAt).toBeLessThan((POLL_SECONDS + AUTH_CACHE_SECONDS + 1) * 1000);
      const lines = await stats.waitForLines(tag, 1);
      expect(lines[0]?.lmgate_id).toBe(NEW_KEY.id);
    });
    await test.step('a key removed from the file is refused; the others still pass', async () => {
      writeAllowList(stack.allowListFile, allowListCsv(INITIAL_KEYS.filter((k) => k !== KEYS.gamma)));
      await expect.poll(() => status(request, tagged('/openai/v1/chat/completions?step=removed'), KEYS.gamma.key), { timeout: RELOAD_WITHIN_MS, intervals: [100] }).toBe(403);
      expect(await status(request, tagged('/openai/v1/chat/completions?step=other'), KEYS.alpha.key)).toBe(200);
    });
    await test.step('the first list written back: the removed key passes again', async () => {
      writeAllowList(stack.allowListFile, original);
      await expect.poll(() => status(request, tagged('/openai/v1/chat/completions?step=restored'), KEYS.gamma.key), { timeout: RELOAD_WITHIN_MS, intervals: [100] }).toBe(200);
    });
  });

  test('a removed key stops working within the poll interval plus the auth cache lifetime, even under steady use', async ({ request, stack, tagged }) => {
    await test.step('a key added, and its decision kept warm by steady use', async () => {
      writeAllowList(stack.allowListFile, allowListCsv([...INITIAL_KEYS, NEW_KEY]));
      await expect.poll(() => status(request, tagged('/openai/v1/chat/completions?step=added'), NEW_KEY.key), { timeout: RELOAD_WITHIN_MS, intervals: [100] }).toBe(200);
      for (let i = 0; i < 5; i++) expect(await status(request, tagged('/openai/v1/chat/completions?step=warm'), NEW_KEY.key)).toBe(200);
    });
    await test.step('removed while in use: refused within the poll interval plus the auth cache lifetime, and from then on', async () => {
      writeAllowList(stack.allowListFile, original);
      const removedAt = Date.now();
      let refusedAt = 0;
      while (Date.now() - removedAt < 15_000) {
        if ((await status(request, tagged('/openai/v1/chat/completions?step=after'), NEW_KEY.key)) === 403) {
          refusedAt = Date.now();
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      expect(refusedAt, 'the removed key was never refused').toBeGreaterThan(0);
      // Poll interval + cache lifetime, and a second for a busy machine.
      expect(refusedAt - removedAt).toBeLessThan((POLL_SECONDS + AUTH_CACHE_SECONDS + 1) * 1000);
      for (let i = 0; i < 5; i++) expect(await status(request, tagged('/openai/v1/chat/completions?step=stays-refused'), NEW_KEY.key)).toBe(403);
    });
  });

  test('a broken file keeps the previous list', async ({ request, stack, tagged }) => {
    const failures = async () => sumOf(await scrape(stack.metricsURL), 'lmgate_allowlist_reloads_total', { result: 'failed' });
    // Each call's Bearer spelled apart anew: no decision nginx kept answers it, the service
    // decides on the list it holds after the broken version.
    let spelling = 100;
    const decided = async (key: string) => (await request.post(tagged('/openai/v1/chat/completions'), { headers: { authorization: bearerSpelledApart(key, spelling++) }, data: '{}' })).status();
    for (const broken of ['id,api_key,owner\n1,sk-x,team\n', 'id,api_key,owner,added\n"unterminated,sk-y,team,2026-01-01\n', '']) {
      await test.step(`the file becomes ${JSON.stringify(broken)}: rejected, and the previous list still decides`, async () => {
        const before = await failures();
        writeAllowList(stack.allowListFile, broken);
        // The service read this version and rejected it (it warns once per version).
        await expect.poll(failures, { timeout: RELOAD_WITHIN_MS, intervals: [100] }).toBeGreaterThan(before);
        expect(await decided(KEYS.alpha.key), JSON.stringify(broken)).toBe(200);
        expect(await decided(KEYS.beta.key)).toBe(200);
        expect(await decided(NEW_KEY.key), 'a key of no version').toBe(403);
      });
    }
    // Spec §4: each broken version is warned about (the log line, beside the counter).
    const warnings = (await stack.logsOrReason(['lmgate'], 400)).split('allow-list reload failed; keeping the previous list').length - 1;
    expect(warnings).toBeGreaterThanOrEqual(3);
    await restoreAllowList(stack, original);
  });

  test('during reloads of a 5,000-row list under steady traffic, a key present in every version (its last row) is never refused', async ({ request, stack, tagged }) => {
    // Rows enough that a swap that empties the list and fills it again (or checks keys
    // against a list half read) would leave the last row out for a while, not an instant.
    const fillers: TestKey[] = Array.from({ length: 5_000 }, (_, n) => ({ id: `filler-${n}`, key: `sk-e2e-filler-${n}-0123456789abcdef`, owner: 'filler' }));
    const version = (withNew: boolean) => allowListCsv([...fillers, ...(withNew ? [NEW_KEY] : []), KEYS.beta, KEYS.gamma, KEYS.alpha]);
    let refused = 0;
    let calls = 0;
    const statuses = new Map<number, number>();
    let writing = true;
    const traffic = (async () => {
      while (writing) {
        // Each call's Bearer spelled apart (the same key) misses nginx's auth cache, so
        // every call asks the service while it swaps lists.
        const batch = await Promise.all(
          Array.from({ length: 8 }, async () =>
            (await request.post(tagged('/openai/v1/chat/completions'), { headers: { authorization: bearerSpelledApart(KEYS.alpha.key, calls++ % 2000) }, data: '{}' })).status(),
          ),
        );
        refused += batch.filter((s) => s !== 200).length;
        for (const s of batch.filter((s) => s !== 200)) statuses.set(s, (statuses.get(s) ?? 0) + 1);
      }
    })();
    const reloads = () => okReloads(stack.metricsURL);
    await test.step('six versions of the list swapped in, one after the other, while calls go on', async () => {
      for (let i = 0; i < 6; i++) {
        const before = await reloads();
        // Renamed into place: a 250 KB file written in place could be read half written, a
        // list without its last rows (the service reads what the file holds).
        writeFileSync(`${stack.allowListFile}.new`, version(i % 2 === 0));
        renameSync(`${stack.allowListFile}.new`, stack.allowListFile);
        // Swapped in while the traffic runs: the next version only after this one.
        await expect.poll(reloads, { timeout: RELOAD_WITHIN_MS, intervals: [100] }).toBeGreaterThan(before);
      }
    });
    writing = false;
    await traffic;
    await restoreAllowList(stack, original);
    await test.step('no call with the key in every version was refused', async () => {
      expect(calls).toBeGreaterThan(20);
      expect(refused, `${refused} of ${calls} calls refused (statuses ${JSON.stringify(Object.fromEntries(statuses))})`).toBe(0);
    });
  });

  test('the file as people write it: a BOM, CRLF line ends, quoted fields, spaces around values, a trailing blank line', async ({ request, stack, tagged }) => {
    const reloads = () => okReloads(stack.metricsURL);
    const before = await reloads();
    const text =
      '\ufeffid , api_key , owner , added\r\n' +
      `  ${KEYS.alpha.id} ,  ${KEYS.alpha.key}  , team-alpha , 2026-01-15\r\n` +
      `"${NEW_KEY.id}","${NEW_KEY.key}","team ""new"", with a comma",2026-02-01\r\n` +
      '\r\n';
    writeAllowList(stack.allowListFile, text);
    await expect.poll(reloads, { timeout: RELOAD_WITHIN_MS, intervals: [100] }).toBeGreaterThan(before);
    // Key header sets (x-api-key alone) the tests above never sent: no decision kept from
    // before the reload answers.
    const statusWith = async (name: string, key: string) => (await request.post(tagged('/openai/v1/chat/completions'), { headers: { [name]: key }, data: '{}' })).status();
    expect(await statusWith('X-Api-Key', KEYS.alpha.key), 'the row with spaces around its values').toBe(200);
    expect(await statusWith('X-Api-Key', NEW_KEY.key), 'the quoted row').toBe(200);
    expect(await statusWith('X-Api-Key', KEYS.beta.key), 'a key the new file no longer lists').toBe(403);
  });
});

const chat = { authorization: `Bearer ${KEYS.alpha.key}` };

test('stats file unwritable (a directory in its place): calls stay prompt and unchanged, records wait in the spool and are written once each when the path is fixed', async ({ stack, request, tagged, tag, stats }) => {
  const aside = `${stack.statsFile}.aside-${tag}`;
  if (existsSync(stack.statsFile)) renameSync(stack.statsFile, aside);
  mkdirSync(stack.statsFile);
  try {
    await test.step('five calls while the stats path is a directory: each answered 200 within 2 s, the failure logged', async () => {
      for (let i = 0; i < 5; i++) {
        const started = Date.now();
        const response = await request.post(tagged(`/openai/v1/chat/completions?i=${i}`), { headers: chat, data: '{}' });
        expect(response.status()).toBe(200);
        expect(Date.now() - started).toBeLessThan(2_000);
      }
      await expect.poll(async () => stack.logsOrReason(['lmgate'], 50), { timeout: 10_000 }).toContain('recording stats failed; the spool keeps the records for the next run');
    });
  } finally {
    await test.step('the stats file is put back (the service frozen meanwhile, so no pass lands between the two moves)', async () => {
      await stack.freeze('lmgate');
      try {
        rmSync(stack.statsFile, { recursive: true, force: true });
        if (existsSync(aside)) renameSync(aside, stack.statsFile);
      } finally {
        await stack.thaw('lmgate');
      }
    });
  }
  await test.step('the five lines are written from the spool, once each', async () => {
    const lines = await stats.waitForLines(tag, 5);
    expect(lines.every((l) => l.status === 200)).toBe(true);
  });
});
