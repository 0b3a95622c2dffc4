#include "http/api_metrics.hpp"

#include <fmt/format.h>

namespace transit::http {

ApiMetrics::ApiMetrics(prometheus::Registry& registry)
    : requests_(prometheus::BuildCounter()
                    .Name("transit_hub_api_requests_total")
                    .Help("REST API requests, by route template, method and status code")
                    .Register(registry)),
      durations_(prometheus::BuildHistogram()
                     .Name("transit_hub_api_request_duration_seconds")
                     .Help("REST API request handling time, by route template and method")
                     .Register(registry)),
      refused_(prometheus::BuildCounter()
                   .Name("transit_hub_api_connections_refused_total")
                   .Help("REST API connections refused or not accepted, by reason (limit: "
                         "api.max_connections; resources: no descriptors or memory)")
                   .Register(registry)),
      connections_(prometheus::BuildGauge()
                       .Name("transit_hub_api_connections")
                       .Help("REST API connections open now")
                       .Register(registry)
                       .Add({})) {
  for (const char* reason : {"limit", "resources", "accept_error"}) {
    refused_.Add({{"reason", reason}});
  }
}

prometheus::Counter* ApiMetrics::counter(std::string_view route, std::string_view method,
                                         const std::string& code) {
  auto& c = counters_[fmt::format("{} {} {}", route, method, code)];
  if (c == nullptr) {
    c = &requests_.Add(
        {{"route", std::string(route)}, {"method", std::string(method)}, {"code", code}});
  }
  return c;
}

void ApiMetrics::count(std::string_view route, std::string_view method, unsigned status) {
  const std::string code = std::to_string(status);
  prometheus::Counter* c = nullptr;
  {
    std::lock_guard lock(mutex_);
    c = counter(route, method, code);
  }
  c->Increment();
}

void ApiMetrics::connectionRefused(std::string_view reason) {
  refused_.Add({{"reason", std::string(reason)}}).Increment();
}

void ApiMetrics::observe(std::string_view route, std::string_view method, unsigned status,
                         double seconds) {
  const std::string code = std::to_string(status);
  const std::string histogram_key = fmt::format("{} {}", route, method);
  prometheus::Counter* requests = nullptr;
  prometheus::Histogram* histogram = nullptr;
  {
    std::lock_guard lock(mutex_);
    requests = counter(route, method, code);
    auto& h = histograms_[histogram_key];
    if (h == nullptr) {
      // 0.5 ms to 10 s: loopback GETs sit at the bottom, durable writes in the middle.
      h = &durations_.Add(
          {{"route", std::string(route)}, {"method", std::string(method)}},
          prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                  0.1, 0.25, 0.5, 1, 2.5, 5, 10});
    }
    histogram = h;
  }
  requests->Increment();
  histogram->Observe(seconds);
}

}  // namespace transit::http
