import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { coerceEnvValue, ConfigError, defaultConfig, loadConfig, type LoadConfigOptions } from '../src/config.js';
import { makeTempDir, removeDir } from './helpers.js';

let dir: string;

beforeEach(async () => {
  dir = await makeTempDir('lmgate-config-');
});

afterEach(async () => {
  await removeDir(dir);
});

async function yamlFile(text: string, name = 'lmgate.yaml'): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

/** loadConfig in the empty temp dir, with only the given environment. */
function load(options: LoadConfigOptions = {}) {
  return loadConfig({ cwd: dir, env: {}, ...options });
}

/** Expects loadConfig to throw a ConfigError whose message contains every fragment. */
function expectConfigError(options: LoadConfigOptions, ...fragments: string[]): void {
  let caught: unknown;
  try {
    load(options);
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ConfigError);
  for (const fragment of fragments) expect((caught as Error).message).toContain(fragment);
}

describe('loadConfig: sources', () => {
  it('uses the built-in defaults when there is no file and no variable', () => {
    const { config, source } = load();
    expect(source).toBeNull();
    expect(config).toEqual({
      server: { host: '0.0.0.0', port: 8081, body_limit_bytes: 32 * 1024 * 1024 },
      auth: { allowlist_path: '/data/allowlist.csv', poll_interval_seconds: 30 },
      stats: { output_path: '/data/stats.jsonl', spool_dir: '/spool', flush_interval_seconds: 10, max_buffered_records: 100_000, rotate_bytes: 100 * 1024 * 1024 },
      logging: { level: 'info' },
      metrics: { host: '0.0.0.0', port: 9464 },
    });
  });

  it('reads config/lmgate.yaml relative to cwd when it exists', async () => {
    await mkdir(join(dir, 'config'));
    await writeFile(join(dir, 'config', 'lmgate.yaml'), 'server:\n  port: 9001\n');
    const { config, source } = load();
    expect([config.server.port, source]).toEqual([9001, join(dir, 'config', 'lmgate.yaml')]);
  });

  it('lays the file over the defaults, keeping the keys it does not set', async () => {
    const path = await yamlFile('auth:\n  allowlist_path: /etc/lmgate/keys.csv\nstats:\n  flush_interval_seconds: 2.5\n');
    const { config } = load({ path });
    expect(config).toEqual({
      ...defaultConfig(),
      auth: { allowlist_path: '/etc/lmgate/keys.csv', poll_interval_seconds: 30 },
      stats: { ...defaultConfig().stats, flush_interval_seconds: 2.5 },
    });
  });

  it('reads the flow-style example of the spec', async () => {
    const path = await yamlFile(
      'server:  { port: 8081 }\nauth:    { allowlist_path: /data/allowlist.csv, poll_interval_seconds: 30 }\nstats:   { output_path: /data/stats.jsonl, flush_interval_seconds: 10 }\nlogging: { level: INFO }\n',
    );
    expect(load({ path }).config).toEqual(defaultConfig());
  });

  it('rejects an explicit path that does not exist, naming it', async () => {
    expectConfigError({ path: join(dir, 'missing.yaml') }, join(dir, 'missing.yaml'));
  });

  it('uses defaults for an empty file and for a section left empty', async () => {
    expect(load({ path: await yamlFile('') }).config).toEqual(defaultConfig());
    expect(load({ path: await yamlFile('server:\nstats:\n', 'empty-sections.yaml') }).config).toEqual(defaultConfig());
  });

  it('lets LMGATE_SECTION__KEY variables override the file', async () => {
    const path = await yamlFile('server:\n  port: 9001\n');
    expect(load({ path, env: { LMGATE_SERVER__PORT: '9090' } }).config.server.port).toBe(9090);
  });

  it('applies variables over the defaults without a file, with the type each key needs', () => {
    const { config } = load({
      env: {
        LMGATE_SERVER__HOST: '127.0.0.1',
        LMGATE_STATS__FLUSH_INTERVAL_SECONDS: '0.5',
        LMGATE_STATS__OUTPUT_PATH: '/tmp/s.jsonl',
        LMGATE_STATS__SPOOL_DIR: '/var/spool/lmgate',
        LMGATE_LOGGING__LEVEL: 'debug',
        LMGATE_AUTH__POLL_INTERVAL_SECONDS: '5',
      },
    });
    expect(config.server.host).toBe('127.0.0.1');
    expect(config.stats.flush_interval_seconds).toBe(0.5);
    expect(config.stats.output_path).toBe('/tmp/s.jsonl');
    expect(config.stats.spool_dir).toBe('/var/spool/lmgate');
    expect(config.logging.level).toBe('debug');
    expect(config.auth.poll_interval_seconds).toBe(5);
  });

  it('ignores LMGATE_ variables that are not SECTION__KEY, like LMGATE_CONFIG', () => {
    expect(load({ env: { LMGATE_CONFIG: '/nowhere.yaml', LMGATE_: 'x', LMGATE_PORT: '1', OTHER__PORT: 'x' } }).config).toEqual(defaultConfig());
  });
});

