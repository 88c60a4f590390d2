import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { endpointWithoutKey } from '../lmgate/src/records';
import querySpellings from '../lmgate/test/fixtures/query-key-spellings.json' with { type: 'json' };

// The `key` query parameter's mask is written in three languages: njs (the access log),
// TypeScript (the stats line) and sed (nginx's error log, in start.sh). Each copy is fed
// every spelling of the table here, in a second; the e2e suite feeds the same table through
// the running stack (tests/shared-stack/trust-boundaries.spec.ts).
const ROOT = join(import.meta.dirname, '..');
const SECRET = 'AIza-mask-test-0123456789';

function njsMask(): (text: string) => string {
  const source = readFileSync(join(ROOT, 'nginx/njs/lmgate_secrets.js'), 'utf8');
  const literal = /var QUERY_KEY = \/(.+)\/(\w+);/.exec(source);
  const replacement = /text\.replace\(QUERY_KEY, '([^']+)'\)/.exec(source);
  if (!literal || !replacement) throw new Error('lmgate_secrets.js: QUERY_KEY or its replace not found');
  const pattern = new RegExp(literal[1]!, literal[2]);
  return (text) => text.replace(pattern, replacement[1]!);
}

function sedMask(lines: string[]): string[] {
  const start = readFileSync(join(ROOT, 'nginx/start.sh'), 'utf8');
  const expression = /sed -u -E '([^']+)'/.exec(start);
  if (!expression) throw new Error('start.sh: the error log sed expression not found');
  return execFileSync('sed', ['-E', expression[1]!], { input: lines.join('\n') + '\n', encoding: 'utf8' }).trimEnd().split('\n');
}

describe('the query key mask: njs, the service and the error log sed agree on every spelling', () => {
  const cases = querySpellings.cases.map((c) => ({ name: c.case, uri: c.uri.replaceAll('$S', SECRET), masked: c.masked.replaceAll('$S', SECRET) }));
  const sed = sedMask(cases.map((c) => c.uri));
  const njs = njsMask();
  for (const [i, c] of cases.entries()) {
    it(c.name, () => {
      expect({ njs: njs(c.uri), service: endpointWithoutKey(c.uri), sed: sed[i] }).toEqual({ njs: c.masked, service: c.masked, sed: c.masked });
    });
  }
});
