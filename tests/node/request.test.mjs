// Requests and responses in depth, in Node: per-call options, withOptions, response metadata, the User-Agent, and the
// transport options (caFile, NODE_EXTRA_CA_CERTS, proxy) against a TLS emulator.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import * as mixerlead from 'mixerlead';
import { Emulator } from 'mixerlead/testing';
import { startEmulator, sid, KEY, REPLY_START } from './helpers.mjs';

const { Client } = mixerlead;
let emu;
let tls;
let tmp;
before(async () => {
  emu = await startEmulator();
  tls = await Emulator.start({ tls: true });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mixerlead-node-'));
});
after(async () => {
  await emu.stop();
  await tls.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const client = (url, options = {}) => new Client({ apiKey: KEY, baseUrl: url, ...options });

/** Asserts that `promise` rejects with an instance of `Class` whose message matches `pattern`. */
async function rejectsWith(promise, Class, pattern) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Class, `expected ${Class.name}, got ${e.name}: ${e.message}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('per-call timeout, on every method', async () => {
  const c = client(emu.url('header_delay_ms=1500'), { timeout: 60, maxRetries: 0 });
  const started = Date.now();
  const fast = { timeout: 0.2 };
  await rejectsWith(c.models.list(fast), mixerlead.APITimeoutError, /./);
  await rejectsWith(c.chat.stream({ message: 'x' }, fast), mixerlead.APITimeoutError, /./);
  await rejectsWith(c.chat.send({ message: 'x' }, fast), mixerlead.APITimeoutError, /./);
  assert.ok(Date.now() - started < 1400, `${Date.now() - started} ms`);
});

test('per-call maxRetries, on every method', async () => {
  const c = (id) => client(emu.url(`id=${id};fail=503;retry_after=0`), { maxRetries: 2 });
  const ids = [sid(), sid(), sid(), sid()];
  await assert.rejects(c(ids[0]).models.list({ maxRetries: 0 }), mixerlead.InternalServerError);
  await assert.rejects(c(ids[1]).chat.stream({ message: 'x' }, { maxRetries: 0 }), mixerlead.InternalServerError);
  await assert.rejects(c(ids[2]).chat.send({ message: 'x' }, { maxRetries: 1 }), mixerlead.InternalServerError);
  await assert.rejects(c(ids[3]).models.list(), mixerlead.InternalServerError);
  const requests = await Promise.all(ids.map(async (id) => (await emu.stats(id)).requests));
  assert.deepEqual(requests, [1, 1, 2, 3]);
});

test('per-call headers: an object, a Headers or a Map', async () => {
  const id = sid();
  const c = client(emu.url(`id=${id}`));
  await c.models.list({ headers: { 'X-Trace': 'list-1' } });
  assert.equal((await emu.stats(id)).last_headers['x-trace'], 'list-1');
  await c.chat.send({ message: 'x' }, { headers: new Headers({ 'X-Trace': 'send-2', 'X-Other': 'o' }) });
  let stats = await emu.stats(id);
  assert.equal(stats.last_headers['x-trace'], 'send-2');
  assert.equal(stats.last_headers['x-other'], 'o');
  const stream = await c.chat.stream({ message: 'x' }, { headers: new Map([['x-trace', 'stream-3']]), signal: undefined });
  await stream.read();
  stats = await emu.stats(id);
  assert.equal(stats.last_headers['x-trace'], 'stream-3');
  assert.ok(stats.last_authorized);
});

test('bad per-call options name the option', async () => {
  const c = client(emu.url());
  const m = { message: 'x' };
  await rejectsWith(c.chat.stream(m, { timeout: -1 }), RangeError, /timeout/);
  await rejectsWith(c.models.list({ timeout: 0 }), RangeError, /timeout/);
  await rejectsWith(c.chat.send(m, { maxRetries: -1 }), RangeError, /max_?retries/i);
  await rejectsWith(c.models.list({ maxRetries: 1.5 }), RangeError, /maxRetries/);
  await rejectsWith(c.chat.stream(m, { timeout: '5' }), TypeError, /timeout/);
  await rejectsWith(c.models.list({ headers: 'x-a: b' }), TypeError, /headers/);
  await rejectsWith(c.chat.stream(m, { headers: { 'x-n': 5 } }), TypeError, /x-n/);
  await rejectsWith(c.chat.stream(m, { headers: { 'x-a': 'one\r\nx-b: two' } }), mixerlead.ConfigurationError, /x-a/);
  await rejectsWith(c.models.list({ headers: { 'x-a': 'one\ntwo' } }), mixerlead.ConfigurationError, /x-a/);
  await rejectsWith(c.chat.send(m, { headers: { Authorization: 'Bearer other' } }), mixerlead.ConfigurationError, /Authorization/);
  await rejectsWith(c.models.list({ headers: { 'bad name': 'v' } }), mixerlead.ConfigurationError, /bad name/);
  await rejectsWith(c.chat.stream(m, { tiemout: 1 }), mixerlead.ConfigurationError, /tiemout/);
  await rejectsWith(c.chat.stream(m, 'fast'), TypeError, /options/);
  // A bad message is still a TypeError when numeric options come with it.
  await rejectsWith(c.chat.stream({ message: ' ' }, { timeout: 5, maxRetries: 0 }), TypeError, /message/);
  await rejectsWith(c.chat.stream({ message: 'a\0b' }, { timeout: 5 }), TypeError, /NUL/);
});

test('withOptions: the same key and base URL, options changed, the connection pool shared', async () => {
  // A local server that answers the models list and counts TCP connections.
  let connections = 0;
  const server = http.createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-request-id', `req_${req.headers['x-timeout-probe'] ?? 'plain'}`);
    res.end(JSON.stringify({ models: [{ id: 'm', name: 'M', task: 't', requiresPaid: false }] }));
  });
  server.on('connection', () => connections++);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    const base = client(`http://127.0.0.1:${server.address().port}/api`, { timeout: 30 });
    await base.models.list();
    assert.equal(connections, 1);
    const patient = base.withOptions({ timeout: 300, maxRetries: 5 });
    assert.ok(patient instanceof Client);
    assert.notEqual(patient, base);
    await patient.models.list();
    await base.models.list();
    assert.equal(connections, 1, 'a derived client reuses the pool');
    const fresh = base.withOptions({ connectTimeout: 3 });
    await fresh.models.list();
    assert.equal(connections, 2, 'a change to how connections are made gets its own pool');
    assert.throws(() => base.withOptions({ tiemout: 1 }), (e) => e instanceof mixerlead.ConfigurationError && /tiemout/.test(e.message));
    assert.throws(() => base.withOptions({ timeout: -1 }), RangeError);
    assert.throws(() => base.withOptions({ timeout: 'x' }), TypeError);
    assert.throws(() => base.withOptions(null), TypeError);
    assert.ok(!String(Object.values(patient)).includes('nodesecret'));
  } finally {
    server.close();
    server.closeAllConnections();
  }
  // Retries and the key carry over to the derived client.
  const id = sid();
  const derived = client(emu.url(`id=${id};fail=503;retry_after=0`), { maxRetries: 0 }).withOptions({ maxRetries: 1 });
  await assert.rejects(derived.models.list(), mixerlead.InternalServerError);
  const stats = await emu.stats(id);
  assert.equal(stats.requests, 2);
  assert.ok(stats.last_authorized);
});

