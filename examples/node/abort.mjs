// ESM: stop a reply after two seconds with an AbortSignal.
import { Client } from 'mixerlead';

const client = new Client();
const signal = AbortSignal.timeout(2000);
try {
  for await (const text of await client.chat.stream({ message: 'Tell me a long story' }, { signal })) {
    process.stdout.write(text);
  }
} catch (e) {
  if (e.name !== 'AbortError') throw e;
  console.log('\n(stopped)');
}
