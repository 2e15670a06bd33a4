-- wrk script: replays prepared requests (one per line of a file) with their cookies.
--
--   wrk -t1 -c4 -d10s -s bench/requests.lua http://127.0.0.1:PORT -- FILE MODE EXPECTED
--
-- FILE: lines "METHOD<TAB>PATH<TAB>COOKIE<TAB>BODY" (BODY url-encoded, may be empty).
-- MODE: "cycle" repeats the lines; "once" sends each line once (lines are shared out
-- between threads) and stops the thread when all its answers are in.
-- EXPECTED: the status every answer must have (e.g. 200 or 302); others are counted.
-- done() prints one line "RESULT {json}" with latency percentiles in microseconds.

local threads = {}
local thread_count = 0

-- wrk's own duration is the -d it was given, even when every thread stopped early
-- ("once" mode): the threads time their first request and last answer themselves.
local ffi = require("ffi")
ffi.cdef[[
  typedef struct { long tv_sec; long tv_usec; } bench_timeval;
  int gettimeofday(bench_timeval *tv, void *tz);
]]
local function now_us()
  local tv = ffi.new("bench_timeval")
  ffi.C.gettimeofday(tv, nil)
  return tonumber(tv.tv_sec) * 1000000 + tonumber(tv.tv_usec)
end

function setup(thread)
  thread:set("thread_id", thread_count)
  table.insert(threads, thread)
  thread_count = thread_count + 1
end

local items = {}
local mode = "cycle"
local expected = 200
local index = 0
local answered = 0
unexpected = 0
extra = 0
first_unexpected = ""
first_us = 0
last_us = 0
counted = 0

local function split(line)
  local fields = {}
  for field in (line .. "\t"):gmatch("([^\t]*)\t") do
    table.insert(fields, field)
  end
  return fields
end

function init(args)
  local file = args[1]
  mode = args[2] or "cycle"
  expected = tonumber(args[3] or "200")
  local stride = tonumber(args[4] or "1")
  local n = 0
  for line in io.lines(file) do
    if mode == "cycle" or n % stride == thread_id then
      local f = split(line)
      local headers = {}
      headers["User-Agent"] = "lms-bench"
      if f[3] ~= "" then headers["Cookie"] = f[3] end
      local body = nil
      if f[4] ~= nil and f[4] ~= "" then
        body = f[4]
        headers["Content-Type"] = "application/x-www-form-urlencoded"
      end
      table.insert(items, wrk.format(f[1], f[2], headers, body))
    end
    n = n + 1
  end
end

function request()
  if first_us == 0 then first_us = now_us() end
  index = index + 1
  if index > #items then
    if mode == "once" then
      extra = extra + 1
      return items[#items]
    end
    index = 1
  end
  return items[index]
end

function response(status, headers, body)
  answered = answered + 1
  if answered <= #items or mode ~= "once" then
    counted = answered
    last_us = now_us()
  end
  if status ~= expected then
    unexpected = unexpected + 1
    if first_unexpected == "" then first_unexpected = tostring(status) end
  end
  if mode == "once" and answered >= #items then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local bad, more, first = 0, 0, ""
  local started, ended, answers = 0, 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + thread:get("unexpected")
    more = more + thread:get("extra")
    if first == "" then first = thread:get("first_unexpected") end
    local f, l = thread:get("first_us"), thread:get("last_us")
    if f > 0 and (started == 0 or f < started) then started = f end
    if l > ended then ended = l end
    answers = answers + thread:get("counted")
  end
  local errors = summary.errors
  io.write(string.format(
    'RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
    '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, "mean_us": %.1f, ' ..
    '"unexpected_status": %d, "first_unexpected": "%s", "extra": %d, ' ..
    '"errors_connect": %d, "errors_read": %d, "errors_write": %d, "errors_timeout": %d, ' ..
    '"answers": %d, "answers_us": %d}\n',
    summary.requests, summary.duration, summary.bytes,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max,
    latency.mean, bad, first, more,
    errors.connect, errors.read, errors.write, errors.timeout, answers, ended - started))
end
