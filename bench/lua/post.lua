-- wrk script: POST one body to one path, every request with its own Idempotency-Key, and print a JSON summary.
-- Arguments (after --): path, body file, key prefix. In the body, @KEY@ becomes the key and @N@ a number unique
-- in the run. wrk counts answers >= 400 as status errors. The summary line starts with "WRK_JSON " for bench/wrk.py.
local path, body, prefix
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  path = args[1]
  local file = assert(io.open(args[2], "rb"))
  body = file:read("*a")
  file:close()
  prefix = args[3]
  wrk.headers["Content-Type"] = "application/json"
end

function request()
  counter = counter + 1
  local key = prefix .. "-" .. tid .. "-" .. counter
  wrk.headers["Idempotency-Key"] = key
  local payload = body:gsub("@KEY@", key):gsub("@N@", tostring(counter * 1000 + tid))
  return wrk.format("POST", path, nil, payload)
end

function done(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "connect_errors": %d, "read_errors": %d, '
      .. '"write_errors": %d, "status_errors": %d, "timeouts": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, '
      .. '"max_us": %d}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
