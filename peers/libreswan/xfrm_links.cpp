#include "peers/libreswan/xfrm_links.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>

#include "routing/base/run_command.hpp"

namespace transit::peers {
namespace {

using Kind = DriverError::Kind;

const boost::json::value* field(const boost::json::value& value, std::string_view key) {
  const auto* object = value.if_object();
  return object == nullptr ? nullptr : object->if_contains(key);
}

// A non-negative integer that fits in 32 bits, else nothing (never throws).
std::optional<std::uint32_t> count(const boost::json::value* value) {
  if (value == nullptr || !value->is_number()) {
    return std::nullopt;
  }
  boost::system::error_code ec;
  const auto number = value->to_number<std::uint32_t>(ec);
  if (ec) {
    return std::nullopt;
  }
  return number;
}

// `ip -j` prints if_id with print_0xhex, a JSON string such as "0x7"; a plain number is
// accepted as well.
std::optional<std::uint32_t> parseIfId(const boost::json::value& value) {
  if (value.is_number()) {
    return count(&value);
  }
  if (!value.is_string()) {
    return std::nullopt;
  }
  std::string_view text = value.as_string();
  int base = 10;
  if (text.starts_with("0x") || text.starts_with("0X")) {
    text.remove_prefix(2);
    base = 16;
  }
  std::uint32_t id = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), id, base);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size()) {
    return std::nullopt;
  }
  return id;
}

// The JSON array `argv` printed, or the error that ran it or parses it.
std::expected<boost::json::array, DriverError> parseArray(
    const std::vector<std::string>& argv, const std::expected<std::string, DriverError>& out) {
  if (!out) {
    return std::unexpected(out.error());
  }
  boost::system::error_code ec;
  auto value = boost::json::parse(*out, ec);
  if (ec || !value.is_array()) {
    return std::unexpected(
        DriverError{Kind::kTransient, fmt::format("{}: unparsable output: {}", joinedCommand(argv),
                                                  ec ? ec.message() : "not a JSON array")});
  }
  return std::move(value.as_array());
}

}  // namespace

std::expected<CommandResult, DriverError> XfrmLinks::run(const std::vector<std::string>& argv) {
  return runCommand(runner_, argv, options_.command_timeout, ExitCheck::kReturnAny);
}

std::expected<std::string, DriverError> XfrmLinks::runOk(const std::vector<std::string>& argv) {
  auto result = runCommand(runner_, argv, options_.command_timeout);
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  return std::move(result->out);
}

std::expected<XfrmLinks::Link, DriverError> XfrmLinks::readLink(const std::string& device) {
  const std::vector<std::string> argv{options_.ip, "-j", "-d", "link", "show", "dev", device};
  auto result = run(argv);
  if (!result) {
    return std::unexpected(std::move(result.error()));
  }
  // `Device "ipsec7" does not exist.` on stderr, exit 1.
  if (!result->exitedWith(0) && result->err.find("does not exist") != std::string::npos) {
    return Link{};
  }
  if (!result->exitedWith(0)) {
    return std::unexpected(exitError(argv, *result));
  }
  auto links = parseArray(argv, std::move(result->out));
  if (!links) {
    return std::unexpected(std::move(links.error()));
  }
  for (const auto& entry : *links) {
    const auto* name = field(entry, "ifname");
    if (name == nullptr || !name->is_string() || name->as_string() != device) {
      continue;
    }
    Link link;
    link.exists = true;
    link.mtu = count(field(entry, "mtu")).value_or(0);
    if (const auto* flags = field(entry, "flags"); flags != nullptr && flags->is_array()) {
      for (const auto& flag : flags->as_array()) {
        link.up = link.up || (flag.is_string() && flag.as_string() == "UP");
      }
    }
    if (const auto* info = field(entry, "linkinfo")) {
      if (const auto* kind = field(*info, "info_kind"); kind != nullptr && kind->is_string()) {
        link.kind = kind->as_string();
      }
      if (const auto* data = field(*info, "info_data")) {
        if (const auto* if_id = field(*data, "if_id")) {
          link.if_id = parseIfId(*if_id);
        }
      }
    }
    return link;
  }
  return Link{};
}

std::expected<std::vector<XfrmLinks::Address>, DriverError> XfrmLinks::readAddresses(
    const std::string& device) {
  const std::vector<std::string> argv{options_.ip, "-j", "addr", "show", "dev", device};
  auto links = parseArray(argv, runOk(argv));
  if (!links) {
    return std::unexpected(std::move(links.error()));
  }
  std::vector<Address> addresses;
  for (const auto& entry : *links) {
    const auto* infos = field(entry, "addr_info");
    if (infos == nullptr || !infos->is_array()) {
      continue;
    }
    for (const auto& info : infos->as_array()) {
      const auto* family = field(info, "family");
      const auto* local = field(info, "local");
      const auto length = count(field(info, "prefixlen"));
      if (family == nullptr || !family->is_string() || family->as_string() != "inet" ||
          local == nullptr || !local->is_string() || !length || *length > 32) {
        continue;
      }
      addresses.push_back(Address{std::string(local->as_string()), static_cast<int>(*length)});
    }
  }
  return addresses;
}

