// One Node worker of the soak: mixed traffic against the emulator until the time is up, then a
// JSON summary on stdout. Usage: node worker.mjs ROOT SECONDS (run where `mixerlead` is installed).
import { Client } from 'mixerlead';

const [root, seconds] = [process.argv[2], Number(process.argv[3])];
const url = (script) => `${root}/s/${script}/api`;
const KEY = 'ml_test_soak_node';
// One client per scenario, made once and reused, as a service would.
const clients = new Map();
const client = (baseUrl, options = {}) => {
  const key = `${baseUrl} ${JSON.stringify(options)}`;
  if (!clients.has(key)) clients.set(key, new Client({ apiKey: KEY, baseUrl, maxRetryWait: 0, ...options }));
  return clients.get(key);
};

async function expectError(name, work) {
  try {
    await work();
  } catch (error) {
    if (error.name === name) return;
    throw error;
  }
  throw new Error(`expected ${name}`);
}

const ops = [
  ['full', async () => {
    let pieces = 0;
    for await (const _ of await client(url('pieces=200')).chat.stream({ message: 'soak' })) pieces++;
    if (pieces !== 200) throw new Error(`${pieces} pieces of 200`);
  }],
  ['cancel', async () => {
    let i = 0;
    for await (const _ of await client(url('pieces=2000;delay_ms=1')).chat.stream({ message: 'soak' })) {
      if (++i === 5) break;
    }
  }],
  ['retried', async () => {
    const models = await client(url('fail=503;times=1;id=soaknode503')).models.list();
    if (models.length < 1) throw new Error('no models');
  }],
  ['timeout', () => expectError('APITimeoutError', async () => {
    await (await client(url('stall_after=3'), { readTimeout: 0.2 }).chat.stream({ message: 'soak' })).read();
  })],
  ['interrupted', () => expectError('StreamInterruptedError', async () => {
    await (await client(url('disconnect_after=5;delay_ms=1')).chat.stream({ message: 'soak' })).read();
  })],
  ['rate_limited', () => expectError('RateLimitError', () =>
    client(url('fail=429;retry_after=0'), { maxRetries: 1 }).models.list())],
];

let count = 0;
let unexpected = 0;
let first = '';
const deadline = Date.now() + seconds * 1000;
while (Date.now() < deadline) {
  for (const [name, op] of ops) {
    try {
      await op();
    } catch (error) {
      unexpected++;
      first ||= `${name}: ${error.name}: ${error.message}`;
    }
    count++;
  }
}
console.log(JSON.stringify({ worker: 'node', ops: count, unexpected, first_unexpected: first }));
