// Bundles the service into one ESM file that runs with plain `node` and no node_modules:
// the container image copies only dist/.
import { build } from 'esbuild';

await build({
  entryPoints: ['src/main.ts'],
  outfile: 'dist/mock-upstream.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  sourcemap: true,
  legalComments: 'none',
  // Bundled CommonJS dependencies call require(); give the ESM bundle one.
  banner: {
    js: "import { createRequire as __mockCreateRequire } from 'node:module'; const require = __mockCreateRequire(import.meta.url);",
  },
  logLevel: 'warning',
});
