/**
 * mixerlead — client for MixerLead's Workspace API.
 *
 * @module mixerlead
 */

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
   *
   * Default: `NODE_EXTRA_CA_CERTS`, Node's own variable for extra trusted certificates, read
   * when the client is built (Node reads it once, at startup). Unlike Node, which only warns
   * when that file cannot be loaded, the client then fails to build with a
   * `ConfigurationError`: a certificate you meant to trust is never silently left out.
   */
  caFile?: string;
  /**
   * The proxy every request goes through (`http://host:port`, `https://…`, `socks5://…`),
   * instead of `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` from the environment; `NO_PROXY`
   * still applies. Not allowed with a plain-http base URL (the proxy would see the key).
   */
  proxy?: string;
  /**
   * Paces every request of this key, base URL and project in the process to this many a
   * minute from the start, with bursts of `rateLimitBurst`. `0` turns traffic control off (no
   * shared 429 gate, no adaptive pacing). Without it the scope is paced only from its first
   * 429, at a rate that follows the service.
   */
  rateLimit?: number;
  /** Requests `rateLimit` lets through at once after an idle spell (default: one second's worth, at least 1). */
  rateLimitBurst?: number;
  /**
   * A Redis server (`redis://…`, `rediss://…`) holding the pacing and the 429 gate, so every
   * process and machine of a fleet shares one limit; else `MIXERLEAD_RATE_LIMIT_REDIS`. When
   * Redis is down or slow the client paces itself alone; a request never fails because of it.
   */
  rateLimitRedis?: string;
  /** At most this many requests of the client (and the clients derived from it) in flight; a stream holds its place to its end. */
  maxConcurrency?: number;
  /**
   * A cassette file every exchange is appended to (one JSON line each, with its body chunks and
   * their times; the key is never written), for `Emulator.start({ cassette })` to replay; else
   * `MIXERLEAD_RECORD`. A path that cannot be opened for appending is a `ConfigurationError`.
   */
  record?: string;
  /**
   * Receives the client's log: each attempt (method, path), each retry (reason, wait), each
   * response (status, request id, elapsed time), each stream's end (pieces, bytes) or failure.
   * A record is one string, handed to the logger's method for its level — `debug` (attempts,
   * responses, stream ends), `info` (retries and their waits, failures that end a call), `warn`
   * (a stream that failed), `error` — on the JS thread, shortly after it happens (never
   * synchronously inside a call); a method the logger lacks is skipped, so
   * `{ warn: console.warn }` gets only warnings. `console` works as it is. Records never hold
   * the API key, the message sent or the reply's text. A logger that throws is reported once as
   * a process warning. The logger never keeps the process alive.
   *
   * `MIXERLEAD_LOG=debug|info|warn|error` prints the same records to stderr, logger or not.
   * `withOptions({ logger })` gives the derived client another logger; without it, the derived
   * client logs where this one does.
   */
  logger?: Logger;
}

/**
 * Where the `logger` client option sends records: any subset of these methods (`console`,
 * pino, winston and most loggers fit). Each is called with the record's text.
 */
export interface Logger {
  /** Receives attempts, responses and stream ends. */
  debug?(message: string): void;
  /** Receives retries (reason, wait) and failures that end a call. */
  info?(message: string): void;
  /** Receives streams that failed. */
  warn?(message: string): void;
  /** Receives errors. */
  error?(message: string): void;
}

/**
 * Options of a single call, the last argument of every method; they override the client's for
 * that call only. `undefined` and `null` mean "not given"; a name that is not one of these is a
 * `ConfigurationError`.
 */
export interface RequestOptions {
  /** Aborting it aborts the request; the call rejects with an `AbortError`. */
  signal?: AbortSignal;
  /**
   * Seconds until response headers, per attempt, for this call (a positive number; else a
   * `RangeError`).
   */
  timeout?: number;
  /** Retries after the first attempt for this call (`0`: one attempt; else a `RangeError`). */
  maxRetries?: number;
  /**
   * Extra request headers for this call, sent after the client's own. Any header but
   * `Authorization` (use `apiKey`); a name or value that is not a valid header (a newline in
   * it, say) rejects with a `ConfigurationError` naming it.
   */
  headers?: Record<string, string> | Headers;
}

/** A chat message and its options. */
export interface ChatParams {
  /** The message (not empty, no NUL character). */
  message: string;
  /** The model id (see `models.list()`); omit for Auto. */
  model?: string;
  /** Continue this conversation; omit to start a new one. */
  conversationId?: string;
}

