// HTTP/2: over TLS the client and the in-process emulator agree on h2, which the emulator echoes
// in `x-emulator-protocol`; plain http stays HTTP/1.1.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client } from 'mixerlead';
import { Emulator } from 'mixerlead/testing';

let tls;
let plain;
let tmp;
before(async () => {
  tls = await Emulator.start({ tls: true });
  plain = await Emulator.start();
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mixerlead-node-h2-'));
});
after(async () => {
  await tls.stop();
  await plain.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('a stream over TLS comes over HTTP/2', async () => {
  const caFile = path.join(tmp, 'emulator-ca.pem');
  fs.writeFileSync(caFile, tls.caPem);
  const client = new Client({ apiKey: tls.apiKey, baseUrl: tls.baseUrl, caFile });
  const stream = await client.chat.stream({ message: 'over h2' });
  assert.equal(stream.headers.get('x-emulator-protocol'), 'HTTP/2');
  const text = await stream.read();
  assert.ok(text.startsWith('Hello! You said: \u201cover h2\u201d') && text.endsWith('done.'), text);
});

test('plain http stays HTTP/1.1', async () => {
  const client = new Client({ apiKey: plain.apiKey, baseUrl: plain.baseUrl });
  const stream = await client.chat.stream({ message: 'x' });
  assert.equal(stream.headers.get('x-emulator-protocol'), 'HTTP/1.1');
  assert.ok(await stream.read());
});
