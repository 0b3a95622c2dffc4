-- Shared by the wrk scripts of tests/bench: prints one machine-readable result line from wrk's
-- done() callback. tests/bench/run parses the line; wrk's own report is printed as well.
--
-- Fields: requests, duration_s, rps, p50_ms/p90_ms/p99_ms/max_ms (latency percentiles),
-- http_errors (responses with status >= 400, wrk's summary.errors.status), socket_errors
-- (connect + read + write errors), timeouts.

local report = {}

local function ms(microseconds)
  return string.format("%.3f", microseconds / 1000)
end

function report.print(summary, latency)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  print(string.format(
    "wrk-result requests=%d duration_s=%.3f rps=%.1f p50_ms=%s p90_ms=%s p99_ms=%s max_ms=%s " ..
    "http_errors=%d socket_errors=%d timeouts=%d",
    summary.requests, seconds, summary.requests / seconds,
    ms(latency:percentile(50)), ms(latency:percentile(90)), ms(latency:percentile(99)),
    ms(latency.max), errors.status, errors.connect + errors.read + errors.write,
    errors.timeout))
end

return report
