#include "http/handlers/status.hpp"

#include <boost/json.hpp>
#include <utility>

#include "http/codec/responses.hpp"
#include "http/codec/spoke_view.hpp"
#include "http/codec/status_view.hpp"

namespace transit::http::handlers {
namespace json = boost::json;

Response listTunnels(const Request& /*request*/, const PathParams& /*params*/,
                     HandlerContext& context) {
  const auto view = StatusView::of(context);
  const auto state = context.registry.snapshot();
  const auto& status = view.status();
  json::array tunnels;
  tunnels.reserve(status.tunnels.size());
  for (const auto& [name, tunnel] : status.tunnels) {  // a map: sorted by name
    const auto* session = view.session(tunnel.spoke, tunnel.index);
    const auto spoke = state->spokes.find(tunnel.spoke);
    const bool bgp =
        session != nullptr || (spoke != state->spokes.end() && runsBgp(*spoke->second));
    json::object item{{"spoke", tunnel.spoke},
                      {"hub", view.hubName()},
                      {"index", tunnel.index},
                      {"name", tunnel.name}};
    addTunnelStatus(item, &tunnel, bgp ? json::value(bgpJson(session)) : json::value(nullptr),
                    view);
    tunnels.push_back(std::move(item));
  }
  // Then the pair's other hub's tunnels, by spoke: this hub knows them from the registry only.
  for (const auto& [name, spoke] : state->spokes) {
    for (std::size_t i = 0; i < spoke->tunnels.size(); ++i) {
      const auto& tunnel = spoke->tunnels[i];
      if (tunnel.hub == view.hubName()) continue;
      json::object item{{"spoke", name},
                        {"hub", tunnel.hub},
                        {"index", peers::indexOnHub(*spoke, i)},
                        {"name", nullptr}};
      addRemoteTunnelStatus(item);
      tunnels.push_back(std::move(item));
    }
  }
  return jsonResponse(200, json::object{
                               {"tunnels", std::move(tunnels)},
                               {"pluto", daemonJson(status.pluto)},
                               {"bird", daemonJson(status.bird)},
                               {"initial_sync_done", status.initial_sync_done},
                           });
}

}  // namespace transit::http::handlers
