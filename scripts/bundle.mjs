// Bundles a workspace's entry into one ESM file that runs with plain `node` and no
// node_modules: the container images copy only that file.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { build, version } from 'esbuild';

function optionsFor(entry, outfile, cwd) {
  return {
    absWorkingDir: resolve(cwd),
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    sourcemap: true,
    legalComments: 'none',
    // Bundled CommonJS dependencies call require(); give the ESM bundle one.
    banner: {
      js: "import { createRequire as __bundleCreateRequire } from 'node:module'; const require = __bundleCreateRequire(import.meta.url);",
    },
    logLevel: 'warning',
  };
}

/** What the bundle was made of: esbuild's version, the options and every input's content. */
function fingerprint(options, inputs) {
  const hash = createHash('sha256').update(version).update(JSON.stringify(options));
  for (const input of [...inputs].sort()) {
    const path = join(options.absWorkingDir, input);
    if (!existsSync(path)) return null;
    hash.update(input).update('\0').update(readFileSync(path)).update('\0');
  }
  return hash.digest('hex');
}

/**
 * Builds `outfile` unless the last build's inputs (listed beside it) are all unchanged, so
 * that every e2e run can ask for a build and pay for one only after an edit. Returns
 * whether it built.
 */
export async function bundle(entry, outfile, { cwd = '.' } = {}) {
  const options = optionsFor(entry, outfile, cwd);
  const stampPath = join(options.absWorkingDir, `${outfile}.inputs.json`);
  try {
    const stamp = JSON.parse(readFileSync(stampPath, 'utf8'));
    const outputs = [outfile, `${outfile}.map`].map((file) => join(options.absWorkingDir, file));
    if (outputs.every((file) => existsSync(file)) && fingerprint(options, stamp.inputs) === stamp.fingerprint) return false;
  } catch {
    // No stamp, or not readable: build.
  }
  const result = await build({ ...options, metafile: true });
  const inputs = Object.keys(result.metafile.inputs);
  writeFileSync(stampPath, `${JSON.stringify({ fingerprint: fingerprint(options, inputs), inputs }, null, 1)}\n`);
  return true;
}

/** Each workspace's bundle: its entry and output, relative to the workspace. */
export const WORKSPACE_BUNDLES = {
  lmgate: { entry: 'src/main.ts', outfile: 'dist/lmgate.mjs' },
  'mock-upstream': { entry: 'src/main.ts', outfile: 'dist/mock-upstream.mjs' },
};

/** Builds (when out of date) the bundle of the workspace in `workspaceDir`. */
export function bundleWorkspace(workspace, workspaceDir) {
  const { entry, outfile } = WORKSPACE_BUNDLES[workspace];
  return bundle(entry, outfile, { cwd: workspaceDir });
}
