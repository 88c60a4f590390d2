/**
 * The README's settings table, derived from config/settings.json: `npm run settings`
 * writes it between the README's markers; scripts/settings-table.test.ts fails while the
 * README's copy differs from what the table gives.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rangeOf, SETTINGS, variableOf, type Setting } from '../lmgate/src/settings';

export const README = join(import.meta.dirname, '..', 'README.md');
export const BEGIN = '<!-- settings table: generated from config/settings.json by `npm run settings` -->';
export const END = '<!-- end of the settings table -->';

function allowed(s: Setting): string {
  switch (s.kind) {
    case 'duration':
      return 'a duration: `500ms`, `3s`';
    case 'seconds':
      return `seconds, more than ${rangeOf(s).min}, at most ${rangeOf(s).max}`;
    case 'integer':
      return `a whole number from ${rangeOf(s).min} to ${rangeOf(s).max}`;
    case 'log-level':
      return 'a log level';
    case 'string':
      return 'text, not empty';
  }
}

export function settingsTable(): string {
  const rows = SETTINGS.map((s) => {
    const where = s.part === 'nginx' ? 'nginx (`nginx/start.sh`), environment' : `service, \`config/lmgate.yaml\` or \`${variableOf(s)}\``;
    return `| \`${s.name}\` | \`${String(s.default)}\` | ${allowed(s)} | ${where} | ${s.description} |`;
  });
  return ['| setting | default | allowed | read by, set in | what it does |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

/** The README with its settings block as the table gives it. */
export function readmeWithTable(readme: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md lacks the settings table's markers (${BEGIN} … ${END})`);
  return `${readme.slice(0, begin + BEGIN.length)}\n${settingsTable()}\n${readme.slice(end)}`;
}

if (process.argv.includes('--write')) {
  writeFileSync(README, readmeWithTable(readFileSync(README, 'utf8')));
  console.log('README.md: settings table written from config/settings.json');
}
