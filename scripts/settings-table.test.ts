import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { durationMs, setting, SETTINGS, variableOf } from '../lmgate/src/settings';
import { defaultConfig } from '../lmgate/src/config';
import { README, readmeWithTable } from './settings-table';

const ROOT = join(import.meta.dirname, '..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

describe('the settings table (config/settings.json)', () => {
  it('is what the README shows (npm run settings writes it)', () => {
    const readme = readFileSync(README, 'utf8');
    expect(readmeWithTable(readme) === readme, 'README.md is behind config/settings.json: run npm run settings').toBe(true);
  });

  it('holds one setting per line, as nginx/start.sh reads it', () => {
    const rows = read('config/settings.json').split('\n').filter((line) => line.includes('"name"'));
    expect(rows).toHaveLength(SETTINGS.length);
    for (const row of rows) expect(row.match(/"name"/g), row).toHaveLength(1);
  });

  it('gives every key of the service its default and nothing else', () => {
    const keys = Object.entries(defaultConfig()).flatMap(([section, values]) => Object.keys(values as object).map((key) => `${section}.${key}`));
    expect(keys.sort()).toEqual(SETTINGS.filter((s) => s.part === 'service').map((s) => s.name).sort());
  });

  it("names every setting nginx's start script reads, and the start script repeats no default", () => {
    const start = read('nginx/start.sh');
    const nginxSettings = SETTINGS.filter((s) => s.part === 'nginx');
    for (const s of nginxSettings) expect(start, s.name).toContain(`value_of ${s.name}`);
    for (const s of nginxSettings) expect(start, `${s.name}'s default written in start.sh`).not.toMatch(new RegExp(`\\$\\{${s.name}:-[^}]`));
  });

  it("passes every nginx setting from the shell or .env to nginx, and gives nginx a stop grace period longer than its shutdown timeout", () => {
    const compose = read('docker-compose.yaml');
    const nginx = compose.slice(compose.indexOf('\n  nginx:'));
    for (const s of SETTINGS.filter((x) => x.part === 'nginx')) expect(nginx, s.name).toContain(`${s.name}: "\${${s.name}:-}"`);
    const grace = /stop_grace_period: ([0-9]+)s/.exec(nginx);
    expect(grace, "nginx's stop_grace_period in docker-compose.yaml").not.toBeNull();
    // Docker's SIGKILL must come after nginx has closed the calls still open and written their records.
    expect(Number(grace![1]) * 1000).toBeGreaterThan(durationMs(String(setting('LMGATE_SHUTDOWN_TIMEOUT').default)));
  });

  it('is the only place a default is written: the compose files and the service config set no default', () => {
    for (const file of ['docker-compose.yaml', 'docker-compose.e2e.yaml', 'config/lmgate.yaml']) {
      const text = read(file);
      for (const s of SETTINGS.filter((x) => x.part === 'nginx')) expect(text, `${file}: ${s.name}`).not.toMatch(new RegExp(`${s.name}: "\\$\\{[A-Z0-9_]+:-[^}]`));
    }
    const yaml = read('config/lmgate.yaml').split('\n').filter((line) => !line.trimStart().startsWith('#') && line.trim() !== '');
    expect(yaml, 'config/lmgate.yaml sets keys (defaults belong in config/settings.json)').toEqual([]);
    for (const s of SETTINGS) expect(variableOf(s)).toMatch(/^LMGATE_[A-Z0-9_]+$/);
  });
});