/** One model of the service. */
export interface Model {
  /** The id to pass as `model` (e.g. `ml-auto`). */
  id: string;
  /** Display name. */
  name: string;
  /** What the model is for. */
  task: string;
  /** Whether the model needs a paid plan (else calls with it are refused with a 403). */
  requiresPaid: boolean;
}

/** A whole chat reply. */
export interface ChatReply {
  /** The reply's text. */
  text: string;
  /** The conversation id, when the service named one (pass it to continue). */
  conversationId: string | null;
  /** The response's `X-Request-Id` (else `Request-Id`), or `null`: quote it to support. */
  requestId: string | null;
  /** The response headers. */
  headers: Headers;
}

/**
 * The models, as `models.list()` resolves them: an array, with the response's metadata as
 * non-enumerable properties (so `JSON.stringify` and `deepEqual` see only the models).
 */
export type ModelList = Model[] & {
  /** The response's `X-Request-Id` (else `Request-Id`), or `null`. */
  readonly requestId: string | null;
  /** The response headers. */
  readonly headers: Headers;
};

/**
 * A streamed reply: `for await (const text of stream)`, pieces in arrival order. Breaking out of
 * the loop, `cancel()`, or aborting the call's signal aborts the request (after an abort the
 * next read rejects with an `AbortError`).
 */
export declare class ChatStream implements AsyncIterableIterator<string> {
  private constructor();
  /** The conversation id, once the service named it; `null` until then. */
  readonly conversationId: string | null;
  /** All the text handed out so far (after a break or `cancel()`: exactly what was read). */
  readonly text: string;
  /** The response's `X-Request-Id` (else `Request-Id`), or `null`: quote it to support. */
  readonly requestId: string | null;
  /** The response headers. */
  readonly headers: Headers;
  /** The next piece. */
  next(): Promise<IteratorResult<string, undefined>>;
  /** Aborts the request (what `break` in `for await` calls). */
  return(): Promise<IteratorResult<string, undefined>>;
  /** The stream itself: `for await (const text of stream)`. */
  [Symbol.asyncIterator](): ChatStream;
  /** Consumes the rest and resolves with the whole reply. */
  read(): Promise<string>;
  /** Aborts the request (the server sees the connection close); iteration then ends. */
  cancel(): void;
  /**
   * The rest of the reply as a web `ReadableStream` of its UTF-8 bytes, read only as fast as
   * it is consumed, so a service can answer `new Response(stream.toReadableStream())` or pipe
   * it on (`pipeline(Readable.fromWeb(stream.toReadableStream()), res)`). Cancelling it (a
   * client that went away, with `pipeline`) aborts the request; a failure of the reply errors
   * it. It reads this stream: do not also iterate it.
   */
  toReadableStream(): ReadableStream<Uint8Array>;
  /**
   * The reply in chunks, the fastest way to relay it:
   * `for await (const chunk of stream.chunks()) res.write(chunk)`. Each chunk is every piece
   * that has arrived and not been handed out yet, joined: never empty, never a piece split. It
   * mixes with iterating the stream piece by piece (each goes on where the other stopped);
   * breaking out of it aborts the request; a failure rejects as it does per piece, with
   * `partialText` holding every chunk before it.
   */
  chunks(): AsyncIterableIterator<string>;
}

/** `client.models`. */
export declare class Models {
  private constructor();
  /** Lists the models (`GET /ai/models`), with the response's `requestId` and `headers`. */
  list(options?: RequestOptions): Promise<ModelList>;
}

/** `client.chat`. */
export declare class Chat {
  private constructor();
  /**
   * Sends a message; resolves once the response headers arrived (status errors reject here,
   * after retries) with the reply as it streams.
   */
  stream(params: ChatParams | string, options?: RequestOptions): Promise<ChatStream>;
  /** Sends a message and resolves with the whole reply. */
  send(params: ChatParams | string, options?: RequestOptions): Promise<ChatReply>;
}

/** Where a source's indexing stands; a status the service adds later comes as it is. */
export type SourceStatus = 'indexing' | 'indexed' | 'error' | (string & {});

/**
 * What to add to the knowledge base (`knowledge.add`): exactly one of `url`, `text` or `file`
 * (none, or two, reject with a `TypeError` before anything is sent), and an optional `name`.
 */
