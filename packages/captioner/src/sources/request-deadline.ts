/** The reason a request is aborted with when its deadline passes. */
export class RequestDeadlineError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`no complete answer within ${timeoutMs} ms`);
    this.name = 'RequestDeadlineError';
  }
}

/**
 * Wraps `fetch` so that each call — headers and body — must finish within `timeoutMs`: a server that sends the
 * headers and then stalls makes the body read fail with a `RequestDeadlineError` at the deadline. The caller's
 * `signal` still aborts the call at any time.
 */
export function withRequestDeadline(fetchImpl: typeof globalThis.fetch, timeoutMs: number): typeof globalThis.fetch {
  return async (input, init) => {
    const controller = new AbortController();
    const outer = init?.signal ?? undefined;
    const forward = () => controller.abort(outer?.reason);
    if (outer?.aborted) forward();
    else outer?.addEventListener('abort', forward, { once: true });
    const timer = setTimeout(() => controller.abort(new RequestDeadlineError(timeoutMs)), timeoutMs);
    timer.unref?.();
    const settle = () => {
      clearTimeout(timer);
      outer?.removeEventListener('abort', forward);
    };
    let response: Response;
    try {
      response = await fetchImpl(input, { ...init, signal: controller.signal });
    } catch (error) {
      settle();
      throw error;
    }
    if (!response.body) {
      settle();
      return response;
    }
    // The deadline stays armed until the body has been read to its end; after a failed read it fires into an
    // already finished call, which does nothing.
    const body = response.body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ flush: settle }));
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
