// ApiMetrics: request counters and latency histograms of the REST API.
//
// Owns: metric handles in the injected registry, plus a cache of them so the hot path does one
// hash lookup. Thread-safe; called by every HTTP thread after each response.
//   transit_hub_api_requests_total{route,method,code}
//   transit_hub_api_request_duration_seconds{route,method}   histogram
// `route` is the route template ("/v1/spokes/{name}") or "unmatched", never a raw path, so label
// values stay bounded.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace transit::http {

class ApiMetrics {
 public:
  explicit ApiMetrics(prometheus::Registry& registry);

  void observe(std::string_view route, std::string_view method, unsigned status, double seconds);

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  std::mutex mutex_;
  std::unordered_map<std::string, prometheus::Counter*> counters_;
  std::unordered_map<std::string, prometheus::Histogram*> histograms_;
};

}  // namespace transit::http
