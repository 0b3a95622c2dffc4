#include "routing/bird/bird_render.hpp"

#include <algorithm>
#include <cstdint>
#include <map>
#include <set>

#include <fmt/format.h>

namespace transit::routing {
namespace {

// Route tags are BGP large communities (local AS, kind, id). A spoke's id is its route tag, the
// registry's number for it (the same on every hub of the pair; routes are attributed by it). A
// segment's id is assigned afresh for every rendered file (sorted names from 1): BIRD reads the
// whole file on every change, and export selection by segment happens inside one file.
constexpr std::uint32_t kSegmentTag = 1;            // (local AS, 1, segment id)
constexpr std::uint32_t kSpokeTag = kSpokeTagKind;  // (local AS, 2, spoke route tag)
constexpr std::uint32_t kSummaryTag = 3;  // (local AS, 3, 0): a summary the hub originates

// Routes learned from the other hub get this local preference (BIRD's default for the others is
// 100). Local preference is compared before the AS path length, the origin and the MED, so a hub
// that has its own working session with a spoke always routes to it directly, whatever the
// spoke prepends or sets as MED on that session; the other hub's copy is used only without one.
constexpr std::uint32_t kPairLocalPref = 50;
// BFD on the sessions with sites that ask for it (over IPsec tunnels): 900 ms to notice a dead
// tunnel without flapping on the jitter of the internet path. BIRD's default is 100 ms x 5.
constexpr std::uint32_t kSiteBfdIntervalMs = 300;
constexpr std::uint32_t kSiteBfdMultiplier = 3;

constexpr std::uint32_t kMaxPrepend = 16;
constexpr std::size_t kMaxSegmentName = 32;
constexpr std::size_t kMaxSpokeName = 64;
constexpr std::size_t kMaxBirdSymbol = 64;  // BIRD's SYM_MAX_LEN

DriverError invalid(std::string message) {
  return DriverError{DriverError::Kind::kInvalid, std::move(message)};
}

// BIRD string literals in what we render are paths; refuse anything needing escapes.
bool isSafePath(std::string_view path) {
  if (path.empty() || path.front() != '/') return false;
  for (char c : path) {
    if (c == '"' || c == '\\' || c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

// [a-z0-9-]{1,max}: segment and spoke names land in comments and must not break out of them.
bool isLabel(std::string_view name, std::size_t max) {
  if (name.empty() || name.size() > max) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string acceptedSet(const std::vector<Ipv4Prefix>& accepted) {
  std::string out;
  for (const auto& prefix : accepted) {
    if (!out.empty()) out += ", ";
    out += fmt::format("{}{{{},32}}", prefix.toString(), prefix.length());
  }
  return out;
}

// A prefix set that matches exactly these prefixes (a plain prefix in a BIRD set is exact).
std::string exactSet(const std::vector<Ipv4Prefix>& prefixes) {
  std::string out;
  for (const auto& prefix : prefixes) {
    if (!out.empty()) out += ", ";
    out += prefix.toString();
  }
  return out;
}

std::string summariesName(const BirdOptions& options) {
  return options.protocol_prefix + "summaries";
}

std::string bfdName(const BirdOptions& options) { return options.protocol_prefix + "bfd"; }

// A Linux interface name as BIRD's interface patterns take it literally: no pattern characters.
bool isDeviceName(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

std::expected<void, DriverError> checkProtocolName(std::string_view what, const std::string& name,
                                                   const BirdOptions& options,
                                                   std::set<std::string>& names) {
  if (!isBirdName(name) || name.size() > kMaxBirdSymbol ||
      name.compare(0, options.protocol_prefix.size(), options.protocol_prefix) != 0) {
    return std::unexpected(
        invalid(fmt::format("{} name '{}' must match [a-z0-9_]{{1,{}}} and start with '{}'", what,
                            name, kMaxBirdSymbol, options.protocol_prefix)));
  }
  if (name == summariesName(options) || name == bfdName(options)) {
    return std::unexpected(
        invalid(fmt::format("{} name '{}' is reserved for the hub's {}", what, name,
                            name == bfdName(options) ? "BFD protocol" : "summaries")));
  }
  if (!names.insert(name).second) {
    return std::unexpected(invalid(fmt::format("duplicate protocol name '{}'", name)));
  }
  return {};
}

std::expected<void, DriverError> checkSegment(std::string_view owner, const std::string& segment) {
  if (!isLabel(segment, kMaxSegmentName)) {
    return std::unexpected(invalid(fmt::format("{}: segment '{}' must match [a-z0-9-]{{1,{}}}",
                                               owner, segment, kMaxSegmentName)));
  }
  return {};
}

std::expected<void, DriverError> checkSpoke(std::string_view owner, const std::string& spoke) {
  if (!isLabel(spoke, kMaxSpokeName)) {
    return std::unexpected(invalid(fmt::format("{}: spoke name '{}' must match [a-z0-9-]{{1,{}}}",
                                               owner, spoke, kMaxSpokeName)));
  }
  return {};
}

std::expected<void, DriverError> validate(const RoutingSpec& spec, const BirdOptions& options) {
  const auto& prefix = options.protocol_prefix;
  if (!isBirdName(prefix) || (prefix.front() >= '0' && prefix.front() <= '9')) {
    return std::unexpected(invalid("protocol prefix must match [a-z_][a-z0-9_]*"));
  }
  if (spec.local_as == 0) return std::unexpected(invalid("local ASN must not be 0"));
  for (std::size_t i = 1; i < spec.summaries.size(); ++i) {
    if (!(spec.summaries[i - 1] < spec.summaries[i])) {
      return std::unexpected(
          invalid(fmt::format("summaries must be sorted and unique ({} after {})",
                              spec.summaries[i].toString(), spec.summaries[i - 1].toString())));
    }
  }
  std::set<std::string> names;
  std::map<std::string, std::uint32_t> tag_of;     // spoke -> its route tag
  std::map<std::uint32_t, std::string> tag_owner;  // route tag -> its spoke
  auto checkTag = [&](std::string_view owner, const std::string& spoke,
                      std::uint32_t tag) -> std::expected<void, DriverError> {
    if (tag == 0) {
      return std::unexpected(invalid(fmt::format("{}: spoke {} has no route tag", owner, spoke)));
    }
    if (auto [it, fresh] = tag_of.emplace(spoke, tag); !fresh && it->second != tag) {
      return std::unexpected(invalid(
          fmt::format("{}: spoke {} has route tags {} and {}", owner, spoke, it->second, tag)));
    }
    if (auto [it, fresh] = tag_owner.emplace(tag, spoke); !fresh && it->second != spoke) {
      return std::unexpected(invalid(fmt::format("{}: route tag {} is both spoke {}'s and {}'s",
                                                 owner, tag, it->second, spoke)));
    }
    return {};
  };
  for (const auto& session : spec.sessions) {
    if (auto ok = checkProtocolName("BGP session", session.name, options, names); !ok) return ok;
    const auto owner = fmt::format("session {}", session.name);
    if (auto ok = checkSpoke(owner, session.spoke); !ok) return ok;
    if (auto ok = checkTag(owner, session.spoke, session.spoke_tag); !ok) return ok;
    if (session.neighbor_as == 0) {
      return std::unexpected(invalid(fmt::format("{}: neighbor ASN 0", owner)));
    }
    if (session.accepted.empty()) {
      return std::unexpected(invalid(fmt::format("{}: no accepted prefixes", owner)));
    }
    if (session.import_limit == 0) {
      return std::unexpected(invalid(fmt::format("{}: import limit 0", owner)));
    }
    if (session.export_limit == 0) {
      return std::unexpected(invalid(fmt::format("{}: export limit 0", owner)));
    }
    if (session.prepend > kMaxPrepend) {
      return std::unexpected(invalid(
          fmt::format("{}: prepend {} is more than {}", owner, session.prepend, kMaxPrepend)));
    }
    if (auto ok = checkSegment(owner, session.segment); !ok) return ok;
    for (const auto& segment : session.export_segments) {
      if (auto ok = checkSegment(owner, segment); !ok) return ok;
    }
    if (session.export_only) {
      for (const auto& summary : *session.export_only) {
        if (!std::binary_search(spec.summaries.begin(), spec.summaries.end(), summary)) {
          return std::unexpected(invalid(fmt::format(
              "{}: export_only prefix {} is not one of the summaries", owner, summary.toString())));
        }
      }
    }
  }
  for (const auto& spoke : spec.statics) {
    if (auto ok = checkProtocolName("static spoke", spoke.name, options, names); !ok) return ok;
    const auto owner = fmt::format("static spoke {}", spoke.name);
    if (auto ok = checkSpoke(owner, spoke.spoke); !ok) return ok;
    if (auto ok = checkSegment(owner, spoke.segment); !ok) return ok;
    if (auto ok = checkTag(owner, spoke.spoke, spoke.spoke_tag); !ok) return ok;
  }
  if (spec.peer_hub) {
    const auto& peer = *spec.peer_hub;
    if (auto ok = checkProtocolName("peer hub session", peer.name, options, names); !ok) return ok;
    const auto owner = fmt::format("peer hub session {}", peer.name);
    if (auto ok = checkSpoke(owner, peer.hub); !ok) return ok;
    if (!isDeviceName(peer.interface)) {
      return std::unexpected(invalid(fmt::format(
          "{}: link device '{}' must match [A-Za-z0-9_.-]{{1,15}}", owner, peer.interface)));
    }
    if (peer.local_address == peer.neighbor_address || peer.local_address.value() == 0 ||
        peer.neighbor_address.value() == 0) {
      return std::unexpected(
          invalid(fmt::format("{}: link addresses {} and {} must differ", owner,
                              peer.local_address.toString(), peer.neighbor_address.toString())));
    }
    if (peer.hold_time < 3 || peer.keepalive == 0 || peer.keepalive > peer.hold_time / 3) {
      return std::unexpected(
          invalid(fmt::format("{}: hold time {} and keepalive {} (needs hold >= 3, "
                              "1 <= keepalive <= hold / 3)",
                              owner, peer.hold_time, peer.keepalive)));
    }
    if (peer.bfd_interval_ms < 10 || peer.bfd_interval_ms > 10000 || peer.bfd_multiplier < 2 ||
        peer.bfd_multiplier > 255) {
      return std::unexpected(
          invalid(fmt::format("{}: BFD interval {} ms (10-10000) or multiplier {} (2-255)", owner,
                              peer.bfd_interval_ms, peer.bfd_multiplier)));
    }
    for (const auto& [tag, spoke] : peer.spokes) {
      if (auto ok = checkSpoke(owner, spoke.name); !ok) return ok;
      if (auto ok = checkSegment(owner, spoke.segment); !ok) return ok;
      if (auto ok = checkTag(owner, spoke.name, tag); !ok) return ok;
    }
  }
  return {};
}

// The tags' ids: each segment's (sorted names from 1, for this file), each spoke's route tag.
struct TagIds {
  std::map<std::string, std::uint32_t> segments;
  std::map<std::string, std::uint32_t> spokes;
};

TagIds assignIds(const RoutingSpec& spec) {
  std::set<std::string> segments;
  TagIds ids;
  for (const auto& session : spec.sessions) {
    segments.insert(session.segment);
    segments.insert(session.export_segments.begin(), session.export_segments.end());
    ids.spokes.emplace(session.spoke, session.spoke_tag);
  }
  for (const auto& spoke : spec.statics) {
    segments.insert(spoke.segment);
    ids.spokes.emplace(spoke.spoke, spoke.spoke_tag);
  }
  if (spec.peer_hub) {
    for (const auto& [tag, spoke] : spec.peer_hub->spokes) {
      segments.insert(spoke.segment);
      ids.spokes.emplace(spoke.name, tag);
    }
  }
  std::uint32_t next = 1;
  for (const auto& name : segments) ids.segments[name] = next++;
  return ids;
}

std::string tagTable(const RoutingSpec& spec, const TagIds& ids) {
  const auto as = spec.local_as;
  std::string out = fmt::format(
      "#\n"
      "# Route tags (BGP large communities), set on import before the filter decides, so a\n"
      "# refused route names its spoke too. Communities ({0}, *, *) that a spoke sends are\n"
      "# removed before tagging, and ours are removed on export. Segment numbers hold for this\n"
      "# file only; spoke numbers are the spokes' route tags, the same on every hub.\n"
      "#   ({0}, {1}, 0) a summary originated by the hub (sent only to export_only spokes)\n",
      as, kSummaryTag);
  out += fmt::format("#   ({}, {}, N) segment N:\n", as, kSegmentTag);
  for (const auto& [name, id] : ids.segments) out += fmt::format("#     {} {}\n", id, name);
  out += fmt::format("#   ({}, {}, N) spoke with route tag N:\n", as, kSpokeTag);
  std::map<std::uint32_t, std::string> by_tag;
  for (const auto& [name, id] : ids.spokes) by_tag.emplace(id, name);
  for (const auto& [id, name] : by_tag) out += fmt::format("#     {} {}\n", id, name);
  return out;
}

// Filter statements that tag a route as coming from `spoke` in `segment`.
std::string tagLines(std::uint32_t local_as, const TagIds& ids, const std::string& segment,
                     const std::string& spoke, std::string_view indent) {
  return fmt::format(
      "{0}bgp_large_community.add(({1}, {2}, {3}));  # segment {4}\n"
      "{0}bgp_large_community.add(({1}, {5}, {6}));  # spoke {7}\n",
      indent, local_as, kSegmentTag, ids.segments.at(segment), segment, kSpokeTag,
      ids.spokes.at(spoke), spoke);
}

std::string exportSelection(std::uint32_t local_as, const TagIds& ids,
                            const BgpSessionSpec& session) {
  constexpr std::string_view in = "      ";
  if (session.export_only) {
    if (session.export_only->empty()) {
      return fmt::format(
          "{}# export_only names no summary: this spoke is sent nothing.\n{}reject;\n", in, in);
    }
    // From any source: a summary equal to a real route may be displaced by it (preference 10
    // against 100); summaries never overlap the receiver's own or forbidden space.
    return fmt::format(
        "{0}# Only the summaries computed for this spoke, exactly.\n"
        "{0}if ! (net ~ [ {1} ]) then reject;\n",
        in, exactSet(*session.export_only));
  }
  std::set<std::string> allowed(session.export_segments.begin(), session.export_segments.end());
  if (allowed.empty()) {
    return fmt::format("{}# No export segment: this spoke is sent nothing.\n{}reject;\n", in, in);
  }
  std::string set;
  std::string names;
  for (const auto& segment : allowed) {
    if (!set.empty()) set += ", ";
    set += fmt::format("({}, {}, {})", local_as, kSegmentTag, ids.segments.at(segment));
    if (!names.empty()) names += ", ";
    names += segment;
  }
  return fmt::format(
      "{0}# Routes of segments {1}. Not the hub's summaries, nothing untagged\n"
      "{0}# (device, kernel, other protocols), never the spoke's own (either tunnel).\n"
      "{0}if ({2}, {3}, 0) ~ bgp_large_community then reject;\n"
      "{0}if ! (bgp_large_community ~ [ {4} ]) then reject;\n"
      "{0}if ({2}, {5}, {6}) ~ bgp_large_community then reject;  # spoke {7}\n",
      in, names, local_as, kSummaryTag, set, kSpokeTag, ids.spokes.at(session.spoke),
      session.spoke);
}

std::string renderSession(const RoutingSpec& spec, const TagIds& ids,
                          const BgpSessionSpec& session) {
  const auto as = spec.local_as;
  std::string rewrite = fmt::format(
      // VGWs share ASN 64512 and would drop a path that holds it ("as-override").
      "      bgp_path.delete({});\n", session.neighbor_as);
  if (session.prepend > 0) {
    rewrite += fmt::format("      # {} extra cop{} of the hub's AS (BIRD adds one itself)\n",
                           session.prepend, session.prepend == 1 ? "y" : "ies");
  }
  for (std::uint32_t i = 0; i < session.prepend; ++i) {
    rewrite += fmt::format("      bgp_path.prepend({});\n", as);
  }
  if (session.med) rewrite += fmt::format("      bgp_med = {};\n", *session.med);
  rewrite += fmt::format("      bgp_large_community.delete([({}, *, *)]);\n", as);

  return fmt::format(
      "\nprotocol bgp {name} {{\n"
      "  local {local} as {local_as};\n"
      "  neighbor {neighbor} as {neighbor_as};\n"
      "  hold time {hold};\n"
      "  keepalive time {keepalive};\n"
      // BIRD waits 5 s before its first connect and 120 s between retries by default; a spoke
      // that was just onboarded, or whose tunnel just came back, should not wait that long.
      "  connect delay time 0;\n"
      "  connect retry time 5;\n"
      "  # Compare MED between routes from different neighbour ASes too, so the lower MED a\n"
      "  # spoke sets wins across spokes (BIRD compares it only within one AS by default).\n"
      "  med metric on;\n"
      "{bfd}"
      "  ipv4 {{\n"
      "    import keep filtered on;  # refused routes stay visible and counted\n"
      "    import limit {import_limit} action restart;\n"
      "    export limit {export_limit} action block;\n"
      "    import filter {{\n"
      "      bgp_large_community.delete([({local_as}, *, *)]);  # a spoke must not forge tags\n"
      "      # Tagged before the checks: a refused route, kept above, still names its spoke.\n"
      "{tags}"
      "      if net.type != NET_IP4 then reject;\n"
      "      if ! (net ~ [ {accepted} ]) then reject;\n"
      "      accept;\n"
      "    }};\n"
      "    export filter {{\n"
      "{selection}"
      "{rewrite}"
      "      accept;\n"
      "    }};\n"
      "  }};\n"
      "}}\n",
      fmt::arg("name", session.name), fmt::arg("local", session.local_address.toString()),
      fmt::arg("local_as", as), fmt::arg("neighbor", session.neighbor_address.toString()),
      fmt::arg("neighbor_as", session.neighbor_as), fmt::arg("hold", session.hold_time),
      fmt::arg("keepalive", session.keepalive), fmt::arg("import_limit", session.import_limit),
      fmt::arg("export_limit", session.export_limit),
      fmt::arg("accepted", acceptedSet(session.accepted)),
      fmt::arg("tags", tagLines(as, ids, session.segment, session.spoke, "      ")),
      fmt::arg("selection", exportSelection(as, ids, session)), fmt::arg("rewrite", rewrite),
      fmt::arg("bfd",
               session.bfd ? "  bfd on;  # the site asked for BFD (protocol bfd below)\n" : ""));
}

std::string renderStatic(const RoutingSpec& spec, const TagIds& ids, const StaticSpokeSpec& spoke) {
  std::string routes;
  if (spoke.next_hops.empty()) {
    routes = "  # No usable tunnel: no routes until one comes up.\n";
  } else if (spoke.cidrs.empty()) {
    routes = "  # No CIDRs declared: no routes.\n";
  } else {
    std::string via;
    for (const auto& hop : spoke.next_hops) via += fmt::format(" via {}", hop.toString());
    for (const auto& cidr : spoke.cidrs) {
      routes += fmt::format("  route {}{};\n", cidr.toString(), via);
    }
  }
  return fmt::format(
      "\n# Static spoke {spoke}: its CIDRs over its tunnels (ECMP across next hops).\n"
      "protocol static {name} {{\n"
      "  ipv4 {{\n"
      "    import filter {{\n"
      "{tags}"
      "      accept;\n"
      "    }};\n"
      "  }};\n"
      "{routes}"
      "}}\n",
      fmt::arg("spoke", spoke.spoke), fmt::arg("name", spoke.name),
      fmt::arg("tags", tagLines(spec.local_as, ids, spoke.segment, spoke.spoke, "      ")),
      fmt::arg("routes", routes));
}

std::string renderSummaries(const RoutingSpec& spec, const BirdOptions& options) {
  std::string routes;
  for (const auto& summary : spec.summaries) {
    routes += fmt::format("  route {} unreachable;\n", summary.toString());
  }
  return fmt::format(
      "\n# Summaries for export_only spokes. Unreachable: traffic to covered but unrouted space\n"
      "# stops here. Preference 10: a learned route (BGP 100, static 200) for the same prefix\n"
      "# always wins.\n"
      "protocol static {name} {{\n"
      "  ipv4 {{\n"
      "    preference 10;\n"
      "    import filter {{\n"
      "      bgp_large_community.add(({local_as}, {tag}, 0));\n"
      "      accept;\n"
      "    }};\n"
      "  }};\n"
      "{routes}"
      "}}\n",
      fmt::arg("name", summariesName(options)), fmt::arg("local_as", spec.local_as),
      fmt::arg("tag", kSummaryTag), fmt::arg("routes", routes));
}

// "1, 4..6, 9": the tags as BIRD case labels, consecutive ones as ranges.
std::string caseLabels(const std::vector<std::uint32_t>& tags) {
  std::string out;
  for (std::size_t i = 0; i < tags.size();) {
    std::size_t j = i;
    while (j + 1 < tags.size() && tags[j + 1] == tags[j] + 1) ++j;
    if (!out.empty()) out += ", ";
    out += j == i ? fmt::format("{}", tags[i]) : fmt::format("{}..{}", tags[i], tags[j]);
    i = j + 1;
  }
  return out;
}

// BFD for the iBGP session on the link between the hubs (its own timers) and for the sessions
// of sites that ask for it (kSiteBfd*). BIRD takes the first interface pattern that matches.
std::string renderBfd(const RoutingSpec& spec, const BirdOptions& options) {
  std::string interfaces;
  if (spec.peer_hub) {
    interfaces += fmt::format(
        "  interface \"{0}\" {{  # the link to hub {1}\n"
        "    min rx interval {2} ms;\n"
        "    min tx interval {2} ms;\n"
        "    multiplier {3};\n"
        "  }};\n",
        spec.peer_hub->interface, spec.peer_hub->hub, spec.peer_hub->bfd_interval_ms,
        spec.peer_hub->bfd_multiplier);
  }
  interfaces += fmt::format(
      "  interface \"*\" {{  # sites' tunnels\n"
      "    min rx interval {0} ms;\n"
      "    min tx interval {0} ms;\n"
      "    multiplier {1};\n"
      "  }};\n",
      kSiteBfdIntervalMs, kSiteBfdMultiplier);
  return fmt::format(
      "\n# BFD: a dead peer is seen within interval x multiplier, and its BGP session goes down\n"
      "# at once instead of after the hold time.\n"
      "protocol bfd {} {{\n"
      "{}"
      "}}\n",
      bfdName(options), interfaces);
}

// The iBGP session with the other hub over the link between the two.
std::string renderPeerHub(const RoutingSpec& spec, const TagIds& ids, const PeerHubSpec& peer) {
  const auto as = spec.local_as;
  std::map<std::uint32_t, std::vector<std::uint32_t>> tags_of_segment;  // segment id -> tags
  for (const auto& [tag, spoke] : peer.spokes) {
    tags_of_segment[ids.segments.at(spoke.segment)].push_back(tag);
  }
  std::map<std::uint32_t, std::string> segment_names;
  for (const auto& [name, id] : ids.segments) segment_names.emplace(id, name);
  std::string retag;
  if (tags_of_segment.empty()) {
    retag = "      reject;  # no spoke in the registry\n";
  } else {
    // One lookup in a tree of case labels per route, however many spokes there are.
    retag = fmt::format("      case filter(bgp_large_community, [({}, {}, *)]).min.data2 {{\n", as,
                        kSpokeTag);
    for (const auto& [segment, tags] : tags_of_segment) {
      retag += fmt::format("        {}: bgp_large_community.add(({}, {}, {}));  # segment {}\n",
                           caseLabels(tags), as, kSegmentTag, segment, segment_names.at(segment));
    }
    retag += "        else: reject;  # a spoke tag the registry does not hold\n";
    retag += "      }\n";
  }
  return fmt::format(
      "\n# iBGP with hub {hub}, the other hub of the pair, over the link between the two "
      "({iface}).\n"
      "# It gets the routes this hub learned from its spokes, with their tags, and the next hop\n"
      "# of every route is this hub's address on the link; it sends those it learned from its "
      "own.\n"
      "protocol bgp {name} {{\n"
      "  local {local} as {as};\n"
      "  neighbor {neighbor} as {as};  # the same AS: iBGP\n"
      "  direct;  # the other hub's address is on the link (BIRD's iBGP default is multihop)\n"
      "  hold time {hold};\n"
      "  keepalive time {keepalive};\n"
      "  connect delay time 0;\n"
      "  connect retry time 5;\n"
      "  bfd on;  # timers: the link's interface in protocol bfd\n"
      "  ipv4 {{\n"
      "    next hop self;  # spokes' inside addresses mean nothing to the other hub\n"
      "    gateway direct;  # the next hop is the other hub's address on the link\n"
      "    import keep filtered on;\n"
      "    import filter {{\n"
      "      # Only what the other hub learned from a spoke (its spoke tag), never its summaries.\n"
      "      if ! (bgp_large_community ~ [({as}, {spoke_kind}, *)]) then reject;\n"
      "      if ({as}, {summary}, 0) ~ bgp_large_community then reject;\n"
      "      # Segment ids are per hub: this file's, from the spoke tag.\n"
      "      bgp_large_community.delete([({as}, {segment_kind}, *)]);\n"
      "{retag}"
      "      # Below this hub's own sessions: a spoke it has a working session with is reached\n"
      "      # directly, whatever AS path or MED the other hub's copy has.\n"
      "      bgp_local_pref = {local_pref};\n"
      "      accept;\n"
      "    }};\n"
      "    export filter {{\n"
      "      # Only routes this hub learned from its spokes (BGP and static), tags kept: never\n"
      "      # the summaries, never a route learned from the other hub (sent back to where it\n"
      "      # came from; BIRD's iBGP rule would also hold it back).\n"
      "      if proto = \"{name}\" then reject;\n"
      "      if ({as}, {summary}, 0) ~ bgp_large_community then reject;\n"
      "      if ! (bgp_large_community ~ [({as}, {spoke_kind}, *)]) then reject;\n"
      "      accept;\n"
      "    }};\n"
      "  }};\n"
      "}}\n",
      fmt::arg("hub", peer.hub), fmt::arg("iface", peer.interface), fmt::arg("name", peer.name),
      fmt::arg("local", peer.local_address.toString()),
      fmt::arg("neighbor", peer.neighbor_address.toString()), fmt::arg("as", as),
      fmt::arg("hold", peer.hold_time), fmt::arg("keepalive", peer.keepalive),
      fmt::arg("spoke_kind", kSpokeTag), fmt::arg("summary", kSummaryTag),
      fmt::arg("segment_kind", kSegmentTag), fmt::arg("retag", retag),
      fmt::arg("local_pref", kPairLocalPref));
}

}  // namespace

bool isBirdName(std::string_view name) {
  if (name.empty()) return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

std::expected<std::string, DriverError> renderInclude(const RoutingSpec& spec,
                                                      const BirdOptions& options) {
  if (auto ok = validate(spec, options); !ok) return std::unexpected(ok.error());
  const TagIds ids = assignIds(spec);

  std::string out = fmt::format(
      "# Generated by transit-hubd; do not edit. Replaced as a whole on every change.\n"
      "# Local AS {}; {} BGP session(s), {} static spoke(s), {} summar{}.\n",
      spec.local_as, spec.sessions.size(), spec.statics.size(), spec.summaries.size(),
      spec.summaries.size() == 1 ? "y" : "ies");
  out += tagTable(spec, ids);
  for (const auto& session : spec.sessions) out += renderSession(spec, ids, session);
  for (const auto& spoke : spec.statics) out += renderStatic(spec, ids, spoke);
  if (!spec.summaries.empty()) out += renderSummaries(spec, options);
  const bool any_bfd = spec.peer_hub || std::ranges::any_of(spec.sessions, &BgpSessionSpec::bfd);
  if (any_bfd) out += renderBfd(spec, options);
  if (spec.peer_hub) out += renderPeerHub(spec, ids, *spec.peer_hub);
  return out;
}

std::string renderMainConfig(const BirdOptions& options) {
  std::string out =
      "# BIRD 2.0.12 main configuration for transit-hubd. The hub's BGP sessions live in the\n"
      "# include file at the end, which transit-hubd rewrites; everything here is static.\n";
  if (!options.log_file.empty() && isSafePath(options.log_file)) {
    out += fmt::format("log \"{}\" all;\n", options.log_file);
  } else {
    out += "log syslog all;\n";
  }
  out += fmt::format(
      "router id {};\n"
      "timeformat protocol iso long;\n"
      "timeformat route iso long;\n"
      "\n"
      "protocol device {{\n"
      "  scan time 10;\n"
      "}}\n"
      "\n"
      "# Into the kernel FIB: the spokes' BGP routes and the hub's static routes (static spokes\n"
      "# over their tunnels, and the summaries as unreachable routes); never device routes.\n"
      "# Equal paths (two tunnels) become ECMP.\n"
      "protocol kernel kernel4 {{\n"
      "  ipv4 {{\n"
      "    import none;\n"
      "    export where source ~ [ RTS_BGP, RTS_STATIC ];\n"
      "  }};\n"
      "  merge paths yes limit 8;\n"
      "}}\n",
      options.router_id.toString());
  if (isSafePath(options.include_path)) {
    out += fmt::format("\ninclude \"{}\";\n", options.include_path);
  } else {
    // BIRD then runs without the hub's sessions and BirdDriver::apply() reports them missing.
    out += "\n# include refused: the include path must be absolute and need no escaping\n";
  }
  return out;
}

}  // namespace transit::routing
