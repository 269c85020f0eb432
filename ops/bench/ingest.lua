-- wrk script for smshook ingest. Env: MODE = single | batch | dup; BATCH = messages per batch; RUN = unique run id;
-- NUMBERS = unique (default: each message from its own number, as subscribers answering a campaign) | few (every
-- message from one of 100 numbers: nearly all over their reply limit, the loop guard's path).
local mode = os.getenv("MODE") or "single"
local few = os.getenv("NUMBERS") == "few"
local batch = tonumber(os.getenv("BATCH") or "10")
local run = os.getenv("RUN") or tostring(os.time())
local headers = { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer bench" }
local path = os.getenv("TARGET") or "/api/webhook/sms-received"  -- /bench/discard: the same body, read and dropped
local threads = 0
local counter = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

-- numbers of one run, thread and message never meet another's (runs differ by a hash of RUN)
local runcode = 0
for i = 1, #run do runcode = (runcode * 31 + string.byte(run, i)) % 1000 end

local function message(guid, n)
  local number = few and ("+1555000" .. (n % 100)) or string.format("+1%03d%d%07d", runcode, tid % 10, n % 10000000)
  return '{"date":"2025-01-20","hour":"10:15:00","time_received":"2025-01-20 10:14:50","message":"Yes",'
    .. '"number":"' .. number .. '","guid":"' .. guid .. '"}'
end

function request()
  counter = counter + 1
  local base = run .. "-" .. tid .. "-"
  if mode == "batch" then
    local items = {}
    for i = 1, batch do
      local n = counter * batch + i
      items[i] = message(base .. n, n)
    end
    return wrk.format("POST", path, headers, '{"messages":[' .. table.concat(items, ",") .. ']}')
  end
  local n = counter
  if mode == "dup" and counter > 10 and math.random() < 0.3 then
    n = math.random(1, counter - 1)   -- a retry of an earlier message: a duplicate
  end
  return wrk.format("POST", path, headers, message(base .. n, n))
end
