#include "routing/bird/bird_routes.hpp"

#include <charconv>
#include <optional>
#include <string_view>
#include <utility>

#include <fmt/format.h>

namespace transit::routing {
namespace {

constexpr int kFirstErrorCode = 8000;

// A whole token of decimal digits that fits 32 bits.
std::optional<std::uint32_t> parseNumber(std::string_view token) {
  std::uint32_t value = 0;
  const auto* end = token.data() + token.size();
  const auto [ptr, ec] = std::from_chars(token.data(), end, value);
  if (token.empty() || ec != std::errc() || ptr != end) return std::nullopt;
  return value;
}

// "64700 {65101 65102}" -> 64700 65101 65102. Segment brackets (AS sets "{}", confederation
// segments "()" and "[]") are dropped, the ASNs kept. BIRD ends a path too long for its line
// buffer with "...": the ASNs before it are kept.
bool parseAsPath(std::string_view text, std::vector<std::uint32_t>& out) {
  out.clear();
  for (auto token = nextToken(text); !token.empty(); token = nextToken(text)) {
    if (token == "...") break;
    while (!token.empty() &&
           (token.front() == '{' || token.front() == '(' || token.front() == '[')) {
      token.remove_prefix(1);
    }
    while (!token.empty() && (token.back() == '}' || token.back() == ')' || token.back() == ']')) {
      token.remove_suffix(1);
    }
    if (token.empty()) continue;  // a bracket standing alone
    const auto asn = parseNumber(token);
    if (!asn) return false;
    out.push_back(*asn);
  }
  return true;
}

// "(64512, 1, 2) (65000, 2, 3)" -> the communities in order. BIRD prints each as three decimal
// numbers in parentheses, separated by ", ".
bool parseLargeCommunities(std::string_view text, std::vector<LargeCommunity>& out) {
  out.clear();
  text = trimBlanks(text);
  while (!text.empty()) {
    if (text.front() != '(') return false;
    const auto end = text.find(')');
    if (end == std::string_view::npos) return false;
    auto inside = text.substr(1, end - 1);
    std::uint32_t parts[3] = {};
    for (int i = 0; i < 3; ++i) {
      const auto comma = inside.find(',');
      if ((i < 2) != (comma != std::string_view::npos)) return false;
      const auto number = parseNumber(trimBlanks(inside.substr(0, comma)));
      if (!number) return false;
      parts[i] = *number;
      inside = i < 2 ? inside.substr(comma + 1) : std::string_view{};
    }
    out.push_back(LargeCommunity{parts[0], parts[1], parts[2]});
    text = trimBlanks(text.substr(end + 1));
  }
  return true;
}

// One route being assembled from its route line and the lines that follow it.
struct Entry {
  ObservedRoute route;
  bool open = false;  // a route line was read and its entry not yet finished
  bool bad = false;   // some line of the entry could not be parsed: the entry is skipped
};

class Parser {
 public:
  explicit Parser(bool filtered) : filtered_(filtered) {}

  void line(const BirdReplyLine& line) {
    if (line.code >= kFirstErrorCode) {  // "8000-<line overflow>" inside the reply
      ++result_.skipped;
      return;
    }
    const std::string_view text = line.text;
    if (text.empty()) return;
    if (text.front() == '\t') {
      detail(trimBlanks(text));
    } else {
      routeLine(text);
    }
  }

  BirdRoutes finish() {
    close();
    return std::move(result_);
  }

 private:
  void close() {
    if (!entry_.open) return;
    if (entry_.bad) {
      ++result_.skipped;
    } else {
      result_.routes.push_back(std::move(entry_.route));
    }
    entry_ = Entry{};
  }

