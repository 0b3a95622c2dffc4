#include "hub/ctl/commands/spokes.hpp"

#include <CLI/CLI.hpp>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <charconv>
#include <ostream>
#include <utility>

namespace transit::ctl {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr std::string_view kTunnelForm = "OUTSIDE_IP[,hub=NAME][,inside=CIDR][,psk-file=PATH]";
// Two per hub, one VPN connection to each hub of the pair.
constexpr std::size_t kMaxTunnels = 4;

constexpr std::string_view kAddFooter =
    "A PSK is never taken on the command line (it would show in ps): give psk-file=PATH in\n"
    "--tunnel (the file's content, trailing whitespace trimmed) or a \"psk\" in the --file JSON.\n"
    "Without one the hub generates the key. A PSK is never printed.\n"
    "hub=NAME in --tunnel puts the tunnel on that hub of the pair (default: the hub the command\n"
    "talks to); a spoke has at most two tunnels on each hub.\n\n";

bool isIpv4(std::string_view text) {
  boost::system::error_code ec;
  boost::asio::ip::make_address_v4(std::string(text), ec);
  return !ec;
}

bool isIpv4Cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || !isIpv4(text.substr(0, slash))) {
    return false;
  }
  const std::string_view length = text.substr(slash + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), value);
  return ec == std::errc() && end == length.data() + length.size() && !length.empty() &&
         length.size() <= 2 && value <= 32;
}

}  // namespace

std::expected<TunnelFlag, std::string> parseTunnelSpec(std::string_view text) {
  const std::string form = " (expected " + std::string(kTunnelForm) + ")";
  std::vector<std::string_view> items;
  for (std::size_t start = 0;;) {
    const auto comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  TunnelFlag spec;
  const std::string_view outside = items.front();
  if (outside.empty() || outside.find('=') != std::string_view::npos) {
    return std::unexpected("--tunnel must start with the outside IP address" + form);
  }
  if (!isIpv4(outside)) {
    return std::unexpected("--tunnel: \"" + std::string(outside) + "\" is not an IPv4 address" +
                           form);
  }
  spec.outside_ip = std::string(outside);
  for (std::size_t i = 1; i < items.size(); ++i) {
    // An item is never echoed: a mistyped one could be a key pasted by hand.
    const std::string where = "--tunnel item " + std::to_string(i + 1);
    const std::string_view item = items[i];
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) {
      return std::unexpected(where + " is not key=value" + form);
    }
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (key == "psk") {
      return std::unexpected(
          "--tunnel: a PSK is never taken on the command line (it would show in ps); "
          "use psk-file=PATH");
    }
    if (key != "hub" && key != "inside" && key != "psk-file") {
      return std::unexpected(where + " has an unknown key (expected hub=, inside= or psk-file=)");
    }
    std::optional<std::string>& slot =
        key == "hub" ? spec.hub : (key == "inside" ? spec.inside_cidr : spec.psk_file);
    if (slot) {
      return std::unexpected("--tunnel: " + std::string(key) + "= is given twice");
    }
    if (value.empty()) {
      return std::unexpected("--tunnel: " + std::string(key) + "= needs a value" + form);
    }
    if (key == "inside" && !isIpv4Cidr(value)) {
      return std::unexpected("--tunnel: inside=\"" + std::string(value) +
                             "\" is not an IPv4 CIDR such as 169.254.20.0/30");
    }
    slot = std::string(value);
  }
  return spec;
}

