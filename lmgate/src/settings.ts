/**
 * The settings table (config/settings.json): every setting of LMGate with its default,
 * its allowed values and the part that reads it. The one place a default is written; the
 * service's configuration (config.ts), nginx's start script, the suite and the README's
 * table are derived from it.
 */
import table from '../../config/settings.json' with { type: 'json' };

export type SettingKind = 'duration' | 'seconds' | 'integer' | 'string' | 'log-level';

export interface Setting {
  /** nginx's: the environment variable. The service's: `section.key` in lmgate.yaml (LMGATE_SECTION__KEY in the environment). */
  name: string;
  part: 'nginx' | 'service';
  kind: SettingKind;
  default: string | number;
  /** integer: the least value; seconds: the value it must be greater than. */
  min?: number;
  max?: number;
  description: string;
}

export const SETTINGS: readonly Setting[] = table.settings as Setting[];

export function setting(name: string): Setting {
  const found = SETTINGS.find((s) => s.name === name);
  if (!found) throw new Error(`no setting ${name} in config/settings.json`);
  return found;
}

/**
 * The bounds of an integer or seconds setting, from its row: an integer lies from `min` to
 * `max`; seconds are more than `min` and at most `max`. A row of either kind without them
 * is a mistake in the table.
 */
export function rangeOf(s: Setting): { min: number; max: number } {
  if (s.min === undefined || s.max === undefined) throw new Error(`${s.name}: a ${s.kind} setting needs min and max in config/settings.json`);
  return { min: s.min, max: s.max };
}

/** The environment variable that sets it: nginx's name, or LMGATE_SECTION__KEY. */
export function variableOf(s: Setting): string {
  return s.part === 'nginx' ? s.name : `LMGATE_${s.name.toUpperCase().replace('.', '__')}`;
}

/** A duration as nginx takes it (`3s`, `500ms`), in milliseconds. */
export function durationMs(text: string): number {
  const match = /^([1-9][0-9]*)(ms|s)$/.exec(text);
  if (!match) throw new Error(`not a duration: ${text}`);
  return Number(match[1]) * (match[2] === 's' ? 1000 : 1);
}
