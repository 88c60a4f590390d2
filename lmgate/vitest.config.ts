import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The settings table lies at the repository's root (config/settings.json), outside this
// workspace. Stryker runs the tests in a copy of the workspace (.stryker-tmp/sandbox-…),
// from which src/settings.ts's relative import would miss it: the tests take it from the
// nearest folder above that holds it.
function settingsTable(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'config', 'settings.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`config/settings.json is in no folder above ${fileURLToPath(import.meta.url)}`);
  }
}

export default defineConfig({
  resolve: { alias: [{ find: '../../config/settings.json', replacement: settingsTable() }] },
});
