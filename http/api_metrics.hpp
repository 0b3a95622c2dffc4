// ApiMetrics: request counters and latency histograms of the REST API.
//
// Owns: metric handles in the injected registry, plus a cache of them so the hot path does one
// hash lookup. Thread-safe; called by every HTTP thread after each response.
//   transit_hub_api_requests_total{route,method,code}
//   transit_hub_api_request_duration_seconds{route,method}   histogram
//   transit_hub_api_connections                              gauge, open connections
//   transit_hub_api_connections_refused_total{reason}
// `route` is the route template ("/v1/spokes/{name}"), "unmatched", or "unread" (refused before
// the request could be read: malformed, too large, over the connection limit), never a raw
// path, so label values stay bounded.
#pragma once

#include <prometheus/counter.h>
#include <prometheus/gauge.h>
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
  // A request answered before it was read (route "unread"): counted, not timed.
  void count(std::string_view route, std::string_view method, unsigned status);

  // Connections: opened and closed (the open-connections gauge), and refused, by reason:
  // "limit" (max_connections), "resources" (no descriptors or memory to accept), "accept_error".
  void connectionOpened() { connections_.Increment(); }
  void connectionClosed() { connections_.Decrement(); }
  void connectionRefused(std::string_view reason);

 private:
  prometheus::Counter* counter(std::string_view route, std::string_view method,
                               const std::string& code);

  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Gauge& connections_;
  std::mutex mutex_;
  std::unordered_map<std::string, prometheus::Counter*> counters_;
  std::unordered_map<std::string, prometheus::Histogram*> histograms_;
};

}  // namespace transit::http