describe('loadConfig: metrics', () => {
  it('reads metrics.host and metrics.port from the file', async () => {
    const path = await yamlFile('metrics:\n  host: 127.0.0.1\n  port: 9100\n');
    expect(load({ path }).config.metrics).toEqual({ host: '127.0.0.1', port: 9100 });
  });

  it('lets LMGATE_METRICS__PORT and LMGATE_METRICS__HOST override the file', async () => {
    const path = await yamlFile('metrics:\n  port: 9100\n');
    expect(load({ path, env: { LMGATE_METRICS__PORT: '9200', LMGATE_METRICS__HOST: '::' } }).config.metrics).toEqual({ host: '::', port: 9200 });
  });

  it('rejects a metrics port that is not a port, naming the key', async () => {
    for (const port of ['abc', '0', '65536', '9464.5']) expectConfigError({ env: { LMGATE_METRICS__PORT: port } }, 'metrics.port', 'LMGATE_METRICS__PORT');
    const path = await yamlFile('metrics:\n  port: "9464"\n');
    expectConfigError({ path }, 'metrics.port', path);
  });

  it('rejects an empty metrics host and unknown metrics keys', () => {
    expectConfigError({ env: { LMGATE_METRICS__HOST: ' ' } }, 'metrics.host');
    expectConfigError({ env: { LMGATE_METRICS__PATH: '/m' } }, 'metrics.path');
  });

  it('rejects a metrics port equal to the server port, naming both keys', () => {
    expectConfigError({ env: { LMGATE_METRICS__PORT: '8081' } }, 'metrics.port', 'server.port');
    expectConfigError({ env: { LMGATE_SERVER__PORT: '9464' } }, 'metrics.port', 'server.port');
  });
});

describe('coerceEnvValue', () => {
  it('turns true/false in any case into booleans', () => {
    expect([coerceEnvValue('true'), coerceEnvValue('FALSE'), coerceEnvValue(' True ')]).toEqual([true, false, true]);
  });

  it('turns integers into numbers', () => {
    expect([coerceEnvValue('9090'), coerceEnvValue('-7'), coerceEnvValue('+3')]).toEqual([9090, -7, 3]);
  });

  it('turns decimals into floats', () => {
    expect([coerceEnvValue('2.5'), coerceEnvValue('.5'), coerceEnvValue('1.5e3')]).toEqual([2.5, 0.5, 1500]);
  });

  it('leaves anything else a string', () => {
    expect([coerceEnvValue('abc'), coerceEnvValue('127.0.0.1'), coerceEnvValue('/data/x.csv'), coerceEnvValue('12abc')]).toEqual(['abc', '127.0.0.1', '/data/x.csv', '12abc']);
  });
});

