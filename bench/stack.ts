/**
 * The benchmark's stack: the e2e stack plus a plain nginx proxy and the mock's TLS port
 * on the host (docker-compose.bench.yaml). Reuses a stack an earlier `BENCH_KEEP_STACK=1`
 * run left up; otherwise brings one up and takes it down again unless asked to keep it.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildImages, E2E_COMPOSE_FILES, freePort, prepareStack, removeStack, startStack, waitForHealth } from '../tests/support/lifecycle';
import { E2E_DIR, type RunInfo } from '../tests/support/run-info';

export const BENCH_COMPOSE_FILES = [...E2E_COMPOSE_FILES, 'docker-compose.bench.yaml'];
// Not under the suite's prefix: the suite removes its own stacks once their runner is gone.
const KEPT_PREFIX = 'lmgate-bench-';
const KEPT_STACK_FILE = join(E2E_DIR, 'bench-stack.json');

export interface BenchStack {
  info: RunInfo;
  plainURL: string;
  mockURL: string;
  /** True when this run brought the stack up (and so may take it down). */
  started: boolean;
}

function readKeptStack(): BenchStack | null {
  return existsSync(KEPT_STACK_FILE) ? (JSON.parse(readFileSync(KEPT_STACK_FILE, 'utf8')) as BenchStack) : null;
}

async function keptStack(): Promise<BenchStack | null> {
  const stack = readKeptStack();
  if (!stack) return null;
  try {
    await waitForHealth(stack.info, 5_000);
    return { ...stack, started: false };
  } catch {
    console.log(`[bench] the stack kept in ${KEPT_STACK_FILE} (${stack.info.project}) is not healthy; starting a new one`);
    await removeStack(stack.info);
    rmSync(KEPT_STACK_FILE, { force: true });
    return null;
  }
}

export async function openStack(standalone: boolean, keep: boolean): Promise<BenchStack> {
  const kept = await keptStack();
  if (kept) {
    console.log(`[bench] reusing the stack ${kept.info.project} that an earlier run kept; it stays up`);
    return kept;
  }
  const [plainPort, mockPort] = await Promise.all([freePort(), freePort()]);
  const info = await prepareStack({
    standalone,
    label: 'bench',
    ...(keep ? { prefix: KEPT_PREFIX } : {}),
    env: { BENCH_PLAIN_PORT: String(plainPort), BENCH_MOCK_TLS_PORT: String(mockPort) },
  });
  info.composeFiles = BENCH_COMPOSE_FILES;
  const stack: BenchStack = { info, plainURL: `http://127.0.0.1:${plainPort}`, mockURL: `https://127.0.0.1:${mockPort}`, started: true };
  await buildImages(info);
  await startStack(info);
  if (keep) {
    writeFileSync(KEPT_STACK_FILE, JSON.stringify(stack, null, 2));
    console.log(`[bench] keeping the stack ${info.project}: later runs reuse it; remove it with BENCH_DOWN=1 npm run bench`);
  }
  return stack;
}

export async function closeStack(stack: BenchStack, keep: boolean): Promise<void> {
  if (stack.started && !keep) await removeStack(stack.info);
}

/** Takes down a kept stack, if there is one. */
export async function removeKeptStack(): Promise<void> {
  const stack = readKeptStack();
  if (!stack) {
    console.log('[bench] no kept stack');
    return;
  }
  await removeStack(stack.info);
  rmSync(KEPT_STACK_FILE, { force: true });
  console.log(`[bench] removed the kept stack ${stack.info.project}`);
}
