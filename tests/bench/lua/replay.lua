-- Replays requests listed in a file, one per line: METHOD <tab> PATH <tab> TOKEN <tab> BODY
-- (TOKEN and BODY may be empty; a BODY is sent as JSON).
--
--   wrk -t T -c C -d D -s replay.lua URL -- FILE MODE T NONCE [SKIP]
--
-- MODE random   each request is a random line
-- MODE once     each line is sent at most once (thread k of T takes lines k, k+T, ... after
--               the first SKIP lines, which an earlier run used); a thread that runs out repeats
--               its last line, and the errors it earns are counted
-- MODE create   a random line with a new Idempotency-Key per request, unique across runs by NONCE
--
-- done() prints one line "BENCH_JSON {...}" with the counts and latency percentiles (in us).

local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
end

local lines, prepared = {}, {}
local mode, nthreads, nonce, pos, sent = "random", 1, "0", 0, 0

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

local function headers_for(token, body, key)
  local h = {}
  if token ~= nil and token ~= "" then h["Authorization"] = "Bearer " .. token end
  if body ~= nil and body ~= "" then h["Content-Type"] = "application/json" end
  if key then h["Idempotency-Key"] = key end
  return h
end

function init(args)
  local file = args[1]
  mode = args[2] or "random"
  nthreads = tonumber(args[3] or "1")
  nonce = args[4] or "0"
  local skip = tonumber(args[5] or "0")
  math.randomseed(os.time() * 1000 + tid * 7919)
  for line in io.lines(file) do
    if line ~= "" then table.insert(lines, split(line)) end
  end
  if mode == "once" then
    local mine = {}
    for i = skip + tid, #lines, nthreads do table.insert(mine, lines[i]) end
    lines = mine
  end
  if mode ~= "create" then
    for i, f in ipairs(lines) do
      prepared[i] = wrk.format(f[1], f[2], headers_for(f[3], f[4]), (f[4] ~= "" and f[4]) or nil)
    end
  end
end

function request()
  if mode == "once" then
    if pos < #prepared then pos = pos + 1 end
    return prepared[pos]
  elseif mode == "create" then
    sent = sent + 1
    local f = lines[math.random(#lines)]
    local key = "bk-" .. nonce .. "-" .. tid .. "-" .. sent
    return wrk.format(f[1], f[2], headers_for(f[3], f[4], key), f[4])
  end
  return prepared[math.random(#prepared)]
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "bytes": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"timeout": %d, "status": %d, "mean_us": %.1f, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d}\n',
    summary.requests, summary.duration, summary.bytes, e.connect, e.read, e.write, e.timeout, e.status,
    latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
