import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

/** What the server received: the parsed JSON body of one chat-completions request. */
export interface ChatCompletionsRequest {
  model: string;
  messages: { role: string; content: string }[];
  n?: number;
  temperature?: number;
  max_tokens?: number;
  [key: string]: unknown;
}

/** How the server answers one request. */
export type ChatCompletionsReply =
  | { kind?: 'choices'; contents: (string | { content?: string | null; refusal?: string; finishReason?: string })[]; usage?: { prompt: number; completion: number }; delayMs?: number }
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string>; delayMs?: number }
  | { kind: 'raw'; status?: number; body: string; contentType?: string; delayMs?: number }
  | { kind: 'hang' }
  /** 200 with the headers of a full answer and `bytes` of its body (default: half), then a TCP reset. */
  | { kind: 'reset'; contents?: string[]; bytes?: number; delayMs?: number }
  /** 200 headers and `body` (default: nothing), then silence until the client gives up or the server closes. */
  | { kind: 'stall'; body?: string; delayMs?: number };

/** Answers one request of the local chat-completions server (`index`: its arrival order). */
export type ChatCompletionsHandler = (request: ChatCompletionsRequest, index: number) => ChatCompletionsReply | Promise<ChatCompletionsReply>;

/** A running local chat-completions server, with the requests it received. */
export interface ChatCompletionsServer {
  /** Base URL up to `/v1`, for `createOpenAICaptionSource({ baseURL })`. */
  baseURL: string;
  /** Bodies received, in arrival order. */
  requests: ChatCompletionsRequest[];
  /** TCP connections accepted so far (keep-alive reuse keeps this low). */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * A real local HTTP server speaking the OpenAI chat-completions protocol (POST /v1/chat/completions), for tests
 * and benchmarks: the handler decides each answer (choices, an HTTP error, raw bytes, or a request that hangs).
 */
export async function startChatCompletionsServer(handler: ChatCompletionsHandler, options: { port?: number } = {}): Promise<ChatCompletionsServer> {
  const requests: ChatCompletionsRequest[] = [];
  const hanging = new Set<http.ServerResponse>();
  let counter = 0;
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}`, type: 'not_found' } }));
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      let body: ChatCompletionsRequest;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatCompletionsRequest;
      } catch {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'invalid JSON body', type: 'invalid_request_error' } }));
        return;
      }
      const index = counter++;
      requests.push(body);
      const reply = await handler(body, index);
      const send = () => {
        if (reply.kind === 'hang') {
          hanging.add(res);
          res.on('close', () => hanging.delete(res));
          return;
        }
        if (reply.kind === 'status') {
          res.writeHead(reply.status, { 'content-type': 'application/json', ...reply.headers });
          res.end(JSON.stringify(reply.body ?? { error: { message: `error ${reply.status}`, type: 'server_error' } }));
          return;
        }
        if (reply.kind === 'reset') {
          const payload = completionPayload(body, index, (reply.contents ?? ['a caption cut short']).map((c) => ({ content: c })));
          const cut = Math.max(1, Math.min(payload.length - 1, reply.bytes ?? Math.floor(payload.length / 2)));
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) });
          res.write(payload.slice(0, cut), () => setTimeout(() => res.socket?.resetAndDestroy(), 5));
          return;
        }
        if (reply.kind === 'stall') {
          hanging.add(res);
          res.on('close', () => hanging.delete(res));
          res.writeHead(200, { 'content-type': 'application/json' });
          if (reply.body) res.write(reply.body);
          else res.flushHeaders();
          return;
        }
        if (reply.kind === 'raw') {
          res.writeHead(reply.status ?? 200, { 'content-type': reply.contentType ?? 'application/json' });
          res.end(reply.body);
          return;
        }
        const payload = completionPayload(body, index, reply.contents, reply.usage);
        res.writeHead(200, { 'content-type': 'application/json', 'x-request-id': `req-${index}` });
        res.end(payload);
      };
      const delay = reply.kind === 'hang' ? 0 : (reply.delayMs ?? 0);
      if (delay > 0) setTimeout(send, delay);
      else send();
    });
  });
  server.keepAliveTimeout = 60_000;
  let connections = 0;
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get connections() {
      return connections;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

type ChoiceSpec = string | { content?: string | null; refusal?: string; finishReason?: string };

/** The JSON body of a chat completion with the given choices. */
function completionPayload(body: ChatCompletionsRequest, index: number, contents: ChoiceSpec[], usage?: { prompt: number; completion: number }): string {
  const choices = contents.map((c, i) => {
    const o = typeof c === 'string' ? { content: c } : c;
    return {
      index: i,
      message: { role: 'assistant', content: o.content ?? null, refusal: o.refusal ?? null },
      finish_reason: o.finishReason ?? 'stop',
    };
  });
  const u = usage ?? { prompt: 20, completion: 10 * choices.length };
  return JSON.stringify({
    id: `chatcmpl-${index}`,
    object: 'chat.completion',
    created: 0,
    model: body.model,
    choices,
    usage: { prompt_tokens: u.prompt, completion_tokens: u.completion, total_tokens: u.prompt + u.completion },
  });
}
