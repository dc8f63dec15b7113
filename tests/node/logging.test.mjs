// Logging in Node: the `logger` client option receives the core's records (attempts,
// retries, responses, stream ends) on the JS thread, never the key, the message or the reply.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { Client, StreamInterruptedError } from 'mixerlead';
import { startEmulator, sid, KEY, REPLY_START } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => emu.stop());

/** A logger that keeps `[level, text]` records, and the thread each came on. */
function recorder() {
  const records = [];
  const logger = {};
  for (const level of ['debug', 'info', 'warn', 'error']) {
    logger[level] = function (text, ...rest) {
      assert.equal(this, logger, 'called as a method of the logger');
      assert.deepEqual(rest, [], 'one argument');
      records.push([level, text]);
    };
  }
  return { logger, records };
}

/** Resolves once `check()` is true (records arrive shortly after the call that made them). */
async function until(check, what, within = 2000) {
  const deadline = Date.now() + within;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`not within ${within} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const texts = (records, level) => records.filter(([l]) => l === level).map(([, t]) => t);

test('attempts, responses, retries and a stream end reach the logger by level', async () => {
  const { logger, records } = recorder();
  const c = new Client({ apiKey: KEY, baseUrl: emu.url(`id=${sid()};fail=503;times=1;retry_after=0.01`), logger });
  await c.models.list();
  await until(() => texts(records, 'debug').some((t) => /HTTP 200/.test(t)), 'the 200 response');
  const debug = texts(records, 'debug');
  assert.ok(debug.some((t) => t === 'GET /ai/models: attempt 1 of 3'), debug.join('\n'));
  assert.ok(debug.some((t) => t === 'GET /ai/models: attempt 2 of 3'), debug.join('\n'));
  assert.ok(debug.some((t) => /^GET \/ai\/models: HTTP 503 in [\d.]+ ms \(request id req_\d+\)$/.test(t)), debug.join('\n'));
  const info = texts(records, 'info');
  assert.equal(info.length, 1, info.join('\n'));
  assert.match(info[0], /^GET \/ai\/models: .*retry 1 of 2 in 0\.010 s$/);

  records.length = 0;
  const reply = await c.withOptions({ baseUrl: emu.url() }).chat.send({ message: 'x' });
  assert.ok(reply.text.length > 0);
  await until(() => texts(records, 'debug').some((t) => t.startsWith('stream ended')), 'the stream end');
  assert.ok(texts(records, 'debug').some((t) => /^stream ended: \d+ pieces, \d+ body bytes$/.test(t)));
});

test('a stream that fails is a warning', async () => {
  const { logger, records } = recorder();
  const c = new Client({ apiKey: KEY, baseUrl: emu.url('disconnect_after=2'), logger });
  await assert.rejects(c.chat.send({ message: 'x' }), StreamInterruptedError);
  await until(() => texts(records, 'warn').length > 0, 'a warning');
  assert.match(texts(records, 'warn')[0], /^stream failed after 2 pieces/);
});

test('records never hold the key, the message or the reply', async () => {
  const { logger, records } = recorder();
  const message = 'the-private-message-7Qz';
  const c = new Client({
    apiKey: KEY,
    baseUrl: emu.url(`id=${sid()};fail=429;times=1;retry_after=0.01`),
    maxRetries: 1,
    logger,
  });
  const reply = await c.chat.send({ message });
  assert.ok(reply.text.startsWith(`${REPLY_START}${message}`), reply.text);
  // A failure too: its record carries the service's error, still without the key.
  await assert.rejects(new Client({ apiKey: KEY, baseUrl: emu.url('fail=401'), logger }).models.list());
  await until(() => texts(records, 'debug').some((t) => t.startsWith('stream ended')), 'the stream end');
  await until(() => texts(records, 'info').some((t) => /not retryable/.test(t)), 'the 401');
  const all = records.map(([, t]) => t).join('\n');
  assert.ok(records.length >= 6, all);
  for (const secret of ['nodesecretkey', KEY.slice(-4), message, 'You said']) {
    assert.ok(!all.includes(secret), `${secret} in:\n${all}`);
  }
});

test('methods a logger lacks are skipped; no logger, no records', async () => {
  const infos = [];
  const c = new Client({ apiKey: KEY, baseUrl: emu.url(`id=${sid()};fail=503;times=1;retry_after=0.01`), logger: { info: (t) => infos.push(t) } });
  await c.models.list();
  await until(() => infos.length === 1, 'the retry record');
  assert.match(infos[0], /retry 1 of 2/);
  // The logger's methods are looked up at each record: one added later is used.
  const debugs = [];
  const logger = {};
  const late = new Client({ apiKey: KEY, baseUrl: emu.url(), logger });
  logger.debug = (t) => debugs.push(t);
  await late.models.list();
  await until(() => debugs.some((t) => /HTTP 200/.test(t)), 'the response');
  // `console`-like loggers as they are; `{}` and null are accepted and log nothing.
  await new Client({ apiKey: KEY, baseUrl: emu.url(), logger: {} }).models.list();
  await new Client({ apiKey: KEY, baseUrl: emu.url(), logger: null }).models.list();
  for (const bad of ['console', 1, true]) {
    assert.throws(() => new Client({ apiKey: KEY, baseUrl: emu.url(), logger: bad }), TypeError);
  }
});

test('withOptions keeps the logger, or takes another', async () => {
  const first = recorder();
  const second = recorder();
  const c = new Client({ apiKey: KEY, baseUrl: emu.url(), logger: first.logger });
  await c.withOptions({ timeout: 5 }).models.list();
  await until(() => first.records.length >= 2, 'the derived client logs to the first logger');
  first.records.length = 0;
  await c.withOptions({ logger: second.logger }).models.list();
  await until(() => second.records.length >= 2, 'the second logger');
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(first.records, []);
  assert.throws(() => c.withOptions({ logger: 'x' }), TypeError);
});

test('a logger that throws is a process warning, once; the calls go on', async () => {
  let calls = 0;
  const warnings = [];
  const onWarning = (w) => warnings.push(w);
  process.on('warning', onWarning);
  try {
    const logger = {
      debug() {
        calls++;
        throw new Error('logger broke');
      },
    };
    const c = new Client({ apiKey: KEY, baseUrl: emu.url(), logger });
    await c.models.list();
    await c.models.list();
    await until(() => calls >= 4 && warnings.length >= 1, 'the records and the warning');
    await new Promise((resolve) => setTimeout(resolve, 20));
    const ours = warnings.filter((w) => w.name === 'MixerLeadWarning');
    assert.equal(ours.length, 1);
    assert.match(ours[0].message, /logger's debug\(\) threw \(logger broke\)/);
  } finally {
    process.off('warning', onWarning);
  }
});

test('a client with a logger in a worker thread; the worker ends cleanly', async () => {
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { Client } = require('mixerlead');
    const records = [];
    const logger = { debug: (t) => records.push(t) };
    const c = new Client({ apiKey: workerData.key, baseUrl: workerData.url, logger });
    (async () => {
      await c.models.list();
      while (!records.some((t) => /HTTP 200/.test(t))) await new Promise((r) => setTimeout(r, 5));
      // A stream left open: its records may come after the worker is gone.
      const stream = await c.chat.stream({ message: 'x' });
      await stream.next();
      parentPort.postMessage(records);
    })();
  `;
  const worker = new Worker(code, { eval: true, workerData: { key: KEY, url: emu.url('pieces=200;delay_ms=5') } });
  // Listened to at once: Node may emit 'exit' right after the last message, in the same turn.
  const exited = new Promise((resolve) => worker.once('exit', resolve));
  const records = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  assert.ok(records.some((t) => t === 'GET /ai/models: attempt 1 of 3'), records.join('\n'));
  assert.equal(await exited, 0);
  // This thread's own client still logs after the worker's environment went away.
  const { logger, records: mine } = recorder();
  await new Client({ apiKey: KEY, baseUrl: emu.url(), logger }).models.list();
  await until(() => mine.length >= 2, 'records on the main thread');
});

