#include "peers/libreswan/xfrm_links.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>
#include <charconv>

namespace transit::peers {
namespace {

using Kind = DriverError::Kind;

// `ip -j` prints if_id with print_0xhex, a JSON string such as "0x7"; a plain number is
// accepted as well.
std::optional<std::uint32_t> parseIfId(const boost::json::value* value) {
  if (value == nullptr) {
    return std::nullopt;
  }
  if (value->is_number()) {
    return jsonCount(value);
  }
  if (!value->is_string()) {
    return std::nullopt;
  }
  std::string_view text = value->as_string();
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

// The if_id of an XFRM link (linkinfo.info_data.if_id).
std::optional<std::uint32_t> ifIdOf(const IpLink& link) {
  return parseIfId(link.info_data.if_contains("if_id"));
}

}  // namespace

std::expected<std::string, DriverError> XfrmLinks::underlayFor(Ipv4Address local) {
  if (!options_.underlay_device.empty()) {
    return options_.underlay_device;
  }
  auto holder = ip_.deviceHolding(local);
  if (!holder) {
    return std::unexpected(std::move(holder.error()));
  }
  if (*holder) {
    return std::move(**holder);
  }
  return std::unexpected(DriverError{
      Kind::kNeedsDependency,
      fmt::format("no device holds the hub's local address {} (the XFRM links' underlay); "
                  "configure the underlay device",
                  local.toString())});
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

  auto read = ip_.link(device);
  if (!read) {
    return std::unexpected(std::move(read.error()));
  }
  const IpLink& link = *read;
  const auto if_id = ifIdOf(link);
  if (link.exists && (link.kind != "xfrm" || if_id != spec.interface_id)) {
    return std::unexpected(DriverError{
        Kind::kInvalid,
        fmt::format("tunnel {}: device {} exists but is not an XFRM interface with if_id {} "
                    "(kind '{}', if_id {}); the hub leaves it alone",
                    spec.name, device, spec.interface_id, link.kind,
                    if_id ? std::to_string(*if_id) : "none")});
  }
  if (!link.exists) {
    auto underlay = underlayFor(spec.local_address);
    if (!underlay) {
      return std::unexpected(std::move(underlay.error()));
    }
    if (auto added = ip_.run({"link", "add", device, "type", "xfrm", "dev", *underlay, "if_id",
                              std::to_string(spec.interface_id)});
        !added) {
      return std::unexpected(std::move(added.error()));
    }
  }
  if (!link.exists || link.mtu != spec.mtu) {
    if (auto set = ip_.run({"link", "set", "dev", device, "mtu", std::to_string(spec.mtu)}); !set) {
      return std::unexpected(std::move(set.error()));
    }
  }

  // The inside address is the one IPv4 address on the link. Strays go first: deleting a primary
  // address would also delete a secondary one added after it in the same subnet.
  const std::string wanted = spec.hub_inside.toString();
  const int wanted_length = spec.inside_cidr.length();
  bool present = false;
  if (link.exists) {
    auto addresses = ip_.addresses(device);
    if (!addresses) {
      return std::unexpected(std::move(addresses.error()));
    }
    for (const auto& address : *addresses) {
      if (address.local == wanted && address.prefix_length == wanted_length) {
        present = true;
        continue;
      }
      if (auto deleted =
              ip_.run({"addr", "del", fmt::format("{}/{}", address.local, address.prefix_length),
                       "dev", device});
          !deleted) {
        return std::unexpected(std::move(deleted.error()));
      }
    }
  }
  if (!present) {
    if (auto added =
            ip_.run({"addr", "add", fmt::format("{}/{}", wanted, wanted_length), "dev", device});
        !added) {
      return std::unexpected(std::move(added.error()));
    }
  }
  if (!link.exists || !link.admin_up) {
    if (auto up = ip_.run({"link", "set", "dev", device, "up"}); !up) {
      return std::unexpected(std::move(up.error()));
    }
  }
  return {};
}

std::expected<void, DriverError> XfrmLinks::remove(std::uint32_t interface_id) {
  const std::string device = xfrmDeviceName(interface_id);
  if (interface_id != 0) {
    auto link = ip_.link(device);
    if (!link) {
      return std::unexpected(std::move(link.error()));
    }
    // Only a device ensure() could have made is deleted; anything else is not the tunnel's link.
    if (link->exists && link->kind == "xfrm" && ifIdOf(*link) == interface_id) {
      if (auto deleted = ip_.run({"link", "del", "dev", device}); !deleted) {
        return std::unexpected(std::move(deleted.error()));
      }
    }
  }
  return {};
}

}  // namespace transit::peers
