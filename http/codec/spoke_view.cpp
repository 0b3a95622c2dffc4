#include "http/codec/spoke_view.hpp"

#include "peers/model/spoke_json.hpp"

namespace transit::http {
namespace json = boost::json;

bool runsBgp(const peers::Spoke& spoke) {
  return spoke.routing == peers::RoutingMode::kBgp && spoke.asn.has_value();
}

// A tunnel's BGP session; a session the status lacks yet reads as down with no routes.
json::object bgpJson(const hub::SessionStatus* session) {
  static const hub::SessionStatus kNotPlanned{};
  const auto& s = session != nullptr ? *session : kNotPlanned;
  return json::object{
      {"state", s.observed.bgp_state},
      {"established", s.observed.established},
      {"routes_received", s.observed.routes_imported},
      {"routes_filtered", s.observed.routes_filtered},
      {"routes_advertised", s.observed.routes_exported},
      {"last_error", s.observed.last_error.empty() ? s.object.last_error : s.observed.last_error},
  };
}

// Adds a tunnel's status fields to `out` (which already holds its identity). A tunnel the status
// lacks (not planned yet) reads as pending with nothing observed.
void addTunnelStatus(json::object& out, const hub::TunnelStatus* tunnel, json::value bgp,
                     const StatusView& view) {
  static const hub::TunnelStatus kNotPlanned{};
  const auto& t = tunnel != nullptr ? *tunnel : kNotPlanned;
  out["local"] = true;
  out["state"] = hub::toString(t.object.state);
  out["ike_up"] = t.observed.ike_up;
  out["ipsec_up"] = t.observed.ipsec_up;
  out["in_bytes"] = t.observed.in_bytes;
  out["out_bytes"] = t.observed.out_bytes;
  out["daemon_state"] = t.observed.state;
  out["last_error"] = t.object.last_error;
  out["attempts"] = t.object.attempts;
  out["next_retry_in_seconds"] = view.nextRetryIn(t.object);
  out["bgp"] = std::move(bgp);
}

void addRemoteTunnelStatus(json::object& out) {
  out["local"] = false;
  out["state"] = "remote";
  for (const char* key : {"ike_up", "ipsec_up", "in_bytes", "out_bytes", "daemon_state",
                          "last_error", "attempts", "next_retry_in_seconds", "bgp"}) {
    out[key] = nullptr;
  }
}

// The "status" of a spoke in the API form.
json::object spokeStatusJson(const peers::Spoke& spoke, const StatusView& view) {
  const bool bgp = runsBgp(spoke);
  bool error = false;
  bool pending = false;
  auto consider = [&](const hub::ObjectStatus* object) {
    if (object == nullptr || object->state == hub::ObjectState::kPending) {
      pending = true;  // missing from the status: not planned yet
    } else if (object->state == hub::ObjectState::kError) {
      error = true;
    }
  };
  json::array tunnels;
  bool local = false;
  for (std::size_t i = 0; i < spoke.tunnels.size(); ++i) {
    const int index = peers::indexOnHub(spoke, i);
    const std::string& hub = spoke.tunnels[i].hub;
    if (hub != view.hubName()) {
      // The other hub's: it runs the tunnel and knows its state; this hub does not.
      json::object item{{"index", index}, {"hub", hub}, {"name", nullptr}};
      addRemoteTunnelStatus(item);
      tunnels.push_back(std::move(item));
      continue;
    }
    local = true;
    const auto* tunnel = view.tunnel(spoke.name, index);
    const auto* session = bgp ? view.session(spoke.name, index) : nullptr;
    consider(tunnel != nullptr ? &tunnel->object : nullptr);
    if (bgp) consider(session != nullptr ? &session->object : nullptr);
    json::object item{{"index", index}, {"hub", hub}};
    item["name"] = tunnel != nullptr ? json::value(tunnel->name) : json::value(nullptr);
    addTunnelStatus(item, tunnel, bgp ? json::value(bgpJson(session)) : json::value(nullptr), view);
    tunnels.push_back(std::move(item));
  }
  // What the spoke is sent; null until a pass has planned it.
  json::value exports = nullptr;
  if (const auto it = view.status().exports.find(spoke.name); it != view.status().exports.end()) {
    exports = json::object{{"limit", it->second.limit},
                           {"summarized", it->second.summarized},
                           {"sent", it->second.prefixes.size()}};
  }
  return json::object{
      // "remote": every tunnel of the spoke is the other hub's; nothing runs here.
      {"state", !local ? "remote" : (error ? "error" : (pending ? "pending" : "applied"))},
      {"tunnels", std::move(tunnels)},
      {"exports", std::move(exports)},
  };
}

json::object spokeJson(const peers::Spoke& spoke, const StatusView& view) {
  json::object out = peers::encodeSpokeForApi(spoke);
  out["status"] = spokeStatusJson(spoke, view);
  return out;
}

json::object daemonJson(const hub::DaemonStatus& daemon) {
  return json::object{{"up", daemon.up}, {"error", daemon.error}};
}

}  // namespace transit::http
