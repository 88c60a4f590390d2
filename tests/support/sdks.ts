// The official SDKs cost a worker about a CPU-second to load, both (tests/shared-stack/sdk.spec.ts). Loaded here,
// on first use, only the workers that run an SDK test pay for them, not every worker that
// runs some test of a file that mentions them.

export async function loadOpenAI(): Promise<typeof import('openai').default> {
  return (await import('openai')).default;
}

export async function loadAnthropic(): Promise<typeof import('@anthropic-ai/sdk').default> {
  return (await import('@anthropic-ai/sdk')).default;
}
