'use strict';
// OpenTelemetry for every call, loaded by index.js on the first call and only when
// `@opentelemetry/api` resolves (an optional peer dependency: never installed by this package).
// A CLIENT span per call from the global tracer provider, in the active context, named and
// described as the GenAI semantic conventions say; the chats' metrics from the global meter
// provider; the active context injected into the request's headers with the global propagator.
// Every time and count comes from the core's report of the call: nothing is timed here. No
// message text unless OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT=true; never the key.

const native = require('./loader.js');
const { version } = require('./package.json');

// The buckets the GenAI semantic conventions advise (seconds).
const DURATION_BUCKETS = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];
const CHUNK_BUCKETS = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5];

class Telemetry {
  constructor(api) {
    this.api = api;
    this.tracer = api.trace.getTracer('mixerlead', version);
    this.meterProvider = null;
    this.instruments = null;
    const capture = process.env.OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT || '';
    this.captureContent = capture.trim().toLowerCase() === 'true';
    this.pending = new Map();
    this.nextTag = 1;
    native.setReportSink((tag, json) => this.report(tag, json));
  }

  /** The histograms of the global meter provider now (none when it is the no-op one). */
  meters() {
    const provider = this.api.metrics.getMeterProvider();
    if (provider !== this.meterProvider) {
      this.meterProvider = provider;
      this.instruments = null;
      if (provider && provider.constructor && provider.constructor.name !== 'NoopMeterProvider') {
        const meter = provider.getMeter('mixerlead', version);
        const histogram = (name, description, buckets) =>
          meter.createHistogram(name, { unit: 's', description, advice: { explicitBucketBoundaries: buckets } });
        this.instruments = {
          duration: histogram('gen_ai.client.operation.duration', 'GenAI operation duration', DURATION_BUCKETS),
          firstChunk: histogram(
            'gen_ai.client.operation.time_to_first_chunk',
            'Time to receive the first chunk of a streamed reply',
            CHUNK_BUCKETS,
          ),
          perChunk: histogram(
            'gen_ai.client.operation.time_per_output_chunk',
            'Time per output chunk after the first',
            CHUNK_BUCKETS,
          ),
        };
      }
    }
    return this.instruments;
  }

  /**
   * Starts the span of a call named `name` (a chat when `chat` is `{ message, model,
   * conversationId }`) in the active context: `[the call's options with the propagation
   * headers and its report tag, the tag]` (the tag is 0 when nothing would use the report).
   */
  begin(name, chat, options) {
    const api = this.api;
    const attributes = {};
    if (chat) {
      attributes['gen_ai.operation.name'] = 'chat';
      attributes['gen_ai.provider.name'] = 'mixerlead';
      if (chat.model !== undefined) attributes['gen_ai.request.model'] = chat.model;
      if (chat.conversationId !== undefined) attributes['gen_ai.conversation.id'] = chat.conversationId;
      if (this.captureContent) {
        const parts = [{ type: 'text', content: chat.message }];
        attributes['gen_ai.input.messages'] = JSON.stringify([{ role: 'user', parts }]);
      }
    }
    const active = api.context.active();
    const span = this.tracer.startSpan(name, { kind: api.SpanKind.CLIENT, attributes }, active);
    const valid = api.trace.isSpanContextValid(span.spanContext());
    if (!valid && !span.isRecording() && this.meters() === null) {
      // No provider set: no span, and only the active context (if any) to send on.
      const current = api.trace.getSpanContext(active);
      const nothing = !(current && api.trace.isSpanContextValid(current)) && !api.propagation.getBaggage(active);
      if (nothing) return [options, 0];
    }
    const given = options && options.headers;
    if (given !== undefined && given !== null && (typeof given !== 'object' || Array.isArray(given))) {
      span.end(); // the native side refuses such headers, as without tracing
      return [options, 0];
    }
    const headers = { ...given };
    api.propagation.inject(valid ? api.trace.setSpan(active, span) : active, headers);
    const out = { ...(options || {}), headers };
    if (!span.isRecording() && this.meters() === null) return [out, 0];
    const tag = this.nextTag++;
    this.pending.set(tag, { span, chat: !!chat, model: chat ? chat.model : undefined });
    out.observe = tag;
    return [out, tag];
  }

  /** The call threw before the core started it: ends its span with the error's name. */
  abandon(tag, error) {
    const call = this.pending.get(tag);
    if (call === undefined) return;
    this.pending.delete(tag);
    const type = (error && error.name) || 'Error';
    call.span.setAttribute('error.type', type);
    call.span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: type });
    call.span.end();
  }

  /** The core's report of the call tagged `tag`: ends its span, records its metrics. */
  report(tag, json) {
    const call = this.pending.get(tag);
    if (call === undefined) return; // a second report of the same options (waitUntilIndexed's polls)
    this.pending.delete(tag);
    const r = JSON.parse(json);
    const errorType = r.errorType === 'InvalidArgumentError' ? 'TypeError' : r.errorType;
    const span = call.span;
    if (span.isRecording()) {
      span.setAttribute('server.address', r.serverAddress);
      span.setAttribute('server.port', r.serverPort);
      if (r.statusCode !== null) span.setAttribute('http.response.status_code', r.statusCode);
      if (r.requestId !== null) span.setAttribute('mixerlead.request_id', r.requestId);
      if (r.attempts > 1) span.setAttribute('http.request.resend_count', r.attempts - 1);
      if (call.chat && r.conversationId !== null) span.setAttribute('gen_ai.conversation.id', r.conversationId);
      if (r.outcome === 'closed') span.setAttribute('mixerlead.outcome', 'closed');
      for (const [name, at, reason, seconds, attempt] of r.events) {
        const attributes = { 'mixerlead.wait.seconds': seconds, 'mixerlead.attempt': attempt };
        attributes[name === 'mixerlead.retry' ? 'error.type' : 'mixerlead.wait.reason'] = reason;
        span.addEvent(name, attributes, at);
      }
      if (errorType !== null) {
        span.setAttribute('error.type', errorType);
        span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: errorType });
      }
    }
    span.end(r.end);
    const meters = call.chat ? this.meters() : null;
    if (meters !== null) {
      const attributes = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'mixerlead' };
      if (call.model !== undefined) attributes['gen_ai.request.model'] = call.model;
      if (errorType !== null) attributes['error.type'] = errorType;
      meters.duration.record(r.duration, attributes);
      if (r.timeToFirstChunk !== null) meters.firstChunk.record(r.timeToFirstChunk, attributes);
      if (r.timePerOutputChunk !== null) meters.perChunk.record(r.timePerOutputChunk, attributes);
    }
  }
}

module.exports = { Telemetry };
