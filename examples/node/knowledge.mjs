// ESM: ground chat on your own material — add a source, wait until it is indexed, then ask.
// Uses MIXERLEAD_API_KEY's workspace (and MIXERLEAD_PROJECT_ID's project) when the key is set;
// without one, a local emulator from mixerlead/testing, so it runs offline as it is.
import { Client, IndexingError } from 'mixerlead';
import { Emulator } from 'mixerlead/testing';

const emulator = process.env.MIXERLEAD_API_KEY ? null : await Emulator.start();
const client = emulator ? new Client({ apiKey: emulator.apiKey, baseUrl: emulator.baseUrl }) : new Client();

// A URL or a file works the same way: { url: 'https://…' } or { file: './handbook.pdf' }.
const source = await client.knowledge.add({
  text: 'Customers may ask for a refund within 30 days of purchase, with the receipt.',
  name: 'Refund policy',
});
console.error(`added ${source.id}, indexing…`);
try {
  await client.knowledge.waitUntilIndexed([source.id], { timeout: 120 });
  for await (const text of await client.chat.stream('How long do customers have to ask for a refund?')) {
    process.stdout.write(text);
  }
  process.stdout.write('\n');
} catch (e) {
  if (!(e instanceof IndexingError)) throw e;
  console.error(`${e.sourceId} could not be indexed: ${e.lastError}`);
  process.exitCode = 1;
} finally {
  await client.knowledge.delete(source.id); // so the example can run again (a second add would be a 409)
  await emulator?.stop();
}
