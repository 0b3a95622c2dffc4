#include "routing/link/pair_link.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <boost/json.hpp>

#include "routing/base/run_command.hpp"

namespace transit::routing {
namespace {

using Kind = DriverError::Kind;

DriverError invalid(std::string message) { return DriverError{Kind::kInvalid, std::move(message)}; }

const boost::json::value* field(const boost::json::value& value, std::string_view key) {
  const auto* object = value.if_object();
  return object == nullptr ? nullptr : object->if_contains(key);
}

// A non-negative integer that fits in 32 bits, else nothing (never throws).
std::optional<std::uint32_t> count(const boost::json::value* value) {
  if (value == nullptr || !value->is_number()) return std::nullopt;
  boost::system::error_code ec;
  const auto number = value->to_number<std::uint32_t>(ec);
  if (ec) return std::nullopt;
  return number;
}

std::string text(const boost::json::value* value) {
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

// The JSON array `argv` printed, or the error that ran it or parses it.
std::expected<boost::json::array, DriverError> parseArray(
    const std::vector<std::string>& argv, const std::expected<std::string, DriverError>& out) {
  if (!out) return std::unexpected(out.error());
  boost::system::error_code ec;
  auto value = boost::json::parse(*out, ec);
  if (ec || !value.is_array()) {
    return std::unexpected(
        DriverError{Kind::kTransient, fmt::format("{}: unparsable output: {}", joinedCommand(argv),
                                                  ec ? ec.message() : "not a JSON array")});
  }
  return std::move(value.as_array());
}

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

std::expected<std::string, DriverError> VxlanPairLink::runOk(const std::vector<std::string>& argv) {
  auto result = runCommand(runner_, argv, options_.command_timeout);
  if (!result) return std::unexpected(std::move(result.error()));
  return std::move(result->out);
}

std::expected<VxlanPairLink::Link, DriverError> VxlanPairLink::readLink(const std::string& device) {
  const std::vector<std::string> argv{options_.ip, "-j", "-d", "link", "show", "dev", device};
  auto result = runCommand(runner_, argv, options_.command_timeout, ExitCheck::kReturnAny);
  if (!result) return std::unexpected(std::move(result.error()));
  // `Device "th-pair" does not exist.` on stderr, exit 1.
  if (!result->exitedWith(0) && result->err.find("does not exist") != std::string::npos) {
    return Link{};
  }
  if (!result->exitedWith(0)) return std::unexpected(exitError(argv, *result));
  auto links = parseArray(argv, std::move(result->out));
  if (!links) return std::unexpected(std::move(links.error()));
  for (const auto& entry : *links) {
    if (text(field(entry, "ifname")) != device) continue;
    Link link;
    link.exists = true;
    link.mtu = count(field(entry, "mtu")).value_or(0);
    if (const auto* flags = field(entry, "flags"); flags != nullptr && flags->is_array()) {
      for (const auto& flag : flags->as_array()) {
        link.admin_up = link.admin_up || (flag.is_string() && flag.as_string() == "UP");
        link.lower_up = link.lower_up || (flag.is_string() && flag.as_string() == "LOWER_UP");
      }
    }
    if (const auto* info = field(entry, "linkinfo")) {
      link.kind = text(field(*info, "info_kind"));
      if (const auto* data = field(*info, "info_data")) {
        link.vni = count(field(*data, "id"));
        link.port = count(field(*data, "port"));
        link.local = text(field(*data, "local"));
        link.remote = text(field(*data, "remote"));
        link.underlay = text(field(*data, "link"));
      }
    }
    return link;
  }
  return Link{};
}

std::expected<std::vector<VxlanPairLink::Address>, DriverError> VxlanPairLink::readAddresses(
    const std::string& device) {
  const std::vector<std::string> argv{options_.ip, "-j", "addr", "show", "dev", device};
  auto links = parseArray(argv, runOk(argv));
  if (!links) return std::unexpected(std::move(links.error()));
  std::vector<Address> addresses;
  for (const auto& entry : *links) {
    const auto* infos = field(entry, "addr_info");
    if (infos == nullptr || !infos->is_array()) continue;
    for (const auto& info : infos->as_array()) {
      const auto length = count(field(info, "prefixlen"));
      const auto local = text(field(info, "local"));
      if (text(field(info, "family")) != "inet" || local.empty() || !length || *length > 32) {
        continue;
      }
      addresses.push_back(Address{local, static_cast<int>(*length)});
    }
  }
  return addresses;
}

std::expected<std::string, DriverError> VxlanPairLink::underlayFor(const PairLinkSpec& spec) {
  if (!spec.underlay_device.empty()) return spec.underlay_device;
  const std::vector<std::string> argv{options_.ip, "-j", "-4", "addr", "show"};
  auto links = parseArray(argv, runOk(argv));
  if (!links) return std::unexpected(std::move(links.error()));
  const std::string wanted = spec.local.toString();
  for (const auto& entry : *links) {
    const auto* infos = field(entry, "addr_info");
    if (infos == nullptr || !infos->is_array()) continue;
    for (const auto& info : infos->as_array()) {
      if (text(field(info, "local")) == wanted) return text(field(entry, "ifname"));
    }
  }
  return std::unexpected(DriverError{
      Kind::kNeedsDependency,
      fmt::format("pair link: no device holds the hub's local address {} (the link's underlay); "
                  "set pair.link.underlay_device",
                  wanted)});
}

std::string VxlanPairLink::vxlanDiffers(const Link& link, const PairLinkSpec& spec,
                                        const std::string& underlay) {
  if (link.kind != "vxlan") return fmt::format("kind '{}', not vxlan", link.kind);
  if (link.vni != spec.vni) {
    return fmt::format("vni {}, not {}", link.vni ? std::to_string(*link.vni) : "none", spec.vni);
  }
  if (link.port != spec.port) {
    return fmt::format("port {}, not {}", link.port ? std::to_string(*link.port) : "none",
                       spec.port);
  }
  if (link.local != spec.local.toString()) {
    return fmt::format("local '{}', not {}", link.local, spec.local.toString());
  }
  if (link.remote != spec.remote.toString()) {
    return fmt::format("remote '{}', not {}", link.remote, spec.remote.toString());
  }
  if (!underlay.empty() && link.underlay != underlay) {
    return fmt::format("underlay '{}', not {}", link.underlay, underlay);
  }
  return "";
}

std::expected<ObservedPairLink, DriverError> VxlanPairLink::observe(const PairLinkSpec& spec) {
  auto read = readLink(spec.device);
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
    auto addresses = readAddresses(spec.device);
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
  auto read = readLink(spec.device);
  if (!read) return std::unexpected(std::move(read.error()));
  Link link = *read;
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
    if (auto deleted = runOk({options_.ip, "link", "del", "dev", spec.device}); !deleted) {
      return std::unexpected(std::move(deleted.error()));
    }
    link = Link{};
  }
  if (!link.exists) {
    if (auto added =
            runOk({options_.ip, "link", "add", spec.device, "type", "vxlan", "id",
                   std::to_string(spec.vni), "local", spec.local.toString(), "remote",
                   spec.remote.toString(), "dstport", std::to_string(spec.port), "dev", *underlay});
        !added) {
      return std::unexpected(std::move(added.error()));
    }
  }
  if (!link.exists || link.mtu != spec.mtu) {
    if (auto set = runOk(
            {options_.ip, "link", "set", "dev", spec.device, "mtu", std::to_string(spec.mtu)});
        !set) {
      return std::unexpected(std::move(set.error()));
    }
  }
  // The link's address is its one IPv4 address; strays go first.
  const std::string wanted = spec.address.toString();
  bool present = false;
  if (link.exists) {
    auto addresses = readAddresses(spec.device);
    if (!addresses) return std::unexpected(std::move(addresses.error()));
    for (const auto& address : *addresses) {
      if (address.local == wanted && address.prefix_length == spec.inside.length()) {
        present = true;
        continue;
      }
      if (auto deleted = runOk({options_.ip, "addr", "del",
                                fmt::format("{}/{}", address.local, address.prefix_length), "dev",
                                spec.device});
          !deleted) {
        return std::unexpected(std::move(deleted.error()));
      }
    }
  }
  if (!present) {
    if (auto added =
            runOk({options_.ip, "addr", "add", fmt::format("{}/{}", wanted, spec.inside.length()),
                   "dev", spec.device});
        !added) {
      return std::unexpected(std::move(added.error()));
    }
  }
  if (!link.exists || !link.admin_up) {
    if (auto up = runOk({options_.ip, "link", "set", "dev", spec.device, "up"}); !up) {
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
  auto link = readLink(device);
  if (!link) return std::unexpected(std::move(link.error()));
  // Only a VXLAN device is ours; anything else of that name is left alone.
  if (link->exists && link->kind == "vxlan") {
    if (auto deleted = runOk({options_.ip, "link", "del", "dev", device}); !deleted) {
      return std::unexpected(std::move(deleted.error()));
    }
  }
  return {};
}

}  // namespace transit::routing
