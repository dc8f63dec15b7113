-- wrk script of the `service` case of `make bench`: counts the responses that are not a 200 with a
-- body of exactly BENCH_EXPECTED_BYTES bytes (the whole reply), and prints one JSON line at the end.
local expected = tonumber(os.getenv("BENCH_EXPECTED_BYTES"))
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  good = 0
  bad = 0
end

function response(status, headers, body)
  if status == 200 and #body == expected then
    good = good + 1
  else
    bad = bad + 1
  end
end

function done(summary, latency, requests)
  local good, bad = 0, 0
  for _, thread in ipairs(threads) do
    good = good + thread:get("good")
    bad = bad + thread:get("bad")
  end
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "good": %d, "bad": %d, "seconds": %.6f, "p50_ms": %.3f, "p99_ms": %.3f, ' ..
    '"connect_errors": %d, "read_errors": %d, "write_errors": %d, "status_errors": %d, "timeouts": %d}\n',
    summary.requests, good, bad, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(99) / 1e3, e.connect, e.read, e.write, e.status, e.timeout))
end