export type NewSource =
  | {
      /** A web page to fetch and index. */
      url: string;
      /** Not with `url`. */
      text?: undefined;
      /** Not with `url`. */
      file?: undefined;
      /** A display name for the source. */
      name?: string;
    }
  | {
      /** Text to index as it is. */
      text: string;
      /** Not with `text`. */
      url?: undefined;
      /** Not with `text`. */
      file?: undefined;
      /** A display name for the source. */
      name?: string;
    }
  | {
      /**
       * A path (or `file:` URL), streamed from disk, never read into memory whole: a path that
       * cannot be read rejects with a `TypeError` before anything is sent. Or the file's bytes
       * (a `Buffer`, `Uint8Array`, any typed array or `ArrayBuffer`), sent as they are.
       */
      file: string | URL | Uint8Array | ArrayBuffer | ArrayBufferView;
      /** With bytes: the file name the service sees (default `name`, else `upload`). */
      fileName?: string;
      /** Not with `file`. */
      url?: undefined;
      /** Not with `file`. */
      text?: undefined;
      /** A display name for the source. */
      name?: string;
    };

/** What `knowledge.add`, `.crawl` and `.reindex` started. */
export interface Indexing {
  /** The source's id (`kb_…`); for a crawl, the crawl's id. */
  id: string;
  /** `indexing` at first. */
  status: SourceStatus;
  /** For a crawl: the most pages it fetches, when the service said; else `null`. */
  maxPages: number | null;
  /** The response as the service sent it (`null` when it was empty). */
  raw: unknown;
}

/** A source of the knowledge base, as `knowledge.list()` gives it. */
export interface Source {
  /** Its id (`kb_…`). */
  id: string;
  /** `url`, `text`, `file`, `crawl`, … as the service says; else `null`. */
  type: string | null;
  /** The URL or file path it came from. */
  sourceUrlOrPath: string | null;
  /** Where its indexing stands. */
  status: SourceStatus;
  /** How many chunks it was split into. */
  chunkCount: number | null;
  /** Whether chat uses it. */
  enabled: boolean;
  /** When it was added, as the service wrote it. */
  createdAt: string | null;
  /** When it was indexed, as the service wrote it. */
  indexedAt: string | null;
  /** Why indexing failed, when it did. */
  lastError: string | null;
  /** The whole object as the service sent it. */
  raw: Record<string, unknown>;
}

/** A skill, as `skills.list()` gives it. */
export interface Skill {
  /** The id to run it by. */
  id: string;
  /** Its display name, when the service gave one. */
  name: string | null;
  /** The category it is listed under, when the service gave one. */
  category: string | null;
  /** What it does, when the service said. */
  description: string | null;
  /** The whole object as the service sent it. */
  raw: Record<string, unknown>;
}

/** What a skill run returned. */
export interface SkillOutput {
  /** The output, as Markdown. */
  output: string;
  /** The whole response as the service sent it. */
  raw: Record<string, unknown>;
}

/** What an agent does. */
export type AgentType = 'research' | 'strategy' | 'execution' | 'monitoring';

/** An agent: the fields known to be there (`null` when absent), and the whole object. */
export interface Agent {
  /** Its id, to run it by. */
  id: string | null;
  /** Its name. */
  name: string | null;
  /** `research`, `strategy`, `execution` or `monitoring`. */
  type: AgentType | (string & {}) | null;
  /** The whole object as the service sent it (its `config`, …). */
  raw: unknown;
}

/** What an agent run returned. */
export interface AgentRun {
  /** The run's output, when the service gave it as a string (the body, or its `output`); else `null`. */
  output: string | null;
  /** The whole response as the service sent it (`null` when it was empty). */
  raw: unknown;
}

/** A saved artifact: the fields known to be there (`null` when absent), and the whole object. */
export interface Artifact {
  /** Its id. */
  id: string | null;
  /** Its `name` field. */
  name: string | null;
  /** Its kind, from its `type` field. */
  type: string | null;
  /** The whole object as the service sent it (every field saved, …). */
  raw: unknown;
}

/**
 * `client.knowledge`: the knowledge base chat is grounded on (in the project of `projectId`).
 * Every method takes the request options last; adds, crawls and re-indexes are never sent twice
 * (a POST is retried only on 429 or when no connection was made), the others are retried like
 * `models.list()`.
 */