std::expected<std::string, DriverError> XfrmLinks::underlayFor(Ipv4Address local) {
  if (!options_.underlay_device.empty()) {
    return options_.underlay_device;
  }
  const std::vector<std::string> argv{options_.ip, "-j", "-4", "addr", "show"};
  auto links = parseArray(argv, runOk(argv));
  if (!links) {
    return std::unexpected(std::move(links.error()));
  }
  const std::string wanted = local.toString();
  for (const auto& entry : *links) {
    const auto* name = field(entry, "ifname");
    const auto* infos = field(entry, "addr_info");
    if (name == nullptr || !name->is_string() || infos == nullptr || !infos->is_array()) {
      continue;
    }
    for (const auto& info : infos->as_array()) {
      const auto* address = field(info, "local");
      if (address != nullptr && address->is_string() && address->as_string() == wanted) {
        return std::string(name->as_string());
      }
    }
  }
  return std::unexpected(DriverError{
      Kind::kNeedsDependency,
      fmt::format("no device holds the hub's local address {} (the XFRM links' underlay); "
                  "configure the underlay device",
                  wanted)});
}

std::expected<void, DriverError> XfrmLinks::ensure(const TunnelSpec& spec) {
  const std::string device = xfrmDeviceName(spec.interface_id);
  if (spec.interface_id == 0) {
    // libreswan maps ipsec-interface=0 to ipsec0 with if_id 16384; the planner never uses it.
    return std::unexpected(DriverError{
        Kind::kInvalid, fmt::format("tunnel {}: XFRM interface id 0 is not supported", spec.name)});
  }
  if (spec.inside_cidr.length() == 0 || !spec.inside_cidr.contains(spec.hub_inside)) {
    return std::unexpected(
        DriverError{Kind::kInvalid,
                    fmt::format("tunnel {}: inside address {} is not in inside CIDR {}/{}",
                                spec.name, spec.hub_inside.toString(),
                                spec.inside_cidr.network().toString(), spec.inside_cidr.length())});
  }
  if (spec.mtu < 68 || spec.mtu > 65535 || spec.tcp_mss == 0 || spec.tcp_mss > 65535) {
    return std::unexpected(
        DriverError{Kind::kInvalid, fmt::format("tunnel {}: MTU {} or TCP MSS {} out of range",
                                                spec.name, spec.mtu, spec.tcp_mss)});
  }

  auto read = readLink(device);
  if (!read) {
    return std::unexpected(std::move(read.error()));
  }
  const Link& link = *read;
  if (link.exists && (link.kind != "xfrm" || link.if_id != spec.interface_id)) {
    return std::unexpected(DriverError{
        Kind::kInvalid,
        fmt::format("tunnel {}: device {} exists but is not an XFRM interface with if_id {} "
                    "(kind '{}', if_id {}); the hub leaves it alone",
                    spec.name, device, spec.interface_id, link.kind,
                    link.if_id ? std::to_string(*link.if_id) : "none")});
  }
  if (!link.exists) {
    auto underlay = underlayFor(spec.local_address);
    if (!underlay) {
      return std::unexpected(std::move(underlay.error()));
    }
    if (auto added = runOk({options_.ip, "link", "add", device, "type", "xfrm", "dev", *underlay,
                            "if_id", std::to_string(spec.interface_id)});
        !added) {
      return std::unexpected(std::move(added.error()));
    }
  }
  if (!link.exists || link.mtu != spec.mtu) {
    if (auto set =
            runOk({options_.ip, "link", "set", "dev", device, "mtu", std::to_string(spec.mtu)});
        !set) {
      return std::unexpected(std::move(set.error()));
    }
  }

  // The inside address is the one IPv4 address on the link. Strays go first: deleting a primary
  // address would also delete a secondary one added after it in the same subnet.
  const std::string wanted = spec.hub_inside.toString();
  const int wanted_length = spec.inside_cidr.length();
  bool present = false;
  if (link.exists) {
    auto addresses = readAddresses(device);
    if (!addresses) {
      return std::unexpected(std::move(addresses.error()));
    }
    for (const auto& address : *addresses) {
      if (address.local == wanted && address.prefix_length == wanted_length) {
        present = true;
        continue;
      }
      if (auto deleted =
              runOk({options_.ip, "addr", "del",
                     fmt::format("{}/{}", address.local, address.prefix_length), "dev", device});
          !deleted) {
        return std::unexpected(std::move(deleted.error()));
      }
    }
  }
  if (!present) {
    if (auto added = runOk({options_.ip, "addr", "add", fmt::format("{}/{}", wanted, wanted_length),
                            "dev", device});
        !added) {
      return std::unexpected(std::move(added.error()));
    }
  }
  if (!link.exists || !link.up) {
    if (auto up = runOk({options_.ip, "link", "set", "dev", device, "up"}); !up) {
      return std::unexpected(std::move(up.error()));
    }
  }
  return {};
}

std::expected<void, DriverError> XfrmLinks::remove(std::uint32_t interface_id) {
  const std::string device = xfrmDeviceName(interface_id);
  if (interface_id != 0) {
    auto link = readLink(device);
    if (!link) {
      return std::unexpected(std::move(link.error()));
    }
    // Only a device ensure() could have made is deleted; anything else is not the tunnel's link.
    if (link->exists && link->kind == "xfrm" && link->if_id == interface_id) {
      if (auto deleted = runOk({options_.ip, "link", "del", "dev", device}); !deleted) {
        return std::unexpected(std::move(deleted.error()));
      }
    }
  }
  return {};
}

}  // namespace transit::peers
