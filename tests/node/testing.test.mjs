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
