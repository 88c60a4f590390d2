import { durationMs, setting } from '../../lmgate/src/settings';
/** The allow-list the e2e stack starts with. Keys are made up; none is a real provider key. */
export interface TestKey {
  id: string;
  key: string;
  owner: string;
}

export const KEYS = {
  alpha: { id: '101', key: 'sk-e2e-alpha-7f3c9a1b2d4e6f80a1b2c3d4e5f6a7b8', owner: 'team-alpha' },
  beta: { id: '202', key: 'sk-ant-e2e-beta-0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f', owner: 'team-beta' },
  gamma: { id: '303', key: 'ya29.e2e-gamma-9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b', owner: 'team-gamma' },
} as const satisfies Record<string, TestKey>;

/** How long nginx keeps an auth decision (LMGATE_AUTH_CACHE_TTL): production's default on a stack of the suite unless a file sets E2E_AUTH_CACHE_TTL. */
export const AUTH_CACHE_SECONDS = durationMs(String(setting('LMGATE_AUTH_CACHE_TTL').default)) / 1000;

/** Added to and removed from the allow-list by the hot-reload tests. */
export const HOT_RELOAD_KEY: TestKey = { id: '404', key: 'sk-e2e-hotreload-5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d', owner: 'team-new' };

/** A well-formed key that is on no list. */
export const UNKNOWN_KEY = 'sk-e2e-unknown-1234567890abcdef1234567890abcdef';

/**
 * `Authorization: Bearer <key>` with `spaces` more spaces after the scheme: the same key,
 * in a header value of its own. nginx keeps its decisions by the credentials' raw values,
 * so a call spelled apart asks the service instead of finding another spelling's decision.
 */
export function bearerSpelledApart(key: string, spaces: number): string {
  return `Bearer ${' '.repeat(spaces)}${key}`;
}

/** Secrets sent where providers take them besides the key headers: Vertex AI's `?key=` and `x-goog-api-key`. */
export const QUERY_KEY = 'AIza-e2e-querykey-3c5e7a9b1d2f4a6c8e0b2d4f6a8c0e2b';
export const GOOG_HEADER_KEY = 'AIza-e2e-goog-header-8e6c4a2b0d9f7e5c3a1b9d7f5e3c1a0b';

/** Every secret the suite sends: none may appear whole in a log, a stats line or the report. */
export const ALL_SECRETS: readonly string[] = [...Object.values(KEYS).map((k) => k.key), HOT_RELOAD_KEY.key, UNKNOWN_KEY, QUERY_KEY, GOOG_HEADER_KEY];

/** A key as OpenAI's and Google's SDKs send it. */
export const bearerHeaders = (key: TestKey) => ({ authorization: `Bearer ${key.key}` });
/** A key as Anthropic's SDK sends it, with the API version it requires. */
export const anthropicHeaders = (key: TestKey) => ({ 'x-api-key': key.key, 'anthropic-version': '2023-06-01' });

export function allowListCsv(keys: readonly TestKey[]): string {
  const rows = keys.map((k) => `${k.id},${k.key},${k.owner},2026-01-15`);
  return ['id,api_key,owner,added', ...rows].join('\n') + '\n';
}

export const INITIAL_KEYS: readonly TestKey[] = Object.values(KEYS);