  // "10.1.0.0/16   unicast [th_vpc_a_1 2026-11-26 09:30:05] * (100) [AS64512i]", the prefix
  // replaced by blanks for a further route of the same prefix; or a "Table master4:" heading.
  void routeLine(std::string_view text) {
    close();
    auto rest = text;
    if (text.front() != ' ') {
      const auto first = nextToken(rest);
      if (first == "Table") {  // heading of the next table
        prefix_.reset();
        return;
      }
      const auto parsed = Ipv4Prefix::parse(first);
      prefix_ = parsed ? std::optional<Ipv4Prefix>(*parsed) : std::nullopt;
    }
    entry_.open = true;
    if (!prefix_) {  // not IPv4 (master6), or a prefix we cannot read
      entry_.bad = true;
      return;
    }
    entry_.route.prefix = *prefix_;
    entry_.route.filtered = filtered_;
    // The route type (unicast, unreachable, blackhole, ...). BIRD 1.x printed a single next hop
    // here instead ("via 10.0.0.1 on eth0"); it is read as one.
    for (;;) {
      const auto before = rest;
      const auto token = nextToken(rest);
      if (token.empty()) {
        entry_.bad = true;
        return;
      }
      if (token.front() == '[') {
        rest = trimBlanks(before);
        break;
      }
      if (token == "via") viaAddress(rest);
    }
    rest.remove_prefix(1);
    const auto close_bracket = rest.find(']');
    if (close_bracket == std::string_view::npos) {
      entry_.bad = true;
      return;
    }
    auto inside = rest.substr(0, close_bracket);  // "PROTO TIME [from ADDRESS]"
    const auto protocol = nextToken(inside);
    if (protocol.empty()) {
      entry_.bad = true;
      return;
    }
    entry_.route.protocol = std::string(protocol);
    rest.remove_prefix(close_bracket + 1);
    // "*" marks the selected route, "!" a selected route the kernel did not take.
    const auto mark = nextToken(rest);
    entry_.route.primary = !filtered_ && (mark == "*" || mark == "!");
  }

  // The gateway at the start of `rest` ("169.254.30.2 on thp-h1 weight 1").
  void viaAddress(std::string_view rest) {
    const auto address = Ipv4Address::parse(nextToken(rest));
    if (!address) {
      entry_.bad = true;
      return;
    }
    entry_.route.next_hops.push_back(*address);
  }

  // A tab-indented line: a next hop ("via 169.254.30.2 on thp-h1 weight 1", "dev thp-h1") or
  // an attribute ("Type: BGP univ", "BGP.as_path: 64512", "BGP.med: 50", ...).
  void detail(std::string_view text) {
    if (!entry_.open) {
      ++result_.skipped;
      return;
    }
    if (entry_.bad) return;
    if (text.starts_with("via ")) {
      viaAddress(text.substr(4));
      return;
    }
    constexpr std::string_view kAsPath = "BGP.as_path:";
    constexpr std::string_view kMed = "BGP.med:";
    constexpr std::string_view kLargeCommunity = "BGP.large_community:";
    if (text.starts_with(kLargeCommunity)) {
      if (!parseLargeCommunities(text.substr(kLargeCommunity.size()),
                                 entry_.route.large_communities)) {
        entry_.bad = true;
      }
      return;
    }
    if (text.starts_with(kAsPath)) {
      if (!parseAsPath(text.substr(kAsPath.size()), entry_.route.as_path)) entry_.bad = true;
      return;
    }
    if (text.starts_with(kMed)) {
      const auto med = parseNumber(trimBlanks(text.substr(kMed.size())));
      if (!med) {
        entry_.bad = true;
        return;
      }
      entry_.route.med = *med;
    }
    // Anything else ("dev IF", "Type:", other attributes) carries nothing the hub reports.
  }

  bool filtered_;
  BirdRoutes result_;
  Entry entry_;
  std::optional<Ipv4Prefix> prefix_;  // the prefix of the last route line that named one
};

}  // namespace

std::expected<BirdRoutes, std::string> parseShowRouteAll(const BirdReply& reply, bool filtered) {
  if (reply.code >= kFirstErrorCode) {
    return std::unexpected(fmt::format("BIRD answered {}: {}", reply.code, reply.errorText()));
  }
  Parser parser(filtered);
  for (const auto& line : reply.lines) parser.line(line);
  return parser.finish();
}

}  // namespace transit::routing