std::expected<json::object, std::string> buildSpokeBody(const SpokeAddFlags& flags) {
  if (flags.name.empty()) {
    return std::unexpected("spoke add needs NAME (or --file FILE)");
  }
  if (flags.kind != "vpc" && flags.kind != "site") {
    return std::unexpected("spoke add needs --kind vpc or --kind site");
  }
  if (flags.cidrs.empty()) {
    return std::unexpected("spoke add needs at least one --cidr");
  }
  if (flags.tunnels.empty() || flags.tunnels.size() > kMaxTunnels) {
    return std::unexpected("spoke add needs --tunnel one to four times (at most two per hub)");
  }
  const std::string routing = flags.routing.value_or("bgp");
  if (routing != "bgp" && routing != "static") {
    return std::unexpected("--routing must be bgp or static");
  }
  if (routing == "static" && flags.asn) {
    return std::unexpected("--asn applies only to --routing bgp");
  }
  if (routing == "bgp" && !flags.asn) {
    return std::unexpected("--asn is required for --routing bgp");
  }

  json::object body;
  body["name"] = flags.name;
  body["kind"] = flags.kind;
  json::array cidrs;
  for (const auto& cidr : flags.cidrs) {
    cidrs.emplace_back(cidr);
  }
  body["cidrs"] = std::move(cidrs);
  body["routing"] = routing;
  if (routing == "bgp") {
    body["asn"] = *flags.asn;
  }
  if (flags.preferred_hub) {
    body["preferred_hub"] = *flags.preferred_hub;
  }
  if (flags.segment) {
    body["segment"] = *flags.segment;
  }
  if (flags.bfd) body["bfd"] = true;  // the hub says when a spoke may not have it
  json::array tunnels;
  for (const auto& text : flags.tunnels) {
    auto spec = parseTunnelSpec(text);
    if (!spec) {
      return std::unexpected(spec.error());
    }
    json::object tunnel;
    if (spec->hub) {
      tunnel["hub"] = *spec->hub;
    }
    tunnel["outside_ip"] = spec->outside_ip;
    if (spec->inside_cidr) {
      tunnel["inside_cidr"] = *spec->inside_cidr;
    }
    if (spec->psk_file) {
      auto content = readFile(*spec->psk_file);
      if (!content) {
        return std::unexpected(content.error());
      }
      const std::string_view psk = trimRight(*content);
      if (psk.empty()) {
        return std::unexpected("psk file " + *spec->psk_file + " is empty");
      }
      tunnel["psk"] = psk;
    }
    tunnels.emplace_back(std::move(tunnel));
  }
  body["tunnels"] = std::move(tunnels);
  return body;
}

std::expected<json::object, std::string> spokeBodyFromFile(std::string_view text,
                                                           const std::optional<std::string>& name) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) {
    return std::unexpected("not valid JSON (" + ec.message() + ")");
  }
  if (!parsed.is_object()) {
    return std::unexpected("must hold a JSON object (a spoke)");
  }
  json::object body = std::move(parsed.as_object());
  if (name) {
    const auto* file_name = body.if_contains("name");
    if (file_name == nullptr) {
      body["name"] = *name;
    } else if (!file_name->is_string() || file_name->as_string() != *name) {
      return std::unexpected("NAME \"" + *name + "\" does not match the file's \"name\"");
    }
  }
  return body;
}

// ---- spoke add -------------------------------------------------------------------------------

void SpokeAdd::setup(CLI::App& app) {
  app.footer(footerWith(kAddFooter));
  app.add_option("NAME", name, "spoke name")->type_name("");
  auto* kind_option = app.add_option("--kind", kind, "vpc or site")
                          ->type_name("KIND")
                          ->check(CLI::IsMember({"vpc", "site"}));
  auto* cidr_option = app.add_option("--cidr", cidrs, "a CIDR of the spoke; repeat for more")
                          ->type_name("CIDR")
                          ->allow_extra_args(false);
  auto* routing_option = app.add_option("--routing", routing, "bgp (default) or static")
                             ->type_name("MODE")
                             ->check(CLI::IsMember({"bgp", "static"}));
  auto* asn_option =
      app.add_option("--asn", asn, "the spoke's BGP ASN (required for bgp)")
          ->type_name("N")
          ->check(CLI::Range(std::int64_t{1}, std::int64_t{4294967295}).description(""));
  auto* preferred_hub_option =
      app.add_option("--preferred-hub", preferred_hub, "the hub this spoke's traffic should prefer")
          ->type_name("HUB");
  auto* segment_option =
      app.add_option("--segment", segment, "segment (default: default)")->type_name("SEG");
  auto* bfd_option =
      app.add_flag("--bfd", bfd, "BFD on the BGP sessions (a site with routing bgp)");
  auto* tunnel_option =
      app.add_option("--tunnel", tunnels,
                     std::string(kTunnelForm) + "; one to four times, at most twice per hub")
          ->type_name("SPEC")
          ->allow_extra_args(false);
  auto* file_option = app.add_option("--file", file,
                                     "the full spoke JSON from FILE, or - for stdin; a NAME given "
                                     "too must equal the file's name")
                          ->type_name("FILE|-");
  for (auto* other : {kind_option, cidr_option, routing_option, asn_option, preferred_hub_option,
                      segment_option, bfd_option, tunnel_option}) {
    file_option->excludes(other);
  }
}

