// Not a test: `tsc --noEmit --strict` checks that every public name is declared.
import {
  Client, ChatStream, Models, Chat, MixerLeadError, ConfigurationError, APIConnectionError, APITimeoutError,
  StreamInterruptedError, APIResponseError, APIStatusError, BadRequestError, AuthenticationError,
  PermissionDeniedError, NotFoundError, ConflictError, PayloadTooLargeError, RateLimitError, InternalServerError,
  AbortError,
} from 'mixerlead';
import type { ClientOptions, RequestOptions, ChatParams, Model, ChatReply } from 'mixerlead';

const options: ClientOptions = {
  apiKey: 'ml_live_x', baseUrl: 'http://127.0.0.1:1/api', projectId: 'p', timeout: 60, connectTimeout: 10,
  readTimeout: 120, maxRetries: 2, maxRetryWait: 60, allowInsecureHttp: false,
};
const errors: Array<typeof MixerLeadError> = [
  ConfigurationError, APIConnectionError, APITimeoutError, StreamInterruptedError, APIResponseError, APIStatusError,
  BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError, PayloadTooLargeError,
  RateLimitError, InternalServerError, AbortError,
];

export async function usage(): Promise<void> {
  const client = new Client(options);
  const models: Model[] = await client.models.list();
  const m: Models = client.models;
  const c: Chat = client.chat;
  const request: RequestOptions = { signal: new AbortController().signal };
  const params: ChatParams = { message: 'Hi', model: models[0].id, conversationId: undefined };
  const stream: ChatStream = await c.stream(params, request);
  for await (const text of stream) {
    const piece: string = text;
    console.log(piece, stream.text, stream.conversationId ?? 'none');
  }
  const whole: string = await stream.read();
  stream.cancel();
  const reply: ChatReply = await client.chat.send('Hi');
  const id: string | null = reply.conversationId;
  try {
    await m.list();
  } catch (e) {
    if (e instanceof RateLimitError) {
      const wait: number | null = e.retryAfter;
      console.log(wait, e.status, e.body, e.requestId);
    } else if (e instanceof StreamInterruptedError) {
      const partial: string = e.partialText;
      console.log(partial);
    }
  }
  console.log(whole, id, errors.length, JSON.stringify(client.toJSON()));
}
