// util.inspect of every public object speaks JavaScript: no Rust syntax (`Some(`, `None,` in
// braces, `..`), no snake_case names, the key at most as its last four characters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import util from 'node:util';
import * as mixerlead from 'mixerlead';
import { startEmulator, KEY } from './helpers.mjs';

const { Client } = mixerlead;
let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => emu.stop());

/** `raw` is the service's own JSON, kept as it came (snake_case and all): checked apart. */
function withoutRaw(value) {
  if (Array.isArray(value)) return value.map(withoutRaw);
  if (value && typeof value === 'object' && 'raw' in value) {
    const { raw, ...rest } = value;
    assert.equal(typeof raw, 'object');
    return rest;
  }
  return value;
}

function check(value, label) {
  const text = util.inspect(withoutRaw(value), { depth: 4 });
  assert.doesNotMatch(text, /Some\(|\{[^}]*None,|(?<!\.)\.\.(?!\.)/, `${label}: ${text}`);
  assert.doesNotMatch(text, /\b[a-z]+_[a-z_]+\s*:/, `${label} has a snake_case name: ${text}`);
  assert.ok(!text.includes('nodesecretkey'), `${label}: ${text}`);
  return text;
}

test('a client shows as an object with camelCase options and the key redacted', () => {
  const c = new Client({ apiKey: KEY, baseUrl: emu.baseUrl, projectId: 'p_1', maxRetries: 3 });
  assert.equal(
    util.inspect(c, { breakLength: Infinity }),
    `Client { baseUrl: '${emu.baseUrl}', apiKey: '…X8p3', projectId: 'p_1', maxRetries: 3 }`,
  );
  check(c.withOptions({ maxRetries: 0 }), 'withOptions');
});

test('a stream shows its ids and state: open, finished, closed, failed', async () => {
  const c = new Client({ apiKey: KEY, baseUrl: emu.baseUrl });
  const stream = await c.chat.stream({ message: 'x' });
  const shown = check(stream, 'stream');
  assert.match(shown, /^ChatStream \{ conversationId: 'conv_\w+', requestId: ('[^']+'|null), state: 'open' \}$/);
  await stream.read();
  assert.match(util.inspect(stream), /state: 'finished'/);
  const closed = await c.chat.stream({ message: 'x' });
  closed.cancel();
  assert.match(util.inspect(closed), /state: 'closed'/);
  const failing = new Client({ apiKey: KEY, baseUrl: emu.url('disconnect_after=2') });
  const failed = await failing.chat.stream({ message: 'x' });
  await assert.rejects(failed.read(), { name: 'StreamInterruptedError' });
  assert.match(util.inspect(failed), /state: 'failed'/);
});

test('every public object and error inspects without Rust syntax or snake_case', async () => {
  const c = new Client({ apiKey: KEY, baseUrl: emu.baseUrl });
  const skills = await c.skills.list();
  await c.knowledge.add({ text: 'hello', name: 'n' });
  const objects = {
    client: c,
    models: c.models,
    chat: c.chat,
    knowledge: c.knowledge,
    modelList: await c.models.list(),
    reply: await c.chat.send({ message: 'x' }),
    sources: await c.knowledge.list(),
    crawl: await c.knowledge.crawl({ seedUrl: 'https://example.com/docs', maxPages: 2 }),
    skills,
    skillOutput: await c.skills.run(skills[0].id, { topic: 'x' }),
    agent: await c.agents.create({ name: 'a', type: 'research' }),
    artifact: await c.artifacts.create({ name: 'doc', type: 'report' }),
  };
  for (const [label, value] of Object.entries(objects)) check(value, label);
  // Every error class the package exports, as the library throws it.
  const errorClasses = Object.entries(mixerlead).filter(
    ([, value]) => typeof value === 'function' && value.prototype instanceof Error,
  );
  assert.ok(errorClasses.length >= 15, errorClasses.map(([name]) => name).join());
  for (const [name, ErrorClass] of errorClasses) {
    const isStatus = ErrorClass === mixerlead.APIStatusError || ErrorClass.prototype instanceof mixerlead.APIStatusError;
    const error = isStatus
      ? new ErrorClass('scripted failure', { status: 429, retryAfter: 1 })
      : new ErrorClass('scripted failure');
    assert.equal(error.name, name);
    check(error, name);
  }
  const failing = new Client({ apiKey: KEY, baseUrl: emu.url('fail=429;retry_after=0'), maxRetries: 0 });
  const error = await failing.chat.send({ message: 'x' }).catch((e) => e);
  assert.ok(error instanceof mixerlead.RateLimitError);
  check(error, 'RateLimitError');
  check(new mixerlead.ConfigurationError('no key'), 'ConfigurationError');
});
