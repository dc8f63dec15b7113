// Node services of the `service` case of `make bench`: for each incoming request, stream a chat
// reply from the upstream and relay it to the caller as text/plain.
// usage: node node_service.mjs IMPL PORT UPSTREAM_URL
//   IMPL: mixerlead-pieces      for await (const p of stream) res.write(p)
//         mixerlead-web-stream  pipeline(Readable.fromWeb(stream.toReadableStream()), res)
//         mixerlead-chunks      for await (const c of stream.chunks()) res.write(c)
//         fetch-eventsource-parser  fetch + eventsource-parser, res.write per event's text
import http from 'node:http';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

const [impl, port, url] = process.argv.slice(2);
const KEY = 'ml_test_bench_key';
const TEXT = { 'content-type': 'text/plain; charset=utf-8' };

async function mixerlead() {
  const { Client } = await import('mixerlead');
  const client = new Client({ apiKey: KEY, baseUrl: url });
  const relays = {
    async 'mixerlead-pieces'(res) {
      const stream = await client.chat.stream({ message: 'bench' });
      res.writeHead(200, TEXT);
      for await (const piece of stream) res.write(piece);
      res.end();
    },
    async 'mixerlead-web-stream'(res) {
      const stream = await client.chat.stream({ message: 'bench' });
      res.writeHead(200, TEXT);
      await pipeline(Readable.fromWeb(stream.toReadableStream()), res);
    },
    async 'mixerlead-chunks'(res) {
      const stream = await client.chat.stream({ message: 'bench' });
      res.writeHead(200, TEXT);
      for await (const chunk of stream.chunks()) res.write(chunk);
      res.end();
    },
  };
  return relays[impl];
}

async function fetchEventSourceParser() {
  const { createParser } = await import('eventsource-parser');
  const headers = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };
  const body = JSON.stringify({ message: 'bench' });
  return async (res) => {
    const response = await fetch(`${url}/chat`, { method: 'POST', headers, body });
    if (!response.ok) throw new Error(`upstream answered ${response.status}`);
    res.writeHead(200, TEXT);
    const parser = createParser({
      onEvent(event) {
        if (event.data === '[DONE]') return;
        const text = JSON.parse(event.data).text;
        if (text) res.write(text);
      },
    });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
    res.end();
  };
}

const relay = impl === 'fetch-eventsource-parser' ? await fetchEventSourceParser() : await mixerlead();
if (!relay) throw new Error(`unknown implementation ${impl}`);
http
  .createServer((req, res) => {
    req.resume();
    relay(res).catch((error) => {
      console.error(error);
      res.destroy();
    });
  })
  .listen(Number(port), '127.0.0.1');
