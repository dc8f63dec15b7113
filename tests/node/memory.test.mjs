// Memory: the text of every batch is freed, whatever became of its stream (read to the end,
// cancelled, failed, abandoned half-read), and never waits long for V8 (issue 25). Each test
// runs in a child node with --expose-gc and reads process.memoryUsage().external, which counts
// the characters of the external strings big batches cross as.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startEmulator, KEY } from './helpers.mjs';

let emu;
before(async () => {
  emu = await startEmulator();
});
after(async () => emu.stop());

/** What the child script prints last (JSON), after running `body` as an ES module with gc(). */
function measure(body) {
  const code = `
    import { Client } from 'mixerlead';
    const root = ${JSON.stringify(emu.url('X').slice(0, -'/s/X/api'.length))};
    const clients = new Map(); // one client per script, made once, as a service would
    const client = (script) => {
      if (!clients.has(script)) clients.set(script, new Client({ apiKey: '${KEY}', baseUrl: root + '/s/' + script + '/api', maxRetryWait: 0 }));
      return clients.get(script);
    };
    const external = () => process.memoryUsage().external / 1048576;
    const turn = () => new Promise((r) => setImmediate(r));
    const fullGc = async () => { for (let i = 0; i < 2; i++) { gc(); await turn(); } };
    const minorGc = async () => { for (let i = 0; i < 2; i++) { gc({ type: 'minor' }); await turn(); } };
    const lanes = async (count, op) => {
      let next = 0;
      await Promise.all(Array.from({ length: 8 }, async () => { while (next++ < count) await op(); }));
    };
    const expectError = async (name, work) => {
      try { await work(); } catch (error) { if (error.name === name) return; throw error; }
      throw new Error('expected ' + name);
    };
    ${body}
  `;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', '--input-type=module', '-e', code], { cwd: process.cwd() });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (status) => {
      if (status !== 0) return reject(new Error(`child exited with ${status}: ${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()));
    });
  });
}

test('the text of small batches goes at a scavenge: no full GC needed (issue 25)', async () => {
  // Streams read as they come make small batches. Before, each crossed as an external string,
  // which V8 makes in its old generation: 3000 streams of 200 pieces left ~2.5 MiB until a
  // mark-compact, which V8 started only after ~64-95 MiB of them (the Node soak's slope).
  const out = await measure(`
    await fullGc();
    const base = external();
    await lanes(3000, async () => {
      let pieces = 0;
      for await (const _ of await client('pieces=200').chat.stream({ message: 'small' })) pieces++;
      if (pieces !== 200) throw new Error(pieces + ' pieces of 200');
    });
    await lanes(300, async () => {
      let i = 0;
      for await (const _ of await client('pieces=2000;delay_ms=1').chat.stream({ message: 'small' })) if (++i === 5) break;
    });
    await lanes(300, () => expectError('StreamInterruptedError', async () => {
      await (await client('disconnect_after=5').chat.stream({ message: 'small' })).read();
    }));
    await minorGc();
    console.log(JSON.stringify({ grew: external() - base }));
  `);
  assert.ok(out.grew < 0.5, `external memory grew by ${out.grew.toFixed(2)} MiB without a full GC`);
});

test('every batch text is freed: streams read, cancelled, failed or abandoned half-read', async () => {
  // Replies that arrive faster than they are read make batches of thousands of bytes, which
  // cross as external strings; after a full GC none is left, whatever became of its stream.
  const out = await measure(`
    const big = (script) => client(script).chat.stream({ message: 'big' }).then(async (stream) => {
      await new Promise((r) => setTimeout(r, 2)); // the reply arrives meanwhile: big batches
      return stream;
    });
    const kinds = {
      read: async () => { if ((await (await big('pieces=2000')).read()).length < 2000) throw new Error('short'); },
      cancelled: async () => {
        const stream = await big('pieces=2000');
        for (let i = 0; i < 10; i++) await stream.next();
        stream.cancel();
      },
      broken: async () => { for await (const _ of await big('pieces=2000')) break; },
      failed: () => expectError('StreamInterruptedError', async () => (await big('pieces=2000;disconnect_after=1500')).read()),
      // Half-read, then dropped: no cancel, no break; only its finalizers end it.
      abandoned: async () => {
        const stream = await big('pieces=2000');
        for (let i = 0; i < 10; i++) await stream.next();
      },
    };
    const result = {};
    for (const [kind, op] of Object.entries(kinds)) {
      await fullGc();
      const base = external();
      await lanes(400, op);
      const peak = external() - base;
      await fullGc();
      result[kind] = { peak, left: external() - base };
    }
    console.log(JSON.stringify(result));
  `);
  for (const [kind, { peak, left }] of Object.entries(out)) {
    assert.ok(peak > 0.5, `${kind}: external strings were made (${peak.toFixed(2)} MiB)`);
    assert.ok(Math.abs(left) < 0.25, `${kind}: ${left.toFixed(2)} MiB of external memory left after a full GC`);
  }
});

test('dead external batch texts waiting for a mark-compact stay under 16 MiB', async () => {
  // Without a bound, 2500 replies of 2000 pieces read at once left ~26 MiB (and 20 000 left
  // 209 MiB) of external strings, dead but waiting for a mark-compact V8 did not start.
  const out = await measure(`
    await fullGc();
    const base = external();
    let most = 0;
    await lanes(2500, async () => {
      const stream = await client('pieces=2000').chat.stream({ message: 'bulk' });
      await new Promise((r) => setTimeout(r, 2));
      await stream.read();
      most = Math.max(most, external() - base);
    });
    await fullGc();
    console.log(JSON.stringify({ most, left: external() - base }));
  `);
  assert.ok(out.most < 17, `external memory reached ${out.most.toFixed(2)} MiB above its baseline`);
  assert.ok(Math.abs(out.left) < 0.25, `${out.left.toFixed(2)} MiB left after a full GC`);
});
