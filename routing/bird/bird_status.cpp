#include "routing/bird/bird_status.hpp"

#include <charconv>
#include <optional>

#include <fmt/format.h>

namespace transit::routing {
namespace {

constexpr int kCodeStatusVersion = 1000;
constexpr int kCodeProtocolList = 1002;
constexpr int kCodeProtocolDetails = 1006;
constexpr int kCodeUptime = 1011;
constexpr int kCodeNoProtocols = 8003;

bool isDate(std::string_view token) {
  return token.size() == 10 && token[4] == '-' && token[7] == '-';
}

bool isTime(std::string_view token) {
  return token.size() >= 8 && token[2] == ':' && token[5] == ':';
}

std::optional<BirdProtocol> parseRow(std::string_view row) {
  BirdProtocol protocol;
  protocol.name = std::string(nextToken(row));
  protocol.proto = std::string(nextToken(row));
  nextToken(row);  // table
  protocol.state = std::string(nextToken(row));
  if (protocol.name.empty() || protocol.state.empty()) return std::nullopt;
  // Since: "2026-11-26 04:37:49" with `timeformat protocol iso long`, otherwise one token.
  auto since = nextToken(row);
  if (isDate(since)) {
    auto rest = row;
    if (isTime(nextToken(rest))) row = rest;
  }
  protocol.info = std::string(trimBlanks(row));
  return protocol;
}

std::string replyError(const BirdReply& reply) {
  return fmt::format("BIRD answered {}: {}", reply.code, reply.errorText());
}

std::uint32_t parseCount(std::string_view text) {
  std::uint32_t value = 0;
  text = trimBlanks(text);
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

// "2 imported, 1 filtered, 3 exported, 2 preferred"
void parseRoutes(std::string_view text, ObservedSession& session) {
  while (!text.empty()) {
    const auto comma = text.find(',');
    auto item = trimBlanks(text.substr(0, comma));
    text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
    const auto space = item.find(' ');
    if (space == std::string_view::npos) continue;
    const auto count = parseCount(item.substr(0, space));
    const auto what = trimBlanks(item.substr(space));
    if (what == "imported") session.routes_imported = count;
    if (what == "filtered") session.routes_filtered = count;
    if (what == "exported") session.routes_exported = count;
  }
}

}  // namespace

std::expected<BirdStatus, std::string> parseShowStatus(const BirdReply& reply) {
  if (!reply.ok()) return std::unexpected(replyError(reply));
  BirdStatus status;
  for (const auto& line : reply.lines) {
    std::string_view text = line.text;
    if (line.code == kCodeStatusVersion) status.version = std::string(trimBlanks(text));
    if (line.code != kCodeUptime) continue;
    text = trimBlanks(text);
    if (text.starts_with("Router ID is ")) status.router_id = text.substr(13);
    if (text.starts_with("Last reboot on ")) status.last_reboot = text.substr(15);
    if (text.starts_with("Last reconfiguration on ")) {
      status.last_reconfiguration = text.substr(24);
    }
  }
  if (!reply.lines.empty()) status.state = std::string(trimBlanks(reply.lines.back().text));
  if (status.last_reboot.empty()) {
    return std::unexpected(std::string("show status: no 'Last reboot on' line"));
  }
  return status;
}

std::expected<std::vector<BirdProtocol>, std::string> parseShowProtocols(const BirdReply& reply) {
  if (reply.code == kCodeNoProtocols) return std::vector<BirdProtocol>{};
  if (!reply.ok()) return std::unexpected(replyError(reply));
  std::vector<BirdProtocol> protocols;
  for (const auto& line : reply.lines) {
    if (line.code != kCodeProtocolList) continue;
    if (auto row = parseRow(line.text)) protocols.push_back(std::move(*row));
  }
  return protocols;
}

std::expected<std::vector<ObservedSession>, std::string> parseShowProtocolsAll(
    const BirdReply& reply, std::string_view prefix) {
  if (reply.code == kCodeNoProtocols) return std::vector<ObservedSession>{};
  if (!reply.ok()) return std::unexpected(replyError(reply));
  std::vector<ObservedSession> sessions;
  bool owned = false;  // whether the current protocol's details belong to sessions.back()
  for (const auto& line : reply.lines) {
    if (line.code == kCodeProtocolList) {
      owned = false;
      auto row = parseRow(line.text);
      if (!row || row->proto != "BGP" || !row->name.starts_with(prefix)) continue;
      ObservedSession session;
      session.name = row->name;
      session.protocol_state = row->state;
      // Info: BGP state padded to 14 characters, then the error, if any.
      std::string_view info = row->info;
      const std::string_view known[] = {"Idle",        "Connect",     "Active", "OpenSent",
                                        "OpenConfirm", "Established", "Close"};
      auto rest = info;
      const auto first = nextToken(rest);
      bool is_state = false;
      for (auto state : known) is_state = is_state || first == state;
      if (is_state) {
        session.bgp_state = std::string(first);
        session.last_error = std::string(trimBlanks(rest));
      } else {
        session.last_error = std::string(trimBlanks(info));
      }
      sessions.push_back(std::move(session));
      owned = true;
      continue;
    }
    if (!owned || line.code != kCodeProtocolDetails) continue;
    auto text = trimBlanks(line.text);
    const auto colon = text.find(':');
    if (colon == std::string_view::npos) continue;
    const auto key = text.substr(0, colon);
    const auto value = trimBlanks(text.substr(colon + 1));
    auto& session = sessions.back();
    if (key == "BGP state") session.bgp_state = std::string(value);
    if (key == "Last error") session.last_error = std::string(value);
    if (key == "Routes") parseRoutes(value, session);
  }
  for (auto& session : sessions) session.established = session.bgp_state == "Established";
  return sessions;
}

}  // namespace transit::routing
