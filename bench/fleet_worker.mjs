// One Node process of the fleet: WORKERS async loops streaming chats for SECONDS.
// node fleet_worker.mjs BASE_URL KEY SECONDS WORKERS MODE [REDIS_URL RATE_PER_MINUTE BURST]
// Prints one JSON line: {ok, failed, errors, latencies}.
import { Client, MixerLeadError } from 'mixerlead';

const [baseUrl, apiKey, seconds, workers, mode, redisUrl, perMinute, burst] = process.argv.slice(2);
const options = { apiKey, baseUrl };
if (mode === 'off') options.rateLimit = 0;
if (mode === 'redis') Object.assign(options, { rateLimitRedis: redisUrl, rateLimit: Number(perMinute), rateLimitBurst: Number(burst) });
const client = new Client(options);
const end = performance.now() + Number(seconds) * 1000;
let ok = 0;
let failed = 0;
const errors = {};
const latencies = [];

async function work() {
  while (performance.now() < end) {
    const started = performance.now();
    try {
      await (await client.chat.stream({ message: 'fleet' })).read();
      ok += 1;
      latencies.push((performance.now() - started) / 1000);
    } catch (e) {
      if (!(e instanceof MixerLeadError)) throw e;
      failed += 1;
      errors[e.name] = (errors[e.name] ?? 0) + 1;
    }
  }
}

await Promise.all(Array.from({ length: Number(workers) }, work));
console.log(JSON.stringify({ ok, failed, errors, latencies }));
