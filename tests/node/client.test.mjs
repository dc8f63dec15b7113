// The Node surface against the emulator: streams, errors, retries, cancellation.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import util from 'node:util';
import * as mixerlead from 'mixerlead';
import { startEmulator, sid, generated, KEY, REPLY_START } from './helpers.mjs';

const { Client } = mixerlead;
let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => emu.stop());

const client = (url, options = {}) => new Client({ apiKey: KEY, baseUrl: url, ...options });

test('require and import give the same classes', () => {
  const cjs = createRequire(import.meta.url)('mixerlead');
  assert.equal(cjs.Client, Client);
  assert.equal(cjs.RateLimitError, mixerlead.RateLimitError);
});

test('models.list', async () => {
  const models = await client(emu.url()).models.list();
  assert.deepEqual(models[0], { id: 'ml-auto', name: 'Auto', task: 'Automatic model selection', requiresPaid: false });
  assert.ok(models.some((m) => m.requiresPaid));
});

test('stream is an async iterable of strings in order, with conversationId and text', async () => {
  const stream = await client(emu.url()).chat.stream({ message: 'Hi node', model: 'ml-fast' });
  assert.match(stream.conversationId, /^conv_/);
  const pieces = [];
  for await (const text of stream) {
    assert.equal(typeof text, 'string');
    assert.ok(text.length > 0);
    pieces.push(text);
    assert.equal(stream.text, pieces.join(''));
  }
  assert.ok(pieces.length > 10);
  assert.ok(pieces.join('').startsWith(`${REPLY_START}Hi node\u201d.`));
});

test('many pieces in every format', async () => {
  for (const format of ['sse', 'ndjson', 'text', 'json']) {
    const stream = await client(emu.url(`format=${format};pieces=20000`)).chat.stream({ message: 'x' });
    assert.equal(await stream.read(), generated(20000), format);
  }
});

test('text is exactly what was handed out, across batches read ahead', async () => {
  const stream = await client(emu.url('pieces=30000')).chat.stream({ message: 'x' });
  let handed = '';
  let count = 0;
  for await (const piece of stream) {
    handed += piece;
    if (++count % 997 === 0) assert.equal(stream.text, handed, `after ${count} pieces`);
    if (count === 25000) break;
  }
  assert.equal(stream.text, handed, 'after break mid-batch');
  assert.equal(handed, generated(30000).slice(0, handed.length));
});

test('text after cancel() or an abort mid-batch is exactly what was handed out', async () => {
  // Pieces beyond Latin-1 too: the native side counts served pieces, JS does no length arithmetic.
  const stream = await client(emu.url('pieces=5000')).chat.stream({ message: 'x' });
  let handed = '';
  for (let i = 0; i < 1234; i++) handed += (await stream.next()).value;
  stream.cancel();
  assert.equal(stream.text, handed);
  assert.deepEqual(await stream.next(), { value: undefined, done: true });
  assert.equal(stream.text, handed);

  const controller = new AbortController();
  const aborted = await client(emu.url('split_utf8;pieces=3000')).chat.stream({ message: 'x' }, { signal: controller.signal });
  let got = '';
  for (let i = 0; i < 7; i++) got += (await aborted.next()).value;
  controller.abort();
  assert.equal(aborted.text, got);
  await assert.rejects(aborted.next(), (e) => e.name === 'AbortError');
  assert.deepEqual(await aborted.next(), { value: undefined, done: true });
  assert.equal(aborted.text, got);
});

test('next() calls made without waiting are served in order', async () => {
  const stream = await client(emu.url('pieces=400;delay_ms=1')).chat.stream({ message: 'x' });
  const results = await Promise.all(Array.from({ length: 450 }, () => stream.next()));
  const pieces = results.filter((r) => !r.done).map((r) => r.value);
  assert.equal(pieces.join(''), generated(400));
  assert.ok(results.slice(pieces.length).every((r) => r.done));
  assert.equal(stream.text, generated(400));
});

