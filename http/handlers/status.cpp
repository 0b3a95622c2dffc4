#include "http/handlers/status.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <cstddef>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "http/codec/responses.hpp"
#include "http/codec/spoke_view.hpp"
#include "http/codec/status_view.hpp"
#include "http/handlers/common.hpp"
#include "http/request/query.hpp"

namespace transit::http::handlers {
namespace json = boost::json;

Response listTunnels(const Request& request, const PathParams& /*params*/,
                     HandlerContext& context) {
  auto query = request::parsePageQuery(request.target);
  if (!query) {
    return std::move(query.error());
  }
  const auto view = StatusView::of(context);
  const auto state = context.registry.snapshot();
  const auto& status = view.status();
  // Keys in the list's order: this hub's tunnels by name ("0,NAME"), then the other hub's by
  // spoke and index ("1,SPOKE,007"); ',' sorts before every character of a name.
  // Built only for a page; the whole list needs none.
  const bool page_asked = paged(*query);
  std::vector<std::string> keys;
  if (page_asked) {
    keys.reserve(status.tunnels.size());
    for (const auto& [name, tunnel] : status.tunnels) keys.push_back("0," + name);
  }
  struct Remote {
    const peers::Spoke* spoke;
    std::size_t tunnel;
  };
  std::vector<Remote> remote;
  for (const auto& [name, spoke] : state->spokes) {
    for (std::size_t i = 0; i < spoke->tunnels.size(); ++i) {
      if (spoke->tunnels[i].hub == view.hubName()) continue;
      remote.push_back({spoke.get(), i});
      if (page_asked) keys.push_back(fmt::format("1,{},{:03}", name, peers::indexOnHub(*spoke, i)));
    }
  }
  const PageBounds page = page_asked
                              ? pageOf(keys, *query)
                              : PageBounds{0, status.tunnels.size() + remote.size(), nullptr};
  json::array tunnels;
  tunnels.reserve(page.end - page.begin);
  auto local = std::next(status.tunnels.begin(),
                         static_cast<std::ptrdiff_t>(std::min(page.begin, status.tunnels.size())));
  for (std::size_t k = page.begin; k < std::min(page.end, status.tunnels.size()); ++k, ++local) {
    const auto& tunnel = local->second;
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
  for (std::size_t k = std::max(page.begin, status.tunnels.size()); k < page.end; ++k) {
    const auto& [spoke, i] = remote[k - status.tunnels.size()];
    json::object item{{"spoke", spoke->name},
                      {"hub", spoke->tunnels[i].hub},
                      {"index", peers::indexOnHub(*spoke, i)},
                      {"name", nullptr}};
    addRemoteTunnelStatus(item);
    tunnels.push_back(std::move(item));
  }
  return jsonResponse(200, json::object{
                               {"tunnels", std::move(tunnels)},
                               {"next", page.next},
                               {"pluto", daemonJson(status.pluto)},
                               {"bird", daemonJson(status.bird)},
                               {"initial_sync_done", status.initial_sync_done},
                           });
}

}  // namespace transit::http::handlers
