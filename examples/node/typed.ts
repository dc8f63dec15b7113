// TypeScript: typed errors and replies.
import { Client, RateLimitError, type ChatReply } from 'mixerlead';

async function ask(client: Client, message: string): Promise<ChatReply> {
  try {
    return await client.chat.send({ message });
  } catch (e) {
    if (e instanceof RateLimitError && e.retryAfter !== null) {
      await new Promise((resolve) => setTimeout(resolve, e.retryAfter! * 1000));
      return client.chat.send({ message });
    }
    throw e;
  }
}

const reply = await ask(new Client(), 'Hi');
console.log(reply.text, reply.conversationId);
