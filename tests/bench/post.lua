-- wrk script: every request POSTs a new spoke, unique across wrk's threads, authenticated with
-- the bearer token in $TOKEN.
--
-- Request k (0, 1, ...) of thread t (t < kMaxThreads) gets index g = k * kMaxThreads + t and:
--   name        "b<t>-<k>"
--   cidrs       ["10.<1 + g div 256>.<g mod 256>.0/24"] (10.0.0.0/16, the hub's own network in
--               the bench config, is left alone)
--   outside_ip  100.64.0.0 + 1 + g (inside 100.64.0.0/10, far from the hub's addresses)
-- kind vpc, routing bgp, asn 64512; no inside_cidr or psk, so the hub allocates and generates
-- them. Room: 65,280 /24s, i.e. 8,160 spokes per thread with kMaxThreads = 8; the hub's inside
-- /30 pool (about 16,000 tunnels) runs out first, so keep a run under about 12,000 requests.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local kMaxThreads = 8
local kCidrSlots = 255 * 256

local next_thread_id = 0

function setup(thread)
  if next_thread_id >= kMaxThreads then
    error(string.format("post.lua supports at most %d wrk threads", kMaxThreads))
  end
  thread:set("thread_id", next_thread_id)
  next_thread_id = next_thread_id + 1
end

local headers = {["Content-Type"] = "application/json"}
local token = os.getenv("TOKEN")
if token and token ~= "" then
  headers["Authorization"] = "Bearer " .. token
end

local counter = 0

local function ipv4(n)
  return string.format("%d.%d.%d.%d", math.floor(n / 16777216) % 256,
                       math.floor(n / 65536) % 256, math.floor(n / 256) % 256, n % 256)
end

local kOutsideBase = 100 * 16777216 + 64 * 65536 + 1  -- 100.64.0.1

function request()
  local t = thread_id or 0
  local k = counter
  counter = counter + 1
  local g = k * kMaxThreads + t
  if g >= kCidrSlots then
    g = g % kCidrSlots  -- out of room: repeats, which the hub answers with 409 (counted)
  end
  local body = string.format(
    '{"name":"b%d-%d","kind":"vpc","cidrs":["10.%d.%d.0/24"],"routing":"bgp","asn":64512,' ..
    '"tunnels":[{"outside_ip":"%s"}]}',
    t, k, 1 + math.floor(g / 256), g % 256, ipv4(kOutsideBase + g))
  return wrk.format("POST", "/v1/spokes", headers, body)
end

function done(summary, latency, requests)
  report.print(summary, latency)
end
