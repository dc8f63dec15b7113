// Not a test: `tsc --noEmit --strict` checks that every public name is declared.
import {
  Client, ChatStream, Models, Chat, MixerLeadError, ConfigurationError, APIConnectionError, APITimeoutError,
  StreamInterruptedError, APIResponseError, APIStatusError, BadRequestError, AuthenticationError,
  PermissionDeniedError, NotFoundError, ConflictError, PayloadTooLargeError, RateLimitError, InternalServerError,
  AbortError,
} from 'mixerlead';
import type { ClientOptions, RequestOptions, ChatParams, Model, ModelList, ChatReply, Logger } from 'mixerlead';
import { Emulator } from 'mixerlead/testing';
import type { EmulatorOptions, EmulatorStats } from 'mixerlead/testing';

const options: ClientOptions = {
  apiKey: 'ml_live_x', baseUrl: 'http://127.0.0.1:1/api', projectId: 'p', timeout: 60, connectTimeout: 10,
  readTimeout: 120, maxRetries: 2, maxRetryWait: 60, allowInsecureHttp: false, caFile: '/etc/ssl/extra.pem',
  proxy: 'http://proxy.internal:3128', logger: console,
};
const partialLogger: Logger = { warn: (message: string) => console.warn(message) };
const errors: Array<typeof MixerLeadError> = [
  ConfigurationError, APIConnectionError, APITimeoutError, StreamInterruptedError, APIResponseError, APIStatusError,
  BadRequestError, AuthenticationError, PermissionDeniedError, NotFoundError, ConflictError, PayloadTooLargeError,
  RateLimitError, InternalServerError, AbortError,
];

export async function usage(): Promise<void> {
  const client = new Client(options);
  const patient: Client = client.withOptions({ timeout: 300, maxRetries: 5, logger: partialLogger });
  const list: ModelList = await patient.models.list({ timeout: 5, maxRetries: 0, headers: { 'x-trace': 't' } });
  const listId: string | null = list.requestId;
  const listHeaders: Headers = list.headers;
  const models: Model[] = await client.models.list();
  const m: Models = client.models;
  const c: Chat = client.chat;
  const request: RequestOptions = {
    signal: new AbortController().signal, timeout: 10, maxRetries: 1, headers: new Headers({ 'x-trace': 't' }),
  };
  const params: ChatParams = { message: 'Hi', model: models[0].id, conversationId: undefined };
  const stream: ChatStream = await c.stream(params, request);
  for await (const text of stream) {
    const piece: string = text;
    console.log(piece, stream.text, stream.conversationId ?? 'none');
  }
  const whole: string = await stream.read();
  stream.cancel();
  const streamId: string | null = stream.requestId;
  const contentType: string | null = stream.headers.get('content-type');
  const body: ReadableStream<Uint8Array> = (await c.stream('Hi')).toReadableStream();
  const response = new Response(body);
  const reply: ChatReply = await client.chat.send('Hi', { headers: { 'x-trace': 'u' } });
  const id: string | null = reply.conversationId;
  const replyId: string | null = reply.requestId;
  const replyHeaders: Headers = reply.headers;
  console.log(listId, listHeaders, streamId, contentType, response.status, replyId, replyHeaders);
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

export async function testing(): Promise<void> {
  const startOptions: EmulatorOptions = { tls: true, format: 'ndjson', tokenDelayMs: 1, rateLimit: 10, port: 0 };
  const emulator: Emulator = await Emulator.start(startOptions);
  const client = new Client({ apiKey: emulator.apiKey, baseUrl: emulator.scenarioUrl('id=t1;fail=429;times=1'), caFile: 'ca.pem' });
  await client.chat.send('Hi');
  const stats: EmulatorStats = emulator.stats('t1');
  const waited: EmulatorStats = await emulator.waitForDisconnects('t1', { count: 1, within: 500 });
  const pem: string | null = emulator.caPem;
  const url: string = emulator.baseUrl;
  console.log(stats.requests, stats.clientDisconnects, stats.lastHeaders['user-agent'], waited.disconnectTimes, pem, url);
  await emulator.stop();
}
