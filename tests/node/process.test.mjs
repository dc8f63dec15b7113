// Process-level behaviour: clean exit, worker threads, one runtime, the key never shown.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, spawn } from 'node:child_process';
import util from 'node:util';
import { Client } from 'mixerlead';
import { startEmulator, generated, KEY, REPLY_START, sid } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => emu.stop());

/** Runs `code` as an ES module in a child node; resolves with its output and how long it lasted. */
function runChild(code, env = {}, flags = []) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...flags, '--input-type=module', '-e', code], {
      cwd: process.cwd(),
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    let lastLine = 0;
    child.stdout.on('data', (d) => {
      stdout += d;
      lastLine = Date.now();
    });
    child.stderr.on('data', (d) => (stderr += d));
    const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, afterLastLine: Date.now() - lastLine });
    });
  });
}

test('the process exits by itself with an idle client', async () => {
  const out = await runChild(`
    import { Client } from 'mixerlead';
    const c = new Client({ apiKey: '${KEY}', baseUrl: '${emu.url()}' });
    await c.models.list();
    console.log('done');
  `);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'done\n');
  assert.ok(out.afterLastLine < 2000, `${out.afterLastLine} ms`);
  assert.equal(out.stderr, '');
});

test('the process exits by itself with a stream left half-read', async () => {
  const out = await runChild(`
    import { Client } from 'mixerlead';
    const c = new Client({ apiKey: '${KEY}', baseUrl: '${emu.url('pieces=1000;delay_ms=20')}' });
    const stream = await c.chat.stream({ message: 'x' });
    await stream.next();
    console.log('left open');
  `);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'left open\n');
  assert.ok(out.afterLastLine < 2000, `${out.afterLastLine} ms`);
  assert.doesNotMatch(out.stderr, /Unhandled|rejection/i);
});

test('the process exits by itself with a mixerlead/testing emulator left running', async () => {
  const out = await runChild(`
    import { Client } from 'mixerlead';
    import { Emulator } from 'mixerlead/testing';
    const emulator = await Emulator.start({ tokenDelayMs: 20 });
    const c = new Client({ apiKey: emulator.apiKey, baseUrl: emulator.baseUrl });
    const stream = await c.chat.stream('x');
    await stream.next();
    console.log('left running');
  `);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.stdout, 'left running\n');
  assert.ok(out.afterLastLine < 2000, `${out.afterLastLine} ms`);
});

test('pieces stay intact through garbage collection (batch text lives outside the JS heap)', async () => {
  // Latin-1 text (one byte per character), raw text, one JSON piece, and text beyond Latin-1.
  const scripts = ['pieces=30000', 'format=json;pieces=30000', 'format=text;pieces=30000', 'split_utf8'];
  const expected = [generated(30000), generated(30000), generated(30000), 'héllo wörld — 世界 👋🏽 naïve ∑ ok'];
  const out = await runChild(
    `
    import { Client } from 'mixerlead';
    const texts = [];
    const urls = ${JSON.stringify(scripts.map((s) => emu.url(s)))};
    for (const url of urls) {
      const c = new Client({ apiKey: '${KEY}', baseUrl: url });
      const pieces = [];
      for await (const piece of await c.chat.stream({ message: 'x' })) {
        pieces.push(piece);
        if (pieces.length % 4000 === 0) globalThis.gc();
      }
      texts.push(pieces);
    }
    globalThis.gc();
    globalThis.gc();
    console.log(JSON.stringify(texts.map((pieces) => pieces.join(''))));
  `,
    {},
    ['--expose-gc'],
  );
  assert.equal(out.code, 0, out.stderr);
  assert.deepEqual(JSON.parse(out.stdout), expected);
});

test('two worker threads stream at once', async () => {
  const out = await runChild(`
    import { Worker } from 'node:worker_threads';
    import path from 'node:path';
    const run = () => new Promise((resolve, reject) => {
      const w = new Worker(path.resolve('worker.cjs'), { workerData: { key: '${KEY}', url: '${emu.url('delay_ms=5')}' } });
      w.on('message', resolve);
      w.on('error', reject);
    });
    const texts = await Promise.all([run(), run()]);
    console.log(JSON.stringify(texts));
  `);
  assert.equal(out.code, 0, out.stderr);
  const texts = JSON.parse(out.stdout);
  assert.equal(texts.length, 2);
  for (const t of texts) assert.ok(t.startsWith(`${REPLY_START}from a worker`), t);
});