export declare class Knowledge {
  private constructor();
  /**
   * Adds a source (`POST /knowledge`), which starts `indexing`. A source that exists already
   * rejects with a `ConflictError` (409); an upload over the storage quota with a
   * `PayloadTooLargeError` (413).
   */
  add(source: NewSource, options?: RequestOptions): Promise<Indexing>;
  /**
   * Crawls a site from `seedUrl` (`POST /knowledge/crawl`), at most `maxPages` pages (a whole
   * number from 1; else a `RangeError`). The result's `id` is the crawl's.
   */
  crawl(params: { seedUrl: string; maxPages?: number }, options?: RequestOptions): Promise<Indexing>;
  /** Every source (`GET /knowledge`). */
  list(options?: RequestOptions): Promise<Source[]>;
  /** Lets chat use the source (`PATCH /knowledge/{id}`): the source, or `null` when the service sends none. */
  enable(id: string, options?: RequestOptions): Promise<Source | null>;
  /** Stops chat using the source (`PATCH /knowledge/{id}`): the source, or `null`. */
  disable(id: string, options?: RequestOptions): Promise<Source | null>;
  /** Indexes the source again (`POST /knowledge/{id}/reindex`). */
  reindex(id: string, options?: RequestOptions): Promise<Indexing>;
  /** Deletes the source (`DELETE /knowledge/{id}`). */
  delete(id: string, options?: RequestOptions): Promise<void>;
  /**
   * Polls the list, with backoff, until every source of `ids` is `indexed`, and resolves with
   * them. Rejects with an `IndexingError` (with `sourceId` and `lastError`) as soon as one ends
   * in `error` or is not in the knowledge base, and with an `APITimeoutError` after `timeout`
   * seconds (default 300; `Infinity`: no deadline). The request options (`signal`, …) are the
   * third argument and apply to each poll.
   *
   * ```ts
   * const { id } = await client.knowledge.add({ url: 'https://example.com/pricing', name: 'Pricing' });
   * await client.knowledge.waitUntilIndexed([id], { timeout: 120 });
   * ```
   */
  waitUntilIndexed(
    ids: string | readonly string[],
    params?: { timeout?: number },
    options?: RequestOptions,
  ): Promise<Source[]>;
}

/** `client.skills`: ready-made tasks run with variables. */
export declare class Skills {
  private constructor();
  /** Every skill (`GET /skills`). */
  list(options?: RequestOptions): Promise<Skill[]>;
  /**
   * Runs the skill `skillId` (not empty; else a `TypeError` before anything is sent) with
   * `vars`, a plain object of JSON values (`POST /skills/exec`).
   */
  run(skillId: string, vars?: Record<string, unknown>, options?: RequestOptions): Promise<SkillOutput>;
}

/** `client.agents`: the agents of the active project (`projectId`). */
export declare class Agents {
  private constructor();
  /** Every agent (`GET /agents`). */
  list(options?: RequestOptions): Promise<Agent[]>;
  /**
   * Creates an agent (`POST /agents`); never sent twice. An unknown `type` rejects with a
   * `TypeError` before anything is sent; a name taken with a `ConflictError` (409).
   */
  create(
    params: { name: string; type: AgentType; config?: Record<string, unknown> },
    options?: RequestOptions,
  ): Promise<Agent>;
  /**
   * Runs the agent (`POST /agents/{id}/run`). It costs credits, and a daily quota applies: past
   * it a `PermissionDeniedError` (403) with the service's message, never retried.
   */
  run(agentId: string, options?: RequestOptions): Promise<AgentRun>;
}

/** `client.artifacts`: outputs saved for reuse (a generated document, …). */
export declare class Artifacts {
  private constructor();
  /** Every artifact (`GET /artifacts`). */
  list(options?: RequestOptions): Promise<Artifact[]>;
  /**
   * Saves an artifact with these fields (`POST /artifacts`), a plain object of JSON values with
   * at least one field; never sent twice.
   */
  create(fields: Record<string, unknown>, options?: RequestOptions): Promise<Artifact>;
}

/**
 * A client of MixerLead's Workspace API. Requests carry
 * `User-Agent: mixerlead-node/<version> (<os>; <arch>) node/<Node's version>`. The key stays in
 * native memory: no property of this object holds it, and inspecting it shows at most its last
 * 4 characters.
 */
