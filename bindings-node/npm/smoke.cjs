'use strict';
// Smoke test of an installed mixerlead npm package against the emulator: the models list, a
// streamed chat, an error, a cancel; then mixerlead/testing's in-process emulator. `make
// dist-test` runs it in a scratch project after `npm install mixerlead` from a local registry.
//
// usage: node smoke.cjs ROOT     ROOT is the emulator's root, e.g. http://127.0.0.1:8765

const assert = require('node:assert/strict');
const { Client, BadRequestError } = require('mixerlead');
const { Emulator } = require('mixerlead/testing');

async function main(root) {
  const url = (script) => (script ? `${root}/s/${script}/api` : `${root}/api`);
  const client = new Client({ apiKey: 'ml_test_smoke', baseUrl: url(), maxRetries: 0 });

  const models = await client.models.list();
  assert.ok(models.length > 0 && models[0].id, 'models');
  const stream = await client.chat.stream({ message: 'smoke test' });
  let text = '';
  for await (const piece of stream) text += piece;
  assert.ok(text.length > 0 && stream.conversationId, 'a streamed chat');

  const failing = new Client({ apiKey: 'ml_test_smoke', baseUrl: url('fail=400'), maxRetries: 0 });
  await assert.rejects(failing.chat.send({ message: 'smoke test' }), (e) => e instanceof BadRequestError && e.status === 400);

  const slow = new Client({ apiKey: 'ml_test_smoke', baseUrl: url('pieces=200;delay_ms=20'), maxRetries: 0 });
  const controller = new AbortController();
  const reading = slow.chat.stream({ message: 'smoke test' }, { signal: controller.signal }).then((s) => s.read());
  await new Promise((resolve) => setTimeout(resolve, 100));
  const started = Date.now();
  controller.abort();
  await assert.rejects(reading, (e) => e.name === 'AbortError');
  assert.ok(Date.now() - started < 1000, 'the cancel took too long');

  const emulator = await Emulator.start();
  try {
    const local = new Client({ apiKey: emulator.apiKey, baseUrl: emulator.baseUrl, maxRetries: 0 });
    const reply = await local.chat.send({ message: 'smoke test' });
    assert.ok(reply.text.length > 0, 'a chat against mixerlead/testing');
  } finally {
    await emulator.stop();
  }
  console.log(`smoke (Node ${process.versions.node}, ${process.platform}-${process.arch}): models, stream, error, cancel, testing: ok`);
}

main(process.argv[2]).catch((error) => {
  console.error(error);
  process.exit(1);
});
