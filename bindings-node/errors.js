'use strict';
// The error classes, one per kind of failure of the core, and the one mapping from the native layer's error description.

/**
 * Base class of every error this package throws (bad arguments throw TypeError / RangeError).
 * Thrown as itself for an internal error: a bug in mixerlead (a Rust panic, caught).
 */
class MixerLeadError extends Error {
  constructor(message) {
    super(message);
    this.name = new.target.name;
  }
}

/** No API key, a malformed base URL, or plain http:// to a non-loopback host. */
class ConfigurationError extends MixerLeadError {}

/** The service could not be reached, or the connection broke. */
class APIConnectionError extends MixerLeadError {}

/** The connect, response-headers or read (stalled stream) timeout elapsed. */
class APITimeoutError extends APIConnectionError {
  constructor(message, partialText = null) {
    super(message);
    /** For a stream that stalled: the text that arrived before it (else null). */
    this.partialText = partialText;
  }
}

/** The connection was lost or the body cut short after the reply started streaming. */
class StreamInterruptedError extends APIConnectionError {
  constructor(message, partialText = '') {
    super(message);
    /** The text that arrived before the interruption. */
    this.partialText = partialText;
  }
}

/** The reply could not be decoded: malformed JSON, an over-size event, or an in-band error. */
class APIResponseError extends MixerLeadError {
  constructor(message, partialText = null) {
    super(message);
    /** For a failure mid-stream: the text that arrived before it (else null). */
    this.partialText = partialText;
  }
}

/** The service answered with a non-2xx status (after any retries). */
class APIStatusError extends MixerLeadError {
  constructor(message, { status, body = null, requestId = null, retryAfter = null }) {
    super(message);
    /** The HTTP status. */
    this.status = status;
    /** The error response's body: parsed JSON, else text, else null. */
    this.body = body;
    /** The x-request-id header, or null. */
    this.requestId = requestId;
    /** Seconds the service asked to wait before retrying, or null. */
    this.retryAfter = retryAfter;
  }
}

class BadRequestError extends APIStatusError {}
class AuthenticationError extends APIStatusError {}
class PermissionDeniedError extends APIStatusError {}
class NotFoundError extends APIStatusError {}
class ConflictError extends APIStatusError {}
class PayloadTooLargeError extends APIStatusError {}
class RateLimitError extends APIStatusError {}
class InternalServerError extends APIStatusError {}

/**
 * A knowledge source failed to index (or is no longer in the knowledge base) while
 * `knowledge.waitUntilIndexed()` waited for it.
 */
class IndexingError extends MixerLeadError {
  constructor(message, { sourceId = null, lastError = null } = {}) {
    super(message);
    /** The source that failed. */
    this.sourceId = sourceId;
    /** Why the service says it failed (its `last_error`), or null. */
    this.lastError = lastError;
  }
}

/** The call was aborted through its AbortSignal (or the stream cancelled). */
class AbortError extends MixerLeadError {
  constructor(message = 'The operation was aborted') {
    super(message);
  }
}

const BY_STATUS = {
  400: BadRequestError,
  401: AuthenticationError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: PayloadTooLargeError,
  429: RateLimitError,
};

const MARK = 'mixerlead-error:';

/** Turns a rejection of the native layer into the typed error; other errors pass through. */
function fromNative(error) {
  const reason = error && typeof error.message === 'string' ? error.message : '';
  if (!reason.startsWith(MARK)) return error;
  const e = JSON.parse(reason.slice(MARK.length));
  const typed = typedError(e);
  // The lower-level failures it comes from (TLS, I/O, …), as Error.cause does it: not enumerable.
  let cause;
  for (const message of (e.causes || []).reverse()) {
    cause = new Error(message, cause ? { cause } : undefined);
    cause.stack = `Error: ${message}`; // a native failure: no JS frames of its own
  }
  if (cause) Object.defineProperty(typed, 'cause', { value: cause, writable: true, configurable: true });
  Error.captureStackTrace?.(typed, fromNative); // the stack starts where the caller's call failed
  return typed;
}

function typedError(e) {
  switch (e.kind) {
    case 'status': {
      const Class = BY_STATUS[e.status] || (e.status >= 500 ? InternalServerError : APIStatusError);
      return new Class(e.message, e);
    }
    case 'configuration':
      return new ConfigurationError(e.message);
    case 'type':
      return new TypeError(e.message);
    case 'range':
      return new RangeError(e.message);
    case 'connection':
      return new APIConnectionError(e.message);
    case 'timeout':
      return new APITimeoutError(e.message, e.partialText);
    case 'stream_interrupted':
      return new StreamInterruptedError(e.message, e.partialText || '');
    case 'decode':
      return new APIResponseError(e.message, e.partialText);
    case 'cancelled':
      return new AbortError();
    case 'indexing':
      return new IndexingError(e.message, e);
    case 'internal': // a Rust panic, caught before it could end the process
    default:
      return new MixerLeadError(e.message);
  }
}

module.exports = {
  MixerLeadError,
  ConfigurationError,
  APIConnectionError,
  APITimeoutError,
  StreamInterruptedError,
  APIResponseError,
  APIStatusError,
  BadRequestError,
  AuthenticationError,
  PermissionDeniedError,
  NotFoundError,
  ConflictError,
  PayloadTooLargeError,
  RateLimitError,
  InternalServerError,
  IndexingError,
  AbortError,
  fromNative,
};
