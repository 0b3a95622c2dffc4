#include "routing/link/pair_link.hpp"

#include <fmt/format.h>

#include <algorithm>

namespace transit::routing {
namespace {

using Kind = DriverError::Kind;

DriverError invalid(std::string message) { return DriverError{Kind::kInvalid, std::move(message)}; }

bool isDeviceName(std::string_view name) {
  if (name.empty() || name.size() > 15) return false;
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

std::expected<void, DriverError> VxlanPairLink::check(const PairLinkSpec& spec) {
  if (!isDeviceName(spec.device)) {
    return std::unexpected(invalid(
        fmt::format("pair link: device name '{}' must match [A-Za-z0-9_.-]{{1,15}}", spec.device)));
  }
  if (!spec.underlay_device.empty() && !isDeviceName(spec.underlay_device)) {
    return std::unexpected(
        invalid(fmt::format("pair link: underlay device '{}' must match [A-Za-z0-9_.-]{{1,15}}",
                            spec.underlay_device)));
  }
  if (spec.vni == 0 || spec.vni > 16777215) {
    return std::unexpected(invalid(fmt::format("pair link: VNI {} is not 1-16777215", spec.vni)));
  }
  if (spec.port == 0) return std::unexpected(invalid("pair link: UDP port 0"));
  if (spec.mtu < 68 || spec.mtu > 65535) {
    return std::unexpected(invalid(fmt::format("pair link: MTU {} is not 68-65535", spec.mtu)));
  }
  if (spec.local == spec.remote || spec.local.value() == 0 || spec.remote.value() == 0) {
    return std::unexpected(invalid(fmt::format("pair link: local {} and remote {} must differ",
                                               spec.local.toString(), spec.remote.toString())));
  }
  const auto& inside = spec.inside;
  if (inside.length() > 30 || !inside.contains(spec.address) || spec.address == inside.network() ||
      spec.address == inside.host(static_cast<std::uint32_t>(inside.size() - 1))) {
    return std::unexpected(
        invalid(fmt::format("pair link: address {} is not a usable address of {}",
                            spec.address.toString(), inside.toString())));
  }
  return {};
}

std::expected<std::string, DriverError> VxlanPairLink::underlayFor(const PairLinkSpec& spec) {
  if (!spec.underlay_device.empty()) return spec.underlay_device;
  auto holder = ip_.deviceHolding(spec.local);
  if (!holder) return std::unexpected(std::move(holder.error()));
  if (*holder) return std::move(**holder);
  return std::unexpected(DriverError{
      Kind::kNeedsDependency,
      fmt::format("pair link: no device holds the hub's local address {} (the link's underlay); "
                  "set pair.link.underlay_device",
                  spec.local.toString())});
}

std::string VxlanPairLink::vxlanDiffers(const IpLink& link, const PairLinkSpec& spec,
                                        const std::string& underlay) {
  if (link.kind != "vxlan") return fmt::format("kind '{}', not vxlan", link.kind);
  const auto& data = link.info_data;
  if (const auto vni = jsonCount(data.if_contains("id")); vni != spec.vni) {
    return fmt::format("vni {}, not {}", vni ? std::to_string(*vni) : "none", spec.vni);
  }
  if (const auto port = jsonCount(data.if_contains("port")); port != spec.port) {
    return fmt::format("port {}, not {}", port ? std::to_string(*port) : "none", spec.port);
  }
  if (const auto local = jsonText(data.if_contains("local")); local != spec.local.toString()) {
    return fmt::format("local '{}', not {}", local, spec.local.toString());
  }
  if (const auto remote = jsonText(data.if_contains("remote")); remote != spec.remote.toString()) {
    return fmt::format("remote '{}', not {}", remote, spec.remote.toString());
  }
  // info_data.link: the device it is bound to.
  if (const auto bound = jsonText(data.if_contains("link"));
      !underlay.empty() && bound != underlay) {
    return fmt::format("underlay '{}', not {}", bound, underlay);
  }
  return "";
}

std::expected<ObservedPairLink, DriverError> VxlanPairLink::observe(const PairLinkSpec& spec) {
  auto read = ip_.link(spec.device);
  if (!read) return std::unexpected(std::move(read.error()));
  ObservedPairLink observed;
  observed.exists = read->exists;
  if (!read->exists) return observed;
  observed.up = read->admin_up && read->lower_up;
  // The underlay is compared only when the config names it (looking it up costs a command).
  observed.differs = vxlanDiffers(*read, spec, spec.underlay_device);
  if (observed.differs.empty() && read->mtu != spec.mtu) {
    observed.differs = fmt::format("mtu {}, not {}", read->mtu, spec.mtu);
  }
  if (observed.differs.empty()) {
    auto addresses = ip_.addresses(spec.device);
    if (!addresses) return std::unexpected(std::move(addresses.error()));
    const bool only_ours = addresses->size() == 1 &&
                           addresses->front().local == spec.address.toString() &&
                           addresses->front().prefix_length == spec.inside.length();
    if (!only_ours) {
      observed.differs = fmt::format("addresses are not exactly {}/{}", spec.address.toString(),
                                     spec.inside.length());
    }
  }
  if (observed.differs.empty() && !read->admin_up) observed.differs = "administratively down";
  observed.matches = observed.differs.empty();
  return observed;
}

std::expected<void, DriverError> VxlanPairLink::apply(const PairLinkSpec& spec) {
  if (auto ok = check(spec); !ok) return ok;
  auto read = ip_.link(spec.device);
  if (!read) return std::unexpected(std::move(read.error()));
  IpLink link = *read;
  if (link.exists && link.kind != "vxlan") {
    return std::unexpected(invalid(fmt::format(
        "pair link: device {} exists but is not a VXLAN device (kind '{}'); the hub leaves it "
        "alone",
        spec.device, link.kind)));
  }
  auto underlay = underlayFor(spec);
  if (!underlay) return std::unexpected(std::move(underlay.error()));
  // The kernel cannot change a VXLAN device's id, addresses or port: a new one replaces it.
  if (link.exists && !vxlanDiffers(link, spec, *underlay).empty()) {
    if (auto deleted = ip_.run({"link", "del", "dev", spec.device}); !deleted) {
      return std::unexpected(std::move(deleted.error()));
    }
    link = IpLink{};
  }
  if (!link.exists) {
    if (auto added =
            ip_.run({"link", "add", spec.device, "type", "vxlan", "id", std::to_string(spec.vni),
                     "local", spec.local.toString(), "remote", spec.remote.toString(), "dstport",
                     std::to_string(spec.port), "dev", *underlay});
        !added) {
      return std::unexpected(std::move(added.error()));
    }
  }
  if (!link.exists || link.mtu != spec.mtu) {
    if (auto set = ip_.run({"link", "set", "dev", spec.device, "mtu", std::to_string(spec.mtu)});
        !set) {
      return std::unexpected(std::move(set.error()));
    }
  }
  // The link's address is its one IPv4 address; strays go first.
  const std::string wanted = spec.address.toString();
  bool present = false;
  if (link.exists) {
    auto addresses = ip_.addresses(spec.device);
    if (!addresses) return std::unexpected(std::move(addresses.error()));
    for (const auto& address : *addresses) {
      if (address.local == wanted && address.prefix_length == spec.inside.length()) {
        present = true;
        continue;
      }
      if (auto deleted =
              ip_.run({"addr", "del", fmt::format("{}/{}", address.local, address.prefix_length),
                       "dev", spec.device});
          !deleted) {
        return std::unexpected(std::move(deleted.error()));
      }
    }
  }
  if (!present) {
    if (auto added = ip_.run({"addr", "add", fmt::format("{}/{}", wanted, spec.inside.length()),
                              "dev", spec.device});
        !added) {
      return std::unexpected(std::move(added.error()));
    }
  }
  if (!link.exists || !link.admin_up) {
    if (auto up = ip_.run({"link", "set", "dev", spec.device, "up"}); !up) {
      return std::unexpected(std::move(up.error()));
    }
  }
  return {};
}

std::expected<void, DriverError> VxlanPairLink::remove(const std::string& device) {
  if (!isDeviceName(device)) {
    return std::unexpected(
        invalid(fmt::format("pair link: device name '{}' is not valid", device)));
  }
  auto link = ip_.link(device);
  if (!link) return std::unexpected(std::move(link.error()));
  // Only a VXLAN device is ours; anything else of that name is left alone.
  if (link->exists && link->kind == "vxlan") {
    if (auto deleted = ip_.run({"link", "del", "dev", device}); !deleted) {
      return std::unexpected(std::move(deleted.error()));
    }
  }
  return {};
}

}  // namespace transit::routing
