'use strict';
// mixerlead for Node.js: a thin layer over the native addon (all behaviour is in the Rust core).

const util = require('node:util');
const native = require('./mixerlead.node');
const errors = require('./errors.js');

const { AbortError, fromNative } = errors;

// Every call into the native layer goes through `call` (async) or `sync`, so whatever it throws
// or rejects with, an internal error from a caught Rust panic included, arrives typed.

/** Awaits `start()`, a native call that returns a promise (or throws). */
async function call(start) {
  try {
    return await start();
  } catch (error) {
    throw fromNative(error);
  }
}

/** `run()`, a synchronous native call. */
function sync(run) {
  try {
    return run();
  } catch (error) {
    throw fromNative(error);
  }
}

/** Aborts a native call or stream from an AbortSignal's listener, where a throw would be uncaught. */
function abortQuietly(target) {
  try {
    target.cancel();
  } catch {
    // Nothing to report to: the call itself still settles (or was already settled).
  }
}

function checkString(name, value, required) {
  if (value === undefined || value === null) {
    if (required) throw new TypeError(`${name} is required`);
    return undefined;
  }
  if (typeof value !== 'string') throw new TypeError(`${name} must be a string`);
  return value;
}

/** The AbortSignal of a call's options (null when none); the rest goes to the native call. */
function checkSignal(options) {
  if (options !== undefined && options !== null && typeof options !== 'object') {
    throw new TypeError('request options must be an object: { signal, timeout, maxRetries, headers }');
  }
  const signal = options && options.signal;
  if (signal !== undefined && signal !== null && typeof signal.aborted !== 'boolean') {
    throw new TypeError('options.signal must be an AbortSignal');
  }
  return signal || null;
}

/**
 * A call's options as the native call takes them: the object itself (the native side reads
 * timeout, maxRetries and headers by name), with headers given as a `Headers` or a `Map` made a
 * plain object.
 */
function requestOptions(options) {
  if (options === undefined || options === null) return undefined;
  const { headers } = options;
  if (headers && typeof headers === 'object' && typeof headers.entries === 'function' && !Array.isArray(headers)) {
    return { ...options, headers: Object.fromEntries(headers.entries()) };
  }
  return options;
}

/** A WHATWG `Headers` from the native `[name0, value0, name1, value1, …]`. */
function toHeaders(pairs) {
  const headers = new Headers();
  for (let i = 0; i + 1 < pairs.length; i += 2) headers.append(pairs[i], pairs[i + 1]);
  return headers;
}

/** Runs `start(cancel)` with a native cancellation wired to `signal`. */
async function withSignal(signal, start) {
  if (!signal) return call(() => start(undefined));
  if (signal.aborted) throw new AbortError();
  const cancel = sync(() => new native.NativeCancel());
  const onAbort = () => abortQuietly(cancel);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    return await call(() => start(cancel));
  } finally {
    signal.removeEventListener('abort', onAbort);
  }
}

/**
 * A streamed chat reply: `for await (const text of stream)`. Breaking out of the loop,
 * `cancel()`, or aborting the signal aborts the request.
 *
 * Pieces come from the native stream a batch at a time (one promise per batch); `#next` counts
 * the pieces of the current batch served, which is all the native side needs to know for the
 * text and on close.
 */
class ChatStream {
  #native;
  #signal;
  #onAbort = null;
  #batch = '';
  #lengths = null; // UTF-16 length of each piece of the current batch (null before the first)
  #next = 0; // pieces of the current batch served
  #offset = 0; // where the next piece starts in #batch
  #done = false;
  #closed = false; // ended by cancel(), a break or the signal, not by the reply's end
  #aborted = false; // ended by the signal: the next read throws an AbortError once
  #fetching = null; // the batch being waited for, so that concurrent next() calls queue
  #retry = () => this.next();
  #headers = null;

  constructor(nativeStream, signal) {
    this.#native = nativeStream;
    this.#signal = signal;
    if (signal) {
      this.#onAbort = () => {
        this.#aborted = !this.#done;
        try {
          this.cancel();
        } catch {
          // Nothing to report to here: the next read reports the abort.
        }
      };
      signal.addEventListener('abort', this.#onAbort, { once: true });
      if (signal.aborted) this.#onAbort(); // aborted while the stream was being handed over
    }
  }

