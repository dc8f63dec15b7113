// The rest of the Workspace API in Node: knowledge, skills, agents and artifacts against the emulator (mixerlead/testing,
// started with small limits). Each test has its own project id, so its workspace starts empty.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import * as mixerlead from 'mixerlead';
import { Emulator } from 'mixerlead/testing';
import { sid } from './helpers.mjs';

const { Client } = mixerlead;
const MAX_UPLOAD = 4096;
let emu;
let tmp;
before(async () => {
  emu = await Emulator.start({ indexDelayMs: 100, maxUploadBytes: MAX_UPLOAD, agentRunsPerDay: 2 });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mixerlead-workspace-'));
});
after(async () => {
  await emu.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** A client of a workspace of its own (a fresh project id), optionally through a scripted URL. */
const workspace = (script = undefined, options = {}) =>
  new Client({
    apiKey: emu.apiKey,
    baseUrl: script ? emu.scenarioUrl(script) : emu.baseUrl,
    projectId: sid(),
    ...options,
  });

/** Asserts that `promise` rejects with an instance of `Class` whose message matches `pattern`. */
async function rejectsWith(promise, Class, pattern) {
  let caught;
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof Class, `expected ${Class.name}, got ${e && e.name}: ${e && e.message}`);
    assert.match(e.message, pattern);
    caught = e;
    return true;
  });
  return caught;
}

test('add, wait until indexed, then chat is grounded on the source', async () => {
  const client = workspace();
  const added = await client.knowledge.add({ text: 'Our refund window is 30 days.', name: 'Refund policy' });
  assert.match(added.id, /^kb_/);
  assert.equal(added.status, 'indexing');
  assert.deepEqual(added.raw, { id: added.id, status: 'indexing' });
  const [ready] = await client.knowledge.waitUntilIndexed([added.id], { timeout: 30 });
  assert.equal(ready.id, added.id);
  assert.equal(ready.status, 'indexed');
  assert.equal(ready.raw.name, 'Refund policy');
  const reply = await client.chat.send('How long is the refund window?');
  assert.match(reply.text, /Grounded on: Refund policy\b/);
  // Another project's chat is not grounded on it.
  const other = await workspace().chat.send('How long is the refund window?');
  assert.doesNotMatch(other.text, /Grounded on/);
});

test('sources: url, file path, file: URL and bytes; list with typed fields; enable, disable, reindex, delete', async () => {
  const client = workspace();
  const file = path.join(tmp, 'handbook.md');
  fs.writeFileSync(file, '# Handbook\n\nBe kind.\n');
  const other = path.join(tmp, 'guide.md');
  fs.writeFileSync(other, '# Guide\n');
  const byUrl = await client.knowledge.add({ url: 'https://example.com/pricing', name: 'Pricing' });
  const byPath = await client.knowledge.add({ file, name: 'Handbook' });
  const byFileUrl = await client.knowledge.add({ file: pathToFileURL(other), name: 'Guide' });
  const byBytes = await client.knowledge.add({ file: Buffer.from('notes'), fileName: 'notes.txt' });
  const byArray = await client.knowledge.add({ file: new TextEncoder().encode('more notes'), name: 'More' });
  // A path is streamed from disk with its own name; bytes carry fileName, else name, else `upload`.
  const ids = [byUrl, byPath, byFileUrl, byBytes, byArray].map((a) => a.id);
  assert.equal(new Set(ids).size, 5);

  const sources = await client.knowledge.list();
  assert.deepEqual(sources.map((s) => s.id), ids);
  const [url, fromPath, fromFileUrl, fromBytes, fromArray] = sources;
  assert.equal(url.type, 'url');
  assert.equal(url.sourceUrlOrPath, 'https://example.com/pricing');
  assert.equal(typeof url.enabled, 'boolean');
  assert.ok(['indexing', 'indexed'].includes(url.status), url.status);
  assert.equal(url.lastError, null);
  assert.equal(typeof url.createdAt, 'string');
  assert.equal(url.raw.source_url_or_path, 'https://example.com/pricing');
  assert.equal(fromPath.type, 'file');
  assert.equal(fromPath.sourceUrlOrPath, 'handbook.md');
  assert.equal(fromFileUrl.sourceUrlOrPath, 'guide.md');
  assert.equal(fromBytes.sourceUrlOrPath, 'notes.txt');
  assert.equal(fromArray.sourceUrlOrPath, 'More');
  const stats = emu.stats(); // the last request: a plain GET, with the project header
  assert.equal(stats.lastPath, '/api/knowledge');

  const indexed = await client.knowledge.waitUntilIndexed(byUrl.id);
  assert.equal(indexed[0].chunkCount >= 1, true);
  assert.equal(typeof indexed[0].indexedAt, 'string');

  const disabled = await client.knowledge.disable(byUrl.id);
  assert.equal(disabled.enabled, false);
  assert.equal(disabled.id, byUrl.id);
  assert.equal((await client.knowledge.enable(byUrl.id)).enabled, true);
  const again = await client.knowledge.reindex(byUrl.id);
  assert.deepEqual([again.id, again.status], [byUrl.id, 'indexing']);
  assert.equal(await client.knowledge.delete(byPath.id), undefined);
  assert.deepEqual((await client.knowledge.list()).map((s) => s.id), ids.filter((id) => id !== byPath.id));
  await rejectsWith(client.knowledge.delete(byPath.id), mixerlead.NotFoundError, /not found/);
});

