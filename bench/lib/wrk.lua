-- wrk script for bench/run: POSTs the JSON body in the file named by the first script argument
-- (`wrk ... URL -- BODY_FILE`), counts responses whose body carries GraphQL "errors", and ends
-- with one machine-readable line:
--   BENCH requests=… rps=… p50_ms=… p95_ms=… … non2xx=… gql_errors=…
-- Latencies come from wrk's own histogram (microseconds), printed in milliseconds.

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  if not path then
    error("bench/lib/wrk.lua: pass the request body file after `--`")
  end
  local file = assert(io.open(path, "rb"))
  wrk.method = "POST"
  wrk.body = file:read("*a")
  file:close()
  wrk.headers["Content-Type"] = "application/json"
  wrk.headers["Accept"] = "application/json"
  gql_errors = 0
end

local find = string.find

function response(status, headers, body)
  -- A GraphQL failure is still HTTP 200; `"errors":` never occurs in the benchmark's data.
  if body and find(body, '"errors":', 1, true) then
    gql_errors = gql_errors + 1
  end
end

function done(summary, latency, requests)
  local gql = 0
  for _, thread in ipairs(threads) do
    gql = gql + (thread:get("gql_errors") or 0)
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "BENCH requests=%d duration_s=%.3f rps=%.2f p50_ms=%.3f p95_ms=%.3f p99_ms=%.3f max_ms=%.3f "
      .. "bytes=%d non2xx=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d gql_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000,
    latency.max / 1000, summary.bytes, e.status, e.connect, e.read, e.write, e.timeout, gql))
end
