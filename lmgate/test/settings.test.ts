import { describe, expect, it } from 'vitest';
import { durationMs, rangeOf, setting, SETTINGS, variableOf } from '../src/settings.js';

describe('the settings table', () => {
  it('finds a setting by name, and says which one it lacks', () => {
    expect(setting('stats.flush_interval_seconds')).toMatchObject({ part: 'service', kind: 'seconds' });
    expect(() => setting('stats.nothing')).toThrow('no setting stats.nothing in config/settings.json');
  });

  it("names each setting's environment variable: nginx's as written, the service's as LMGATE_SECTION__KEY", () => {
    expect(variableOf(setting('LMGATE_AUTH_TIMEOUT'))).toBe('LMGATE_AUTH_TIMEOUT');
    expect(variableOf(setting('stats.flush_interval_seconds'))).toBe('LMGATE_STATS__FLUSH_INTERVAL_SECONDS');
    expect(new Set(SETTINGS.map(variableOf)).size).toBe(SETTINGS.length);
  });

  it('gives every integer and seconds setting its bounds, and names a row without them', () => {
    for (const s of SETTINGS.filter((x) => x.kind === 'integer' || x.kind === 'seconds')) expect(rangeOf(s).max, s.name).toBeGreaterThan(rangeOf(s).min);
    expect(() => rangeOf({ name: 'x.y', part: 'service', kind: 'integer', default: 1, description: '' })).toThrow('x.y: a integer setting needs min and max in config/settings.json');
  });

  it('reads a duration as nginx takes it, and refuses anything else', () => {
    expect([durationMs('3s'), durationMs('500ms'), durationMs('10s')]).toEqual([3000, 500, 10000]);
    for (const text of ['3', '0s', '1.5s', '3m', ' 3s', '3sx', '']) expect(() => durationMs(text), text).toThrow(`not a duration: ${text}`);
  });

  it("gives every nginx duration a default nginx takes", () => {
    for (const s of SETTINGS.filter((x) => x.kind === 'duration')) expect(durationMs(String(s.default)), s.name).toBeGreaterThan(0);
  });
});
