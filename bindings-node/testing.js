'use strict';
// mixerlead/testing: the MixerLead emulator, started in this process, for testing your own code
// against a local, scriptable MixerLead (no network, no key, no credits).

const { randomBytes } = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const native = require('./loader.js');
const { fromNative } = require('./errors.js');
const { Client } = require('./index.js');

/** Awaits `start()`, a native call that returns a promise (or throws), with typed errors. */
async function call(start) {
  try {
    return await start();
  } catch (error) {
    throw fromNative(error);
  }
}

function sync(run) {
  try {
    return run();
  } catch (error) {
    throw fromNative(error);
  }
}

/**
 * A local MixerLead emulator on 127.0.0.1, in this process: `await Emulator.start()`, get a
 * `Client` of it with `client(script?, options?)` (or point one at `baseUrl` /
 * `scenarioUrl(script)` with `apiKey`), read what it saw with `stats(id)`, `await stop()` (or
 * `await using emulator = await Emulator.start()`).
 *
 * A script counts its own requests: `times=N` and `stats` count those sent with that script
 * only, under its `id=NAME` when it has one, else under the whole script string. Requests sent
 * without a script count under `''`.
 */
class Emulator {
  #native;
  #caFile = null;
  #stopped = false;

  /** Use `Emulator.start()`. */
  constructor(nativeEmulator) {
    if (!(nativeEmulator instanceof native.NativeEmulator)) {
      throw new TypeError('use `await Emulator.start()` to start an emulator');
    }
    this.#native = nativeEmulator;
    /** An API key the emulator accepts: `ml_test_` and 16 hex digits (any `ml_` key does). */
    this.apiKey = `ml_test_${randomBytes(8).toString('hex')}`;
    /** The base URL of the plain API: `http://127.0.0.1:PORT/api` (`https` with `tls`). */
    this.baseUrl = sync(() => nativeEmulator.baseUrl);
    /** With `tls`, the certificate (PEM) a client must trust (`caFile`); else null. */
    this.caPem = sync(() => nativeEmulator.caPem ?? null);
  }

  /** Starts an emulator on a free port (or `options.port`). */
  static async start(options = {}) {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const nativeEmulator = await call(() => native.NativeEmulator.start(options));
    return new Emulator(nativeEmulator);
  }

  /**
   * With `tls`, a file holding `caPem`, for a client's `caFile` (written on first use, removed by
   * `stop()`); else null, and null once stopped.
   */
  get caFile() {
    if (this.caPem === null || this.#stopped) return null;
    if (this.#caFile === null) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mixerlead-emulator-'));
      const file = path.join(dir, 'ca.pem');
      fs.writeFileSync(file, this.caPem, { mode: 0o600 });
      this.#caFile = file;
    }
    return this.#caFile;
  }

  /**
   * The base URL that scripts every request sent to it, e.g.
   * `scenarioUrl('id=t1;fail=429;times=2;retry_after=0.1')`.
   */
  scenarioUrl(script) {
    if (typeof script !== 'string') throw new TypeError('script must be a string');
    return sync(() => this.#native.scenarioUrl(script));
  }

  /**
   * A `Client` of this emulator: of `scenarioUrl(script)` when a script is given (`undefined`,
   * `null` or `''`: of `baseUrl`), with `apiKey` and, with `tls`, `caFile`; `options` (any of
   * `Client`'s) are merged over those.
   */
  client(script, options = {}) {
    if (script !== undefined && script !== null && typeof script !== 'string') {
      throw new TypeError('script must be a string');
    }
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const given = { apiKey: this.apiKey, baseUrl: script ? this.scenarioUrl(script) : this.baseUrl };
    if (this.caPem !== null) given.caFile = this.caFile;
    return new Client({ ...given, ...options });
  }

  /**
   * What the emulator saw of one scenario: `id` is a script's `id=NAME`, or the script itself for
   * a script without an `id=`, or `''` (the default) for requests sent without a script.
   */
  stats(id = '') {
    if (typeof id !== 'string') throw new TypeError('id must be a string');
    return sync(() => this.#native.stats(id));
  }

  /**
   * Resolves with the stats of `id` once they show `count` client disconnects (default 1), or
   * after `within` milliseconds (default 1000), whichever comes first.
   */
  async waitForDisconnects(id, { count = 1, within = 1000 } = {}) {
    if (typeof id !== 'string') throw new TypeError('id must be a string');
    return call(() => this.#native.waitForDisconnects(id, count, within));
  }

  /** Stops listening (connections already open end on their own) and removes `caFile`. Idempotent. */
  async stop() {
    sync(() => this.#native.stop());
    this.#stopped = true;
    if (this.#caFile !== null) {
      fs.rmSync(path.dirname(this.#caFile), { recursive: true, force: true });
      this.#caFile = null;
    }
  }
}

// `await using emulator = await Emulator.start()` stops it at the end of the block (where the
// runtime has explicit resource management: Symbol.asyncDispose is Node 20's and later).
if (typeof Symbol.asyncDispose === 'symbol') {
  Object.defineProperty(Emulator.prototype, Symbol.asyncDispose, {
    value: async function asyncDispose() {
      await this.stop();
    },
    writable: true,
    configurable: true,
  });
}

module.exports = { Emulator };
