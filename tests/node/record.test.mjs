// Record and replay from Node: record the emulator's scripted faults with `record`,
// replay with `Emulator.start({ cassette, speed })`; and across surfaces, a cassette recorded
// here replayed by the emulator binary, and one recorded by Python's or the CLI's core here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { once } from 'node:events';
import * as mixerlead from 'mixerlead';
import { Emulator } from 'mixerlead/testing';
import { KEY } from './helpers.mjs';

const scratch = () => mkdtempSync(join(tmpdir(), 'mixerlead-record-'));

function lines(path) {
  const text = readFileSync(path, 'utf8');
  assert.ok(!text.includes(KEY) && !text.toLowerCase().includes('authorization'));
  return text.trimEnd().split('\n').map((line) => JSON.parse(line));
}

async function timed(stream) {
  const start = performance.now();
  const pieces = [];
  for await (const piece of stream) pieces.push([(performance.now() - start) / 1000, piece]);
  return pieces;
}

test('record the scripted faults, then replay them', async () => {
  const dir = scratch();
  const cassette = join(dir, 'faults.jsonl');
  const notes = join(dir, 'notes.md');
  writeFileSync(notes, '# Notes\n');
  const live = await Emulator.start({ indexDelayMs: 50 });
  const options = { apiKey: KEY, record: cassette };
  const stream = await live.client('delay_ms=60', options).chat.stream({ message: 'slowly' });
  const paced = await timed(stream);
  const ids = [stream.conversationId, stream.requestId];
  const retried = await live.client('fail=429;times=1;retry_after=0.2', options).chat.send({ message: 'after a 429' });
  const cut = await live.client('disconnect_after=3', options).chat.send({ message: 'cut me off' }).catch((e) => e);
  assert.ok(cut instanceof mixerlead.StreamInterruptedError);
  const source = await live.client(null, options).knowledge.add({ file: notes, name: 'Notes' });
  await live.stop();

  const recorded = lines(cassette);
  assert.deepEqual(recorded[0], { mixerlead_cassette: 1 });
  assert.deepEqual(recorded.slice(1).map((l) => l.status), [200, 429, 200, 200, 201]);
  assert.equal(recorded[2].response_headers['retry-after'], '0.2');
  assert.equal(recorded[4].end, 'cut');
  assert.deepEqual(recorded[5].request, { name: 'Notes', file: { name: 'notes.md', size: 8 } });
  assert.match(recorded[1].request_headers['user-agent'], /^mixerlead-node\//);

  const replay = await Emulator.start({ cassette });
  const client = replay.client();
  const again = await client.chat.stream({ message: 'slowly' });
  const againPaced = await timed(again);
  assert.deepEqual([again.conversationId, again.requestId], ids);
  assert.deepEqual(againPaced.map(([, p]) => p), paced.map(([, p]) => p));
  paced.forEach(([then], i) => {
    const now = againPaced[i][0];
    assert.ok(Math.abs(now - then) <= 0.2 * then + 0.015, `${now} vs ${then}`);
  });
  const started = performance.now();
  const reply = await client.chat.send({ message: 'after a 429' });
  assert.ok(performance.now() - started >= 190);
  assert.deepEqual([reply.text, reply.requestId], [retried.text, retried.requestId]);
  const cutAgain = await client.chat.send({ message: 'cut me off' }).catch((e) => e);
  assert.ok(cutAgain instanceof mixerlead.StreamInterruptedError);
  assert.equal(cutAgain.partialText, cut.partialText);
  assert.equal((await client.knowledge.add({ file: notes, name: 'Notes' })).id, source.id);
  const unmatched = await client.chat.send({ message: 'slowly' }).catch((e) => e);
  assert.ok(unmatched instanceof mixerlead.NotFoundError);
  assert.ok(unmatched.message.startsWith('no recorded exchange for POST /chat {"message":"slowly"}'), unmatched.message);
  const stats = replay.stats();
  assert.deepEqual([stats.replayed, stats.unmatched], [5, 1]);
  await replay.stop();

  const fast = await Emulator.start({ cassette, speed: 0 });
  const atOnce = await timed(await fast.client().chat.stream({ message: 'slowly' }));
  assert.deepEqual(atOnce.map(([, p]) => p), paced.map(([, p]) => p));
  assert.ok(atOnce.at(-1)[0] < 0.04);
  await fast.stop();
});

test('bad record paths and bad cassettes', async () => {
  assert.throws(
    () => new mixerlead.Client({ apiKey: KEY, baseUrl: 'http://127.0.0.1:9/api', record: '/nonexistent-dir/c.jsonl' }),
    (e) => e instanceof mixerlead.ConfigurationError && e.message.includes('nonexistent-dir'),
  );
  const cut = join(scratch(), 'cut.jsonl');
  writeFileSync(cut, '{"mixerlead_cassette": 1}\n{"method": "GET", "pa');
  await assert.rejects(Emulator.start({ cassette: cut }), (e) => e.message.includes(`${cut} line 2`));
});

async function binaryReplaying(cassette) {
  const binary = process.env.MIXERLEAD_EMULATOR;
  const child = spawn(binary, ['--port', '0', '--cassette', cassette, '--speed', '0'], { stdio: ['ignore', 'pipe', 'inherit'] });
  let line = '';
  for await (const chunk of child.stdout) {
    line += chunk;
    if (line.includes('\n')) break;
  }
  return { baseUrl: line.trim().split(' ').pop(), stop: async () => { child.kill(); await once(child, 'exit'); } };
}

test('a Node cassette replays in the emulator binary', async () => {
  const cassette = join(scratch(), 'node.jsonl');
  const live = await Emulator.start();
  const recorded = await live.client(null, { record: cassette }).chat.send({ message: 'from node' });
  await live.stop();
  const replay = await binaryReplaying(cassette);
  const reply = await new mixerlead.Client({ apiKey: KEY, baseUrl: replay.baseUrl }).chat.send({ message: 'from node' });
  assert.deepEqual([reply.text, reply.conversationId, reply.requestId], [recorded.text, recorded.conversationId, recorded.requestId]);
  await replay.stop();
});

test('a Python cassette replays here', { skip: !process.env.MIXERLEAD_PYTHON && 'MIXERLEAD_PYTHON (a python with mixerlead) not set' }, async () => {
  const dir = scratch();
  const cassette = join(dir, 'python.jsonl');
  const script = `
import sys
from mixerlead.testing import Emulator
with Emulator() as live:
    print(live.client(record=sys.argv[1]).chat.send("from python").text, end="")
`;
  const child = spawn(process.env.MIXERLEAD_PYTHON, ['-c', script, cassette], { stdio: ['ignore', 'pipe', 'inherit'] });
  let printed = '';
  for await (const chunk of child.stdout) printed += chunk;
  assert.ok(printed.length > 0);
  const replay = await Emulator.start({ cassette, speed: 0 });
  assert.equal((await replay.client().chat.send({ message: 'from python' })).text, printed);
  await replay.stop();
});
