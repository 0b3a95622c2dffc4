#include "hub/ctl/commands/routing.hpp"

#include <CLI/CLI.hpp>
#include <string_view>
#include <utility>
#include <vector>

namespace transit::ctl {
namespace {

constexpr std::string_view kRoutesFooter =
    "For operators checking what the spokes announce and which path the hub uses. One row per\n"
    "route BIRD holds for the hub's spokes, sorted by prefix. STATE is \"selected\" for BIRD's\n"
    "best route to the prefix, \"filtered\" for a route the spoke's import filter refused\n"
    "(outside the spoke's declared CIDRs; never used), empty for an alternative path. TUNNEL is\n"
    "\"-\" for a static spoke's routes, MED \"-\" when the route carries none.\n\n";

constexpr std::string_view kConflictsFooter =
    "For operators finding overlapping address space. A spoke may announce only prefixes inside\n"
    "its own CIDRs: a route that overlaps another spoke's declared CIDR is refused and the\n"
    "owner's routes are used. One row per refused prefix and announcing spoke, with the tunnels\n"
    "whose sessions carried it and the CIDR it overlaps.\n\n";

constexpr std::string_view kExportsFooter =
    "For operators checking what a spoke is sent, as the hub's last reconciliation pass planned\n"
    "it. A spoke is sent at most its export limit of prefixes; when it must reach more, the hub\n"
    "sends summaries, listed with the prefixes they cover (the first 8). Warnings say when\n"
    "summaries cover unrouted addresses or the limit cannot be met.\n\n";

constexpr std::string_view kStaticRoutesFooter =
    "For whoever configures the AWS side of a static spoke's VPN connection: one prefix per\n"
    "line, to enter as the connection's static routes (lines starting with # are comments).\n"
    "A spoke that uses BGP exchanges its routes over BGP: the API refuses (exit 1); see\n"
    "`spoke exports NAME` instead.\n\n";

ApiRequest get(std::vector<std::string> path) {
  ApiRequest request;
  request.path = std::move(path);
  return request;
}

}  // namespace

// ---- routes ----------------------------------------------------------------------------------

void Routes::setup(CLI::App& app) {
  app.footer(footerWith(kRoutesFooter));
  app.add_option("--spoke", spoke, "only the routes learned from this spoke")->type_name("NAME");
  auto* filtered_flag =
      app.add_flag("--filtered", filtered, "only the routes the spokes' import filters refused");
  auto* accepted_flag = app.add_flag("--accepted", accepted, "only the routes not refused");
  filtered_flag->excludes(accepted_flag);
  accepted_flag->excludes(filtered_flag);
  page.setup(app);
}

std::expected<ApiRequest, std::string> Routes::request(const Session& /*session*/) const {
  ApiRequest request = get({"v1", "routes"});
  if (spoke) {
    request.query.emplace_back("spoke", *spoke);
  }
  if (filtered || accepted) {
    request.query.emplace_back("filtered", filtered ? "true" : "false");
  }
  page.addTo(request);
  return request;
}

int Routes::print(const Answer& answer, const Session& session) const {
  return printPage(answer, session, &renderRoutes);
}

// ---- conflicts -------------------------------------------------------------------------------

void Conflicts::setup(CLI::App& app) {
  app.footer(footerWith(kConflictsFooter));
  page.setup(app);
}

std::expected<ApiRequest, std::string> Conflicts::request(const Session& /*session*/) const {
  ApiRequest request = get({"v1", "conflicts"});
  page.addTo(request);
  return request;
}

int Conflicts::print(const Answer& answer, const Session& session) const {
  return printPage(answer, session, &renderConflicts);
}

// ---- spoke exports, spoke static-routes ------------------------------------------------------

void SpokeExports::setup(CLI::App& app) {
  app.footer(footerWith(kExportsFooter));
  app.add_option("NAME", name, "spoke name")->type_name("")->required();
}

std::expected<ApiRequest, std::string> SpokeExports::request(const Session& /*session*/) const {
  return get({"v1", "spokes", name, "exports"});
}

int SpokeExports::print(const Answer& answer, const Session& session) const {
  return printRendered(answer, session, &renderExports);
}

void SpokeStaticRoutes::setup(CLI::App& app) {
  app.footer(footerWith(kStaticRoutesFooter));
  app.add_option("NAME", name, "spoke name")->type_name("")->required();
}

std::expected<ApiRequest, std::string> SpokeStaticRoutes::request(
    const Session& /*session*/) const {
  return get({"v1", "spokes", name, "static-routes"});
}

int SpokeStaticRoutes::print(const Answer& answer, const Session& session) const {
  return printRendered(answer, session, &renderStaticRoutes);
}

}  // namespace transit::ctl
