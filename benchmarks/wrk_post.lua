-- wrk script for bench_service.py: POST one JSON body per line of a file, each once.
-- Usage: wrk -t1 -c8 -d10s -s wrk_post.lua URL -- BODIES_FILE THREADS API_KEY
-- Thread k sends lines k, k+THREADS, ...; when a thread runs out it starts again and
-- reports it ("wrapped"), since a repeated transaction_id is a cheap idempotent replay.
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  bodies, sent, wrapped = {}, 0, 0
  local n, i = tonumber(args[2]), 0
  for line in io.lines(args[1]) do
    if i % n == id then bodies[#bodies + 1] = line end
    i = i + 1
  end
  wrk.headers["Authorization"] = "Bearer " .. args[3]
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  sent = sent + 1
  if sent > #bodies then
    sent, wrapped = 1, 1
  end
  return wrk.format(nil, nil, nil, bodies[sent])
end

function done(summary, latency, requests)
  local wrapped_any = 0
  for _, thread in ipairs(threads) do
    if thread:get("wrapped") == 1 then wrapped_any = 1 end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "socket_errors": %d, "non2xx": %d, '
      .. '"p50_us": %d, "p99_us": %d, "wrapped": %d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), wrapped_any))
end
