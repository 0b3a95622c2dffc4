-- wrk script: GET one spoke, authenticated with the bearer token in $TOKEN.
-- Used unchanged against transit-hubd and against bench_hello_server, so both servers parse
-- the same request, Authorization header included. $GET_PATH overrides the path.

local here = debug.getinfo(1, "S").source:match("^@(.*/)") or "./"
local report = dofile(here .. "report.lua")

local token = os.getenv("TOKEN")
wrk.method = "GET"
wrk.path = os.getenv("GET_PATH") or "/v1/spokes/bench-0001"
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end

function done(summary, latency, requests)
  report.print(summary, latency)
end
