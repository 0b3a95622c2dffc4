// HTTP request handling end to end, as a connection's bytes reach it: Beast's request parser
// with the server's limits, then the API's two steps (the header: target, token, route, role;
// then the body) through the router, the query and path decoders, If-Match and every handler,
// over a registry on an in-memory store that already holds one spoke (vpc-a).
// Invariants: every answer has a status in 200-599 and an error has the API's JSON error shape;
// a refused request changes nothing in the store.
#include <openssl/sha.h>
#include <prometheus/registry.h>
#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/beast/core/buffers_prefix.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json.hpp>

#include "http/api.hpp"
#include "http/server.hpp"
#include "hub/metrics/hub_metrics.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

namespace bhttp = boost::beast::http;
using namespace transit;

hub::ApiToken token(std::string name, hub::Role role, std::string_view secret) {
  hub::ApiToken t;
  t.name = std::move(name);
  t.role = role;
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), t.sha256.data());
  return t;
}

// What lives as long as the process (metrics families are registered once).
struct Process {
  Process() { spdlog::set_level(spdlog::level::off); }
  prometheus::Registry prometheus;
  hub::HubMetrics hub_metrics{prometheus, "fuzz"};
  http::ApiMetrics api_metrics{prometheus};
  hub::Health health;
  fakes::ManualClock clock;
};

Process& process() {
  static Process p;
  return p;
}

http::Response run(http::Api& api, http::Api::Exchange exchange, http::Request request) {
  boost::asio::io_context io;
  auto future = boost::asio::co_spawn(io, api.complete(std::move(exchange), std::move(request)),
                                      boost::asio::use_future);
  io.run();
  return future.get();
}

// A hub with one spoke. Every input meets it in that state: an input that changed the store
// gets a fresh hub made for the next one (most inputs are refused and change nothing, so the hub
// is made again only for the few that do).
struct Hub {
  Hub() {
    hub::Registry::Options options;
    options.validation.hub_asn = 65000;
    options.validation.hub_name = "hub-a";
    options.validation.hub_addresses = {*Ipv4Address::parse("203.0.113.10"),
                                        *Ipv4Address::parse("10.0.0.10")};
    // A fixed PSK: OpenSSL keeps a random generator per thread that it never frees when the
    // thread ends, and every fresh hub has a new writer thread (the daemon has one).
    options.psk_source = [] { return std::string("fuzzpskfuzzpskfuzzpsk0123"); };
    registry = std::move(
        *hub::Registry::create(store, process().clock, &process().hub_metrics, std::move(options)));
    api = std::make_unique<http::Api>(
        http::HandlerContext{
            .registry = *registry,
            .health = process().health,
            .metrics = process().prometheus,
            .clock = process().clock,
            .hub = http::HubInfo{"hub-a", 65000, *Ipv4Address::parse("203.0.113.10"),
                                 *Ipv4Address::parse("10.0.0.10"), "fuzz", "dry-run"},
            .reconcile_status = [] { return std::shared_ptr<const hub::ReconcileStatus>(); },
        },
        http::TokenAuth({token("ops", hub::Role::kAdmin, "fuzz-admin"),
                         token("viewer", hub::Role::kRead, "fuzz-read")}),
        process().api_metrics);
    http::Request seed;
    seed.method = bhttp::verb::post;
    seed.target = "/v1/spokes";
    seed.authorization = "Bearer fuzz-admin";
    seed.content_type = "application/json";
    seed.body =
        R"({"name":"vpc-a","kind":"vpc","cidrs":["10.1.0.0/16"],"routing":"bgp","asn":64512,)"
        R"("tunnels":[{"outside_ip":"198.51.100.10"},{"outside_ip":"198.51.100.11"}]})";
    auto exchange = api->begin(seed, true);
    FUZZ_CHECK(run(*api, std::move(exchange), std::move(seed)).status == 201);
  }

  fakes::MemoryStore store;
  std::unique_ptr<hub::Registry> registry;
  std::unique_ptr<http::Api> api;
};

void checkAnswer(const http::Response& response, bool head) {
  // (HEAD's body is the GET's: the server sends only its header fields.)
  FUZZ_CHECK(response.status >= 200 && response.status <= 599);
  if (response.status >= 400 && !head) {
    boost::system::error_code ec;
    const auto body = boost::json::parse(response.body, ec);
    FUZZ_CHECK(!ec && body.is_object());
    const auto* error = body.as_object().if_contains("error");
    FUZZ_CHECK(error && error->is_object() && error->as_object().if_contains("code") &&
               error->as_object().if_contains("message"));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  bhttp::request_parser<bhttp::string_body> parser;
  parser.header_limit(16 * 1024);
  parser.body_limit(http::kMaxBodyBytes);
  parser.eager(true);
  boost::system::error_code ec;
  parser.put(boost::asio::buffer(data, size), ec);
  if (ec || !parser.is_header_done()) return 0;
  parser.put_eof(ec);
  const bool body_read = !ec && parser.is_done();

  static std::unique_ptr<Hub> fresh;
  if (!fresh) fresh = std::make_unique<Hub>();
  Hub& hub = *fresh;
  const std::uint64_t before = hub.registry->snapshot()->revision;
  const auto& message = parser.get();
  http::Request request = http::headOf(message);
  const bool head = request.method == bhttp::verb::head;
  http::Api::Exchange exchange = hub.api->begin(request, true);
  if (!exchange.refused()) {
    // The server answers a cut body itself (400), without the API.
    if (!body_read) return 0;
    request.body = message.body();
  }
  const http::Response response = run(*hub.api, std::move(exchange), std::move(request));
  checkAnswer(response, head);
  const bool changed = hub.registry->snapshot()->revision != before;
  if (response.status >= 400) FUZZ_CHECK(!changed);
  if (changed) fresh.reset();
  return 0;
}