test('metadata: requestId and headers on streams, replies and the models list', async () => {
  const c = client(emu.url());
  const stream = await c.chat.stream({ message: 'x' });
  assert.match(stream.requestId, /^req_/);
  assert.ok(stream.headers instanceof Headers);
  assert.match(stream.headers.get('content-type'), /^text\/event-stream/);
  assert.equal(stream.headers.get('X-Conversation-Id'), stream.conversationId);
  assert.equal(stream.headers.get('x-request-id'), stream.requestId);
  assert.equal(stream.headers, stream.headers, 'made once');
  await stream.read();

  const reply = await c.chat.send({ message: 'x' });
  assert.match(reply.requestId, /^req_/);
  assert.notEqual(reply.requestId, stream.requestId);
  assert.ok(reply.headers instanceof Headers);
  assert.equal(reply.headers.get('x-conversation-id'), reply.conversationId);
  assert.ok(reply.text.startsWith(REPLY_START));

  const models = await c.models.list();
  assert.ok(Array.isArray(models));
  assert.match(models.requestId, /^req_/);
  assert.match(models.headers.get('content-type'), /json/);
  assert.deepEqual(Object.keys(models), models.map((_, i) => String(i)), 'requestId and headers are not enumerable');
  assert.equal(JSON.parse(JSON.stringify(models))[0].id, 'ml-auto');
  assert.deepEqual({ ...models[0] }, { id: 'ml-auto', name: 'Auto', task: 'Automatic model selection', requiresPaid: false });
});

