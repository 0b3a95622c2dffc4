#include "routing/nft/nft_filter.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "routing/base/run_command.hpp"

namespace transit::routing {
namespace {

using Kind = DriverError::Kind;

// Text safe inside an nft quoted string (no quote, backslash or control character). Segment
// names (letters, digits, '-') pass unchanged; anything else is replaced, never interpreted.
std::string commentText(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    const bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       c == '-' || c == '_' || c == '.' || c == ' ';
    c = plain ? c : '_';
  }
  return out;
}

// The prefixes of `cidrs` not covered by another one: an interval set refuses overlapping
// elements, and a covered prefix adds nothing to a match.
std::vector<Ipv4Prefix> uncovered(std::vector<Ipv4Prefix> cidrs) {
  std::ranges::sort(cidrs);
  cidrs.erase(std::unique(cidrs.begin(), cidrs.end()), cidrs.end());
  std::vector<Ipv4Prefix> out;
  for (const auto& cidr : cidrs) {
    const bool covered = std::ranges::any_of(
        cidrs, [&](const Ipv4Prefix& other) { return other != cidr && other.contains(cidr); });
    if (!covered) {
      out.push_back(cidr);
    }
  }
  return out;
}

const boost::json::value* field(const boost::json::value& value, std::string_view key) {
  const auto* object = value.if_object();
  return object == nullptr ? nullptr : object->if_contains(key);
}

}  // namespace

std::string renderForwardingTable(std::string_view table, const ForwardingPolicy& policy) {
  // Adding an empty table first makes the delete succeed whether or not it existed; nft -f
  // applies the whole file as one transaction, so packets never see a half-built table.
  std::string out = fmt::format(
      "# transit-hubd: segment isolation of forwarded traffic; do not edit\n"
      "table inet {0} {{}}\n"
      "delete table inet {0}\n",
      table);

  std::map<std::string, std::string, std::less<>> set_names;  // segment -> seg_<position>
  for (const auto& [segment, cidrs] : policy.segment_cidrs) {
    set_names.emplace(segment, fmt::format("seg_{}", set_names.size()));
  }
  std::string rules;
  for (const auto& [from, to] : policy.isolated) {
    const auto source = set_names.find(from);
    const auto destination = set_names.find(to);
    if (from == to || source == set_names.end() || destination == set_names.end()) {
      continue;  // nothing to match (only a hand-built policy has such a pair)
    }
    rules += fmt::format(
        "\t\tip saddr @{} ip daddr @{} counter drop comment \"segment {} may not reach {}\"\n",
        source->second, destination->second, commentText(from), commentText(to));
  }
  if (rules.empty()) {
    return out;
  }

  out += fmt::format("table inet {} {{\n", table);
  for (const auto& [segment, cidrs] : policy.segment_cidrs) {
    out += fmt::format("\tset {} {{\n", set_names.at(segment));
    out += "\t\ttype ipv4_addr\n";
    out += "\t\tflags interval\n";
    out += fmt::format("\t\tcomment \"segment {}\"\n", commentText(segment));
    std::string elements;
    for (const auto& cidr : uncovered(cidrs)) {
      elements += fmt::format("{}{}", elements.empty() ? "" : ", ", cidr.toString());
    }
    if (!elements.empty()) {
      out += fmt::format("\t\telements = {{ {} }}\n", elements);
    }
    out += "\t}\n";
  }
  out += "\tchain forward {\n";
  out += "\t\ttype filter hook forward priority filter - 10; policy accept;\n";
  out += rules;
  out += "\t}\n";
  out += "}\n";
  return out;
}

std::string renderMssClampTable(std::string_view table, const MssClamp& clamp) {
  // Adding an empty table first makes the delete succeed whether or not it existed; nft -f
  // applies the whole file as one transaction.
  std::string out = fmt::format(
      "# transit-hubd: TCP MSS clamp on the hub's XFRM tunnel links; do not edit\n"
      "table inet {0} {{}}\n"
      "delete table inet {0}\n",
      table);
  if (clamp.links.empty()) {
    return out;
  }
  std::string names;
  for (const auto& link : clamp.links) {
    names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", link);
  }
  const std::string rule = fmt::format(
      "tcp flags syn tcp option maxseg size > {0} tcp option maxseg size set {0}", clamp.mss);
  out += fmt::format("table inet {} {{\n", table);
  // Forwarded traffic is clamped in both directions; the hub's own (BGP) traffic on the way out.
  out += "\tchain forward {\n";
  out += "\t\ttype filter hook forward priority mangle; policy accept;\n";
  out += fmt::format("\t\toifname {{ {} }} {}\n", names, rule);
  out += fmt::format("\t\tiifname {{ {} }} {}\n", names, rule);
  out += "\t}\n";
  out += "\tchain output {\n";
  out += "\t\ttype filter hook output priority mangle; policy accept;\n";
  out += fmt::format("\t\toifname {{ {} }} {}\n", names, rule);
  out += "\t}\n";
  out += "}\n";
  return out;
}

