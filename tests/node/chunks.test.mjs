// stream.chunks(): every piece that arrived and was not handed out yet, joined — never empty,
// never a split piece, mixable with per-piece iteration, failing and cancelling as per piece.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import * as mixerlead from 'mixerlead';
import { startEmulator, sid, generated, KEY } from './helpers.mjs';

const { Client } = mixerlead;
let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => emu.stop());

const client = (url) => new Client({ apiKey: KEY, baseUrl: url });

/** The emulator's generated pieces are `w<i> ` or `é<i> `: a chunk that split one shows. */
function assertWholePieces(chunks) {
  for (const chunk of chunks) {
    assert.ok(chunk.length > 0, 'a chunk is never empty');
    assert.ok(/^[wé]/.test(chunk) && chunk.endsWith(' '), JSON.stringify(chunk.slice(0, 20)));
  }
}

test('chunks join to the reply in whole pieces, far fewer than the pieces', async () => {
  for (const format of ['sse', 'ndjson']) {
    const stream = await client(emu.url(`format=${format};pieces=20000`)).chat.stream({ message: 'x' });
    const chunks = [];
    for await (const chunk of stream.chunks()) chunks.push(chunk);
    assert.equal(chunks.join(''), generated(20000), format);
    assert.equal(stream.text, generated(20000));
    assertWholePieces(chunks);
    assert.ok(chunks.length < 20000);
  }
});

test('a paced reply comes in several chunks', async () => {
  const stream = await client(emu.url('pieces=40;delay_ms=5')).chat.stream({ message: 'x' });
  const chunks = [];
  for await (const chunk of stream.chunks()) chunks.push(chunk);
  assert.equal(chunks.join(''), generated(40));
  assert.ok(chunks.length > 1, `${chunks.length} chunks`);
  assertWholePieces(chunks);
});

test('chunks mix with pieces: each goes on where the other stopped', async () => {
  const stream = await client(emu.url('pieces=300;delay_ms=2')).chat.stream({ message: 'x' });
  const got = [(await stream.next()).value, (await stream.next()).value];
  const chunks = stream.chunks();
  got.push((await chunks.next()).value);
  assert.equal(stream.text, got.join(''));
  got.push((await stream.next()).value);
  for (let r = await chunks.next(); !r.done; r = await chunks.next()) got.push(r.value);
  assert.equal(got.join(''), generated(300));
  assert.equal(stream.text, generated(300));
  assert.equal((await stream.next()).done, true);
});

test('a failure after some chunks rejects with partialText holding all of them', async () => {
  const stream = await client(emu.url('disconnect_after=4')).chat.stream({ message: 'x' });
  const got = [];
  await assert.rejects(
    (async () => {
      for await (const chunk of stream.chunks()) got.push(chunk);
    })(),
    (e) => e instanceof mixerlead.StreamInterruptedError && e.partialText === got.join('') && got.length > 0,
  );
});

test('breaking out of chunks aborts the request; an aborted signal rejects with AbortError', async () => {
  const id = sid();
  const stream = await client(emu.url(`id=${id};pieces=100000;delay_ms=1`)).chat.stream({ message: 'x' });
  for await (const chunk of stream.chunks()) {
    assert.ok(chunk.length > 0);
    break;
  }
  assert.equal(await emu.waitDisconnects(id), 1);
  const controller = new AbortController();
  const aborted = await client(emu.url('stall_after=2')).chat.stream({ message: 'x' }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(
    (async () => {
      for await (const _ of aborted.chunks());
    })(),
    { name: 'AbortError' },
  );
});

test('a node:http relay with chunks() serves every body whole', async () => {
  const upstream = emu.url('pieces=2000');
  const server = http.createServer(async (req, res) => {
    const stream = await client(upstream).chat.stream({ message: 'x' });
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    for await (const chunk of stream.chunks()) res.write(chunk);
    res.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const url = `http://127.0.0.1:${server.address().port}/`;
    const bodies = await Promise.all(Array.from({ length: 8 }, () => fetch(url).then((r) => r.text())));
    for (const body of bodies) assert.equal(body, generated(2000));
  } finally {
    server.close();
  }
});