test('crawl: the crawl id, its page limit; maxPages must be a whole number from 1', async () => {
  const client = workspace();
  const crawl = await client.knowledge.crawl({ seedUrl: 'https://docs.example.com/', maxPages: 25 });
  assert.match(crawl.id, /^kb_/);
  assert.equal(crawl.status, 'indexing');
  assert.equal(crawl.maxPages, 25);
  assert.equal(crawl.raw.crawlId, crawl.id);
  assert.equal((await client.knowledge.crawl({ seedUrl: 'https://other.example.com/' })).maxPages, 10);
  for (const bad of [0, -1, 1.5, 2 ** 40]) {
    await rejectsWith(client.knowledge.crawl({ seedUrl: 'https://x.example/', maxPages: bad }), RangeError, /maxPages/);
  }
  await rejectsWith(client.knowledge.crawl({ seedUrl: 'https://x.example/', maxPages: '5' }), TypeError, /maxPages/);
  await rejectsWith(client.knowledge.crawl({}), TypeError, /seedUrl/);
  await rejectsWith(client.knowledge.crawl('https://x.example/'), TypeError, /seedUrl/);
});

test('a source that fails to index: IndexingError with sourceId and lastError', async () => {
  const client = workspace();
  const good = await client.knowledge.add({ text: 'fine' });
  const bad = await client.knowledge.add({ url: 'https://fail.example.com/page' });
  const e = await rejectsWith(
    client.knowledge.waitUntilIndexed([good.id, bad.id], { timeout: 30 }),
    mixerlead.IndexingError,
    /failed to index/,
  );
  assert.ok(e instanceof mixerlead.MixerLeadError);
  assert.equal(e.name, 'IndexingError');
  assert.equal(e.sourceId, bad.id);
  assert.equal(e.lastError, 'could not fetch https://fail.example.com/page: host unreachable');
  assert.ok(e.message.includes(e.lastError), e.message);
  const [listed] = (await client.knowledge.list()).filter((s) => s.id === bad.id);
  assert.deepEqual([listed.status, listed.lastError], ['error', e.lastError]);
  // A source that is not there fails at once too.
  const gone = await rejectsWith(client.knowledge.waitUntilIndexed('kb_nope'), mixerlead.IndexingError, /kb_nope/);
  assert.deepEqual([gone.sourceId, gone.lastError], ['kb_nope', null]);
  // No ids: nothing to wait for.
  assert.deepEqual(await client.knowledge.waitUntilIndexed([]), []);
});