test('the User-Agent names the surface, the platform as Node does, and Node', async () => {
  const id = sid();
  await client(emu.url(`id=${id}`)).models.list();
  const ua = (await emu.stats(id)).last_headers['user-agent'];
  // e.g. `mixerlead-node/0.1.0 (linux; x64) node/20.20.2`: Node's names, not Rust's (x86_64).
  assert.equal(ua, `mixerlead-node/0.1.0 (${process.platform}; ${process.arch}) node/${process.versions.node}`);
  const derived = client(emu.url(`id=${id}`)).withOptions({ timeout: 5 });
  await derived.models.list();
  assert.equal((await emu.stats(id)).last_headers['user-agent'], ua);
});

test('TLS: an untrusted certificate is an APIConnectionError that says so; caFile trusts it', async () => {
  const untrusted = client(tls.baseUrl, { apiKey: tls.apiKey, maxRetries: 0 });
  await assert.rejects(untrusted.models.list(), (e) => {
    assert.ok(e instanceof mixerlead.APIConnectionError, `${e.name}: ${e.message}`);
    assert.ok(!(e instanceof mixerlead.APITimeoutError));
    assert.match(e.message, /certificate/i);
    // The lower-level failures, as Error.cause does it (not enumerable): the last is TLS's own.
    assert.ok(!Object.keys(e).includes('cause'));
    let last = e;
    while (last.cause) last = last.cause;
    assert.ok(last !== e && last instanceof Error);
    assert.match(last.message, /certificate/i);
    return true;
  });
  const caFile = path.join(tmp, 'emulator-ca.pem');
  fs.writeFileSync(caFile, tls.caPem);
  const trusted = client(tls.baseUrl, { apiKey: tls.apiKey, caFile });
  assert.equal((await trusted.models.list())[0].id, 'ml-auto');
  const reply = await trusted.chat.send({ message: 'over TLS' });
  assert.ok(reply.text.startsWith(`${REPLY_START}over TLS`));
  // The trust carries over to a derived client.
  assert.equal((await trusted.withOptions({ timeout: 5 }).models.list()).length > 0, true);
});

test('NODE_EXTRA_CA_CERTS is the default caFile; an explicit caFile wins', async () => {
  const caFile = path.join(tmp, 'extra-ca.pem');
  fs.writeFileSync(caFile, tls.caPem);
  const saved = process.env.NODE_EXTRA_CA_CERTS;
  try {
    process.env.NODE_EXTRA_CA_CERTS = caFile;
    const c = client(tls.baseUrl, { apiKey: tls.apiKey });
    assert.equal((await c.models.list())[0].id, 'ml-auto');
    assert.throws(() => client(tls.baseUrl, { caFile: path.join(tmp, 'missing.pem') }), (e) => {
      return e instanceof mixerlead.ConfigurationError && e.message.includes('missing.pem');
    });
    process.env.NODE_EXTRA_CA_CERTS = path.join(tmp, 'missing-extra.pem');
    assert.throws(() => client(tls.baseUrl), (e) => e instanceof mixerlead.ConfigurationError && e.message.includes('missing-extra.pem'));
  } finally {
    if (saved === undefined) delete process.env.NODE_EXTRA_CA_CERTS;
    else process.env.NODE_EXTRA_CA_CERTS = saved;
  }
});

test('the proxy option: requests tunnel through it', async () => {
  // A minimal CONNECT proxy that counts the tunnels it opened.
  const tunnels = [];
  const sockets = [];
  const proxy = http.createServer((req, res) => res.writeHead(405).end());
  proxy.on('connect', (req, socket, head) => {
    tunnels.push(req.url);
    const [host, port] = req.url.split(':');
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
    sockets.push(socket, upstream);
  });
  proxy.listen(0, '127.0.0.1');
  await once(proxy, 'listening');
  const caFile = path.join(tmp, 'proxy-ca.pem');
  fs.writeFileSync(caFile, tls.caPem);
  try {
    const c = client(tls.baseUrl, { apiKey: tls.apiKey, caFile, proxy: `http://127.0.0.1:${proxy.address().port}` });
    assert.equal((await c.models.list())[0].id, 'ml-auto');
    assert.equal(tunnels.length, 1);
    assert.equal(tunnels[0], new URL(tls.baseUrl).host);
  } finally {
    proxy.close();
    for (const socket of sockets) socket.destroy();
  }
});