test('split UTF-8 is joined', async () => {
  for (const format of ['sse', 'ndjson', 'json', 'text', 'none']) {
    const { text } = await client(emu.url(`format=${format};split_utf8`)).chat.send({ message: 'x' });
    assert.equal(text, 'héllo wörld — 世界 👋🏽 naïve ∑ ok', format);
  }
});

test('read after some pieces, send, and conversation continuation', async () => {
  const c = client(emu.url());
  const stream = await c.chat.stream({ message: 'x' });
  assert.deepEqual(await stream.next(), { value: 'Hello! ', done: false });
  const whole = await stream.read();
  assert.ok(whole.startsWith(REPLY_START));
  assert.equal(stream.text, whole);
  const first = await c.chat.send({ message: 'one' });
  const second = await c.chat.send({ message: 'two', conversationId: first.conversationId });
  assert.ok(second.text.includes(`reply 2 in ${first.conversationId}`));
  assert.equal(second.conversationId, first.conversationId);
});

test('conversationId is null until known', async () => {
  const stream = await client(emu.url('conv_in=payload')).chat.stream({ message: 'x' });
  assert.equal(stream.conversationId, null);
  await stream.read();
  assert.match(stream.conversationId, /^conv_/);
});

test('options and environment fallbacks', async () => {
  const id = sid();
  const saved = { ...process.env };
  try {
    process.env.MIXERLEAD_API_KEY = KEY;
    process.env.MIXERLEAD_BASE_URL = emu.url(`id=${id}`) + '/';
    process.env.MIXERLEAD_PROJECT_ID = 'proj_node';
    await new Client().chat.send({ message: 'x' });
    const stats = await emu.stats(id);
    assert.equal(stats.last_path, `/s/id=${id}/api/chat`);
    assert.equal(stats.last_headers['x-project-id'], 'proj_node');
    assert.match(stats.last_headers['user-agent'], /^mixerlead-node\/0\.1\.0 \(/);
    process.env.MIXERLEAD_MAX_RETRIES = '0';
    const failing = emu.url(`id=${id}r;fail=503;retry_after=0`);
    await assert.rejects(new Client({ baseUrl: failing }).models.list(), mixerlead.InternalServerError);
    assert.equal((await emu.stats(`${id}r`)).requests, 1);
    delete process.env.MIXERLEAD_API_KEY;
    assert.throws(() => new Client(), (e) => e instanceof mixerlead.ConfigurationError && /MIXERLEAD_API_KEY/.test(e.message));
  } finally {
    for (const k of Object.keys(process.env)) if (k.startsWith('MIXERLEAD_') && !(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
});

test('bad options and arguments', async () => {
  assert.throws(() => client(emu.url(), { timeout: -1 }), RangeError);
  assert.throws(() => client(emu.url(), { maxRetries: -1 }), RangeError);
  assert.throws(() => client(emu.url(), { timeout: 'soon' }), TypeError);
  assert.throws(() => client('http://example.com/api'), mixerlead.ConfigurationError);
  client('http://example.com/api', { allowInsecureHttp: true });
  const c = client(emu.url());
  await assert.rejects(c.chat.stream({ message: '' }), TypeError);
  await assert.rejects(c.chat.stream({ message: 'a\0b' }), TypeError);
  await assert.rejects(c.chat.stream({}), TypeError);
  await assert.rejects(c.chat.stream({ message: 5 }), TypeError);
});

test('options go to the core by name: unknown names, wrong types and bad values name the option', () => {
  const fails = (options, Class, pattern) =>
    assert.throws(() => client(emu.url(), options), (e) => {
      assert.ok(e instanceof Class, `${util.inspect(options)}: ${e.name}: ${e.message}`);
      assert.match(e.message, pattern);
      return true;
    });
  fails({ tiemout: 5 }, mixerlead.ConfigurationError, /tiemout/);
  fails({ logger: 'console' }, TypeError, /logger/);
  fails({ apiKey: 5 }, TypeError, /api_?key/i);
  fails({ timeout: 'soon' }, TypeError, /timeout/);
  fails({ timeout: {} }, TypeError, /timeout/);
  fails({ readTimeout: () => 1 }, TypeError, /readTimeout/);
  fails({ allowInsecureHttp: 'yes' }, TypeError, /allow_?insecure_?http/i);
  fails({ maxRetries: 1.5 }, RangeError, /max_?retries/i);
  fails({ maxRetryWait: -1 }, RangeError, /max_?retry_?wait/i);
  fails({ caFile: '/nonexistent/ca.pem' }, mixerlead.ConfigurationError, /ca_?file/i);
  fails({ proxy: 'http://127.0.0.1:3128' }, mixerlead.ConfigurationError, /proxy/); // plain-http base URL
  assert.throws(() => client('https://example.com/api', { proxy: 'not a url' }), mixerlead.ConfigurationError);
  // Both spellings reach the core; undefined and null mean "not given".
  client(emu.url(), { max_retries: 1, timeout: undefined, projectId: null, proxy: undefined });
  client('https://example.com/api', { proxy: 'http://127.0.0.1:3128' });
  assert.throws(() => new Client(null), TypeError);
});

const STATUS = [
  [400, 'BadRequestError'],
  [401, 'AuthenticationError'],
  [403, 'PermissionDeniedError'],
  [404, 'NotFoundError'],
  [409, 'ConflictError'],
  [413, 'PayloadTooLargeError'],
  [422, 'APIStatusError'],
  [429, 'RateLimitError'],
  [500, 'InternalServerError'],
  [503, 'InternalServerError'],
];

test('every status error class, with its fields', async () => {
  for (const [status, name] of STATUS) {
    const c = client(emu.url(`fail=${status};retry_after=0`), { maxRetries: 0 });
    await assert.rejects(c.chat.stream({ message: 'x' }), (e) => {
      assert.ok(e instanceof mixerlead[name], name);
      assert.ok(e instanceof mixerlead.APIStatusError && e instanceof mixerlead.MixerLeadError && e instanceof Error);
      assert.equal(e.name, name);
      assert.equal(e.status, status);
      assert.equal(e.message, `scripted failure ${status}`);
      assert.deepEqual(e.body, { error: `scripted failure ${status}` });
      assert.match(e.requestId, /^req_/);
      assert.equal(e.retryAfter, 0);
      return true;
    });
  }
  await assert.rejects(client(emu.url('fail=409;error_body=empty')).models.list(), (e) => {
    assert.equal(e.message, 'Conflict');
    assert.equal(e.body, null);
    assert.equal(e.retryAfter, null);
    return true;
  });
});

test('connection, timeout, interrupted and decode errors', async () => {
  await assert.rejects(client('http://127.0.0.1:1/api', { maxRetries: 0 }).models.list(), (e) => {
    return e instanceof mixerlead.APIConnectionError && !(e instanceof mixerlead.APITimeoutError);
  });
  const stalled = await client(emu.url('stall_after=3'), { readTimeout: 0.3 }).chat.stream({ message: 'x' });
  const got = [];
  await assert.rejects(
    (async () => {
      for await (const t of stalled) got.push(t);
    })(),
    (e) => e instanceof mixerlead.APITimeoutError && e instanceof mixerlead.APIConnectionError,
  );
  assert.equal(got.length, 3);
  await assert.rejects(
    client(emu.url('header_delay_ms=2000'), { timeout: 0.2, maxRetries: 0 }).models.list(),
    mixerlead.APITimeoutError,
  );
  const cut = await client(emu.url('disconnect_after=4')).chat.stream({ message: 'x' });
  await assert.rejects(cut.read(), (e) => {
    assert.ok(e instanceof mixerlead.StreamInterruptedError && e instanceof mixerlead.APIConnectionError);
    assert.equal(e.partialText, `${REPLY_START}x\u201d. `);
    return true;
  });
  await assert.rejects(client(emu.url('error_after=2')).chat.send({ message: 'x' }), mixerlead.APIResponseError);
  await assert.rejects(client(emu.url('format=json;malformed')).chat.send({ message: 'x' }), mixerlead.APIResponseError);
});

test('a failure already decoded when the first piece is asked for is typed, then the stream ends', async () => {
  for (const script of ['format=json;malformed', 'error_after=0']) {
    const stream = await client(emu.url(script)).chat.stream({ message: 'x' });
    await new Promise((resolve) => setTimeout(resolve, 50)); // the whole body has arrived
    await assert.rejects(stream.next(), mixerlead.APIResponseError, script);
    assert.deepEqual(await stream.next(), { value: undefined, done: true });
  }
});

test('the first piece already decoded is served at once, and the rest follow', async () => {
  const stream = await client(emu.url('pieces=3000')).chat.stream({ message: 'x' });
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal((await stream.next()).value, 'w0 ');
  assert.equal(await stream.read(), generated(3000));
});

test('retries: 429 with Retry-After then success, and exhaustion', async () => {
  const id = sid();
  const reply = await client(emu.url(`id=${id};fail=429;times=2;retry_after=0.1`)).chat.send({ message: 'x' });
  assert.ok(reply.text.startsWith(REPLY_START));
  const stats = await emu.stats(id);
  assert.equal(stats.requests, 3);
  for (let i = 1; i < 3; i++) assert.ok(stats.request_times[i] - stats.request_times[i - 1] >= 0.095);
  const id2 = sid();
  await assert.rejects(client(emu.url(`id=${id2};fail=429;retry_after=0.05`)).models.list(), (e) => {
    return e instanceof mixerlead.RateLimitError && e.retryAfter === 0.05;
  });
  assert.equal((await emu.stats(id2)).requests, 3);
});

test('break out of for await aborts the request', async () => {
  const id = sid();
  const stream = await client(emu.url(`id=${id};pieces=500;delay_ms=20`)).chat.stream({ message: 'x' });
  for await (const _ of stream) break;
  assert.equal(await emu.waitDisconnects(id), 1);
});

test('cancel() aborts, and a pending next() ends', async () => {
  const id = sid();
  const stream = await client(emu.url(`id=${id};stall_after=1`)).chat.stream({ message: 'x' });
  await stream.next();
  const pending = stream.next();
  setTimeout(() => stream.cancel(), 100);
  assert.deepEqual(await pending, { value: undefined, done: true });
  assert.equal(await emu.waitDisconnects(id), 1);
  assert.equal(await stream.read(), stream.text, 'read() after cancel: what was served');
  assert.ok(stream.text.length > 0);
});

test('AbortSignal before and during the stream', async () => {
  const c = client(emu.url());
  await assert.rejects(c.chat.stream({ message: 'x' }, { signal: AbortSignal.abort() }), (e) => e.name === 'AbortError');
  await assert.rejects(c.models.list({ signal: AbortSignal.abort() }), mixerlead.AbortError);

  const id = sid();
  const controller = new AbortController();
  const stream = await client(emu.url(`id=${id};pieces=500;delay_ms=20`)).chat.stream(
    { message: 'x' },
    { signal: controller.signal },
  );
  await stream.next();
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    (async () => {
      for await (const _ of stream);
    })(),
    (e) => e.name === 'AbortError' && e instanceof mixerlead.MixerLeadError,
  );
  assert.equal(await emu.waitDisconnects(id), 1);

  const id2 = sid();
  const waiting = new AbortController();
  const pending = client(emu.url(`id=${id2};header_delay_ms=3000`)).chat.send({ message: 'x' }, { signal: waiting.signal });
  setTimeout(() => waiting.abort(), 100);
  const started = Date.now();
  await assert.rejects(pending, (e) => e.name === 'AbortError');
  assert.ok(Date.now() - started < 1000);
});

test('200 concurrent streams, every piece in order', async () => {
  const c = client(emu.url('pieces=300'));
  const texts = await Promise.all(Array.from({ length: 200 }, () => c.chat.send({ message: 'x' }).then((r) => r.text)));
  for (const text of texts) assert.equal(text, generated(300));
});

test('the event loop stays responsive while 20 streams run', async () => {
  const c = client(emu.url('pieces=40;delay_ms=10'));
  let ticks = 0;
  const timer = setInterval(() => ticks++, 10);
  await Promise.all(Array.from({ length: 20 }, () => c.chat.send({ message: 'x' })));
  clearInterval(timer);
  assert.ok(ticks >= 15, `ticks ${ticks}`);
});