describe('loadConfig: validation', () => {
  it('rejects LMGATE_SERVER__PORT=abc naming the key and the variable', () => {
    expectConfigError({ env: { LMGATE_SERVER__PORT: 'abc' } }, 'server.port', 'LMGATE_SERVER__PORT');
  });

  it('rejects a port that is not a number in the file, naming the key and the file', async () => {
    const path = await yamlFile('server:\n  port: eighty\n');
    expectConfigError({ path }, 'server.port', path);
  });

  it('rejects a port as quoted text in the file (no silent coercion of YAML strings)', async () => {
    expectConfigError({ path: await yamlFile('server:\n  port: "8081"\n') }, 'server.port');
  });

  it('rejects ports out of range and fractional ports', () => {
    for (const port of ['0', '65536', '-1', '80.5', 'true']) {
      expectConfigError({ env: { LMGATE_SERVER__PORT: port } }, 'server.port');
    }
  });

  it('rejects intervals beyond a day, which timers would cut to a millisecond', () => {
    expectConfigError({ env: { LMGATE_STATS__FLUSH_INTERVAL_SECONDS: '3000000' } }, 'stats.flush_interval_seconds', 'LMGATE_STATS__FLUSH_INTERVAL_SECONDS');
    expectConfigError({ env: { LMGATE_AUTH__POLL_INTERVAL_SECONDS: '86401' } }, 'auth.poll_interval_seconds');
  });

  it('keeps the spelling of text values set by a variable', () => {
    expect(loadConfig({ env: { LMGATE_STATS__OUTPUT_PATH: '007' }, cwd: '/nonexistent' }).config.stats.output_path).toBe('007');
  });

  it('accepts the edge ports 1 and 65535', () => {
    expect(load({ env: { LMGATE_SERVER__PORT: '1' } }).config.server.port).toBe(1);
    expect(load({ env: { LMGATE_SERVER__PORT: '65535' } }).config.server.port).toBe(65535);
  });

  it('rejects intervals that are not greater than zero', () => {
    expectConfigError({ env: { LMGATE_STATS__FLUSH_INTERVAL_SECONDS: '0' } }, 'stats.flush_interval_seconds');
    expectConfigError({ env: { LMGATE_AUTH__POLL_INTERVAL_SECONDS: '-5' } }, 'auth.poll_interval_seconds');
    expectConfigError({ env: { LMGATE_AUTH__POLL_INTERVAL_SECONDS: 'soon' } }, 'auth.poll_interval_seconds');
  });

  it('rejects an empty path', () => {
    expectConfigError({ env: { LMGATE_AUTH__ALLOWLIST_PATH: '  ' } }, 'auth.allowlist_path');
    expectConfigError({ env: { LMGATE_STATS__SPOOL_DIR: '' } }, 'stats.spool_dir', 'LMGATE_STATS__SPOOL_DIR');
  });

  it('reads stats.spool_dir from the file, and rejects one that is not a path', async () => {
    expect(load({ path: await yamlFile('stats:\n  spool_dir: /var/spool/lmgate\n') }).config.stats).toEqual({ ...defaultConfig().stats, spool_dir: '/var/spool/lmgate' });
    const path = await yamlFile('stats:\n  spool_dir: [/spool-a, /spool-b]\n', 'list.yaml');
    expectConfigError({ path }, 'stats.spool_dir', path);
  });

  it('accepts the log level names DEBUG, INFO, WARNING, ERROR, CRITICAL in any case', () => {
    const levels = ['DEBUG', 'info', 'Warning', 'ERROR', 'critical'].map((level) => load({ env: { LMGATE_LOGGING__LEVEL: level } }).config.logging.level);
    expect(levels).toEqual(['debug', 'info', 'warn', 'error', 'fatal']);
  });

  it('rejects an unknown log level, naming the key', async () => {
    expectConfigError({ env: { LMGATE_LOGGING__LEVEL: 'verbose' } }, 'logging.level', 'LMGATE_LOGGING__LEVEL');
    const path = await yamlFile('logging:\n  level: TRACE-ALL\n');
    expectConfigError({ path }, 'logging.level', path);
  });

  it('rejects an unknown key in the file, naming key and file', async () => {
    const path = await yamlFile('server:\n  prot: 8081\n');
    expectConfigError({ path }, 'server.prot', path);
  });

  it('rejects an unknown section in the file', async () => {
    expectConfigError({ path: await yamlFile('database:\n  url: x\n') }, 'database');
    expectConfigError({ path: await yamlFile('verbose: true\n', 'scalar.yaml') }, 'verbose');
  });

  it('rejects an unknown key in a variable, naming the variable', () => {
    expectConfigError({ env: { LMGATE_SERVER__PROT: '8081' } }, 'server.prot', 'LMGATE_SERVER__PROT');
    expectConfigError({ env: { LMGATE_SERVER__PORT__EXTRA: '1' } }, 'LMGATE_SERVER__PORT__EXTRA');
  });

  it('rejects a section that is not a mapping', async () => {
    expectConfigError({ path: await yamlFile('server: 8081\n') }, 'server');
  });

  it('rejects a file that is not YAML or not a mapping, naming the file', async () => {
    const broken = await yamlFile('server:\n  port: [8081\n');
    expectConfigError({ path: broken }, broken, 'YAML');
    const list = await yamlFile('- server\n- auth\n', 'list.yaml');
    expectConfigError({ path: list }, list);
  });

  it('rejects a directory given as the config file, naming it', () => {
    expectConfigError({ path: dir }, dir);
  });

  it('rejects names of Object built-ins as unknown keys (file), leaving the built-ins alone', async () => {
    const path = await yamlFile('constructor:\n  seal: 1\n');
    const originalSeal = Object.seal;
    let caught: unknown;
    try {
      load({ path });
    } catch (error) {
      caught = error;
    } finally {
      Object.seal = originalSeal;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toContain('unknown config key constructor.seal');
  });

  it('rejects names of Object built-ins as unknown keys (variable), leaving the built-ins alone', () => {
    const originalValues = Object.values;
    let caught: unknown;
    let replaced = false;
    try {
      load({ env: { LMGATE_CONSTRUCTOR__VALUES: 'x' } });
    } catch (error) {
      caught = error;
    } finally {
      replaced = Object.values !== originalValues;
      Object.values = originalValues;
    }
    expect(replaced).toBe(false);
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as Error).message).toContain('unknown config key constructor.values');
  });
});
