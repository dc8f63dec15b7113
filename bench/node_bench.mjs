// Node side of `make bench`: one implementation, one case, one run; prints a JSON result.
// usage: node node_bench.mjs IMPL CASE URL N [EACH]   (IMPL: mixerlead fetch fetch-eventsource-parser)
const [impl, kase, url, nText, eachText] = process.argv.slice(2);
const n = Number(nText);
const KEY = 'ml_test_bench_key';
const headers = { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' };
const now = () => performance.now() / 1000;
const body = JSON.stringify({ message: 'bench' });

async function mixerlead() {
  const { Client } = await import('mixerlead');
  const client = new Client({ apiKey: KEY, baseUrl: url });
  if (kase === 'sse' || kase === 'text') {
    const start = now();
    let pieces = 0;
    let chars = 0;
    for await (const piece of await client.chat.stream({ message: 'bench' })) {
      pieces++;
      chars += piece.length;
    }
    return { seconds: now() - start, pieces, chars };
  }
  if (kase === 'models') {
    const start = now();
    for (let i = 0; i < n; i++) await client.models.list();
    return { seconds: now() - start, calls: n };
  }
  if (kase === 'first') {
    const times = [];
    for (let i = 0; i < n; i++) {
      const start = now();
      const stream = await client.chat.stream({ message: 'bench' });
      await stream.next();
      times.push(now() - start);
      stream.cancel();
    }
    times.sort((a, b) => a - b);
    return { seconds: times[times.length >> 1] };
  }
  if (kase === 'concurrent') {
    const each = Number(eachText || 1000);
    const start = now();
    const counts = await Promise.all(
      Array.from({ length: n }, async () => {
        let count = 0;
        for await (const _ of await client.chat.stream({ message: 'bench' })) count++;
        return count;
      }),
    );
    return { seconds: now() - start, pieces: counts.reduce((a, b) => a + b, 0), expected: n * each };
  }
  throw new Error(`unknown case ${kase}`);
}

async function fetchPlain() {
  if (kase === 'text') {
    const start = now();
    const response = await fetch(`${url}/chat`, { method: 'POST', headers, body });
    const decoder = new TextDecoder();
    let pieces = 0;
    let chars = 0;
    for await (const chunk of response.body) {
      const text = decoder.decode(chunk, { stream: true });
      pieces++;
      chars += text.length;
    }
    return { seconds: now() - start, pieces, chars };
  }
  if (kase === 'models') {
    const start = now();
    for (let i = 0; i < n; i++) await (await fetch(`${url}/ai/models`, { headers })).json();
    return { seconds: now() - start, calls: n };
  }
  if (kase === 'first') {
    const times = [];
    for (let i = 0; i < n; i++) {
      const start = now();
      const response = await fetch(`${url}/chat`, { method: 'POST', headers, body });
      const reader = response.body.getReader();
      await reader.read();
      times.push(now() - start);
      await reader.cancel();
    }
    times.sort((a, b) => a - b);
    return { seconds: times[times.length >> 1] };
  }
  throw new Error(`unknown case ${kase}`);
}

async function fetchEventSourceParser() {
  const { createParser } = await import('eventsource-parser');
  if (kase === 'sse') {
    const start = now();
    let pieces = 0;
    let chars = 0;
    const parser = createParser({
      onEvent(event) {
        if (event.data === '[DONE]') return;
        const text = JSON.parse(event.data).text;
        if (text) {
          pieces++;
          chars += text.length;
        }
      },
    });
    const response = await fetch(`${url}/chat`, { method: 'POST', headers, body });
    const decoder = new TextDecoder();
    for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
    return { seconds: now() - start, pieces, chars };
  }
  if (kase === 'concurrent') {
    const each = Number(eachText || 1000);
    const start = now();
    const counts = await Promise.all(
      Array.from({ length: n }, async () => {
        let count = 0;
        const parser = createParser({
          onEvent(event) {
            if (event.data !== '[DONE]' && JSON.parse(event.data).text) count++;
          },
        });
        const response = await fetch(`${url}/chat`, { method: 'POST', headers, body });
        const decoder = new TextDecoder();
        for await (const chunk of response.body) parser.feed(decoder.decode(chunk, { stream: true }));
        return count;
      }),
    );
    return { seconds: now() - start, pieces: counts.reduce((a, b) => a + b, 0), expected: n * each };
  }
  return fetchPlain();
}

const impls = { mixerlead, fetch: fetchPlain, 'fetch-eventsource-parser': fetchEventSourceParser };
console.log(JSON.stringify(await impls[impl]()));
