'use strict';
// mixerlead/testing: the MixerLead emulator, started in this process, for testing your own code
// against a local, scriptable MixerLead (no network, no key, no credits).

const { randomBytes } = require('node:crypto');
const native = require('./loader.js');
const { fromNative } = require('./errors.js');

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
 * A local MixerLead emulator on 127.0.0.1, in this process: `await Emulator.start()`, point a
 * `Client` at `baseUrl` with `apiKey`, script faults per request with `scenarioUrl(script)`,
 * read what it saw with `stats(id)`, `await stop()`.
 */
class Emulator {
  #native;

  /** Use `Emulator.start()`. */
  constructor(nativeEmulator) {
    if (!(nativeEmulator instanceof native.NativeEmulator)) {
      throw new TypeError('use `await Emulator.start()` to start an emulator');
    }
    this.#native = nativeEmulator;
    /** An API key the emulator accepts (any `ml_test_…` key does). */
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
   * The base URL that scripts every request sent to it, e.g.
   * `scenarioUrl('id=t1;fail=429;times=2;retry_after=0.1')`.
   */
  scenarioUrl(script) {
    if (typeof script !== 'string') throw new TypeError('script must be a string');
    return sync(() => this.#native.scenarioUrl(script));
  }

  /** What the emulator saw for scenario id `id` (`''`: requests without an id). */
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

  /** Stops listening. Connections already open end on their own. */
  async stop() {
    sync(() => this.#native.stop());
  }
}

module.exports = { Emulator };
