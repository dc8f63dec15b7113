'use strict';
// mixerlead for Node.js: a thin layer over the native addon (all behaviour is in the Rust core).

const util = require('node:util');
const { fileURLToPath } = require('node:url');
const native = require('./loader.js');
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

// OpenTelemetry: looked for at the first call, loaded (otel.js) only when `@opentelemetry/api`
// resolves; without it a call costs one comparison here.
let telemetry; // undefined: not looked for yet; null: not installed

function otel() {
  if (telemetry === undefined) {
    telemetry = null;
    let api = null;
    try {
      api = require(require.resolve('@opentelemetry/api'));
    } catch {
      // Not installed: calls go untraced.
    }
    if (api !== null) telemetry = new (require('./otel.js').Telemetry)(api);
  }
  return telemetry;
}

/**
 * `run(o)`, a native call taking the request options `o`, traced as `name` (a chat when `chat`
 * is `{ message, model, conversationId }`) when OpenTelemetry is installed: the span ends with
 * the core's report of the call.
 */
function traced(name, chat, o, run) {
  const t = telemetry === undefined ? otel() : telemetry;
  if (t === null) return run(o);
  const [options, tag] = t.begin(name, chat, o);
  try {
    return run(options);
  } catch (error) {
    t.abandon(tag, error);
    throw error;
  }
}

