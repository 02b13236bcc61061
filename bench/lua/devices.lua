-- wrk script: bench/lua/post.lua with the sales spread over several devices. In the body, @DEVICE:main,backup@
-- becomes the named devices in turn, one per request (each wrk thread counts its own requests), so that with two
-- devices each gets every other sale. Same arguments as post.lua (path, body file, key prefix), the same keys and
-- @N@, and post.lua's own setup and summary (done), which bench/wrk.py reads.
local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
dofile(here .. "post.lua")

local post_init = init
local path, body, prefix
local names = {}
local counter = 0

function init(args)
  post_init(args)
  path = args[1]
  local file = assert(io.open(args[2], "rb"))
  body = file:read("*a")
  file:close()
  prefix = args[3]
  local list = assert(body:match("@DEVICE:([%w_,%-]+)@"), "the body names no devices: put @DEVICE:name,name@ in it")
  for name in list:gmatch("[^,]+") do
    table.insert(names, name)
  end
  body = body:gsub("@DEVICE:[%w_,%-]+@", "@DEVICE@")
end

function request()
  counter = counter + 1
  local key = prefix .. "-" .. tid .. "-" .. counter
  wrk.headers["Idempotency-Key"] = key
  local device = names[(counter - 1) % #names + 1]
  local payload = body:gsub("@KEY@", key):gsub("@N@", tostring(counter * 1000 + tid)):gsub("@DEVICE@", device)
  return wrk.format("POST", path, nil, payload)
end
