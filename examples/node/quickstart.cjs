// CommonJS quick start: list models, stream a reply, continue the conversation.
// MIXERLEAD_API_KEY=… node examples/node/quickstart.cjs
const { Client, PermissionDeniedError } = require('mixerlead');

async function main() {
  const client = new Client({ maxRetries: 2 });
  for (const model of await client.models.list()) console.log(`${model.id.padEnd(10)} ${model.task}`);

  const stream = await client.chat.stream({ message: 'Write a haiku about rivers' });
  for await (const text of stream) process.stdout.write(text);
  console.log();

  const reply = await client.chat.send({ message: 'Another one', conversationId: stream.conversationId });
  console.log(reply.text);

  try {
    await client.chat.send({ message: 'Hi', model: 'ml-pro' });
  } catch (e) {
    if (e instanceof PermissionDeniedError) console.log(`not on this plan: ${e.message} (HTTP ${e.status})`);
    else throw e;
  }
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
