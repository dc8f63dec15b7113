/** mixerlead — client for MixerLead's Workspace API. */

/**
 * Options of `new Client()`; each falls back to its environment variable, then its default.
 * `undefined` and `null` mean "not given". Options are checked when the client is built, before
 * any network use: a name that is not an option throws a `ConfigurationError` naming it, a value
 * of the wrong type a `TypeError`, a value out of range (a negative time or count) a `RangeError`.
 */
export interface ClientOptions {
  /** The API key (`ml_live_…`); default: `MIXERLEAD_API_KEY`. */
  apiKey?: string;
  /** Default: `MIXERLEAD_BASE_URL`, else `https://ai.mixerlead.com/api`. */
  baseUrl?: string;
  /** Sent as `X-Project-Id`; default: `MIXERLEAD_PROJECT_ID`. */
  projectId?: string;
  /** Seconds until response headers, per attempt (default 60). */
  timeout?: number;
  /** Seconds to connect (default 10). */
  connectTimeout?: number;
  /** Longest silence in seconds between body bytes of a stream (default 120). */
  readTimeout?: number;
  /** Retries after the first attempt (default `MIXERLEAD_MAX_RETRIES`, else 2). */
  maxRetries?: number;
  /** Longest single wait in seconds before a retry (default 60). */
  maxRetryWait?: number;
  /** Allow plain `http://` to non-loopback hosts (default `MIXERLEAD_ALLOW_INSECURE_HTTP=1`). */
  allowInsecureHttp?: boolean;
  /**
   * Path of a PEM file of certificates to trust in addition to the system's roots (which also
   * honour `SSL_CERT_FILE` and `SSL_CERT_DIR`), e.g. a company proxy's or a test server's. A
   * file that cannot be read or holds no certificate throws a `ConfigurationError`.
   */
  caFile?: string;
  /**
   * The proxy every request goes through (`http://host:port`, `https://…`, `socks5://…`),
   * instead of `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` from the environment; `NO_PROXY`
   * still applies. Not allowed with a plain-http base URL (the proxy would see the key).
   */
  proxy?: string;
}

/** Options of a single call. */
export interface RequestOptions {
  /** Aborting it aborts the request; the call rejects with an `AbortError`. */
  signal?: AbortSignal;
}

/** A chat message and its options. */
export interface ChatParams {
  message: string;
  /** The model id (see `models.list()`); omit for Auto. */
  model?: string;
  /** Continue this conversation; omit to start a new one. */
  conversationId?: string;
}

/** One model of the service. */
export interface Model {
  id: string;
  name: string;
  task: string;
  requiresPaid: boolean;
}

/** A whole chat reply. */
export interface ChatReply {
  text: string;
  conversationId: string | null;
}

/** A streamed reply: `for await (const text of stream)`. Breaking out aborts the request. */
export declare class ChatStream implements AsyncIterableIterator<string> {
  private constructor();
  /** The conversation id, once the service named it; `null` until then. */
  readonly conversationId: string | null;
  /** All the text handed out so far. */
  readonly text: string;
  next(): Promise<IteratorResult<string, undefined>>;
  return(): Promise<IteratorResult<string, undefined>>;
  [Symbol.asyncIterator](): ChatStream;
  /** Consumes the rest and resolves with the whole reply. */
  read(): Promise<string>;
  /** Aborts the request; iteration then ends. */
  cancel(): void;
}

/** `client.models`. */
export declare class Models {
  private constructor();
  /** Lists the models. */
  list(options?: RequestOptions): Promise<Model[]>;
}

/** `client.chat`. */
export declare class Chat {
  private constructor();
  /** Sends a message; resolves once the response headers arrived. */
  stream(params: ChatParams | string, options?: RequestOptions): Promise<ChatStream>;
  /** Sends a message and resolves with the whole reply. */
  send(params: ChatParams | string, options?: RequestOptions): Promise<ChatReply>;
}

/** A client of MixerLead's Workspace API. */
export declare class Client {
  constructor(options?: ClientOptions);
  readonly models: Models;
  readonly chat: Chat;
  toJSON(): { client: string };
}

/**
 * Base class of every error of this package (bad arguments throw TypeError / RangeError). Thrown
 * as itself for an internal error: a bug in mixerlead, caught before it could end the process.
 */
export declare class MixerLeadError extends Error {}
/** No API key, a malformed base URL, or insecure http refused. */
export declare class ConfigurationError extends MixerLeadError {}
/** The service could not be reached, or the connection broke. */
export declare class APIConnectionError extends MixerLeadError {}
/** The connect, headers or read timeout elapsed. */
export declare class APITimeoutError extends APIConnectionError {
  readonly partialText: string | null;
}
/** The connection was lost after the reply started streaming. */
export declare class StreamInterruptedError extends APIConnectionError {
  readonly partialText: string;
}
/** The reply could not be decoded, or the service reported an error in the stream. */
export declare class APIResponseError extends MixerLeadError {
  readonly partialText: string | null;
}
/** A non-2xx status after retries. */
export declare class APIStatusError extends MixerLeadError {
  readonly status: number;
  readonly body: unknown;
  readonly requestId: string | null;
  readonly retryAfter: number | null;
}
export declare class BadRequestError extends APIStatusError {}
export declare class AuthenticationError extends APIStatusError {}
export declare class PermissionDeniedError extends APIStatusError {}
export declare class NotFoundError extends APIStatusError {}
export declare class ConflictError extends APIStatusError {}
export declare class PayloadTooLargeError extends APIStatusError {}
export declare class RateLimitError extends APIStatusError {}
export declare class InternalServerError extends APIStatusError {}
/** The call was aborted through its AbortSignal. `name` is `'AbortError'`. */
export declare class AbortError extends MixerLeadError {}