/** The span name of a chat: `chat <model>`, `chat` for Auto. */
const chatName = (model) => (model === undefined ? 'chat' : `chat ${model}`);

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
  #aborted = false; // ended by the signal: the next read throws an AbortError once
  #fetching = null; // the batch being waited for, so that concurrent next() calls queue
  #retry = () => this.next();
  #retryChunk = () => this.#read(this.#takeRest, this.#retryChunk);
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
          const chunk = await this.#read(this.#takeRest, this.#retryChunk);
          if (chunk.done) controller.close();
          else controller.enqueue(encoder.encode(chunk.value));
        },
        cancel: () => this.cancel(),
      },
      { highWaterMark: 0 },
    );
  }

  /** The next piece (async iterator protocol). */
  next() {
    return this.#read(this.#take, this.#retry);
  }

  /**
   * The reply in chunks: `for await (const chunk of stream.chunks()) res.write(chunk)`. Each
   * chunk is every piece that has arrived and not been handed out yet, joined: never empty,
   * never a piece split, one string per batch however many pieces it holds. It mixes with
   * iterating the stream piece by piece (each goes on where the other stopped); breaking out of
   * it aborts the request, and errors reject as they do per piece (`partialText` holds every
   * chunk before the failure). The fastest way to relay a reply.
   * @returns {AsyncIterableIterator<string>}
   */
  chunks() {
    return {
      next: () => this.#read(this.#takeRest, this.#retryChunk),
      return: () => this.return(),
      [Symbol.asyncIterator]() {
        return this;
      },
    };
  }

  /** `take()` of what the current batch has left, else of the next batch once it arrives. */
  #read(take, retry) {
    // Not an async function: a piece of the current batch costs one settled promise, no more.
    if (this.#lengths !== null && this.#next < this.#lengths.length) {
      return Promise.resolve({ value: take(), done: false });
    }
    if (this.#fetching !== null) return this.#fetching.then(retry, retry);
    return this.#nextBatch(take);
  }

  /** Waits for the next batch and takes from it with `take()`. */
  async #nextBatch(take) {
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
    if (this.#done) return this.#nextBatch(take); // closed while waiting
    if (batch === null) {
      this.#finish();
      return { value: undefined, done: true };
    }
    this.#batch = batch.text;
    this.#lengths = batch.lengths;
    this.#next = 0;
    this.#offset = 0;
    return { value: take(), done: false };
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
  #take = () => {
    const end = this.#offset + this.#lengths[this.#next++];
    const piece = this.#batch.slice(this.#offset, end);
    this.#offset = end;
    return piece;
  };

  /** The rest of the current batch at once (the pieces count as served): the batch's own
   * string, not a copy, when none of it was taken. */
  #takeRest = () => {
    const rest = this.#offset === 0 ? this.#batch : this.#batch.slice(this.#offset);
    this.#offset = this.#batch.length;
    if (this.#lengths !== null) this.#next = this.#lengths.length;
    return rest;
  };

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
    // cancel, what was served (the core counts what the cancel withheld).
    return sync(() => this.#native.wholeText());
  }

  /** Aborts the request (the server sees the connection close); iteration then ends. */
  cancel() {
    if (this.#done) return;
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

  /** `open`, `finished` (read to its end), `failed` or `closed`. */
  get #state() {
    return sync(() => this.#native.state);
  }

  [util.inspect.custom](depth, options, inspect = util.inspect) {
    const shown = { conversationId: this.conversationId, requestId: this.requestId, state: this.#state };
    return `ChatStream ${inspect(shown, options)}`;
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
    const list = await withSignal(signal, (cancel) =>
      traced('GET /ai/models', null, o, (o2) => this.#client().listModels(o2, cancel)),
    );
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
    const chat = { message, model, conversationId };
    const nativeStream = await withSignal(signal, (cancel) =>
      traced(chatName(model), chat, o, (o2) => this.#client().chat(message, model, conversationId, o2, cancel)),
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
 * Runs `start(options, cancel)`, a native call, with a call's request options and signal,
 * traced as `name` (`<METHOD> <path template>`).
 */
function request(options, name, start) {
  const signal = checkSignal(options);
  const o = requestOptions(options);
  return withSignal(signal, (cancel) => traced(name, null, o, (o2) => start(o2, cancel)));
}

/** `params` as an object (a TypeError saying `shape` when it is not one). */
function checkParams(params, shape) {
  if (params === null || typeof params !== 'object' || Array.isArray(params)) {
    throw new TypeError(`params must be ${shape}`);
  }
  return params;
}

/** A plain object of JSON values as JSON text for the native side (undefined when not given). */
function jsonObject(name, value, required = false) {
  if (value === undefined || value === null) {
    if (required) throw new TypeError(`${name} is required`);
    return undefined;
  }
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`${name} must be a plain object`);
  return JSON.stringify(value);
}

/** The id of a source, an agent or a skill: a string (the core refuses an empty one). */
const checkId = (name, value) => checkString(name, value, true);

const orNull = (value) => (value === undefined ? null : value);

function toSource(s) {
  return {
    id: s.id,
    type: orNull(s.kind),
    sourceUrlOrPath: orNull(s.sourceUrlOrPath),
    status: s.status,
    chunkCount: orNull(s.chunkCount),
    enabled: s.enabled,
    createdAt: orNull(s.createdAt),
    indexedAt: orNull(s.indexedAt),
    lastError: orNull(s.lastError),
    raw: JSON.parse(s.raw),
  };
}

function toIndexing(i) {
  return { id: i.id, status: i.status, maxPages: orNull(i.maxPages), raw: JSON.parse(i.raw) };
}

function toRecord(r) {
  return { id: orNull(r.id), name: orNull(r.name), type: orNull(r.kind), raw: JSON.parse(r.raw) };
}

/**
 * `client.knowledge`: the sources chat is grounded on — added by URL, text or file, or by
 * crawling a site; listed, enabled, disabled, re-indexed, deleted; and waited for.
 */
class Knowledge {
  #client;
  constructor(client) {
    this.#client = client;
  }

  /**
   * Adds a source (`POST /knowledge`): exactly one of `url`, `text` or `file` (a path, streamed
   * from disk; or the bytes, sent as they are, named `fileName` — default `name`, else
   * `upload`), with an optional `name`. Resolves with `{ id, status: 'indexing', … }`.
   */
  async add(params, options = undefined) {
    const p = checkParams(params, '{ url } | { text } | { file }, with an optional name');
    const source = {
      url: checkString('url', p.url, false),
      text: checkString('text', p.text, false),
      name: checkString('name', p.name, false),
      fileName: checkString('fileName', p.fileName, false),
    };
    const { file } = p;
    if (typeof file === 'string') source.filePath = file;
    else if (file instanceof URL) source.filePath = fileURLToPath(file);
    else if (file instanceof Uint8Array) source.fileBytes = file; // a Buffer too
    else if (file instanceof ArrayBuffer) source.fileBytes = new Uint8Array(file);
    else if (ArrayBuffer.isView(file)) source.fileBytes = new Uint8Array(file.buffer, file.byteOffset, file.byteLength);
    else if (file !== undefined && file !== null) {
      throw new TypeError("file must be a path (a string or a file: URL) or the file's bytes (a Buffer or Uint8Array)");
    }
    return toIndexing(await request(options, 'POST /knowledge', (o, cancel) => this.#client().knowledgeAdd(source, o, cancel)));
  }

  /** Crawls a site from `seedUrl`, at most `maxPages` pages (`POST /knowledge/crawl`). */
  async crawl(params, options = undefined) {
    const p = checkParams(params, '{ seedUrl, maxPages? }');
    const seedUrl = checkString('seedUrl', p.seedUrl, true);
    let { maxPages } = p;
    if (maxPages === null) maxPages = undefined;
    if (maxPages !== undefined && typeof maxPages !== 'number') throw new TypeError('maxPages must be a number');
    const crawl = await request(options, 'POST /knowledge/crawl', (o, cancel) => this.#client().knowledgeCrawl(seedUrl, maxPages, o, cancel));
    return toIndexing(crawl);
  }

  /** Every source (`GET /knowledge`). */
  async list(options = undefined) {
    const sources = await request(options, 'GET /knowledge', (o, cancel) => this.#client().knowledgeList(o, cancel));
    return sources.map(toSource);
  }

  /** Lets chat use the source (`PATCH /knowledge/{id}`); the source, or null when the service sends none. */
  async enable(id, options = undefined) {
    return this.#setEnabled(id, true, options);
  }

  /** Stops chat using the source (`PATCH /knowledge/{id}`); the source, or null. */
  async disable(id, options = undefined) {
    return this.#setEnabled(id, false, options);
  }

  async #setEnabled(id, enabled, options) {
    checkId('id', id);
    const source = await request(options, 'PATCH /knowledge/{id}', (o, cancel) => this.#client().knowledgeSetEnabled(id, enabled, o, cancel));
    return source ? toSource(source) : null;
  }

  /** Indexes the source again (`POST /knowledge/{id}/reindex`). */
  async reindex(id, options = undefined) {
    checkId('id', id);
    return toIndexing(await request(options, 'POST /knowledge/{id}/reindex', (o, cancel) => this.#client().knowledgeReindex(id, o, cancel)));
  }

  /** Deletes the source (`DELETE /knowledge/{id}`). */
  async delete(id, options = undefined) {
    checkId('id', id);
    await request(options, 'DELETE /knowledge/{id}', (o, cancel) => this.#client().knowledgeDelete(id, o, cancel));
  }

  /**
   * Polls the list, with backoff, until every source of `ids` is indexed, for at most
   * `timeout` seconds (default 300); resolves with those sources. Rejects with an
   * `IndexingError` (`sourceId`, `lastError`) when one fails, an `APITimeoutError` at the
   * deadline. The request options apply to each poll.
   */
  async waitUntilIndexed(ids, params = undefined, options = undefined) {
    if (typeof ids === 'string') ids = [ids];
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== 'string')) {
      throw new TypeError('ids must be a source id or an array of source ids');
    }
    const p = params === undefined || params === null ? {} : checkParams(params, '{ timeout } (seconds)');
    const { timeout = 300, ...rest } = p;
    const others = Object.keys(rest);
    if (others.length > 0) {
      throw new TypeError(
        `waitUntilIndexed's second argument takes only { timeout } (seconds), not ${others.join(', ')}: ` +
          'request options ({ signal, timeout, maxRetries, headers }) are its third argument',
      );
    }
    const seconds = timeout === null ? 300 : timeout;
    if (typeof seconds !== 'number') throw new TypeError('timeout must be a number of seconds');
    const sources = await request(options, 'GET /knowledge', (o, cancel) =>
      this.#client().knowledgeWaitUntilIndexed(ids, seconds, o, cancel),
    );
    return sources.map(toSource);
  }
}

/** `client.skills`: ready-made tasks run with variables. */
class Skills {
  #client;
  constructor(client) {
    this.#client = client;
  }

  /** Every skill (`GET /skills`): `[{ id, name, category, description, raw }]`. */
  async list(options = undefined) {
    const skills = await request(options, 'GET /skills', (o, cancel) => this.#client().skillsList(o, cancel));
    return skills.map((s) => ({
      id: s.id,
      name: orNull(s.name),
      category: orNull(s.category),
      description: orNull(s.description),
      raw: JSON.parse(s.raw),
    }));
  }

  /** Runs the skill `skillId` with `vars` (`POST /skills/exec`): `{ output, raw }`, output in Markdown. */
  async run(skillId, vars = undefined, options = undefined) {
    checkId('skillId', skillId);
    const json = jsonObject('vars', vars);
    const out = await request(options, 'POST /skills/exec', (o, cancel) => this.#client().skillsRun(skillId, json, o, cancel));
    return { output: out.output, raw: JSON.parse(out.raw) };
  }
}

/** `client.agents`: the agents of the active project (`projectId`). */
class Agents {
  #client;
  constructor(client) {
    this.#client = client;
  }

  /** Every agent (`GET /agents`): `[{ id, name, type, raw }]`. */
  async list(options = undefined) {
    const agents = await request(options, 'GET /agents', (o, cancel) => this.#client().agentsList(o, cancel));
    return agents.map(toRecord);
  }

  /**
   * Creates an agent (`POST /agents`) of `type` `research`, `strategy`, `execution` or
   * `monitoring`, with an optional `config` object. Never sent twice.
   */
  async create(params, options = undefined) {
    const p = checkParams(params, '{ name, type, config? }');
    const name = checkString('name', p.name, true);
    const type = checkString('type', p.type, true);
    const config = jsonObject('config', p.config);
    return toRecord(await request(options, 'POST /agents', (o, cancel) => this.#client().agentsCreate(name, type, config, o, cancel)));
  }

  /**
   * Runs the agent (`POST /agents/{id}/run`): costs credits, and a daily quota applies (a
   * `PermissionDeniedError` then, never retried). `{ output, raw }`: `output` is the run's text
   * when the service gave one as a string.
   */
  async run(agentId, options = undefined) {
    checkId('agentId', agentId);
    const raw = JSON.parse(await request(options, 'POST /agents/{id}/run', (o, cancel) => this.#client().agentsRun(agentId, o, cancel)));
    let output = null;
    if (typeof raw === 'string') output = raw;
    else if (raw && typeof raw === 'object' && typeof raw.output === 'string') output = raw.output;
    return { output, raw };
  }
}

/** `client.artifacts`: outputs saved for reuse (a generated document, …). */
class Artifacts {
  #client;
  constructor(client) {
    this.#client = client;
  }

  /** Every artifact (`GET /artifacts`): `[{ id, name, type, raw }]`. */
  async list(options = undefined) {
    const artifacts = await request(options, 'GET /artifacts', (o, cancel) => this.#client().artifactsList(o, cancel));
    return artifacts.map(toRecord);
  }

  /** Saves an artifact with these fields (`POST /artifacts`); never sent twice. */
  async create(fields, options = undefined) {
    const json = jsonObject('fields', fields, true);
    return toRecord(await request(options, 'POST /artifacts', (o, cancel) => this.#client().artifactsCreate(json, o, cancel)));
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
      const why = error && error.message;
      process.emitWarning(`the mixerlead logger's ${level}() threw (${why}); its records are still sent`, 'MixerLeadWarning');
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
    /** `client.knowledge`: `add`, `crawl`, `list`, `enable`, `disable`, `reindex`, `delete`, `waitUntilIndexed`. */
    this.knowledge = new Knowledge(nativeClient);
    /** `client.skills.list()`, `client.skills.run(skillId, vars)`. */
    this.skills = new Skills(nativeClient);
    /** `client.agents.list()`, `.create({ name, type, config })`, `.run(agentId)`. */
    this.agents = new Agents(nativeClient);
    /** `client.artifacts.list()`, `client.artifacts.create(fields)`. */
    this.artifacts = new Artifacts(nativeClient);
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

  [util.inspect.custom](depth, options, inspect = util.inspect) {
    // Client { baseUrl: '…', apiKey: '…1234', maxRetries: 2 }: the key's last 4 characters at most.
    const shown = Object.fromEntries(sync(() => this.#native.shownOptions()));
    return `Client ${inspect(shown, options)}`;
  }
}

module.exports = { Client, ChatStream, Models, Chat, Knowledge, Skills, Agents, Artifacts, ...errors };
delete module.exports.fromNative;
