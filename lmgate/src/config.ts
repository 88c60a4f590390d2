import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { rangeOf, SETTINGS, type Setting } from './settings.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error' | 'fatal';

export interface Config {
  server: { host: string; port: number; body_limit_bytes: number };
  auth: { allowlist_path: string; poll_interval_seconds: number };
  stats: {
    output_path: string;
    spool_dir: string;
    flush_interval_seconds: number;
    max_buffered_records: number;
    rotate_bytes: number;
  };
  logging: { level: LogLevel };
  metrics: { host: string; port: number };
}

export const DEFAULT_CONFIG_PATH = 'config/lmgate.yaml';
export const ENV_PREFIX = 'LMGATE_';

/** A configuration problem a person must fix; the message names the key or file. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

type Tree = Record<string, unknown>;

const SERVICE_SETTINGS = SETTINGS.filter((s) => s.part === 'service');

/** The defaults of config/settings.json (the settings table), as a configuration. */
export function defaultConfig(): Config {
  const tree: Record<string, Tree> = {};
  for (const s of SERVICE_SETTINGS) {
    const [section, key] = s.name.split('.') as [string, string];
    (tree[section] ??= {})[key] = s.default;
  }
  return tree as unknown as Config;
}

const LOG_LEVELS: Record<string, LogLevel> = {
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  warning: 'warn',
  error: 'error',
  critical: 'fatal',
  fatal: 'fatal',
};

type Validator = (value: unknown) => unknown;

function integer({ min, max }: { min: number; max: number }): Validator {
  return (value) => {
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new Error(`must be an integer from ${min} to ${max}`);
    }
    return value;
  };
}

// Timers take at most 2^31-1 ms: the table bounds intervals far below that (a day).
function seconds({ min: above, max }: { min: number; max: number }): Validator {
  return (value) => {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= above || value > max) {
      throw new Error(`must be a number of seconds greater than ${above} and at most ${max}`);
    }
    return value;
  };
}

function nonEmptyString(value: unknown): string {
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (typeof value !== 'string' || value.trim() === '') throw new Error('must be a non-empty string');
  return value;
}

function logLevel(value: unknown): LogLevel {
  const level = typeof value === 'string' ? LOG_LEVELS[value.toLowerCase()] : undefined;
  if (!level) throw new Error(`must be one of ${Object.keys(LOG_LEVELS).map((l) => l.toUpperCase()).join(', ')}`);
  return level;
}

function validatorOf(s: Setting): Validator {
  switch (s.kind) {
    case 'integer':
      return integer(rangeOf(s));
    case 'seconds':
      return seconds(rangeOf(s));
    case 'string':
      return nonEmptyString;
    case 'log-level':
      return logLevel;
    case 'duration':
      throw new Error(`${s.name}: durations are nginx's, not the service's`);
  }
}

/** Each key's check, by its kind and range in the settings table. */
const SCHEMA: Record<string, Record<string, Validator>> = {};
for (const s of SERVICE_SETTINGS) {
  const [section, key] = s.name.split('.') as [string, string];
  (SCHEMA[section] ??= {})[key] = validatorOf(s);
}

/** Environment values arrive as text: give them the type they spell. */
export function coerceEnvValue(raw: string): boolean | number | string {
  const text = raw.trim();
  if (/^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  if (/^[-+]?\d+$/.test(text)) return Number.parseInt(text, 10);
  if (/^[-+]?(\d+\.\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) return Number.parseFloat(text);
  return raw;
}

export interface EnvOverride {
  variable: string;
  path: string[];
  value: boolean | number | string;
  /** The text as set: string keys keep it (`007` stays `007`). */
  raw: string;
}

/** `LMGATE_SERVER__PORT=9090` → server.port = 9090. Other LMGATE_ variables are not config keys. */
export function envOverrides(env: NodeJS.ProcessEnv): EnvOverride[] {
  const overrides: EnvOverride[] = [];
  for (const [variable, raw] of Object.entries(env)) {
    if (!variable.startsWith(ENV_PREFIX) || raw === undefined) continue;
    const path = variable.slice(ENV_PREFIX.length).toLowerCase().split('__');
    if (path.length < 2 || path.some((part) => part === '')) continue;
    overrides.push({ variable, path, value: coerceEnvValue(raw), raw });
  }
  return overrides;
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function readYamlFile(path: string): Tree {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = parseYaml(text);
  } catch (error) {
    throw new ConfigError(`config file ${path} is not valid YAML: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (!isTree(parsed)) throw new ConfigError(`config file ${path} must hold a mapping of sections`);
  return parsed;
}

/** Own properties only: `constructor` or `toString` are not config keys. */
function validatorFor(section: string | undefined, key: string | undefined): Validator | undefined {
  if (section === undefined || key === undefined || !Object.hasOwn(SCHEMA, section)) return undefined;
  const validators = SCHEMA[section] as Record<string, Validator>;
  return Object.hasOwn(validators, key) ? validators[key] : undefined;
}

function applyValue(config: Tree, path: string[], value: unknown, source: string): void {
  const [section, key, ...rest] = path;
  const label = path.join('.');
  const validate = validatorFor(section, key);
  if (!validate || rest.length > 0 || section === undefined || key === undefined) {
    throw new ConfigError(`unknown config key ${label} (from ${source})`);
  }
  try {
    (config[section] as Tree)[key] = validate(value);
  } catch (error) {
    throw new ConfigError(`invalid value for ${label} (from ${source}): ${(error as Error).message}, got ${JSON.stringify(value)}`);
  }
}

export interface LoadConfigOptions {
  /** Explicit config file: it must exist. Without it, the default path is used if present. */
  path?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Working directory the default path is relative to. */
  cwd?: string;
}

export interface LoadedConfig {
  config: Config;
  /** The file that was read, or null when built-in defaults were used. */
  source: string | null;
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const config = defaultConfig() as unknown as Tree;
  const defaultPath = resolve(options.cwd ?? process.cwd(), DEFAULT_CONFIG_PATH);
  const path = options.path ?? (existsSync(defaultPath) ? defaultPath : null);

  if (path !== null) {
    const file = readYamlFile(path);
    for (const [section, values] of Object.entries(file)) {
      if (values === null) continue;
      if (!isTree(values)) {
        if (!Object.hasOwn(SCHEMA, section)) throw new ConfigError(`unknown config key ${section} (from ${path})`);
        throw new ConfigError(`config section ${section} in ${path} must be a mapping`);
      }
      for (const [key, value] of Object.entries(values)) applyValue(config, [section, key], value, path);
    }
  }
  for (const override of envOverrides(env)) {
    const isText = validatorFor(override.path[0], override.path[1]) === nonEmptyString;
    applyValue(config, override.path, isText ? override.raw : override.value, override.variable);
  }
  const loaded = config as unknown as Config;
  if (loaded.metrics.port === loaded.server.port) {
    throw new ConfigError(`invalid value for metrics.port: it must differ from server.port (${loaded.server.port}), metrics have a listener of their own`);
  }
  return { config: loaded, source: path };
}
