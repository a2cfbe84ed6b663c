const MARKER = 'synth2.error';
const SYMBOL = Symbol.for(MARKER);

/**
 * Base class of every error the Synth² SDK throws on purpose.
 *
 * Use `Synth2Error.isInstance(e)` (or a subclass's `isInstance`) rather than `instanceof`: it works across
 * duplicate installs of `@synth2/core`.
 */
export class Synth2Error extends Error {
  private readonly [SYMBOL] = true;
  /** Stable machine-readable code, e.g. `invalid_input`. */
  readonly code: string;

  constructor(message: string, options: { code?: string; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Synth2Error';
    this.code = options.code ?? 'synth2_error';
  }

  static isInstance(error: unknown): error is Synth2Error {
    return Synth2Error.hasMarker(error, MARKER);
  }

  protected static hasMarker(error: unknown, marker: string): boolean {
    return (
      error != null &&
      typeof error === 'object' &&
      (error as Record<symbol, unknown>)[Symbol.for(marker)] === true
    );
  }
}

function defineMarker(proto: object, marker: string): void {
  Object.defineProperty(proto, Symbol.for(marker), { value: true, enumerable: false });
}

const INVALID_INPUT = 'synth2.error.invalid_input';
/** Bad data from a file or an argument. Says where (file, line, field) and what to do. */
export class InvalidInputError extends Synth2Error {
  readonly file?: string;
  readonly line?: number;
  readonly field?: string;
  constructor(
    message: string,
    options: { file?: string; line?: number; field?: string; cause?: unknown } = {},
  ) {
    const where = [
      options.file ? `${options.file}${options.line != null ? `:${options.line}` : ''}` : undefined,
      options.file == null && options.line != null ? `line ${options.line}` : undefined,
      options.field ? `field "${options.field}"` : undefined,
    ]
      .filter(Boolean)
      .join(', ');
    super(where ? `${where}: ${message}` : message, { code: 'invalid_input', cause: options.cause });
    this.name = 'InvalidInputError';
    this.file = options.file;
    this.line = options.line;
    this.field = options.field;
  }
  static override isInstance(error: unknown): error is InvalidInputError {
    return Synth2Error.hasMarker(error, INVALID_INPUT);
  }
}
defineMarker(InvalidInputError.prototype, INVALID_INPUT);

const CONFIGURATION = 'synth2.error.configuration';
/** A setting is missing, unknown or contradictory. */
export class ConfigurationError extends Synth2Error {
  readonly setting?: string;
  constructor(message: string, options: { setting?: string; cause?: unknown } = {}) {
    super(message, { code: 'configuration', cause: options.cause });
    this.name = 'ConfigurationError';
    this.setting = options.setting;
  }
  static override isInstance(error: unknown): error is ConfigurationError {
    return Synth2Error.hasMarker(error, CONFIGURATION);
  }
}
defineMarker(ConfigurationError.prototype, CONFIGURATION);

const API_CALL = 'synth2.error.api_call';
/** A remote (or local server) API call failed. `retryable` says whether trying again may help. */
export class APICallError extends Synth2Error {
  readonly status?: number;
  readonly retryable: boolean;
  readonly url?: string;
  readonly responseBody?: string;
  constructor(
    message: string,
    options: { status?: number; retryable?: boolean; url?: string; responseBody?: string; cause?: unknown } = {},
  ) {
    super(message, { code: 'api_call', cause: options.cause });
    this.name = 'APICallError';
    this.status = options.status;
    this.url = options.url;
    this.responseBody = options.responseBody;
    this.retryable =
      options.retryable ??
      (options.status == null || options.status === 408 || options.status === 409 || options.status === 429 || options.status >= 500);
  }
  static override isInstance(error: unknown): error is APICallError {
    return Synth2Error.hasMarker(error, API_CALL);
  }
}
defineMarker(APICallError.prototype, API_CALL);

const BACKEND_UNAVAILABLE = 'synth2.error.backend_unavailable';
/** A tfjs backend (or an optional native package) was requested but cannot be loaded. */
export class BackendUnavailableError extends Synth2Error {
  readonly backend: string;
  readonly packageName?: string;
  constructor(message: string, options: { backend: string; packageName?: string; cause?: unknown }) {
    super(message, { code: 'backend_unavailable', cause: options.cause });
    this.name = 'BackendUnavailableError';
    this.backend = options.backend;
    this.packageName = options.packageName;
  }
  static override isInstance(error: unknown): error is BackendUnavailableError {
    return Synth2Error.hasMarker(error, BACKEND_UNAVAILABLE);
  }
}
defineMarker(BackendUnavailableError.prototype, BACKEND_UNAVAILABLE);

const CHECKPOINT_MISMATCH = 'synth2.error.checkpoint_mismatch';
/** A checkpoint does not fit the model it is loaded into (names, shapes, dtypes or config). */
export class CheckpointMismatchError extends Synth2Error {
  readonly tensor?: string;
  readonly expected?: string;
  readonly actual?: string;
  constructor(
    message: string,
    options: { tensor?: string; expected?: string; actual?: string; cause?: unknown } = {},
  ) {
    super(message, { code: 'checkpoint_mismatch', cause: options.cause });
    this.name = 'CheckpointMismatchError';
    this.tensor = options.tensor;
    this.expected = options.expected;
    this.actual = options.actual;
  }
  static override isInstance(error: unknown): error is CheckpointMismatchError {
    return Synth2Error.hasMarker(error, CHECKPOINT_MISMATCH);
  }
}
defineMarker(CheckpointMismatchError.prototype, CHECKPOINT_MISMATCH);

const ABORTED = 'synth2.error.aborted';
/** Work stopped because its `AbortSignal` fired. Whatever was written before stays valid. */
export class AbortedError extends Synth2Error {
  constructor(message = 'The operation was aborted.', options: { cause?: unknown } = {}) {
    super(message, { code: 'aborted', cause: options.cause });
    this.name = 'AbortedError';
  }
  static override isInstance(error: unknown): error is AbortedError {
    return Synth2Error.hasMarker(error, ABORTED);
  }
}
defineMarker(AbortedError.prototype, ABORTED);

/** Throws an `AbortedError` if the signal has fired. */
export function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new AbortedError(undefined, { cause: signal.reason });
}
