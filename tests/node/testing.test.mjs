// mixerlead/testing as a user meets it: the emulator in-process, for testing one's own code.
// This file doubles as the example of how to write such a test with node:test.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Client, RateLimitError } from 'mixerlead';
import { Emulator } from 'mixerlead/testing';

// The code under test: summarises with the first model, retrying on 429 is the SDK's job.
async function firstWords(client, message) {
  const reply = await client.chat.send({ message });
  return reply.text.split(' ').slice(0, 2).join(' ');
}

let emulator;
before(async () => {
  emulator = await Emulator.start();
});
after(async () => {
  await emulator.stop();
});

test('code under test runs against the emulator', async () => {
  const client = new Client({ apiKey: emulator.apiKey, baseUrl: emulator.baseUrl });
  assert.equal(await firstWords(client, 'Hi'), 'Hello! You');
  assert.match(emulator.apiKey, /^ml_test_[0-9a-f]{16}$/);
  assert.match(emulator.baseUrl, /^http:\/\/127\.0\.0\.1:\d+\/api$/);
  assert.equal(emulator.caPem, null);
});

test('scripted faults and what the emulator saw', async () => {
  const url = emulator.scenarioUrl('id=retry1;fail=429;times=2;retry_after=0.05');
  const client = new Client({ apiKey: emulator.apiKey, baseUrl: url });
  assert.equal(await firstWords(client, 'Hi'), 'Hello! You');
  const stats = emulator.stats('retry1');
  assert.equal(stats.requests, 3);
  assert.equal(stats.streamsCompleted, 1);
  assert.ok(stats.lastAuthorized);
  assert.equal(stats.lastPath, '/s/id=retry1;fail=429;times=2;retry_after=0.05/api/chat');
  assert.deepEqual(JSON.parse(stats.lastBody), { message: 'Hi' });
  assert.match(stats.lastHeaders['user-agent'], /^mixerlead-node\//);

  const exhausted = new Client({ apiKey: emulator.apiKey, baseUrl: emulator.scenarioUrl('fail=429;retry_after=0'), maxRetries: 0 });
  await assert.rejects(exhausted.chat.send('Hi'), RateLimitError);
});

test('waitForDisconnects sees a cancelled stream', async () => {
  const client = new Client({ apiKey: emulator.apiKey, baseUrl: emulator.scenarioUrl('id=cancel1;pieces=500;delay_ms=20') });
  const stream = await client.chat.stream('Hi');
  await stream.next();
  stream.cancel();
  const stats = await emulator.waitForDisconnects('cancel1', { count: 1, within: 1000 });
  assert.equal(stats.clientDisconnects, 1);
  assert.equal(stats.disconnectTimes.length, 1);
});

test('options: format, token delay, TLS; require() gives the same class', async () => {
  const ndjson = await Emulator.start({ format: 'ndjson', tokenDelayMs: 1 });
  try {
    const client = new Client({ apiKey: ndjson.apiKey, baseUrl: ndjson.baseUrl });
    const stream = await client.chat.stream('Hi');
    assert.match(stream.headers.get('content-type'), /ndjson/);
    await stream.read();
  } finally {
    await ndjson.stop();
  }
  await assert.rejects(Emulator.start({ format: 'xml' }), RangeError);
  const secure = await Emulator.start({ tls: true });
  assert.match(secure.baseUrl, /^https:\/\//);
  assert.match(secure.caPem, /^-----BEGIN CERTIFICATE-----/);
  await secure.stop();
  await secure.stop(); // idempotent
  assert.throws(() => secure.stats('x'), /stopped/);
  const { Emulator: Required } = createRequire(import.meta.url)('mixerlead/testing');
  assert.equal(Required, Emulator);
  assert.throws(() => new Emulator({}), TypeError);
});

test('times=N counts the requests of its script alone, whatever else was sent', async () => {
  // Six other calls first: without a script, and with other scripts.
  for (let i = 0; i < 3; i += 1) {
    await emulator.client().models.list();
    await emulator.client('pieces=2').chat.send('x');
  }
  const script = 'fail=429;times=1;retry_after=0';
  const once = emulator.client(script, { maxRetries: 0 });
  await assert.rejects(once.chat.send('x'), RateLimitError);
  assert.ok((await once.chat.send('x')).text, 'the second request is past times=1');
  assert.equal(emulator.stats(script).requests, 2, 'the script string is its id');
  assert.equal(emulator.stats('pieces=2').requests, 3);
  assert.equal(emulator.stats('never sent').requests, 0);
});

test('client(script?, options?): the emulator, its key and a script, options over those', async () => {
  const plain = emulator.client();
  assert.ok(plain instanceof Client);
  assert.equal((await plain.chat.send('Hi')).text.startsWith('Hello! You said'), true);
  assert.equal(emulator.stats().lastAuthorized, true, "stats() is stats(''): requests without a script");
  assert.equal(emulator.stats().lastPath, '/api/chat');
  for (const none of [undefined, null, '']) {
    await emulator.client(none, { maxRetries: 0 }).models.list();
    assert.equal(emulator.stats().lastPath, '/api/ai/models', String(none));
  }
  await emulator.client('id=opts1;fail=503;times=1;retry_after=0').models.list();
  assert.equal(emulator.stats('opts1').requests, 2, 'retried with the default maxRetries');
  await assert.rejects(emulator.client('id=opts2;fail=503;retry_after=0', { maxRetries: 0 }).models.list(), (e) => e.status === 503);
  assert.equal(emulator.stats('opts2').requests, 1, 'options are merged over the defaults');
  await assert.rejects(emulator.client(undefined, { apiKey: 'ml_test_revoked' }).models.list(), (e) => e.status === 401);
  assert.throws(() => emulator.client(42), TypeError);
  assert.throws(() => emulator.client('fail=500', null), TypeError);
  assert.throws(() => emulator.client('fail=500', 'maxRetries'), TypeError);
  assert.throws(() => emulator.scenarioUrl(), TypeError);
  assert.throws(() => emulator.stats(7), TypeError);
  assert.equal(emulator.caFile, null);
});

test('over TLS: caFile, client() trusts it, Symbol.asyncDispose (await using) stops and removes it', async () => {
  const { existsSync, readFileSync } = await import('node:fs');
  let caFile;
  // What `await using secure = await Emulator.start({ tls: true })` does, in Node 20's syntax.
  const secure = await Emulator.start({ tls: true });
  try {
    caFile = secure.caFile;
    assert.equal(readFileSync(caFile, 'utf8'), secure.caPem);
    assert.equal(secure.caFile, caFile, 'one file per emulator');
    assert.ok((await secure.client().chat.send('over tls')).text);
    const untrusted = new Client({ apiKey: secure.apiKey, baseUrl: secure.baseUrl, maxRetries: 0 });
    await assert.rejects(untrusted.models.list(), /certificate/i);
  } finally {
    await secure[Symbol.asyncDispose]();
  }
  assert.equal(existsSync(caFile), false, 'removed when the emulator stops');
  assert.throws(() => secure.stats(), /stopped/);
  assert.equal(secure.caFile, null, 'no file written again once stopped');
});
