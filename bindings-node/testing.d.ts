/**
 * `mixerlead/testing`: the MixerLead emulator, started in your own process, to test code that
 * uses `mixerlead` without the network, a real key or credits.
 *
 * ```ts
 * import { Emulator } from 'mixerlead/testing';
 *
 * const emulator = await Emulator.start();
 * const reply = await emulator.client().chat.send('Hi');
 * await emulator.stop();
 * ```
 *
 * The same helper in Python is `mixerlead.testing.Emulator`, with the same methods in
 * snake_case.
 *
 * @module mixerlead/testing
 */

import { Client, ClientOptions } from './index';

/** Options of `Emulator.start()`. */
export interface EmulatorOptions {
  /** Port on 127.0.0.1 (default: a free port). */
  port?: number;
  /**
   * Serve https with a certificate for `127.0.0.1` and `localhost` made at start; trust it with
   * the client option `caFile` (write `caPem` to a file).
   */
  tls?: boolean;
  /** Wire format of chat replies: `'sse'` (default), `'ndjson'`, `'jsonl'`, `'json'`, `'text'`, `'none'`. */
  format?: 'sse' | 'ndjson' | 'jsonl' | 'json' | 'text' | 'none';
  /** Milliseconds between the pieces of a reply (default 0). */
  tokenDelayMs?: number;
  /** Requests a second allowed per API key, then 429 with `Retry-After` (default: no limit). */
  rateLimit?: number;
  /** Milliseconds a knowledge source stays `indexing` before it is `indexed` (default 300). */
  indexDelayMs?: number;
  /** The largest file upload taken, in bytes of the whole request body; larger ones get a 413 (default 8 MiB). */
  maxUploadBytes?: number;
  /** Agent runs each workspace (key and project) may make; then 403, the daily quota (default 5). */
  agentRunsPerDay?: number;
  /**
   * A cassette (recorded with a client's `record` option, from any language) to replay instead
   * of the emulated service: each request is answered by the next unused recorded exchange with
   * the same method, path and body; one that matches none gets a 404 naming it and counts in
   * `stats().unmatched`. A cassette that is missing, not JSON, of an unknown version or cut
   * mid-line rejects `start()` with an error naming the file and the line.
   */
  cassette?: string;
  /** With `cassette`: recorded times are divided by it (default 1: as recorded; 0: at once). */
  speed?: number;
}

/**
 * What the emulator saw of one scenario: the requests of one script (its `id=NAME`, or the script
 * itself without one), or those sent without a script (`''`).
 */
export interface EmulatorStats {
  /** Requests (attempts, retries included) received. */
  requests: number;
  /** Chat replies that began streaming. */
  streamsStarted: number;
  /** Chat replies sent to the end. */
  streamsCompleted: number;
  /** Replies the client abandoned: it closed the connection mid-reply. */
  clientDisconnects: number;
  /** When each request arrived, in seconds since the emulator started. */
  requestTimes: number[];
  /** When each client disconnect was seen, in seconds since the emulator started. */
  disconnectTimes: number[];
  /** Headers of the last request (without `authorization`), names lower-case. */
  lastHeaders: Record<string, string>;
  /** Path of the last request, as sent. */
  lastPath: string;
  /** Body of the last request. */
  lastBody: string;
  /** Whether the last request carried an `Authorization` header (its value is never kept). */
  lastAuthorized: boolean;
  /** With a cassette: requests answered from it. */
  replayed: number;
  /** With a cassette: requests no recorded exchange matched (answered with 404). */
  unmatched: number;
}

/**
 * A local MixerLead emulator on 127.0.0.1, in this process. It speaks the Workspace API (models,
 * streamed chat with conversations, every wire format; knowledge sources, kept per key and
 * `projectId`, indexed after `indexDelayMs` — a URL containing `fail` ends in `error` — and
 * grounding chat replies once indexed; skills; agents with a daily run quota; artifacts) and
 * fails on request: get a client with `client(script)` (or script a base URL with
 * `scenarioUrl(script)`), e.g. `'fail=429;times=2;retry_after=0.1'` (429 twice, then success),
 * `'disconnect_after=3'`, `'stall_after=2'`, `'header_delay_ms=500'`, `'format=ndjson'`,
 * `'pieces=1000'`, `'split_utf8'`, `'malformed'`, `'error_after=2'`, joined with `;`.
 *
 * A script counts its own requests: `times=N` and `stats` count those sent with that script
 * only, under its `id=NAME` when it has one, else under the whole script string
 * (`stats('fail=429;times=2;retry_after=0.1')`). Requests sent without a script count under `''`.
 * It does not keep the process alive; `await using emulator = await Emulator.start()` stops it at
 * the end of the block.
 */
export declare class Emulator {
  private constructor();
  /** Starts an emulator on a free port (or `options.port`). */
  static start(options?: EmulatorOptions): Promise<Emulator>;
  /** The base URL of the plain API: `http://127.0.0.1:PORT/api` (`https` with `tls`). */
  readonly baseUrl: string;
  /** An API key the emulator accepts: `ml_test_` and 16 hex digits (any key starting `ml_` does). */
  readonly apiKey: string;
  /** With `tls`, the certificate (PEM) a client must trust; else `null`. */
  readonly caPem: string | null;
  /**
   * With `tls`, a file holding `caPem`, for a client's `caFile` (written on first use, removed by
   * `stop()`); else `null`, and `null` once stopped.
   */
  readonly caFile: string | null;
  /** The base URL that scripts every request sent to it (see the class documentation). */
  scenarioUrl(script: string): string;
  /**
   * A `Client` of this emulator: of `scenarioUrl(script)` when a script is given (`undefined`,
   * `null` or `''`: of `baseUrl`), with `apiKey` and, with `tls`, `caFile`; `options` are merged
   * over those.
   */
  client(script?: string | null, options?: ClientOptions): Client;
  /**
   * What the emulator saw of one scenario: `id` is a script's `id=NAME`, or the script itself for
   * a script without an `id=`, or `''` (the default) for requests sent without a script. An id
   * nothing was sent under has all counts 0.
   */
  stats(id?: string): EmulatorStats;
  /**
   * Resolves with the stats of `id` once they show `count` client disconnects (default 1), or
   * after `within` milliseconds (default 1000), whichever comes first.
   */
  waitForDisconnects(id: string, options?: { count?: number; within?: number }): Promise<EmulatorStats>;
  /** Stops listening (connections already open end on their own) and removes `caFile`. Idempotent. */
  stop(): Promise<void>;
  /** Calls `stop()`: what `await using` does at the end of the block. */
  [Symbol.asyncDispose](): Promise<void>;
}