export declare class Client {
  /**
   * A client with these options; the others from the environment, else their defaults. Throws
   * a `ConfigurationError` when no key is given or found, or an option is not one.
   */
  constructor(options?: ClientOptions);
  /** `client.models.list()`. */
  readonly models: Models;
  /** `client.chat.stream()` and `client.chat.send()`. */
  readonly chat: Chat;
  /** The knowledge base: `add`, `crawl`, `list`, `enable`, `disable`, `reindex`, `delete`, `waitUntilIndexed`. */
  readonly knowledge: Knowledge;
  /** `skills.list()`, `skills.run(skillId, vars)`. */
  readonly skills: Skills;
  /** `agents.list()`, `agents.create({ name, type, config })`, `agents.run(agentId)`. */
  readonly agents: Agents;
  /** `artifacts.list()`, `artifacts.create(fields)`. */
  readonly artifacts: Artifacts;
  /**
   * A client with these options changed, the others as this client has them; it shares this
   * client's connection pool, unless the change is to how connections are made
   * (`connectTimeout`, `caFile`, `proxy`). Options are checked as in the constructor.
   */
  withOptions(options: ClientOptions): Client;
  /** `{ client: 'mixerlead' }`: never the key. */
  toJSON(): {
    /** Always `'mixerlead'`. */
    client: string;
  };
}

/**
 * Base class of every error of this package (bad arguments throw TypeError / RangeError). Thrown
 * as itself for an internal error: a bug in mixerlead, caught before it could end the process.
 * `cause`, when set, is the lower-level failure it comes from (TLS, I/O), as an `Error` chain.
 */
export declare class MixerLeadError extends Error {}
/** No API key, a malformed base URL, insecure http refused, an unknown option, a bad header. */
export declare class ConfigurationError extends MixerLeadError {}
/**
 * The service could not be reached, or the connection broke before the response (refused, DNS,
 * TLS: a certificate that is not trusted says "certificate" in its message).
 */
export declare class APIConnectionError extends MixerLeadError {}
/** The connect, headers or read timeout elapsed. */
export declare class APITimeoutError extends APIConnectionError {
  /** For a stream that stalled: the text that arrived before it; else `null`. */
  readonly partialText: string | null;
}
/** The connection was lost after the reply started streaming. */
export declare class StreamInterruptedError extends APIConnectionError {
  /** The text that arrived before the interruption. */
  readonly partialText: string;
}
/** The reply could not be decoded, or the service reported an error in the stream. */
export declare class APIResponseError extends MixerLeadError {
  /** For a failure mid-stream: the text that arrived before it; else `null`. */
  readonly partialText: string | null;
}
/** A non-2xx status after retries; `message` is the service's `error` text. */
export declare class APIStatusError extends MixerLeadError {
  /** The HTTP status. */
  readonly status: number;
  /** The error response's body: parsed JSON, else text, else `null`. */
  readonly body: unknown;
  /** The response's `X-Request-Id`, or `null`. */
  readonly requestId: string | null;
  /** Seconds the service asked to wait before retrying (`Retry-After`), or `null`. */
  readonly retryAfter: number | null;
}
/** HTTP 400. */
export declare class BadRequestError extends APIStatusError {}
/** HTTP 401: a missing, malformed or revoked API key. */
export declare class AuthenticationError extends APIStatusError {}
/** HTTP 403: not allowed (plan, capability, credits, daily quota); never retried. */
export declare class PermissionDeniedError extends APIStatusError {}
/** HTTP 404: an unknown resource (e.g. conversation). */
export declare class NotFoundError extends APIStatusError {}
/** HTTP 409. */
export declare class ConflictError extends APIStatusError {}
/** HTTP 413. */
export declare class PayloadTooLargeError extends APIStatusError {}
/** HTTP 429 after the retries (or a `Retry-After` above `maxRetryWait`); see `retryAfter`. */
export declare class RateLimitError extends APIStatusError {}
/** HTTP 500 and above, after the retries. */
export declare class InternalServerError extends APIStatusError {}
/**
 * A knowledge source failed to index, or is no longer in the knowledge base, while
 * `knowledge.waitUntilIndexed()` waited for it.
 */
export declare class IndexingError extends MixerLeadError {
  /** The source that failed. */
  readonly sourceId: string;
  /** Why the service says it failed (its `last_error`), or `null`. */
  readonly lastError: string | null;
}
/** The call was aborted through its AbortSignal. `name` is `'AbortError'`. */
export declare class AbortError extends MixerLeadError {}
