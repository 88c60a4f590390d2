import { randomToken } from '../ids.js';
import { jsonPlan, streamPlan } from '../plan.js';
import { SSE_CONTENT_TYPE, sseDataCrlf } from '../sse.js';
import type { Usage } from '../controls.js';
import { DEFAULT_CONTENT, type Content, type Endpoint, type JsonObject, type Provider, type ReplyContext } from './types.js';
import { amount, defined, reported, type Reported } from './usage.js';

const JSON_CONTENT_TYPE = 'application/json; charset=UTF-8';
const MODEL_PATH = /^\/(?:v1|v1beta1)\/projects\/[^/]+\/locations\/[^/]+\/publishers\/google\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

function safeDecode(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

function textDetails(count: Reported) {
  return typeof count === 'number' ? [{ modality: 'TEXT', tokenCount: count }] : undefined;
}

/**
 * usageMetadata: the cached tokens are part of promptTokenCount, while the thoughts and the
 * tool-use prompt are counted beside the prompt and candidates, and all of them in the total.
 * Vertex leaves out the counts it has nothing for rather than sending 0.
 */
function fullUsage(usage: Usage) {
  const { input, output } = usage;
  const cached = reported(usage.cached);
  const thoughts = reported(usage.reasoning);
  const toolPrompt = reported(usage.toolPrompt);
  return defined({
    promptTokenCount: input,
    candidatesTokenCount: output,
    totalTokenCount: input + output + amount(thoughts) + amount(toolPrompt),
    cachedContentTokenCount: cached,
    toolUsePromptTokenCount: toolPrompt,
    thoughtsTokenCount: thoughts,
    trafficType: 'ON_DEMAND',
    promptTokensDetails: textDetails(input),
    cacheTokensDetails: textDetails(cached),
    candidatesTokensDetails: textDetails(output),
    toolUsePromptTokensDetails: textDetails(toolPrompt),
  });
}

function generateContent(pathModel: string): Endpoint {
  const modelOf = (ctx: ReplyContext) => ctx.controls.model ?? pathModel;
  return {
    readsBody: false,
    json(ctx, content) {
      return {
        candidates: [{ content: { role: 'model', parts: [{ text: content.text }] }, finishReason: 'STOP', avgLogprobs: -0.0421 }],
        modelVersion: modelOf(ctx),
        createTime: new Date().toISOString(),
        responseId: randomToken(24),
        usageMetadata: fullUsage(ctx.controls.usage),
      };
    },
    reply(ctx, content = DEFAULT_CONTENT) {
      return { ...jsonPlan(200, this.json(ctx, content)), headers: { 'content-type': JSON_CONTENT_TYPE } };
    },
  };
}

function streamChunks(ctx: ReplyContext, model: string, content: Content): JsonObject[] {
  const createTime = new Date().toISOString();
  const responseId = randomToken(24);
  const last = content.pieces.length - 1;
  return content.pieces.map((text, index) => {
    const candidate: JsonObject = { content: { role: 'model', parts: [{ text }] } };
    if (index === last) candidate['finishReason'] = 'STOP';
    // Only the last chunk carries the totals; earlier ones know the prompt size alone.
    const usageMetadata = index === last ? fullUsage(ctx.controls.usage) : { promptTokenCount: ctx.controls.usage.input, trafficType: 'ON_DEMAND' };
    return { candidates: [candidate], usageMetadata, modelVersion: model, createTime, responseId };
  });
}

function streamGenerateContent(pathModel: string): Endpoint {
  const plain = generateContent(pathModel);
  return {
    readsBody: false,
    json: plain.json,
    reply(ctx, content = DEFAULT_CONTENT) {
      const chunks = streamChunks(ctx, ctx.controls.model ?? pathModel, content);
      if (ctx.query.get('alt') === 'sse') return streamPlan(SSE_CONTENT_TYPE, chunks.map(sseDataCrlf), ctx.controls.eventDelayMs);
      // Without alt=sse Vertex streams one JSON array, element by element.
      const pieces = chunks.map((chunk, index) => `${index === 0 ? '[' : '\r\n,'}${JSON.stringify(chunk)}${index === chunks.length - 1 ? ']' : ''}`);
      return streamPlan(JSON_CONTENT_TYPE, pieces, ctx.controls.eventDelayMs);
    },
  };
}

export const google: Provider = {
  name: 'google',
  route(method, path) {
    if (method !== 'POST') return null;
    const match = MODEL_PATH.exec(safeDecode(path));
    if (!match) return null;
    const model = match[1] as string;
    return match[2] === 'generateContent' ? generateContent(model) : streamGenerateContent(model);
  },
};
