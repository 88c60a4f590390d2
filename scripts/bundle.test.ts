import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { bundle } from './bundle.mjs';

// The build every e2e run asks for (scripts/bundle.mjs): it must rebuild after any change
// to what the bundle is made of, and only then.
describe('bundle: built only when an input changed', () => {
  let dir: string;
  const build = () => bundle('src/main.ts', 'dist/out.mjs', { cwd: dir });

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'lmgate-bundle-'));
    await mkdir(join(dir, 'src'));
    await writeFile(join(dir, 'src', 'main.ts'), "import { word } from './word.js';\nconsole.log(word);\n");
    await writeFile(join(dir, 'src', 'word.ts'), "export const word: string = 'first';\n");
  });
  afterEach(async () => rm(dir, { recursive: true, force: true }));

  it('builds the first time, then not again while nothing changed', async () => {
    expect(await build()).toBe(true);
    expect(await readFile(join(dir, 'dist', 'out.mjs'), 'utf8')).toContain('first');
    expect(await build()).toBe(false);
  });

  it('rebuilds when an imported file changed', async () => {
    await build();
    await writeFile(join(dir, 'src', 'word.ts'), "export const word: string = 'second';\n");
    expect(await build()).toBe(true);
    expect(await readFile(join(dir, 'dist', 'out.mjs'), 'utf8')).toContain('second');
  });

  it('rebuilds when an output or its source map is gone', async () => {
    await build();
    await rm(join(dir, 'dist', 'out.mjs.map'));
    expect(await build()).toBe(true);
    await rm(join(dir, 'dist', 'out.mjs'));
    expect(await build()).toBe(true);
  });

  it('rebuilds when an input is gone, and fails as esbuild does', async () => {
    await build();
    await rm(join(dir, 'src', 'word.ts'));
    await expect(build()).rejects.toThrow(/word/);
  });

  it('rebuilds when the stamp is unreadable', async () => {
    await build();
    await writeFile(join(dir, 'dist', 'out.mjs.inputs.json'), 'not json');
    expect(await build()).toBe(true);
  });
});