/** Runs `code` as an ES module in a child node; resolves with its exit and output. */
function runChild(code, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', code], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const started = Date.now();
    const killer = setTimeout(() => child.kill('SIGKILL'), 10000);
    child.on('exit', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, ms: Date.now() - started });
    });
  });
}

test('a logger keeps no process alive: idle client, open stream', async () => {
  const out = await runChild(`
    import { Client } from 'mixerlead';
    const records = [];
    const logger = { debug: (t) => records.push(t), info: (t) => records.push(t) };
    const idle = new Client({ apiKey: '${KEY}', baseUrl: '${emu.url()}', logger });
    await idle.models.list();
    const c = new Client({ apiKey: '${KEY}', baseUrl: '${emu.url('pieces=1000;delay_ms=20')}', logger });
    const stream = await c.chat.stream({ message: 'x' });
    await stream.next();
    await new Promise((r) => setTimeout(r, 50));
    console.log(records.filter((t) => t.startsWith('GET') || t.startsWith('POST')).length >= 4 ? 'logged' : records.join('|'));
  `);
  assert.equal(out.code, 0, out.stderr);
  assert.equal(out.signal, null);
  assert.equal(out.stdout, 'logged\n');
  assert.ok(out.ms < 5000, `${out.ms} ms`);
  assert.doesNotMatch(out.stderr, /Unhandled|rejection|panicked/i);
});
