import { test, expect } from '../fixtures';
import { waitForAccessLines } from '../support/access-log';
import { KEYS } from '../support/keys';
import { expectedTokens, FULL_USAGE, mockUsage, tokensOf, USAGE_FORMS, type MockUsage, type UsageForm } from '../support/usage-cases';

// Spec §5: the stats line's token totals and breakdown equal what the provider sent, for
// every provider and form (tests/support/usage-cases.ts). The mock answers with the
// providers' real usage shapes (x-mock-usage, mock-upstream/README.md); the expected line
// follows the spec's table (expectedTokens). tests/shared-stack/stats.spec.ts runs every
// form with a usage in input and output only.


interface Case {
  name: string;
  form: UsageForm;
  usage: MockUsage;
  headers?: Record<string, string>;
}

const cases: Case[] = USAGE_FORMS.map((form) => ({ name: `${form.name}: every breakdown field the provider has`, form, usage: FULL_USAGE }));
for (const form of USAGE_FORMS.filter((f) => f.api === 'chat' || f.api === 'messages')) {
  // Spec §5: a breakdown the provider sends as JSON null is null; the totals stand.
  cases.push({ name: `${form.name}: breakdown fields sent as JSON null`, form, usage: { input: 9, output: 4, cached: null, cache_write: null, ...(form.api === 'chat' ? { reasoning: null } : {}) }, ...(form.api === 'messages' ? { headers: { 'x-mock-anthropic-deltas': '2,output-only' } } : {}) });
}
for (const form of USAGE_FORMS.filter((f) => f.api === 'messages')) {
  cases.push({ name: `${form.name}: no cache fields at all`, form, usage: { input: 9, output: 4, cached: 'none', cache_write: 'none' }, headers: { 'x-mock-anthropic-deltas': '2,output-only' } });
}

test.describe('usage in the stats line, every provider and form', () => {
  for (const c of cases) {
    test(c.name, async ({ request, tagged, tag, stats }) => {
      const response = await request.post(tagged(c.form.path), { headers: { ...c.form.headers, ...c.headers, 'x-mock-usage': mockUsage(c.usage) }, data: c.form.body });
      expect(response.status()).toBe(200);
      const [line] = await stats.waitForLines(tag);
      // tokensOf reads a missing field as undefined: it fails against null too.
      expect(tokensOf(line)).toEqual(expectedTokens(c.form.api, c.usage));
      expect(line?.model).toBe(c.form.model);
      expect(line?.request_id).toMatch(/^[0-9a-f]{32}$/);
      expect(line?.first_byte_ms).toEqual(expect.any(Number));
      expect(line?.duration_ms).toBeGreaterThanOrEqual(line!.first_byte_ms!);
    });
  }
});

test("the stats line's request_id is the one in nginx's access log line of the same call (spec §5: \"as in the access log\")", async ({ stack, request, tagged, tag, stats }) => {
  const response = await request.post(tagged('/openai/v1/chat/completions'), { headers: { authorization: `Bearer ${KEYS.alpha.key}` }, data: '{}' });
  expect(response.status()).toBe(200);
  const [line] = await stats.waitForLines(tag);
  const logged = await waitForAccessLines(stack, tag, 1);
  expect(logged[0]!.request_id).toMatch(/^[0-9a-f]{32}$/);
  expect(line!.request_id).toBe(logged[0]!.request_id);
  expect(line!.status).toBe(logged[0]!.status);
});
