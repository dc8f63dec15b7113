// Node streams as web streams: stream.toReadableStream(), served by a node:http server, and a client
// that goes away aborts the upstream request within a second.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as mixerlead from 'mixerlead';
import { startEmulator, sid, generated, KEY } from './helpers.mjs';

const { Client } = mixerlead;
let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => emu.stop());

const client = (url) => new Client({ apiKey: KEY, baseUrl: url });

/**
 * A node:http server whose handler streams a reply for each request: `mode` 'fromWeb' pipes
 * `Readable.fromWeb(stream.toReadableStream())` into the response, 'response' writes out a
 * fetch-style `new Response(stream.toReadableStream())` the way adapters for such handlers do.
 */
async function serve(url, mode) {
  const finished = [];
  const server = http.createServer(async (req, res) => {
    const done = (async () => {
      const stream = await client(url).chat.stream({ message: 'x' });
      if (mode === 'fromWeb') {
        res.setHeader('content-type', 'text/plain; charset=utf-8');
        await pipeline(Readable.fromWeb(stream.toReadableStream()), res);
      } else {
        const response = new Response(stream.toReadableStream(), { headers: { 'content-type': 'text/plain; charset=utf-8' } });
        res.writeHead(response.status, Object.fromEntries(response.headers));
        await pipeline(Readable.fromWeb(response.body), res);
      }
    })();
    finished.push(done.then(() => 'complete', (e) => e));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    finished,
    close() {
      server.close();
      server.closeAllConnections();
    },
  };
}

test('toReadableStream: the reply as UTF-8 bytes, readable by a Response', async () => {
  for (const script of ['pieces=5000', 'split_utf8', 'format=json', 'format=text;pieces=300']) {
    const stream = await client(emu.url(script)).chat.stream({ message: 'x' });
    const body = stream.toReadableStream();
    assert.ok(body instanceof ReadableStream);
    const text = await new Response(body).text();
    assert.equal(text, stream.text, script);
    if (script === 'split_utf8') assert.equal(text, 'héllo wörld — 世界 👋🏽 naïve ∑ ok');
    if (script === 'pieces=5000') assert.equal(text, generated(5000));
  }
  // Chunks are Uint8Arrays; the rest after pieces already read.
  const stream = await client(emu.url('pieces=100')).chat.stream({ message: 'x' });
  const first = (await stream.next()).value;
  const chunks = [];
  for await (const chunk of stream.toReadableStream()) {
    assert.ok(chunk instanceof Uint8Array);
    chunks.push(chunk);
  }
  assert.equal(first + Buffer.concat(chunks).toString('utf8'), generated(100));
});

test('toReadableStream: a failed reply errors the web stream with the typed error', async () => {
  const stream = await client(emu.url('disconnect_after=3')).chat.stream({ message: 'x' });
  await assert.rejects(new Response(stream.toReadableStream()).text(), (e) => {
    return e instanceof mixerlead.StreamInterruptedError;
  });
});

test('cancelling the ReadableStream aborts the request', async () => {
  const id = sid();
  const stream = await client(emu.url(`id=${id};pieces=1000;delay_ms=20`)).chat.stream({ message: 'x' });
  const reader = stream.toReadableStream().getReader();
  const { value } = await reader.read();
  assert.ok(value.length > 0);
  await reader.cancel();
  assert.equal(await emu.waitDisconnects(id), 1);
  assert.equal(stream.text, new TextDecoder().decode(value));
});

for (const mode of ['fromWeb', 'response']) {
  test(`served from node:http (${mode}): the whole reply reaches the client`, async () => {
    const server = await serve(emu.url('pieces=3000'), mode);
    try {
      const response = await fetch(server.url);
      assert.equal(await response.text(), generated(3000));
      assert.equal(await server.finished[0], 'complete');
    } finally {
      server.close();
    }
  });

  test(`served from node:http (${mode}): a client that goes away aborts the upstream request within 1 s`, async () => {
    const id = sid();
    const server = await serve(emu.url(`id=${id};pieces=2000;delay_ms=10`), mode);
    try {
      const request = http.get(server.url);
      const [response] = await once(request, 'response');
      await once(response, 'data'); // the reply is flowing
      const gone = Date.now();
      request.destroy();
      assert.equal(await emu.waitDisconnects(id, 1, 1000), 1);
      assert.ok(Date.now() - gone <= 1000, `${Date.now() - gone} ms`);
      const stats = await emu.stats(id);
      assert.equal(stats.streams_completed, 0);
    } finally {
      server.close();
    }
  });
}
