import { APICallError } from '@synth2/core';

/** Why one caption request failed, as the progress file and the summary count it. */
export type CaptionFailureReason = 'timeout' | 'reset' | 'connection' | 'malformed' | 'empty' | 'abandoned' | `http-${number}` | 'error';

/**
 * An `APICallError` that also says which kind of failure it was (`reason`), so a synthesis run can count and
 * report failures by kind. `APICallError.isInstance` is true for it.
 */
export class CaptionRequestError extends APICallError {
  readonly reason: CaptionFailureReason;
  constructor(
    message: string,
    options: { reason: CaptionFailureReason; status?: number; retryable?: boolean; url?: string; responseBody?: string; cause?: unknown },
  ) {
    super(message, options);
    this.reason = options.reason;
  }
}

/** The failure kind of an error thrown by a caption source. */
export function failureReason(error: unknown): CaptionFailureReason {
  const reason = (error as { reason?: unknown } | null)?.reason;
  if (typeof reason === 'string' && reason.length > 0) return reason as CaptionFailureReason;
  if (APICallError.isInstance(error) && error.status !== undefined) return `http-${error.status}`;
  return 'error';
}
