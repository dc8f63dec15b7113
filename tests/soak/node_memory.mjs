// Where a Node process's memory goes under one kind of stream traffic, measured directly rather
// than through a soak's RSS: N operations of one scenario against the emulator, `gc()` between
// phases, `process.memoryUsage()` at the baseline (after a warm-up) and at the end, and
// optionally heap snapshots early and late, compared by constructor.
//
//   node --expose-gc node_memory.mjs ROOT SCENARIO N [CONCURRENCY] [--snapshots DIR] [--every K]
//
// ROOT: the emulator's root (http://127.0.0.1:PORT). SCENARIO: full | cancel | abandon | fail |
// timeout | models | bulk | abandon_open | mixed (the soak's six operations in turn). Run where `mixerlead` is installed
// (target/node-test after tests/node/run.sh). Prints one JSON line per sample and a summary.
import { Client } from 'mixerlead';
import v8 from 'node:v8';
import fs from 'node:fs';
import path from 'node:path';
import { setImmediate as turn } from 'node:timers/promises';

const args = process.argv.slice(2);
const flag = (name) => {
  const i = args.indexOf(name);
  if (i < 0) return null;
  const [, value] = args.splice(i, 2);
  return value;
};
const snapshots = flag('--snapshots');
const every = Number(flag('--every') ?? 0);
const [root, scenario, n, concurrency = '8'] = args;
if (typeof gc !== 'function') throw new Error('run with node --expose-gc');
const url = (script) => `${root}/s/${script}/api`;
const KEY = 'ml_test_memory_node';
const clients = new Map();
const client = (script, options = {}) => {
  const key = `${script} ${JSON.stringify(options)}`;
  if (!clients.has(key)) clients.set(key, new Client({ apiKey: KEY, baseUrl: url(script), maxRetryWait: 0, ...options }));
  return clients.get(key);
};
const expectError = async (name, work) => {
  try {
    await work();
  } catch (error) {
    if (error.name === name) return;
    throw error;
  }
  throw new Error(`expected ${name}`);
};

const ops = {
  full: async () => {
    let pieces = 0;
    for await (const _ of await client('pieces=200').chat.stream({ message: 'memory' })) pieces++;
    if (pieces !== 200) throw new Error(`${pieces} pieces of 200`);
  },
  // Replies that arrive faster than they are read: batches of thousands of bytes.
  bulk: async () => {
    const stream = await client('pieces=2000').chat.stream({ message: 'memory' });
    await new Promise((r) => setTimeout(r, 2));
    let pieces = 0;
    for await (const _ of stream) pieces++;
    if (pieces !== 2000) throw new Error(`${pieces} pieces of 2000`);
  },
  cancel: async () => {
    let i = 0;
    for await (const _ of await client('pieces=2000;delay_ms=1').chat.stream({ message: 'memory' })) {
      if (++i === 5) break;
    }
  },
  // Half-read, then dropped: no break, no cancel(); only the GC can end it.
  abandon: async () => {
    const stream = await client('pieces=200').chat.stream({ message: 'memory' });
    for (let i = 0; i < 20; i++) await stream.next();
  },
  // The same, the reply still coming when it is dropped (its connection open until finalized).
  abandon_open: async () => {
    const stream = await client('pieces=2000;delay_ms=1').chat.stream({ message: 'memory' });
    for (let i = 0; i < 20; i++) await stream.next();
  },
  fail: () => expectError('StreamInterruptedError', async () => {
    await (await client('disconnect_after=5').chat.stream({ message: 'memory' })).read();
  }),
  timeout: () => expectError('APITimeoutError', async () => {
    await (await client('stall_after=3', { readTimeout: 0.05 }).chat.stream({ message: 'memory' })).read();
  }),
  models: async () => {
    if ((await client('fail=503;times=1;id=memnode503').models.list()).length < 1) throw new Error('no models');
  },
};
const cycle = ['full', 'cancel', 'models', 'timeout', 'fail', 'models'];
let turnOf = 0;
const op = scenario === 'mixed' ? () => ops[cycle[turnOf++ % cycle.length]]() : ops[scenario];
if (!op) throw new Error(`unknown scenario ${scenario}`);

async function run(count) {
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      await op();
    }
  };
  await Promise.all(Array.from({ length: Number(concurrency) }, lane));
}

/** Full collections with turns of the event loop between them, so deferred finalizers run. */
async function settle() {
  for (let i = 0; i < 4; i++) {
    gc();
    await turn();
    await new Promise((r) => setTimeout(r, 20));
  }
}

const mib = (b) => Math.round((b / 1048576) * 100) / 100;
function sample(label) {
  const m = process.memoryUsage();
  const h = v8.getHeapStatistics();
  const s = {
    label, t: Math.round(performance.now()), rss: mib(m.rss), heapUsed: mib(m.heapUsed), heapTotal: mib(m.heapTotal),
    external: mib(m.external), arrayBuffers: mib(m.arrayBuffers), fds: fs.readdirSync('/proc/self/fd').length,
  };
  s.outsideV8 = Math.round((s.rss - s.heapTotal - s.external) * 100) / 100;
  console.log(JSON.stringify(s));
  return s;
}

const total = Number(n);
const warmup = Math.min(2000, Math.max(100, Math.floor(total / 10)));
await run(warmup);
await settle();
const base = sample('baseline');
if (snapshots) v8.writeHeapSnapshot(path.join(snapshots, `${scenario}-early.heapsnapshot`));
const step = every > 0 ? every : total;
for (let done = 0; done < total; done += step) {
  await run(Math.min(step, total - done));
  sample(`after ${Math.min(done + step, total)}`);
}
await settle();
const end = sample('end');
if (snapshots) v8.writeHeapSnapshot(path.join(snapshots, `${scenario}-late.heapsnapshot`));
const diff = Object.fromEntries(['rss', 'heapUsed', 'external', 'arrayBuffers', 'outsideV8'].map((k) => [k, Math.round((end[k] - base[k]) * 100) / 100]));
console.log(JSON.stringify({ scenario, ops: total, warmup, concurrency: Number(concurrency), seconds: Math.round((end.t - base.t) / 100) / 10, change_mib: diff }));
