#include "routing/bird/dry_run_channel.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <sstream>
#include <vector>

#include "routing/base/file_io.hpp"

namespace transit::routing {
namespace {

// One reply: every line but the last continues ("DDDD-"), the last ends it ("DDDD ").
BirdReply reply(std::vector<BirdReplyLine> lines) {
  BirdReply out;
  out.code = lines.empty() ? 0 : lines.back().code;
  out.lines = std::move(lines);
  return out;
}

}  // namespace

DryRunBirdChannel::DryRunBirdChannel(BirdOptions options) : options_(std::move(options)) {
  const auto now = std::chrono::floor<std::chrono::milliseconds>(std::chrono::system_clock::now());
  booted_ = fmt::format("{:%Y-%m-%d %H:%M:%S}", now);
  configure();  // BIRD boots with the include file an earlier run left (its main config has it)
  previous_.clear();
}

void DryRunBirdChannel::configure() {
  previous_ = running_;
  running_.clear();
  std::istringstream text(readWholeFile(options_.include_path).value_or(""));
  for (std::string line; std::getline(text, line);) {
    std::istringstream words(line);
    std::string keyword, type, name;
    if (!(words >> keyword >> type >> name) || keyword != "protocol") continue;
    if (type == "bgp") running_.insert(Protocol{name, "BGP"});
    if (type == "static") running_.insert(Protocol{name, "Static"});
  }
}

BirdReply DryRunBirdChannel::protocols(std::string_view pattern) const {
  // `"th_*"`: the quoted pattern's text before the star.
  std::string_view prefix = pattern;
  if (const auto open = prefix.find('"'); open != std::string_view::npos) {
    prefix.remove_prefix(open + 1);
  }
  prefix = prefix.substr(0, prefix.find_first_of("*\""));
  std::vector<BirdReplyLine> lines{
      {2002, "Name       Proto      Table      State  Since         Info"}};
  const std::string since = booted_.substr(0, 19);
  for (const auto& protocol : running_) {
    if (!protocol.name.starts_with(prefix)) continue;
    const bool bgp = protocol.proto == "BGP";
    lines.push_back(
        {1002, fmt::format("{:<10} {:<10} {:<10} {:<6} {}  {}", protocol.name, protocol.proto,
                           "---", bgp ? "start" : "up", since, bgp ? "Active" : "")});
  }
  if (lines.size() == 1) return reply({{8003, "No protocols match"}});
  lines.push_back({0, ""});
  return reply(std::move(lines));
}

std::expected<BirdReply, DriverError> DryRunBirdChannel::command(std::string_view line) {
  const bool query = line.starts_with("show ");
  spdlog::log(query ? spdlog::level::debug : spdlog::level::info, "dry-run: would send to {}: {}",
              options_.socket_path, line);
  if (line == "show status") {
    return reply({{1000, "BIRD 2.0.12"},
                  {1011, fmt::format("Router ID is {}", options_.router_id.toString())},
                  {1011, fmt::format("Current server time is {}", booted_)},
                  {1011, fmt::format("Last reboot on {}", booted_)},
                  {1011, fmt::format("Last reconfiguration on {}", booted_)},
                  {13, "Daemon is up and running"}});
  }
  if (line.starts_with("show protocols all ")) return protocols(line.substr(19));
  if (line.starts_with("show protocols ")) return protocols(line.substr(15));
  if (line.starts_with("show route")) return reply({{0, ""}});
  const std::string reading =
      fmt::format("Reading configuration from {}", options_.main_config_path);
  if (line.starts_with("configure check")) {
    return reply({{2, reading}, {20, "Configuration OK"}});
  }
  if (line == "configure confirm") return reply({{18, "Reconfiguration confirmed"}});
  if (line == "configure undo") {
    running_ = previous_;
    return reply({{21, "Undo requested"}, {4, "Reconfiguration in progress"}});
  }
  if (line.starts_with("configure")) {
    configure();
    return reply({{2, reading},
                  {22, fmt::format("Undo scheduled in {} s", options_.configure_timeout.count())},
                  {3, "Reconfigured"}});
  }
  return reply({{0, ""}});
}

}  // namespace transit::routing
