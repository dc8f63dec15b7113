// Not a test: `tsc --noEmit --strict` checks that every public name is declared.
import {
  Client, ChatStream, Models, Chat, MixerLeadError, ConfigurationError, APIConnectionError, APITimeoutError,
  StreamInterruptedError, APIResponseError, APIStatusError, BadRequestError, AuthenticationError,
  PermissionDeniedError, NotFoundError, ConflictError, PayloadTooLargeError, RateLimitError, InternalServerError,
  AbortError, IndexingError, Knowledge, Skills, Agents, Artifacts,
} from 'mixerlead';
import type {
  ClientOptions, RequestOptions, ChatParams, Model, ModelList, ChatReply, Logger, NewSource, Indexing, Source,
  SourceStatus, Skill, SkillOutput, Agent, AgentType, AgentRun, Artifact,
} from 'mixerlead';
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
  RateLimitError, InternalServerError, AbortError, IndexingError,
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
  const scripted: Client = emulator.client('fail=429;times=1', { maxRetries: 0 });
  const plain: Client = emulator.client();
  const noScript: Client = emulator.client(null, { timeout: 5 });
  const caFile: string | null = emulator.caFile;
  const unnamed: EmulatorStats = emulator.stats();
  console.log(scripted, plain, noScript, caFile, unnamed.requests);
  await emulator.stop();
  await using disposed = await Emulator.start();
  console.log(disposed.baseUrl);
}

export async function workspace(client: Client): Promise<void> {
  const k: Knowledge = client.knowledge;
  const sources: NewSource[] = [
    { url: 'https://example.com', name: 'Example' },
    { text: 'Refunds: 30 days' },
    { file: './handbook.pdf' },
    { file: new URL('file:///tmp/a.md') },
    { file: Buffer.from('x'), fileName: 'x.txt', name: 'X' },
    { file: new Uint8Array(2) },
  ];
  const added: Indexing[] = await Promise.all(sources.map((s) => k.add(s, { maxRetries: 0 })));
  const crawl: Indexing = await k.crawl({ seedUrl: 'https://example.com', maxPages: 5 }, { timeout: 5 });
  const pages: number | null = crawl.maxPages;
  const ready: Source[] = await k.waitUntilIndexed(added.map((a) => a.id), { timeout: 120 }, { signal: AbortSignal.timeout(1000) });
  await k.waitUntilIndexed('kb_1');
  const listed: Source[] = await k.list();
  const status: SourceStatus = listed[0].status;
  const error: string | null = listed[0].lastError;
  const maybe: Source | null = await k.enable('kb_1');
  await k.disable('kb_1');
  await k.reindex('kb_1');
  const deleted: void = await k.delete('kb_1');
  const skills: Skills = client.skills;
  const all: Skill[] = await skills.list();
  const out: SkillOutput = await skills.run(all[0].id, { topic: 'x', n: 1 });
  const agents: Agents = client.agents;
  const type: AgentType = 'research';
  const agent: Agent = await agents.create({ name: 'A', type, config: { depth: 2 } });
  const run: AgentRun = await agents.run(agent.id ?? '');
  const agentList: Agent[] = await agents.list();
  const artifacts: Artifacts = client.artifacts;
  const saved: Artifact = await artifacts.create({ name: 'Doc', body: '# Doc' });
  const savedList: Artifact[] = await artifacts.list({ headers: { 'x-trace': 't' } });
  try {
    await k.waitUntilIndexed(['kb_2']);
  } catch (e) {
    if (e instanceof IndexingError) {
      const id: string = e.sourceId;
      const why: string | null = e.lastError;
      console.log(id, why);
    }
  }
  console.log(pages, ready, status, error, maybe, deleted, out.output, out.raw, run.output, run.raw, agentList, saved.raw, savedList);
}
