#include "peers/libreswan/dry_run_pluto.hpp"

#include <unistd.h>

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>
#include <string_view>
#include <system_error>

#include "routing/base/run_command.hpp"

namespace transit::peers {
namespace {

using Answer = RecordingCommandRunner::Answer;

Answer query(std::string out) {
  return Answer{RecordingCommandRunner::success(std::move(out)), true};
}
Answer change() { return Answer{RecordingCommandRunner::success(), false}; }

// The value after `key` in args, if any.
std::optional<std::string> after(const std::vector<std::string>& args, std::string_view key) {
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == key) return args[i + 1];
  }
  return std::nullopt;
}

bool has(const std::vector<std::string>& args, std::string_view word) {
  for (const auto& arg : args) {
    if (arg == word) return true;
  }
  return false;
}

std::uint32_t number(std::string_view text) {
  std::uint32_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

}  // namespace

DryRunPluto::DryRunPluto(LibreswanOptions options, Ipv4Address local_address)
    : options_(std::move(options)), local_address_(local_address) {
  std::error_code ec;
  for (std::filesystem::directory_iterator it(options_.conf_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const auto& file = it->path();
    if (file.extension() != ".conf") continue;
    const std::string name = file.stem().string();
    if (ownedConnectionName(name, options_.prefix)) loaded_[name] = true;
  }
}

std::expected<void, DriverError> DryRunPluto::writePidFile(const std::string& path) {
  return writePrivateFileAtomically(path, fmt::format("{}\n", ::getpid()));
}

std::string DryRunPluto::status() const {
  // The connection list as pluto 4.10 prints it; the parser reads the name and the policy.
  std::string out = "000 using kernel interface: xfrm\n000  \n000 Connection list:\n000  \n";
  for (const auto& [name, up] : loaded_) {
    out +=
        fmt::format("000 \"{}\":   policy: IKEv2+PSK+ENCRYPT+TUNNEL+PFS{}+IKE_FRAG_ALLOW+ESN_NO;\n",
                    name, up ? "+UP" : "");
  }
  out += "000  \n000 Total IPsec connections: loaded " + std::to_string(loaded_.size()) +
         ", active 0\n";
  return out;
}

std::optional<Answer> DryRunPluto::whack(const std::vector<std::string>& args) {
  if (has(args, "--status")) return query(status());
  if (has(args, "--showstates") || has(args, "--trafficstatus")) return query("");
  if (const auto name = after(args, "--name")) {
    if (has(args, "--delete")) loaded_.erase(*name);
    if (has(args, "--initiate")) {
      if (auto it = loaded_.find(*name); it != loaded_.end()) it->second = true;
    }
  }
  return change();
}

std::optional<Answer> DryRunPluto::ip(const std::vector<std::string>& args) {
  const auto device = after(args, "dev");
  if (has(args, "-j")) {
    boost::json::array out;
    if (!device) {  // `ip -j -4 addr show`: the underlay holds the hub's local address
      boost::json::object info{
          {"family", "inet"}, {"local", local_address_.toString()}, {"prefixlen", 32}};
      out.push_back(
          boost::json::object{{"ifname", kUnderlay}, {"addr_info", boost::json::array{info}}});
      return query(boost::json::serialize(out));
    }
    const auto link = links_.find(*device);
    if (link == links_.end()) {
      CommandResult missing;
      missing.exit_code = 1;
      missing.err = fmt::format("Device \"{}\" does not exist.\n", *device);
      return Answer{std::move(missing), true};
    }
    boost::json::object entry{{"ifname", *device}, {"mtu", link->second.mtu}};
    if (has(args, "addr")) {
      boost::json::array infos;
      for (const auto& address : link->second.addresses) {
        const auto slash = address.find('/');
        infos.push_back(boost::json::object{{"family", "inet"},
                                            {"local", address.substr(0, slash)},
                                            {"prefixlen", number(address.substr(slash + 1))}});
      }
      entry["addr_info"] = std::move(infos);
    } else {
      boost::json::array flags;
      if (link->second.up) flags.push_back("UP");
      entry["flags"] = std::move(flags);
      entry["linkinfo"] = boost::json::object{
          {"info_kind", "xfrm"},
          {"info_data", boost::json::object{{"if_id", fmt::format("{:#x}", link->second.if_id)}}}};
    }
    out.push_back(std::move(entry));
    return query(boost::json::serialize(out));
  }
  // ip link add DEV type xfrm dev UNDERLAY if_id N | link set dev DEV mtu M | link set dev DEV up
  // | link del dev DEV | addr add A/L dev DEV | addr del A/L dev DEV
  if (args.size() >= 3 && args[0] == "link" && args[1] == "add") {
    links_[args[2]].if_id = number(after(args, "if_id").value_or("0"));
  } else if (device && args.size() >= 2 && args[0] == "link" && args[1] == "set") {
    if (auto it = links_.find(*device); it != links_.end()) {
      if (const auto mtu = after(args, "mtu")) it->second.mtu = number(*mtu);
      if (has(args, "up")) it->second.up = true;
    }
  } else if (device && args.size() >= 2 && args[0] == "link" && args[1] == "del") {
    links_.erase(*device);
  } else if (device && args.size() >= 3 && args[0] == "addr") {
    if (auto it = links_.find(*device); it != links_.end()) {
      auto& addresses = it->second.addresses;
      if (args[1] == "add") addresses.push_back(args[2]);
      if (args[1] == "del") std::erase(addresses, args[2]);
    }
  }
  return change();
}

std::optional<Answer> DryRunPluto::answer(const std::vector<std::string>& argv) {
  if (argv.empty()) return std::nullopt;
  const std::vector<std::string> args(argv.begin() + 1, argv.end());
  if (argv[0] == options_.whack) return whack(args);
  if (argv[0] == options_.addconn) {
    // addconn --ctlsocket S --config FILE NAME: replaces the connection, UP policy included.
    if (!args.empty()) loaded_.insert_or_assign(args.back(), false);
    return change();
  }
  if (argv[0] == options_.xfrm.ip) return ip(args);
  return std::nullopt;  // nft (the MSS clamp) and anything else: a silent success
}

}  // namespace transit::peers
