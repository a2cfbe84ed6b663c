import { afterEach, describe, expect, it } from 'vitest';
import { AbortedError, APICallError, ConfigurationError } from '@synth2/core';
import { createOpenAICaptionSource } from './openai-caption-source';
import { startChatCompletionsServer, type ChatCompletionsHandler, type ChatCompletionsServer } from '../test/chat-completions-server';
import { faultReply } from '../test/fault-injecting-server';

const dog = { id: 'coco:dog', name: 'dog', kind: 'object' as const, synonyms: [] };
const frisbee = { id: 'coco:frisbee', name: 'frisbee', kind: 'object' as const, synonyms: [] };

let server: ChatCompletionsServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});
async function serve(handler: ChatCompletionsHandler) {
  server = await startChatCompletionsServer(handler);
  return server;
}

describe('createOpenAICaptionSource', () => {
  it('should send the Synth² prompt with the concepts and word count and return the answer with usage and metadata', async () => {
    const s = await serve(() => ({ contents: ['A dog catching a frisbee in a grassy park.'], usage: { prompt: 41, completion: 11 } }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, model: 'test-model', headers: { 'x-team': 'synth2' } });
    const result = await source.doGenerate({ concepts: [dog, frisbee], n: 1, wordCount: 10 });
    expect(result.captions).toEqual(['A dog catching a frisbee in a grassy park.']);
    expect(result.usage).toEqual({ promptTokens: 41, completionTokens: 11, totalTokens: 52 });
    expect(result.metadata).toMatchObject({ provider: 'openai-compatible', model: 'test-model', promptId: 'synth2-class-v1', requestId: 'req-0' });
    const body = s.requests[0];
    expect(body.model).toBe('test-model');
    const user = body.messages.find((m) => m.role === 'user')!.content;
    expect(user).toContain('human-annotated description of an image that contains the following object(s): dog and frisbee');
    expect(user).toContain('about 10 words');
    expect(user).toMatch(/objective and factual/);
    expect(user).toMatch(/no poetic language/);
    expect(user).toMatch(/Respond only with the caption/);
  });

  it('should ask for several choices per request and return all of them', async () => {
    const s = await serve((req) => ({ contents: Array.from({ length: req.n ?? 1 }, (_, i) => `a dog running on a beach, take ${i}`) }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, n: 4 });
    const result = await source.doGenerate({ concepts: [dog], n: 1 });
    expect(s.requests[0].n).toBe(4);
    expect(result.captions).toHaveLength(4);
  });

  it('should use a custom prompt template', async () => {
    const s = await serve(() => ({ contents: ['a dog'] }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, prompt: 'Caption with {concepts}, {wordCount} words.' });
    await source.doGenerate({ concepts: [dog], n: 1, wordCount: 7 });
    expect(s.requests[0].messages).toEqual([{ role: 'user', content: 'Caption with dog, 7 words.' }]);
  });

  it('should reject a prompt template with an unknown slot', () => {
    expect(() => createOpenAICaptionSource({ baseURL: 'http://x/v1', prompt: 'about {concept}' })).toThrow(/unknown slot \{concept\}/);
  });

  it('should retry 429 and 500 answers with the client and then succeed', async () => {
    const s = await serve((_req, i) =>
      i === 0
        ? { kind: 'status', status: 429, headers: { 'retry-after-ms': '10' }, body: { error: { message: 'slow down' } } }
        : i === 1
          ? { kind: 'status', status: 500, headers: { 'retry-after-ms': '10' } }
          : { contents: ['a brown dog lying on a couch'] },
    );
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, maxRetries: 2 });
    const result = await source.doGenerate({ concepts: [dog], n: 1 });
    expect(result.captions).toEqual(['a brown dog lying on a couch']);
    expect(s.requests).toHaveLength(3);
  });

  it('should throw a retryable APICallError naming the status when retries run out', async () => {
    const s = await serve(() => ({ kind: 'status', status: 503, headers: { 'retry-after-ms': '5' } }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, maxRetries: 1 });
    const error = await source.doGenerate({ concepts: [dog], n: 1 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).status).toBe(503);
    expect((error as APICallError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/HTTP 503.*after 1 retries/);
    expect(s.requests).toHaveLength(2);
  });

  it('should not retry a 401 and say to check the API key', async () => {
    const s = await serve(() => ({ kind: 'status', status: 401, body: { error: { message: 'bad key' } } }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, apiKey: 'wrong' });
    await expect(source.doGenerate({ concepts: [dog], n: 1 })).rejects.toThrow(/HTTP 401.*check apiKey/);
    expect(s.requests).toHaveLength(1);
  });

  it('should throw a clear retryable error for a malformed answer', async () => {
    const s = await serve(() => ({ kind: 'raw', body: JSON.stringify({ id: 'x', choices: 'none' }) }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL });
    const error = await source.doGenerate({ concepts: [dog], n: 1 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as APICallError).retryable).toBe(true);
    expect((error as Error).message).toMatch(/did not answer with a chat completion \(choices: .*\).*OpenAI-compatible \/v1 endpoint/);
  });

  it('should classify HTML, truncated JSON and empty choices as retryable malformed answers', async () => {
    for (const fault of ['html', 'truncated-json', 'empty-choices'] as const) {
      const s = await serve(() => faultReply(fault));
      const source = createOpenAICaptionSource({ baseURL: s.baseURL, maxRetries: 0 });
      const error = await source.doGenerate({ concepts: [dog], n: 1 }).catch((e: unknown) => e);
      expect(APICallError.isInstance(error), `${fault}: ${String(error)}`).toBe(true);
      expect((error as APICallError).retryable, fault).toBe(true);
      expect((error as { reason?: string }).reason, fault).toBe('malformed');
      expect((error as Error).message, fault).toMatch(fault === 'truncated-json' ? /invalid JSON/ : fault === 'html' ? /text starting "<!DOCTYPE html>/ : /choices/);
      await server!.close();
      server = undefined;
    }
  });

  it('should turn a connection reset in the middle of the body into a retryable APICallError', async () => {
    const s = await serve(() => faultReply('reset'));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, maxRetries: 0 });
    const error = await source.doGenerate({ concepts: [dog], n: 1 }).catch((e: unknown) => e);
    expect(APICallError.isInstance(error), String(error)).toBe(true);
    expect((error as APICallError).retryable).toBe(true);
    expect((error as { reason?: string }).reason).toBe('reset');
    expect((error as Error).message).toMatch(/closed while the answer was being read.*terminated/);
  });

  it('should time out a body that stalls after the headers at the timeout', async () => {
    const s = await serve(() => ({ kind: 'stall', body: '{"id":"chatcmpl-1","choices":[' }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, timeout: 200, maxRetries: 0 });
    const t0 = Date.now();
    const error = await source.doGenerate({ concepts: [dog], n: 1 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(APICallError.isInstance(error), String(error)).toBe(true);
    expect((error as APICallError).retryable).toBe(true);
    expect((error as { reason?: string }).reason).toBe('timeout');
    expect((error as Error).message).toMatch(/timed out after 200 ms: the server sent the headers but not the whole answer/);
  });

  it('should still abort a stalled body when the caller aborts', async () => {
    const s = await serve(() => ({ kind: 'stall' }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, timeout: 30_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const error = await source.doGenerate({ concepts: [dog], n: 1, abortSignal: controller.signal }).catch((e: unknown) => e);
    expect(AbortedError.isInstance(error)).toBe(true);
  });

  it('should throw a clear error for an answer that is not JSON', async () => {
    const s = await serve(() => ({ kind: 'raw', body: '{"choices": [', contentType: 'application/json' }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, maxRetries: 0 });
    await expect(source.doGenerate({ concepts: [dog], n: 1 })).rejects.toThrow(/invalid JSON.*chat-completions protocol/);
  });

  it('should report refusals, empty, truncated and filtered choices as rejected', async () => {
    const s = await serve(() => ({
      contents: [
        { refusal: 'I cannot help with that.' },
        { content: '' },
        { content: 'a dog sitting on', finishReason: 'length' },
        { content: '...', finishReason: 'content_filter' },
        'a dog sleeping under a table',
      ],
    }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL });
    const result = await source.doGenerate({ concepts: [dog], n: 5 });
    expect(result.captions).toEqual(['a dog sleeping under a table']);
    expect(result.rejected!.map((r) => r.reason)).toEqual(['refusal', 'empty', 'truncated', 'content-filter']);
  });

  it('should time out a hanging request with the client timeout', async () => {
    const s = await serve(() => ({ kind: 'hang' }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, timeout: 150, maxRetries: 0 });
    const t0 = Date.now();
    const error = await source.doGenerate({ concepts: [dog], n: 1 }).catch((e: unknown) => e);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(APICallError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/timed out after 150 ms/);
  });

  it('should retry a request that hung and succeed on the retry', async () => {
    const s = await serve((_req, i) => (i === 0 ? { kind: 'hang' } : { contents: ['a dog next to a red frisbee'] }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, timeout: 150, maxRetries: 1 });
    const result = await source.doGenerate({ concepts: [dog], n: 1 });
    expect(result.captions).toEqual(['a dog next to a red frisbee']);
    expect(s.requests).toHaveLength(2);
  });

  it('should stop a request when its AbortSignal fires', async () => {
    const s = await serve(() => ({ kind: 'hang' }));
    const source = createOpenAICaptionSource({ baseURL: s.baseURL, timeout: 30_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const error = await source.doGenerate({ concepts: [dog], n: 1, abortSignal: controller.signal }).catch((e: unknown) => e);
    expect(AbortedError.isInstance(error)).toBe(true);
  });

  it('should read environment variables lazily, at the first request', async () => {
    const s = await serve(() => ({ contents: ['a dog'] }));
    const env: Record<string, string | undefined> = {};
    const source = createOpenAICaptionSource({ env });
    env.OPENAI_BASE_URL = s.baseURL;
    env.OPENAI_MODEL = 'env-model';
    const result = await source.doGenerate({ concepts: [dog], n: 1 });
    expect(result.metadata.model).toBe('env-model');
  });

  it('should say what to set when neither an API key nor a base URL is configured', async () => {
    const source = createOpenAICaptionSource({ env: {} });
    const error = await source.doGenerate({ concepts: [dog], n: 1 }).catch((e: unknown) => e);
    expect(ConfigurationError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/OPENAI_API_KEY.*baseURL/);
  });

  it('should use an injected fetch and send the API key and headers', async () => {
    const seen: { url: string; auth: string | null; team: string | null }[] = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const headers = new Headers(init?.headers);
      seen.push({ url: String(input), auth: headers.get('authorization'), team: headers.get('x-team') });
      return new Response(JSON.stringify({ choices: [{ message: { content: 'a dog in the snow' }, finish_reason: 'stop' }] }), {
        headers: { 'content-type': 'application/json' },
      });
    };
    const source = createOpenAICaptionSource({ baseURL: 'http://llm.invalid/v1', apiKey: 'sk-test', fetch, headers: { 'x-team': 't' } });
    const result = await source.doGenerate({ concepts: [dog], n: 1 });
    expect(result.captions).toEqual(['a dog in the snow']);
    expect(seen).toEqual([{ url: 'http://llm.invalid/v1/chat/completions', auth: 'Bearer sk-test', team: 't' }]);
  });
});
