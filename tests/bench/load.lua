-- wrk script for tests/bench/load: a mix of reads and writes against the live hub, every
-- request authenticated with the bearer token in $TOKEN. Request k of a thread is, by k mod 10:
--   0, 1  PUT /v1/spokes/l-N (N = 1 + k/10 mod SPOKES), its CIDRs switched between one and two
--         prefixes (no If-Match: the last write wins; every PUT is a real change the hub applies
--         to BIRD and nft)
--   2, 3  GET /v1/spokes        4  GET /v1/spokes/l-N     5  GET /v1/tunnels
--   6     GET /v1/routes        7  GET /metrics           8  GET /v1/conflicts   9  GET /v1/hub
-- Every status is counted; done() prints wrk-result (report.lua) and a status line.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local spokes = tonumber(os.getenv("SPOKES") or "16")
local token = os.getenv("TOKEN") or ""
local threads = {}

function setup(thread)
  thread:set("thread_id", #threads)
  table.insert(threads, thread)
end

local counter = 0
statuses = {}

local function body(n, two)
  local cidrs = string.format('"10.%d.0.0/16"', 200 + n)
  if two then
    cidrs = cidrs .. string.format(', "10.%d.0.0/16"', 230 + n)
  end
  return string.format(
    '{"name":"l-%d","kind":"vpc","cidrs":[%s],"routing":"bgp","asn":%d,"segment":"prod",' ..
    '"tunnels":[{"outside_ip":"198.51.100.%d"},{"outside_ip":"198.51.100.%d"}]}',
    n, cidrs, 64700 + n, 160 + 2 * n, 161 + 2 * n)
end

function request()
  local k = counter
  counter = counter + 1
  local n = 1 + (math.floor(k / 10) + thread_id) % spokes
  local kind = k % 10
  local headers = {["Authorization"] = "Bearer " .. token}
  if kind <= 1 then
    headers["Content-Type"] = "application/json"
    local two = (math.floor(k / 10 / spokes) + kind) % 2 == 1
    return wrk.format("PUT", "/v1/spokes/l-" .. n, headers, body(n, two))
  end
  local paths = {[2] = "/v1/spokes", [3] = "/v1/spokes", [4] = "/v1/spokes/l-" .. n,
                 [5] = "/v1/tunnels", [6] = "/v1/routes", [7] = "/metrics",
                 [8] = "/v1/conflicts", [9] = "/v1/hub"}
  return wrk.format("GET", paths[kind], headers)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  report.print(summary, latency)
  local total = {}
  for _, thread in ipairs(threads) do
    for status, count in pairs(thread:get("statuses")) do
      total[status] = (total[status] or 0) + count
    end
  end
  local keys = {}
  for status in pairs(total) do table.insert(keys, status) end
  table.sort(keys)
  local parts = {}
  for _, status in ipairs(keys) do
    table.insert(parts, string.format("%d=%d", status, total[status]))
  end
  print("wrk-statuses " .. table.concat(parts, " "))
end
