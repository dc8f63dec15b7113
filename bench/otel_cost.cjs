// What OpenTelemetry adds to a call in Node when @opentelemetry/api is installed but no SDK is
// configured (the no-op providers): the per-call work of mixerlead's OpenTelemetry layer
// (otel.js's begin, what index.js adds to a call), then a whole models list against the emulator
// with the API resolvable and hidden. Run from a folder where mixerlead and @opentelemetry/api
// are installed:   node otel_cost.cjs BASE_URL
const path = require('node:path');
const { execFileSync } = require('node:child_process');

// --quick (make bench-smoke): tiny counts, so the script cannot rot; its figures mean nothing.
const quick = process.argv.includes('--quick');
const args = process.argv.filter((a) => a !== '--quick');
const n = quick ? 2000 : 200_000;
const calls = quick ? 20 : 2000;
const otelPath = path.join(path.dirname(require.resolve('mixerlead')), 'otel.js');
const { Telemetry } = require(otelPath);
const telemetry = new Telemetry(require('@opentelemetry/api'));
let best = Infinity;
for (let round = 0; round < 5; round++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < n; i++) telemetry.begin('GET /ai/models', null, undefined);
  best = Math.min(best, Number(process.hrtime.bigint() - start) / n / 1000);
}
console.log(`the OpenTelemetry layer per call with the no-op providers: +${best.toFixed(2)} µs`);

const CALLS = `
  if (process.argv[1] === 'hidden') {
    const Module = require('node:module');
    const resolve = Module._resolveFilename;
    Module._resolveFilename = function (request, ...rest) {
      if (request.startsWith('@opentelemetry/')) { const e = new Error('hidden'); e.code = 'MODULE_NOT_FOUND'; throw e; }
      return resolve.call(this, request, ...rest);
    };
  }
  if (process.argv[1] === 'sdk') {
    const api = require('@opentelemetry/api');
    const { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } = require('@opentelemetry/sdk-trace-base');
    globalThis.exporter = new InMemorySpanExporter();
    api.trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(globalThis.exporter)] }));
  }
  const { Client } = require('mixerlead');
  (async () => {
    const client = new Client({ apiKey: 'ml_bench_key', baseUrl: process.argv[2] });
    const calls = Number(process.argv[3]);
    for (let i = 0; i < calls / 10; i++) await client.models.list();
    let best = Infinity;
    for (let round = 0; round < 5; round++) {
      const start = process.hrtime.bigint();
      for (let i = 0; i < calls; i++) await client.models.list();
      best = Math.min(best, Number(process.hrtime.bigint() - start) / calls / 1000);
      if (globalThis.exporter) globalThis.exporter.reset();
    }
    console.log(best);
  })();`;
if (args[2]) {
  const run = (mode) => Number(execFileSync(process.execPath, ['-e', CALLS, mode, args[2], String(calls)], { encoding: 'utf8' }));
  const hidden = run('hidden');
  const noop = run('noop');
  console.log(`models.list against the emulator: ${hidden.toFixed(1)} µs without, ${noop.toFixed(1)} µs with the no-op providers: +${(noop - hidden).toFixed(1)} µs`);
  const sdk = run('sdk');
  console.log(`models.list with the real SDK (spans to an in-memory exporter): ${sdk.toFixed(1)} µs: +${(sdk - hidden).toFixed(1)} µs a call`);
}
