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
                     .Register(registry)) {}

void ApiMetrics::observe(std::string_view route, std::string_view method, unsigned status,
                         double seconds) {
  const std::string code = std::to_string(status);
  const std::string counter_key = fmt::format("{} {} {}", route, method, code);
  const std::string histogram_key = fmt::format("{} {}", route, method);
  prometheus::Counter* counter = nullptr;
  prometheus::Histogram* histogram = nullptr;
  {
    std::lock_guard lock(mutex_);
    auto& c = counters_[counter_key];
    if (c == nullptr) {
      c = &requests_.Add(
          {{"route", std::string(route)}, {"method", std::string(method)}, {"code", code}});
    }
    counter = c;
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
  counter->Increment();
  histogram->Observe(seconds);
}

}  // namespace transit::http