test('one runtime: tokio threads are mixerlead-rt, none tokio-runtime-w', async () => {
  const out = await runChild(`
    import fs from 'node:fs';
    import { Client } from 'mixerlead';
    const c = new Client({ apiKey: '${KEY}', baseUrl: '${emu.url()}' });
    await c.models.list();
    await c.chat.send({ message: 'x' });
    const names = fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync('/proc/self/task/' + t + '/comm', 'utf8').trim());
    console.log(JSON.stringify(names));
  `);
  const names = JSON.parse(out.stdout);
  assert.ok(names.some((n) => n.startsWith('mixerlead-rt')), names.join(','));
  assert.ok(!names.some((n) => n.startsWith('tokio-runtime')), names.join(','));
});

test('the key never shows: inspect, JSON, errors, stacks, logs', async () => {
  const c = new Client({ apiKey: KEY, baseUrl: emu.url('fail=401') });
  for (const text of [util.inspect(c, { showHidden: true, depth: 10 }), JSON.stringify(c), String(c)]) {
    assert.ok(!text.includes('nodesecretkey'), text);
  }
  assert.ok(!Object.values(c).some((v) => typeof v === 'string' && v.includes('nodesecret')));
  await assert.rejects(c.models.list(), (e) => {
    const all = `${e.message} ${e.stack} ${util.inspect(e)} ${JSON.stringify(e)}`;
    assert.ok(!all.includes('nodesecretkey'), all);
    return true;
  });
  const id = sid();
  const out = await runChild(
    `
    import { Client } from 'mixerlead';
    const c = new Client({ apiKey: '${KEY}', baseUrl: '${emu.url(`id=${id};fail=429;times=1;retry_after=0.01`)}' });
    await c.chat.send({ message: 'x' });
  `,
    { MIXERLEAD_LOG: 'debug' },
  );
  assert.equal(out.code, 0, out.stderr);
  assert.match(out.stderr, /attempt 1 of 3/);
  assert.ok(!out.stderr.includes('nodesecretkey'));
  const quiet = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { Client } from 'mixerlead';
    await new Client({ apiKey: '${KEY}', baseUrl: '${emu.url()}' }).models.list();
  `], { env: { ...process.env, MIXERLEAD_LOG: '' }, encoding: 'utf8' });
  assert.equal(quiet.stderr, '');
});

// A Rust panic inside the addon must become an exception, never abort Node. Nothing in the API
// can be made to panic from JS, so the addon has a test-only export, `__testPanic(place)`, inert
// unless MIXERLEAD_NODE_TEST_PANICS=1 when it is called; index.js does not hand it out, so the
// child loads the addon and the error mapping from the installed package by path.
const PANIC_CHILD = `
  import { createRequire } from 'node:module';
  import path from 'node:path';
  import { Client, MixerLeadError } from 'mixerlead';
  const require = createRequire(import.meta.url);
  const dir = path.dirname(require.resolve('mixerlead'));
  const native = require(path.join(dir, 'loader.js'));
  const { fromNative } = require(path.join(dir, 'errors.js'));
  const seen = {};
  const describe = (e) => ({ name: e.name, isMixerLeadError: e instanceof MixerLeadError, message: e.message });
  for (const place of ['sync', 'async', 'settle', 'return']) {
    try {
      await native.__testPanic(place);
      seen[place] = 'no error';
    } catch (error) {
      seen[place] = describe(fromNative(error));
    }
  }
  // Still alive, and still working.
  const models = await new Client({ apiKey: process.env.KEY, baseUrl: process.env.URL }).models.list();
  seen.after = models[0].id;
  console.log(JSON.stringify(seen));
`;

test('a Rust panic in the addon becomes an exception and the process lives on', async () => {
  const out = await runChild(PANIC_CHILD, { MIXERLEAD_NODE_TEST_PANICS: '1', KEY, URL: emu.url() });
  assert.equal(out.code, 0, out.stderr);
  const seen = JSON.parse(out.stdout);
  for (const place of ['sync', 'async', 'settle']) {
    assert.equal(seen[place].name, 'MixerLeadError', place);
    assert.ok(seen[place].isMixerLeadError, place);
    // The core's internal error (Error::internal), then what panicked.
    assert.match(seen[place].message, /^internal error\b.*please report it: test panic/, place);
  }
  // napi's own return-value conversion: caught by #[napi(catch_unwind)], a plain Error.
  assert.match(seen.return.message, /test panic while converting a value to JS/);
  assert.equal(seen.after, 'ml-auto');
});

test('the test-only panic export is inert without its environment variable', async () => {
  const out = await runChild(PANIC_CHILD, { MIXERLEAD_NODE_TEST_PANICS: '', KEY, URL: emu.url() });
  assert.equal(out.code, 0, out.stderr);
  const seen = JSON.parse(out.stdout);
  for (const place of ['sync', 'async', 'settle', 'return']) {
    assert.match(seen[place].message, /needs MIXERLEAD_NODE_TEST_PANICS=1/, place);
  }
  assert.doesNotMatch(out.stderr, /panicked/);
});