std::optional<std::uint64_t> parseDroppedPackets(std::string_view nft_json) {
  boost::system::error_code ec;
  const auto root = boost::json::parse(nft_json, ec);
  const auto* entries = ec ? nullptr : field(root, "nftables");
  if (entries == nullptr || !entries->is_array()) {
    return std::nullopt;
  }
  std::uint64_t total = 0;
  for (const auto& entry : entries->as_array()) {
    const auto* rule = field(entry, "rule");
    if (rule == nullptr) {
      continue;
    }
    const auto* exprs = field(*rule, "expr");
    if (exprs == nullptr || !exprs->is_array()) {
      return std::nullopt;
    }
    std::optional<std::uint64_t> packets;
    bool drops = false;
    for (const auto& expr : exprs->as_array()) {
      drops = drops || field(expr, "drop") != nullptr;
      const auto* counter = field(expr, "counter");
      if (counter == nullptr) {
        continue;
      }
      const auto* count = field(*counter, "packets");
      if (count == nullptr || !count->is_number()) {
        return std::nullopt;
      }
      const auto value = count->to_number<std::uint64_t>(ec);
      if (ec) {
        return std::nullopt;
      }
      packets = value;
    }
    if (drops && packets) {
      total += *packets;
    }
  }
  return total;
}

std::expected<void, DriverError> NftForwardingFilter::load(std::string_view table,
                                                           std::string_view script) {
  const std::string path = fmt::format("{}/{}.nft", options_.dir, table);
  // 0600: root loads it, and nobody else needs to read the hub's ruleset from here.
  if (auto written = writePrivateFileAtomically(path, script); !written) {
    return written;
  }
  if (auto loaded = runCommand(runner_, {options_.nft, "-f", path}, options_.timeout); !loaded) {
    return std::unexpected(std::move(loaded.error()));
  }
  return {};
}

std::expected<void, DriverError> NftForwardingFilter::apply(const ForwardingPolicy& policy) {
  // The two tables are independent: a segment table nft refuses does not hold back the clamp.
  std::expected<void, DriverError> result;
  ForwardingPolicy segments;
  segments.segment_cidrs = policy.segment_cidrs;
  segments.isolated = policy.isolated;
  if (!applied_segments_ || *applied_segments_ != segments) {
    result = load(options_.table, renderForwardingTable(options_.table, segments));
    if (result) applied_segments_ = std::move(segments);
  }
  if (applied_clamp_ != policy.mss_clamp) {
    auto loaded =
        load(options_.mss_table, renderMssClampTable(options_.mss_table, policy.mss_clamp));
    if (loaded) {
      applied_clamp_ = policy.mss_clamp;
    } else if (result) {
      result = std::move(loaded);
    }
  }
  return result;
}

std::expected<std::optional<std::uint64_t>, DriverError> NftForwardingFilter::observe() {
  const std::vector<std::string> argv{options_.nft, "-j", "list", "table", "inet", options_.table};
  auto result = runCommand(runner_, argv, options_.timeout, ExitCheck::kReturnAny);
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  // No table (nothing isolated, not loaded yet, or deleted by hand): "Error: No such file or
  // directory", exit 1. A table this object loaded must be loaded again.
  if (!result->exitedWith(0) &&
      result->err.find("No such file or directory") != std::string::npos) {
    if (applied_segments_ && !applied_segments_->isolated.empty()) applied_segments_.reset();
    return std::nullopt;
  }
  if (!result->exitedWith(0)) {
    return std::unexpected(exitError(argv, *result));
  }
  const auto packets = parseDroppedPackets(result->out);
  if (!packets) {
    return std::unexpected(
        DriverError{Kind::kTransient, fmt::format("{}: unparsable output", joinedCommand(argv))});
  }
  return *packets;
}

}  // namespace transit::routing
