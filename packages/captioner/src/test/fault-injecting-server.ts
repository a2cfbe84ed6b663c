import {
  startChatCompletionsServer,
  type ChatCompletionsHandler,
  type ChatCompletionsReply,
  type ChatCompletionsServer,
} from './chat-completions-server';

/** The ways a request can go wrong on the wire. */
export type ChatCompletionsFault =
  /** 200, half the body, then a TCP reset (undici: `TypeError: terminated`). */
  | 'reset'
  /** 200 headers, then nothing: the body never comes. */
  | 'stall'
  /** 200 with an HTML page instead of JSON (a proxy's or a web server's answer). */
  | 'html'
  /** 200 `application/json` whose body stops in the middle. */
  | 'truncated-json'
  /** A chat completion with `choices: []`. */
  | 'empty-choices'
  /** A chat completion whose every choice has `content: null`. */
  | 'null-content'
  /** HTTP 500 (with `retry-after-ms`, so client retries are quick). */
  | 'status-500';

/** Every fault the fault-injecting server can serve. */
export const CHAT_COMPLETIONS_FAULTS: readonly ChatCompletionsFault[] = [
  'reset',
  'stall',
  'html',
  'truncated-json',
  'empty-choices',
  'null-content',
  'status-500',
];

/** Options of `startFaultInjectingServer`. */
export interface FaultInjectionOptions {
  /** Share of requests that get a fault, 0–1. */
  rate: number;
  /** Seed of the draws (per arrival order): the same seed faults the same arrivals. */
  seed?: number;
  /** Faults to draw from, evenly (default: all of them). */
  faults?: readonly ChatCompletionsFault[];
  /** `retry-after-ms` sent with 5xx answers (default 10). */
  retryAfterMs?: number;
  port?: number;
}

/** A running fault-injecting chat-completions server, with the faults it served. */
export interface FaultInjectingServer extends ChatCompletionsServer {
  /** The faults served, by arrival index. */
  readonly injected: { index: number; fault: ChatCompletionsFault }[];
  /** Faults served per kind. */
  counts(): Partial<Record<ChatCompletionsFault, number>>;
}

/** The reply that produces `fault` for a request. */
export function faultReply(fault: ChatCompletionsFault, options: { retryAfterMs?: number } = {}): ChatCompletionsReply {
  switch (fault) {
    case 'reset':
      return { kind: 'reset' };
    case 'stall':
      return { kind: 'stall' };
    case 'html':
      return { kind: 'raw', contentType: 'text/html', body: '<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>' };
    case 'truncated-json':
      return { kind: 'raw', body: '{"id":"chatcmpl-x","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"a dog' };
    case 'empty-choices':
      return { kind: 'raw', body: JSON.stringify({ id: 'chatcmpl-x', object: 'chat.completion', choices: [] }) };
    case 'null-content':
      return { contents: [{ content: null }] };
    case 'status-500':
      return { kind: 'status', status: 500, headers: { 'retry-after-ms': String(options.retryAfterMs ?? 10) } };
  }
}

/** Mulberry32: a small seeded generator of floats in [0, 1). */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A real local chat-completions server (`startChatCompletionsServer`) that answers a seeded share of requests
 * with a fault — a reset mid-body, a stall after the headers, HTML, truncated JSON, empty `choices`,
 * `content: null` or HTTP 500 — and the rest with `handler`'s answer. For testing how clients degrade.
 */
export async function startFaultInjectingServer(handler: ChatCompletionsHandler, options: FaultInjectionOptions): Promise<FaultInjectingServer> {
  if (!(options.rate >= 0 && options.rate <= 1)) throw new RangeError(`rate must be between 0 and 1, got ${options.rate}`);
  const faults = options.faults ?? CHAT_COMPLETIONS_FAULTS;
  if (faults.length === 0) throw new RangeError('faults must name at least one fault');
  const random = seededRandom(options.seed ?? 0);
  const injected: { index: number; fault: ChatCompletionsFault }[] = [];
  const server = await startChatCompletionsServer(
    (request, index) => {
      const hit = random() < options.rate;
      const pick = random();
      if (!hit) return handler(request, index);
      const fault = faults[Math.min(faults.length - 1, Math.floor(pick * faults.length))];
      injected.push({ index, fault });
      return faultReply(fault, options);
    },
    { port: options.port },
  );
  return Object.assign(server, {
    injected,
    counts() {
      const out: Partial<Record<ChatCompletionsFault, number>> = {};
      for (const { fault } of injected) out[fault] = (out[fault] ?? 0) + 1;
      return out;
    },
  });
}
