// ApiFixture: a complete API (registry on the in-memory store, health, metrics, auth) without
// sockets, and helpers to call it as a client would. Its "reconciler" has not passed yet;
// publishStatus() publishes a hand-built ReconcileStatus.
#pragma once

#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/json.hpp>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <utility>

#include "http/api.hpp"
#include "hub/metrics/hub_metrics.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"

namespace transit::testing {

inline constexpr std::string_view kAdminToken = "admin-token-for-tests";
inline constexpr std::string_view kReadToken = "read-token-for-tests";
inline constexpr std::uint32_t kHubAsn = 65000;

inline hub::ApiToken makeToken(std::string name, hub::Role role, std::string_view secret) {
  hub::ApiToken token;
  token.name = std::move(name);
  token.role = role;
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), token.sha256.data());
  return token;
}

inline std::string spokeJson(std::string_view name, std::string_view cidr, std::string_view outside,
                             std::string_view extra = "") {
  return fmt::format(
      R"({{"name": "{}", "kind": "vpc", "cidrs": ["{}"], "routing": "bgp", "asn": 64512,)"
      R"( "tunnels": [{{"outside_ip": "{}"}}]{}}})",
      name, cidr, outside, extra);
}

class ApiFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    hub::Registry::Options options;
    options.validation.hub_asn = kHubAsn;
    options.validation.hub_name = "hub-a";
    if (pair_) {
      // hub-b, the pair's other hub, at 203.0.113.11 (10.0.0.11 in the VPC).
      options.validation.peer_hub = "hub-b";
      options.validation.hub_addresses = {
          *Ipv4Address::parse("203.0.113.10"), *Ipv4Address::parse("10.0.0.10"),
          *Ipv4Address::parse("203.0.113.11"), *Ipv4Address::parse("10.0.0.11")};
    }
    auto created = hub::Registry::create(store_, clock_, &hub_metrics_, std::move(options));
    ASSERT_TRUE(created.has_value());
    registry_ = std::move(*created);
    health_.add("store", [this] {
      const auto s = registry_->storeHealth();
      return hub::Health::Status{s.ok, s.problem};
    });
    health_.add("drivers", [this] { return hub::Health::Status{drivers_ok_, "pluto is down"}; });
    makeApi();
  }

  // From now on the API reports `status` as the reconciler's last published pass, indexed as
  // the reconciler indexes it (owners by route tag, tunnels by session_prefix_, conflicts,
  // spokes).
  void publishStatus(hub::ReconcileStatus status) {
    hub::PlanOptions plan;
    plan.session_prefix = session_prefix_;
    plan.hub_name = "hub-a";
    plan.local_as = kHubAsn;
    const auto desired = registry_->snapshot();
    hub::indexStatus(status, *desired, hub::routeOwners(*desired, plan));
    status_ = std::make_shared<const hub::ReconcileStatus>(std::move(status));
  }

  http::HubInfo hubInfo() const {
    http::HubInfo info{
        "hub-a", 65000,    *Ipv4Address::parse("203.0.113.10"), *Ipv4Address::parse("10.0.0.10"),
        "test",  "dry-run"};
    if (pair_) info.peer = http::HubInfo::Peer{"hub-b", *Ipv4Address::parse("203.0.113.11")};
    return info;
  }

  void makeApi() {
    api_ = std::make_unique<http::Api>(
        http::HandlerContext{
            .registry = *registry_,
            .health = health_,
            .metrics = prometheus_,
            .clock = clock_,
            .hub = hubInfo(),
            .reconcile_status = [this] { return status_; },
        },
        http::TokenAuth({makeToken("ops", hub::Role::kAdmin, kAdminToken),
                         makeToken("viewer", hub::Role::kRead, kReadToken)}),
        api_metrics_);
  }

  // Runs one request through the API, as the server would.
  http::Response call(boost::beast::http::verb method, std::string target, std::string body = "",
                      std::string_view token = kAdminToken, bool operational_open = true,
                      std::string if_match = "", std::string content_type = "application/json") {
    http::Request request;
    request.method = method;
    const std::string request_target = target;
    request.target = std::move(target);
    if (!token.empty()) request.authorization = "Bearer " + std::string(token);
    if (!body.empty()) request.content_type = std::move(content_type);
    request.body = std::move(body);
    request.if_match = std::move(if_match);
    request.request_id = std::exchange(next_request_id_, std::string());
    boost::asio::io_context io;
    auto future = boost::asio::co_spawn(io, api_->handle(std::move(request), operational_open),
                                        boost::asio::use_future);
    io.run();
    http::Response response = future.get();
    recordForContract(method, request_target, response);
    return response;
  }

  // With TRANSIT_API_RECORD=DIR, every answer call() gets is appended to DIR/PID.jsonl, which
  // the contract test (tests/http/contract_test.py) validates against the OpenAPI document.
  static void recordForContract(boost::beast::http::verb method, const std::string& target,
                                const http::Response& response) {
    const char* dir = std::getenv("TRANSIT_API_RECORD");
    if (dir == nullptr || *dir == '\0') return;
    boost::json::object headers;
    for (const auto& [name, value] : response.headers) headers[name] = value;
    const boost::json::object line{
        {"test", ::testing::UnitTest::GetInstance()->current_test_info()
                     ? std::string(::testing::UnitTest::GetInstance()->current_test_info()->name())
                     : std::string()},
        {"method", std::string(boost::beast::http::to_string(method))},
        {"target", target},
        {"status", response.status},
        {"content_type", response.content_type},
        {"headers", std::move(headers)},
        {"body", response.body},
    };
    std::ofstream out(std::string(dir) + "/" + std::to_string(::getpid()) + ".jsonl",
                      std::ios::app);
    out << boost::json::serialize(line) << "\n";
  }

  static boost::json::value json(const http::Response& response) {
    return boost::json::parse(response.body);
  }
  static std::string header(const http::Response& response, std::string_view name) {
    for (const auto& [n, v] : response.headers) {
      if (n == name) return v;
    }
    return {};
  }

  fakes::MemoryStore store_;
  fakes::ManualClock clock_;
  prometheus::Registry prometheus_;
  hub::HubMetrics hub_metrics_{prometheus_, "test"};
  http::ApiMetrics api_metrics_{prometheus_};
  hub::Health health_;
  bool drivers_ok_ = true;
  std::unique_ptr<hub::Registry> registry_;
  // hub-a in a pair with hub-b (set before SetUp, by a fixture's constructor); else a single hub.
  bool pair_ = false;
  std::string session_prefix_ = "th_";  // BIRD's protocol prefix; set before publishStatus()
  // The X-Request-Id the next call() sends (then cleared); empty: none.
  std::string next_request_id_;
  // What the "reconciler" last published; nullptr: no pass yet.
  std::shared_ptr<const hub::ReconcileStatus> status_;
  std::unique_ptr<http::Api> api_;
};

}  // namespace transit::testing