SpokeAddFlags SpokeAdd::flags() const {
  SpokeAddFlags out{name.value_or(""), kind.value_or(""), cidrs,  routing, asn,
                    preferred_hub,     segment,           tunnels};
  out.bfd = bfd;
  return out;
}

std::expected<ApiRequest, std::string> SpokeAdd::request(const Session& session) const {
  std::expected<json::object, std::string> body;
  if (file) {
    auto text = *file == "-" ? readStream(session.in) : readFile(*file);
    if (!text) {
      return std::unexpected(text.error());
    }
    const std::string source = *file == "-" ? "stdin" : *file;
    body = spokeBodyFromFile(*text, name);
    if (!body) {
      return std::unexpected(source + ": " + body.error());
    }
  } else {
    body = buildSpokeBody(flags());
    if (!body) {
      return std::unexpected(body.error());
    }
  }
  ApiRequest request;
  request.method = http::verb::post;
  request.path = {"v1", "spokes"};
  request.body = json::serialize(*body);
  return request;
}

int SpokeAdd::print(const Answer& answer, const Session& session) const {
  return printRendered(answer, session, &renderCreated);
}

// ---- spoke list, show, delete ----------------------------------------------------------------

void SpokeList::setup(CLI::App& app) { page.setup(app); }

std::expected<ApiRequest, std::string> SpokeList::request(const Session& /*session*/) const {
  ApiRequest request;
  request.path = {"v1", "spokes"};
  page.addTo(request);
  return request;
}

int SpokeList::print(const Answer& answer, const Session& session) const {
  return printPage(answer, session, &renderSpokeList);
}

void SpokeShow::setup(CLI::App& app) {
  app.add_option("NAME", name, "spoke name")->type_name("")->required();
}

std::expected<ApiRequest, std::string> SpokeShow::request(const Session& /*session*/) const {
  ApiRequest request;
  request.path = {"v1", "spokes", name};
  return request;
}

int SpokeShow::print(const Answer& answer, const Session& session) const {
  return printRendered(answer, session, &renderSpoke);
}

void SpokeDelete::setup(CLI::App& app) {
  app.add_option("NAME", name, "spoke name")->type_name("")->required();
  app.add_option("--if-match", if_match, "delete only if the spoke is at this generation")
      ->type_name("GENERATION")
      ->check(CLI::PositiveNumber.description(""));
}

std::expected<ApiRequest, std::string> SpokeDelete::request(const Session& /*session*/) const {
  ApiRequest request;
  request.method = http::verb::delete_;
  request.path = {"v1", "spokes", name};
  request.if_match = if_match;
  return request;
}

int SpokeDelete::print(const Answer& answer, const Session& session) const {
  const ApiResponse& response = answer.response;
  auto body = interpretResponse(response.status, response.reason, response.body, answer.server);
  if (!body) {
    return fail(session.err, body.error());
  }
  if (!session.flags.json) {
    session.out << "Deleted spoke " << name << "\n";
  }
  return 0;
}

}  // namespace transit::ctl