test('waitUntilIndexed: a deadline is an APITimeoutError; its options are { timeout } then the request options', async () => {
  const client = workspace();
  const { id } = await client.knowledge.add({ text: 'slow' });
  const started = Date.now();
  await rejectsWith(client.knowledge.waitUntilIndexed([id], { timeout: 0.02 }), mixerlead.APITimeoutError, /still indexing/);
  assert.ok(Date.now() - started < 1000);
  await rejectsWith(client.knowledge.waitUntilIndexed([id], { timeout: -1 }), RangeError, /timeout/);
  await rejectsWith(client.knowledge.waitUntilIndexed([id], { timeout: 'soon' }), TypeError, /timeout/);
  await rejectsWith(
    client.knowledge.waitUntilIndexed([id], { timeout: 5, signal: AbortSignal.timeout(1) }),
    TypeError,
    /third argument/,
  );
  await rejectsWith(client.knowledge.waitUntilIndexed([id, 5]), TypeError, /ids/);
  // The signal (third argument) aborts the wait.
  const controller = new AbortController();
  const waiting = client.knowledge.waitUntilIndexed([id], { timeout: Infinity }, { signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await assert.rejects(waiting, (e) => e.name === 'AbortError' && e instanceof mixerlead.MixerLeadError);
  assert.equal((await client.knowledge.waitUntilIndexed([id], { timeout: 30 }))[0].status, 'indexed');
});

test('409, 413 and the daily agent run quota (403) are typed errors with the service message', async () => {
  const client = workspace();
  await client.knowledge.add({ url: 'https://example.com/dup' });
  const conflict = await rejectsWith(
    client.knowledge.add({ url: 'https://example.com/dup' }),
    mixerlead.ConflictError,
    /^a source for https:\/\/example\.com\/dup already exists$/,
  );
  assert.equal(conflict.status, 409);
  assert.deepEqual(conflict.body, { error: conflict.message });

  const big = path.join(tmp, 'big.bin');
  fs.writeFileSync(big, Buffer.alloc(MAX_UPLOAD * 2, 7));
  for (const file of [big, fs.readFileSync(big)]) {
    const tooLarge = await rejectsWith(client.knowledge.add({ file }), mixerlead.PayloadTooLargeError, /over the storage quota/);
    assert.equal(tooLarge.status, 413);
  }

  const agent = await client.agents.create({ name: 'Scout', type: 'research' });
  // The same workspace (key and project), its requests counted under a scenario id.
  const id = sid();
  const scoped = client.withOptions({ baseUrl: emu.scenarioUrl(`id=${id}`) });
  assert.match((await scoped.agents.run(agent.id)).output, /Scout \(research\) ran/);
  await scoped.agents.run(agent.id);
  const quota = await rejectsWith(scoped.agents.run(agent.id), mixerlead.PermissionDeniedError, /daily agent run quota reached/);
  assert.equal(quota.status, 403);
  assert.equal(emu.stats(id).requests, 3, 'the 403 was not retried');
});

test('a create is never sent twice after a 503; a list is retried', async () => {
  const creates = {
    'knowledge.add': (c) => c.knowledge.add({ text: 'x' }),
    'knowledge.crawl': (c) => c.knowledge.crawl({ seedUrl: 'https://example.com/' }),
    'knowledge.reindex': (c) => c.knowledge.reindex('kb_1'),
    'skills.run': (c) => c.skills.run('summarize', { a: 1 }),
    'agents.create': (c) => c.agents.create({ name: 'A', type: 'strategy' }),
    'agents.run': (c) => c.agents.run('ag_1'),
    'artifacts.create': (c) => c.artifacts.create({ name: 'doc' }),
  };
  for (const [name, create] of Object.entries(creates)) {
    const id = sid();
    await rejectsWith(create(workspace(`id=${id};fail=503;times=1;retry_after=0`)), mixerlead.InternalServerError, /./);
    assert.equal(emu.stats(id).requests, 1, name);
  }
  const lists = {
    'knowledge.list': (c) => c.knowledge.list(),
    'skills.list': (c) => c.skills.list(),
    'agents.list': (c) => c.agents.list(),
    'artifacts.list': (c) => c.artifacts.list(),
    'knowledge.disable': (c) => c.knowledge.disable('kb_1').catch((e) => e.status),
    'knowledge.delete': (c) => c.knowledge.delete('kb_1').catch((e) => e.status),
  };
  for (const [name, list] of Object.entries(lists)) {
    const id = sid();
    const result = await list(workspace(`id=${id};fail=503;times=1;retry_after=0`));
    assert.ok(Array.isArray(result) || result === 404, `${name}: ${result}`);
    assert.equal(emu.stats(id).requests, 2, name);
  }
  // A 429 is retried on a create too: nothing was created.
  const id = sid();
  const agent = await workspace(`id=${id};fail=429;times=1;retry_after=0`).agents.create({ name: 'B', type: 'execution' });
  assert.equal(agent.type, 'execution');
  assert.equal(emu.stats(id).requests, 2);
});

test('bad input is rejected before anything is sent', async () => {
  const id = sid();
  const client = workspace(`id=${id}`);
  const k = client.knowledge;
  await rejectsWith(k.add({}), TypeError, /one of url, text or file/);
  await rejectsWith(k.add({ name: 'only a name' }), TypeError, /one of url, text or file/);
  await rejectsWith(k.add({ url: 'https://a.example', text: 'b' }), TypeError, /only one of url, text or file/);
  await rejectsWith(k.add({ text: 'b', file: Buffer.from('c') }), TypeError, /only one/);
  await rejectsWith(k.add({ file: path.join(tmp, 'missing.pdf') }), TypeError, /missing\.pdf/);
  await rejectsWith(k.add({ file: tmp }), TypeError, /not a regular file/);
  await rejectsWith(k.add({ file: 42 }), TypeError, /file must be/);
  await rejectsWith(k.add({ url: 5 }), TypeError, /url/);
  await rejectsWith(k.add({ url: ' ' }), TypeError, /url must not be empty/);
  await rejectsWith(k.add(null), TypeError, /params/);
  await rejectsWith(k.enable(''), TypeError, /id must not be empty/);
  await rejectsWith(k.reindex(undefined), TypeError, /id is required/);
  await rejectsWith(client.skills.run(''), TypeError, /skill_?id must not be empty/i);
  await rejectsWith(client.skills.run('summarize', ['a']), TypeError, /vars/);
  await rejectsWith(client.skills.run('summarize', { n: 1n }), TypeError, /BigInt/);
  await rejectsWith(client.agents.create({ name: 'X', type: 'wizard' }), TypeError, /unknown agent type "wizard"/);
  await rejectsWith(client.agents.create({ name: ' ', type: 'research' }), TypeError, /name must not be empty/);
  await rejectsWith(client.agents.create({ name: 'X' }), TypeError, /type is required/);
  await rejectsWith(client.agents.create({ name: 'X', type: 'research', config: 'c' }), TypeError, /config/);
  await rejectsWith(client.agents.run(' '), TypeError, /agent_?id must not be empty/i);
  await rejectsWith(client.artifacts.create({}), TypeError, /at least one field/);
  await rejectsWith(client.artifacts.create(), TypeError, /fields is required/);
  await rejectsWith(k.list({ timeout: -1 }), RangeError, /timeout/);
  await rejectsWith(client.agents.create({ name: 'X', type: 'research' }, { maxRetries: -1 }), RangeError, /max_?retries/i);
  await rejectsWith(k.list({ tiemout: 1 }), mixerlead.ConfigurationError, /tiemout/);
  assert.equal(emu.stats(id).requests, 0);
});

test('skills: list, and a run echoes its variables', async () => {
  const client = workspace();
  const skills = await client.skills.list();
  assert.ok(skills.length >= 1);
  const summarize = skills.find((s) => s.id === 'summarize');
  assert.deepEqual(
    { ...summarize, raw: undefined },
    { id: 'summarize', name: 'Summarize', category: 'writing', description: summarize.description, raw: undefined },
  );
  assert.equal(summarize.raw.id, 'summarize');
  const run = await client.skills.run('summarize', { topic: 'pricing', count: 3 });
  assert.equal(run.output, '# Summarize\n\n- **count**: 3\n- **topic**: pricing');
  assert.deepEqual(run.raw, { output: run.output });
  assert.equal((await client.skills.run('outline')).output, '# Outline\n');
  await rejectsWith(client.skills.run('nope'), mixerlead.NotFoundError, /skill 'nope' not found/);
});

test('agents and artifacts: create, list, run; typed fields and raw', async () => {
  const client = workspace();
  const agent = await client.agents.create({ name: 'Watcher', type: 'monitoring', config: { every: '1h' } });
  assert.match(agent.id, /^ag_/);
  assert.deepEqual([agent.name, agent.type], ['Watcher', 'monitoring']);
  assert.deepEqual(agent.raw.config, { every: '1h' });
  await rejectsWith(client.agents.create({ name: 'Watcher', type: 'research' }), mixerlead.ConflictError, /already exists/);
  const agents = await client.agents.list();
  assert.deepEqual(agents.map((a) => a.id), [agent.id]);
  const run = await client.agents.run(agent.id);
  assert.equal(run.output, 'Watcher (monitoring) ran: nothing to report.');
  assert.equal(run.raw.agentId, agent.id);
  await rejectsWith(client.agents.run('ag_nope'), mixerlead.NotFoundError, /agent 'ag_nope' not found/);

  const artifact = await client.artifacts.create({ name: 'Brief', type: 'document', body: '# Brief', tags: ['a'] });
  assert.match(artifact.id, /^art_/);
  assert.deepEqual([artifact.name, artifact.type], ['Brief', 'document']);
  assert.deepEqual(artifact.raw.tags, ['a']);
  const artifacts = await client.artifacts.list();
  assert.deepEqual(artifacts.map((a) => a.id), [artifact.id]);
  assert.equal(artifacts[0].raw.body, '# Brief');
  // Absent fields are null.
  const bare = await client.artifacts.create({ body: 'x' });
  assert.deepEqual([bare.name, bare.type], [null, null]);
});

test('request options on workspace calls: headers, timeout, maxRetries, signal', async () => {
  const id = sid();
  const client = workspace(`id=${id}`);
  await client.skills.list({ headers: { 'x-trace': 'ws-1' } });
  assert.equal(emu.stats(id).lastHeaders['x-trace'], 'ws-1');
  assert.ok(emu.stats(id).lastHeaders['x-project-id']);
  assert.match(emu.stats(id).lastHeaders['user-agent'], /^mixerlead-node\//);

  const slow = workspace('header_delay_ms=1500', { maxRetries: 0 });
  const started = Date.now();
  await rejectsWith(slow.knowledge.list({ timeout: 0.1 }), mixerlead.APITimeoutError, /./);
  await rejectsWith(slow.agents.create({ name: 'S', type: 'research' }, { timeout: 0.1 }), mixerlead.APITimeoutError, /./);
  assert.ok(Date.now() - started < 1400, `${Date.now() - started} ms`);

  const retried = sid();
  await rejectsWith(
    workspace(`id=${retried};fail=503;retry_after=0`).artifacts.list({ maxRetries: 3 }),
    mixerlead.InternalServerError,
    /./,
  );
  assert.equal(emu.stats(retried).requests, 4);

  const controller = new AbortController();
  const pending = workspace('header_delay_ms=2000').knowledge.list({ signal: controller.signal });
  setTimeout(() => controller.abort(), 20);
  await rejectsWith(pending, mixerlead.AbortError, /abort/);
  const aborted = AbortSignal.abort();
  await rejectsWith(client.skills.run('summarize', {}, { signal: aborted }), mixerlead.AbortError, /abort/);
});

test('a logger sees workspace calls: method and path, never the content', async () => {
  const records = [];
  const logger = { debug: (t) => records.push(t), info: (t) => records.push(t) };
  const client = workspace(undefined, { logger });
  await client.knowledge.add({ text: 'confidential-text-93' });
  await client.skills.run('summarize', { secret: 'confidential-var-94' });
  const deadline = Date.now() + 2000;
  while (!records.some((t) => t.startsWith('POST /skills/exec: HTTP 200')) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  assert.ok(records.includes('POST /knowledge: attempt 1 of 3'), records.join('\n'));
  assert.ok(records.some((t) => t.startsWith('POST /skills/exec: HTTP 200')), records.join('\n'));
  assert.ok(!records.join('\n').includes('confidential'));
});

test('examples/node/knowledge.mjs runs offline: add, wait, a grounded reply', () => {
  const env = { ...process.env };
  delete env.MIXERLEAD_API_KEY;
  const out = spawnSync(process.execPath, ['knowledge.mjs'], { env, encoding: 'utf8', timeout: 20000 });
  assert.equal(out.status, 0, out.stderr);
  assert.match(out.stderr, /^added kb_\d+, indexing…\n$/);
  assert.match(out.stdout, /Grounded on: Refund policy\.\n$/);
});