  /** The conversation id, once the service named it; null until then. */
  get conversationId() {
    return sync(() => this.#native.conversationId ?? null);
  }

  /** All the text handed out so far. */
  get text() {
    return sync(() => this.#native.text(this.#next));
  }

  /** The response's `X-Request-Id` (else `Request-Id`), or null. */
  get requestId() {
    return sync(() => this.#native.requestId ?? null);
  }

  /** The response headers (made on first use). */
  get headers() {
    if (this.#headers === null) this.#headers = toHeaders(sync(() => this.#native.headerPairs()));
    return this.#headers;
  }

  /**
   * The rest of the reply as a web `ReadableStream` of its UTF-8 bytes, one chunk per batch of
   * pieces, read only as fast as it is consumed: `new Response(stream.toReadableStream())`, or
   * `pipeline(Readable.fromWeb(stream.toReadableStream()), res)` (node:stream/promises).
   * Cancelling it aborts the request; a failure of the reply errors it. It reads this stream: do
   * not iterate both.
   */
  toReadableStream() {
    const encoder = new TextEncoder();
    return new ReadableStream(
      {
        pull: async (controller) => {
          const first = await this.next();
          if (first.done) controller.close();
          else controller.enqueue(encoder.encode(first.value + this.#takeRest()));
        },
        cancel: () => this.cancel(),
      },
      { highWaterMark: 0 },
    );
  }

  /** The next piece (async iterator protocol). */
  next() {
    // Not an async function: a piece of the current batch costs one settled promise, no more.
    if (this.#lengths !== null && this.#next < this.#lengths.length) {
      return Promise.resolve({ value: this.#take(), done: false });
    }
    if (this.#fetching !== null) return this.#fetching.then(this.#retry, this.#retry);
    return this.#nextBatch();
  }

  /** Waits for the next batch and takes its first piece. */
  async #nextBatch() {
    if (this.#done) {
      if (!this.#aborted) return { value: undefined, done: true };
      this.#aborted = false;
      throw new AbortError();
    }
    const fetching = this.#fetchBatch();
    this.#fetching = fetching;
    let batch;
    try {
      batch = await fetching;
    } catch (error) {
      this.#finish();
      throw error;
    } finally {
      this.#fetching = null;
    }
    if (this.#done) return this.#nextBatch(); // closed while waiting
    if (batch === null) {
      this.#finish();
      return { value: undefined, done: true };
    }
    this.#batch = batch.text;
    this.#lengths = batch.lengths;
    this.#next = 0;
    this.#offset = 0;
    return { value: this.#take(), done: false };
  }

  /**
   * The next batch (null at the end). The first one is taken at once when it is already decoded
   * (it usually comes with the response headers): no trip through the runtime before the first
   * piece. Later ones always go through a turn of the event loop, so a long reply read faster
   * than it is served never holds up other I/O.
   */
  #fetchBatch() {
    if (this.#lengths === null) {
      let ready;
      try {
        ready = this.#native.tryNextBatch();
      } catch (error) {
        return Promise.reject(fromNative(error));
      }
      if (ready !== null) return Promise.resolve(ready.lengths.length > 0 ? ready : null);
    }
    return call(() => this.#native.nextBatch());
  }

  /** The next piece of the current batch. */
  #take() {
    const end = this.#offset + this.#lengths[this.#next++];
    const piece = this.#batch.slice(this.#offset, end);
    this.#offset = end;
    return piece;
  }

  /** The rest of the current batch at once (the pieces count as served). */
  #takeRest() {
    const rest = this.#batch.slice(this.#offset);
    this.#offset = this.#batch.length;
    if (this.#lengths !== null) this.#next = this.#lengths.length;
    return rest;
  }

  /** Called by `break` in `for await`: aborts the request. */
  async return() {
    this.cancel();
    return { value: undefined, done: true };
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** Consumes the rest of the stream and returns the whole reply. */
  async read() {
    while (!(await this.next()).done) this.#takeRest();
    // The whole reply (or an error past what the core keeps, never a cut reply); after a
    // cancel, what was served.
    return this.#closed ? this.text : sync(() => this.#native.wholeText());
  }

  /** Aborts the request (the server sees the connection close); iteration then ends. */
  cancel() {
    if (this.#done) return;
    this.#closed = true;
    try {
      this.#native.close(this.#next);
    } catch (error) {
      throw fromNative(error);
    } finally {
      this.#finish();
    }
  }

  /** Ends iteration; the native side already knows how much was served. */
  #finish() {
    this.#done = true;
    this.#batch = '';
    this.#lengths = null;
    this.#next = 0;
    this.#offset = 0;
    if (this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    this.#onAbort = null;
  }

  [util.inspect.custom]() {
    return `ChatStream { conversationId: ${util.inspect(this.conversationId)}, requestId: ${util.inspect(this.requestId)} }`;
  }
}

/** `client.models`. */
class Models {
  #client;
  constructor(client) {
    this.#client = client;
  }

  /**
   * Lists the models (`GET /ai/models`): an array with the response's `requestId` and `headers`
   * as non-enumerable properties.
   */
  async list(options = undefined) {
    const signal = checkSignal(options);
    const o = requestOptions(options);
    const list = await withSignal(signal, (cancel) => this.#client().listModels(o, cancel));
    const models = list.models;
    let headers = null;
    Object.defineProperties(models, {
      requestId: { value: list.requestId ?? null },
      headers: { get: () => (headers ??= toHeaders(list.headers)) },
    });
    return models;
  }
}

/** `client.chat`. */
class Chat {
  #client;
  constructor(client) {
    this.#client = client;
  }

  /**
   * Sends a message; resolves once the response headers arrived with the reply as an async
   * iterable of strings. Status errors reject here (after retries).
   */
  async stream(params, options = undefined) {
    if (typeof params === 'string') params = { message: params };
    if (!params || typeof params !== 'object') throw new TypeError('params must be { message, model?, conversationId? }');
    const message = checkString('message', params.message, true);
    const model = checkString('model', params.model, false);
    const conversationId = checkString('conversationId', params.conversationId, false);
    const signal = checkSignal(options);
    const o = requestOptions(options);
    const nativeStream = await withSignal(signal, (cancel) =>
      this.#client().chat(message, model, conversationId, o, cancel),
    );
    return new ChatStream(nativeStream, signal);
  }

  /**
   * Sends a message and resolves with the whole reply:
   * `{ text, conversationId, requestId, headers }`.
   */
  async send(params, options = undefined) {
    const stream = await this.stream(params, options);
    const text = await stream.read();
    return { text, conversationId: stream.conversationId, requestId: stream.requestId, headers: stream.headers };
  }
}

/**
 * Splits the `logger` option off a client options object: `[the other options, deliver]`, where
 * `deliver(level, text)` is what the native client calls (on this thread, through a weak
 * threadsafe function) for each record of its log; undefined without a logger. The logger's
 * method for the level is looked up at each record, and skipped when it has none; a logger
 * that throws is reported once as a process warning, never as an uncaught exception.
 */
function splitLogger(options) {
  if (!Object.prototype.hasOwnProperty.call(options, 'logger')) return [options, undefined];
  const { logger, ...rest } = options;
  if (logger === undefined || logger === null) return [rest, undefined];
  if (typeof logger !== 'object' && typeof logger !== 'function') {
    throw new TypeError('options.logger must be an object with debug, info, warn and/or error methods');
  }
  let warned = false;
  const deliver = (level, text) => {
    const method = logger[level];
    if (typeof method !== 'function') return;
    try {
      method.call(logger, text);
    } catch (error) {
      if (warned) return;
      warned = true;
      process.emitWarning(`the mixerlead logger's ${level}() threw (${error && error.message}); its records are still sent`, 'MixerLeadWarning');
    }
  };
  return [rest, deliver];
}

/** The native client the next `new Client()` adopts instead of building one (`withOptions`). */
let adopting = null;

/** What the User-Agent names: `mixerlead-node/<v> (linux; x64) node/20.20.2`. */
const AGENT = { os: process.platform, arch: process.arch, runtime: `node/${process.versions.node}` };

/**
 * A client of MixerLead's Workspace API. Options fall back to the environment
 * (MIXERLEAD_API_KEY, MIXERLEAD_BASE_URL, MIXERLEAD_PROJECT_ID, MIXERLEAD_MAX_RETRIES,
 * MIXERLEAD_ALLOW_INSECURE_HTTP; caFile to NODE_EXTRA_CA_CERTS), then to defaults. Times are in
 * seconds. The key stays in native memory: no property of this object holds it. `logger`
 * receives the client's log records (attempts, retries, responses, stream ends).
 */
class Client {
  #native;

  constructor(options = {}) {
    if (adopting !== null) {
      this.#native = adopting;
      adopting = null;
    } else {
      if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
      // Node's own variable for extra trusted certificates, read as Node's TLS does.
      const extraCerts = process.env.NODE_EXTRA_CA_CERTS;
      if (extraCerts && (options.caFile === undefined || options.caFile === null)) {
        options = { ...options, caFile: extraCerts };
      }
      const [rest, deliver] = splitLogger(options);
      // The native client sets each option by name; it knows them all, their types and checks.
      this.#native = sync(() => new native.NativeClient(rest, AGENT, deliver));
    }
    const nativeClient = () => this.#native;
    /** `client.models.list()`. */
    this.models = new Models(nativeClient);
    /** `client.chat.stream(...)` and `client.chat.send(...)`. */
    this.chat = new Chat(nativeClient);
  }

  /**
   * A client with these options changed (the others as this client has them), sharing this
   * client's connection pool unless the change is to how connections are made
   * (`connectTimeout`, `caFile`, `proxy`).
   */
  withOptions(options) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const [rest, deliver] = splitLogger(options);
    const derived = sync(() => this.#native.withOptions(rest, deliver));
    adopting = derived;
    try {
      return new Client();
    } finally {
      adopting = null;
    }
  }

  toJSON() {
    return { client: 'mixerlead' };
  }

  [util.inspect.custom]() {
    return `Client <${sync(() => this.#native.describe())}>`;
  }
}

module.exports = { Client, ChatStream, Models, Chat, ...errors };
delete module.exports.fromNative;
