#include "http/handlers/ops.hpp"

#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include <boost/json.hpp>
#include <sstream>
#include <utility>

#include "http/codec/responses.hpp"

namespace transit::http::handlers {
namespace json = boost::json;

Response getHub(const Request& /*request*/, const PathParams& /*params*/, HandlerContext& context) {
  const auto state = context.registry.snapshot();
  const auto checks = context.health.evaluate();
  const auto& hub = context.hub;
  const auto pass = context.reconcile_status();
  return jsonResponse(
      200,
      json::object{
          {"name", hub.name},
          {"asn", hub.asn},
          {"public_ip", hub.public_ip.toString()},
          {"local_ip", hub.local_ip.toString()},
          {"version", hub.version},
          {"drivers_mode", hub.drivers_mode},
          {"store", storeJson(context.registry.storeView(), context.registry.storeDescription())},
          {"revision", state->revision},
          {"reconciled_revision",
           pass != nullptr ? json::value(pass->revision) : json::value(nullptr)},
          {"spokes", json::object{{"vpc", state->count(peers::SpokeKind::kVpc)},
                                  {"site", state->count(peers::SpokeKind::kSite)}}},
          {"ready", hub::Health::ready(checks)},
      });
}

Response openApi(const Request& /*request*/, const PathParams& /*params*/,
                 HandlerContext& /*context*/) {
  Response r;
  r.content_type = "application/yaml";
  r.body = std::string(openApiDocument());
  return r;
}

Response healthz(const Request& /*request*/, const PathParams& /*params*/,
                 HandlerContext& /*context*/) {
  return jsonResponse(200, json::object{{"status", "ok"}});
}

Response readyz(const Request& /*request*/, const PathParams& /*params*/, HandlerContext& context) {
  const auto checks = context.health.evaluate();
  json::array list;
  for (const auto& check : checks) {
    list.push_back(json::object{
        {"name", check.name}, {"ok", check.status.ok}, {"reason", check.status.reason}});
  }
  const bool ready = hub::Health::ready(checks);
  return jsonResponse(ready ? 200 : 503,
                      json::object{{"ready", ready}, {"checks", std::move(list)}});
}

Response metrics(const Request& /*request*/, const PathParams& /*params*/,
                 HandlerContext& context) {
  std::ostringstream out;
  prometheus::TextSerializer().Serialize(out, context.metrics.Collect());
  Response r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = std::move(out).str();
  return r;
}

}  // namespace transit::http::handlers
