#include "routing/link/dry_run_pair_link.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>
#include <charconv>

namespace transit::routing {
namespace {

using Answer = RecordingCommandRunner::Answer;

std::optional<std::string> after(const std::vector<std::string>& args, std::string_view word) {
  const auto it = std::ranges::find(args, word);
  if (it == args.end() || it + 1 == args.end()) return std::nullopt;
  return *(it + 1);
}

bool has(const std::vector<std::string>& args, std::string_view word) {
  return std::ranges::find(args, word) != args.end();
}

unsigned number(std::string_view text) {
  unsigned value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

Answer query(std::string out) {
  return Answer{RecordingCommandRunner::success(std::move(out)), true};
}
Answer change() { return Answer{RecordingCommandRunner::success(""), false}; }

}  // namespace

std::optional<Answer> DryRunPairLink::answer(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] != options_.ip) return std::nullopt;
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  const auto device = after(args, "dev");
  const bool adds_ours =
      args.size() >= 3 && args[0] == "link" && args[1] == "add" && args[2] == device_;
  if (!adds_ours && device != device_) return std::nullopt;  // another device's command
  if (has(args, "-j")) {
    if (!link_) {
      CommandResult missing;
      missing.exit_code = 1;
      missing.err = fmt::format("Device \"{}\" does not exist.\n", device_);
      return Answer{std::move(missing), true};
    }
    boost::json::object entry{{"ifname", device_}, {"mtu", link_->mtu}};
    if (has(args, "addr")) {
      boost::json::array infos;
      for (const auto& address : link_->addresses) {
        const auto slash = address.find('/');
        infos.push_back(boost::json::object{{"family", "inet"},
                                            {"local", address.substr(0, slash)},
                                            {"prefixlen", number(address.substr(slash + 1))}});
      }
      entry["addr_info"] = std::move(infos);
    } else {
      boost::json::array flags{"BROADCAST", "MULTICAST"};
      if (link_->up) {
        flags.emplace_back("UP");
        flags.emplace_back("LOWER_UP");
      }
      entry["flags"] = std::move(flags);
      entry["linkinfo"] =
          boost::json::object{{"info_kind", "vxlan"},
                              {"info_data", boost::json::object{{"id", number(link_->vni)},
                                                                {"remote", link_->remote},
                                                                {"local", link_->local},
                                                                {"link", link_->underlay},
                                                                {"port", number(link_->port)}}}};
    }
    return query(boost::json::serialize(boost::json::array{std::move(entry)}));
  }
  // ip link add DEV type vxlan id V local L remote R dstport P dev U | link set dev DEV mtu M
  // | link set dev DEV up | link del dev DEV | addr add A/L dev DEV | addr del A/L dev DEV
  if (adds_ours) {
    link_ = Link{after(args, "id").value_or(""),
                 after(args, "dstport").value_or(""),
                 after(args, "local").value_or(""),
                 after(args, "remote").value_or(""),
                 device.value_or(""),
                 1500,
                 false,
                 {}};
  } else if (link_ && args.size() >= 2 && args[0] == "link" && args[1] == "set") {
    if (const auto mtu = after(args, "mtu")) link_->mtu = number(*mtu);
    if (has(args, "up")) link_->up = true;
  } else if (args.size() >= 2 && args[0] == "link" && args[1] == "del") {
    link_.reset();
  } else if (link_ && args.size() >= 3 && args[0] == "addr") {
    if (args[1] == "add") link_->addresses.push_back(args[2]);
    if (args[1] == "del") std::erase(link_->addresses, args[2]);
  }
  return change();
}

}  // namespace transit::routing
