// OpenTelemetry: a CLIENT span per call from the global tracer provider, with the GenAI
// attributes; the chats' metrics; the active context carried to the service; no text, no key;
// and nothing at all when @opentelemetry/api cannot be resolved. Real SDKs, in-memory exporters.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import api from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import {
  MeterProvider,
  PeriodicExportingMetricReader,
  InMemoryMetricExporter,
  AggregationTemporality,
} from '@opentelemetry/sdk-metrics';
import { CompositePropagator, W3CTraceContextPropagator, W3CBaggagePropagator } from '@opentelemetry/core';
import { Client, NotFoundError, AbortError } from 'mixerlead';
import { KEY, startEmulator, sid } from './helpers.mjs';

const exporter = new InMemorySpanExporter();
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 3600_000 });
const SECRET = 'a very private message';
let emu;
let tracer;

before(async () => {
  emu = await startEmulator();
  const processor = new SimpleSpanProcessor(exporter);
  let provider = new BasicTracerProvider({ spanProcessors: [processor] });
  if (typeof provider.addSpanProcessor === 'function') {
    provider = new BasicTracerProvider();
    provider.addSpanProcessor(processor); // SDK 1.x
  }
  api.context.setGlobalContextManager(new AsyncHooksContextManager().enable());
  api.propagation.setGlobalPropagator(
    new CompositePropagator({ propagators: [new W3CTraceContextPropagator(), new W3CBaggagePropagator()] }),
  );
  api.trace.setGlobalTracerProvider(provider);
  api.metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
  tracer = api.trace.getTracer('tests');
});
after(() => emu.stop());
beforeEach(() => exporter.reset());

const spans = (name) => exporter.getFinishedSpans().filter((s) => s.name === name);

async function only(name, within = 1000) {
  const deadline = Date.now() + within;
  while (spans(name).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const found = spans(name);
  assert.equal(found.length, 1, JSON.stringify(exporter.getFinishedSpans().map((s) => s.name)));
  return found[0];
}

const parentOf = (span) => span.parentSpanContext?.spanId ?? span.parentSpanId;

function noSecrets() {
  for (const span of exporter.getFinishedSpans()) {
    const dump = JSON.stringify([span.attributes, span.events]);
    assert.ok(!dump.includes(SECRET) && !dump.includes(KEY), dump);
  }
}

test('a stream is a CLIENT span under the active one, with the GenAI attributes and propagation', async () => {
  const id = sid();
  const client = new Client({ apiKey: KEY, baseUrl: emu.url(`id=${id};pieces=5`) });
  let parentId;
  let stream;
  await tracer.startActiveSpan('parent', async (parent) => {
    parentId = parent.spanContext().spanId;
    const ctx = api.propagation.setBaggage(api.context.active(), api.propagation.createBaggage({ tenant: { value: 't42' } }));
    stream = await api.context.with(ctx, () => client.chat.stream({ message: SECRET, model: 'ml-auto' }));
    assert.equal(spans('chat ml-auto').length, 0, 'the span lasts as long as the stream');
    await stream.read();
    parent.end();
  });
  const span = await only('chat ml-auto');
  assert.equal(span.kind, api.SpanKind.CLIENT);
  assert.equal(parentOf(span), parentId);
  const a = span.attributes;
  assert.equal(a['gen_ai.operation.name'], 'chat');
  assert.equal(a['gen_ai.provider.name'], 'mixerlead');
  assert.equal(a['gen_ai.request.model'], 'ml-auto');
  assert.equal(a['gen_ai.conversation.id'], stream.conversationId);
  assert.equal(a['server.address'], '127.0.0.1');
  assert.equal(typeof a['server.port'], 'number');
  assert.equal(a['http.response.status_code'], 200);
  assert.equal(a['mixerlead.request_id'], stream.requestId);
  assert.equal(a['error.type'], undefined);
  const headers = (await emu.stats(id)).last_headers;
  const ctx = span.spanContext();
  assert.ok(headers.traceparent.startsWith(`00-${ctx.traceId}-${ctx.spanId}-`), headers.traceparent);
  assert.equal(headers.baggage, 'tenant=t42');
  noSecrets();
});

test('retries are counted, errors end their span with error.type and ERROR status', async () => {
  const client = new Client({ apiKey: KEY, baseUrl: emu.url(`id=${sid()};fail=503;times=1`) });
  await client.chat.send(SECRET);
  const span = await only('chat');
  assert.equal(span.attributes['http.request.resend_count'], 1);
  assert.deepEqual(
    span.events.filter((e) => e.name === 'mixerlead.retry').map((e) => e.attributes['error.type']),
    ['InternalServerError'],
  );
  const failing = new Client({ apiKey: KEY, baseUrl: emu.url(`id=${sid()};fail=404`) });
  await assert.rejects(failing.models.list(), NotFoundError);
  const error = await only('GET /ai/models');
  assert.equal(error.attributes['error.type'], 'NotFoundError');
  assert.equal(error.attributes['http.response.status_code'], 404);
  assert.equal(error.status.code, api.SpanStatusCode.ERROR);
  await assert.rejects(new Client({ apiKey: KEY, baseUrl: emu.baseUrl }).knowledge.enable('kb_missing'), NotFoundError);
  await only('PATCH /knowledge/{id}');
  noSecrets();
});

test('a stream cancelled half-read, or aborted, ends its span', async () => {
  const client = new Client({ apiKey: KEY, baseUrl: emu.url(`id=${sid()};pieces=200;delay_ms=5`) });
  const stream = await client.chat.stream(SECRET);
  for await (const _ of stream) break; // eslint-disable-line no-unused-vars
  const closed = await only('chat');
  assert.equal(closed.attributes['mixerlead.outcome'], 'closed');
  assert.equal(closed.status.code, api.SpanStatusCode.UNSET);
  exporter.reset();
  const slow = new Client({ apiKey: KEY, baseUrl: emu.url(`id=${sid()};header_delay_ms=2000`) });
  const controller = new AbortController();
  const pending = slow.chat.send(SECRET, { signal: controller.signal });
  setTimeout(() => controller.abort(), 50);
  await assert.rejects(pending, AbortError);
  const aborted = await only('chat');
  assert.equal(aborted.attributes['error.type'], 'AbortError');
});

test('the chat metrics are recorded', async () => {
  const client = new Client({ apiKey: KEY, baseUrl: emu.url(`id=${sid()};pieces=5`) });
  await client.chat.send({ message: SECRET, model: 'ml-auto' });
  await only('chat ml-auto');
  await reader.forceFlush();
  const names = new Map();
  for (const rm of metricExporter.getMetrics()) {
    for (const sm of rm.scopeMetrics) {
      for (const m of sm.metrics) names.set(m.descriptor.name, m.dataPoints);
    }
  }
  for (const name of [
    'gen_ai.client.operation.duration',
    'gen_ai.client.operation.time_to_first_chunk',
    'gen_ai.client.operation.time_per_output_chunk',
  ]) {
    const points = (names.get(name) || []).filter((p) => p.attributes['gen_ai.request.model'] === 'ml-auto');
    assert.ok(points.length > 0 && points[0].value.count >= 1, name);
    assert.equal(points[0].attributes['gen_ai.operation.name'], 'chat');
  }
});

test('without @opentelemetry/api nothing is loaded and nothing is sent', async () => {
  const id = sid();
  const require = createRequire(import.meta.url);
  const script = `
    const Module = require('node:module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request.startsWith('@opentelemetry/')) { const e = new Error('not found'); e.code = 'MODULE_NOT_FOUND'; throw e; }
      return resolve.call(this, request, ...rest);
    };
    const { Client } = require('mixerlead');
    (async () => {
      const client = new Client({ apiKey: ${JSON.stringify(KEY)}, baseUrl: ${JSON.stringify(emu.url(`id=${id}`))} });
      await client.chat.send('hi');
      const loaded = Object.keys(require.cache).filter((f) => f.includes('opentelemetry') || f.endsWith('otel.js'));
      console.log(JSON.stringify(loaded));
    })();`;
  const out = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', cwd: require.resolve('mixerlead').split('node_modules')[0] });
  assert.equal(out.status, 0, out.stderr);
  assert.equal(out.stdout.trim(), '[]');
  assert.equal((await emu.stats(id)).last_headers.traceparent, undefined);
});
