#include "routing/base/ip_json.hpp"

#include <fmt/format.h>

#include <boost/json.hpp>

#include "routing/base/run_command.hpp"

namespace transit {
namespace {

const boost::json::value* field(const boost::json::value& value, std::string_view key) {
  const auto* object = value.if_object();
  return object == nullptr ? nullptr : object->if_contains(key);
}

const boost::json::array* arrayField(const boost::json::value& value, std::string_view key) {
  const auto* found = field(value, key);
  return found == nullptr ? nullptr : found->if_array();
}

// The JSON array `argv` printed, or the error that ran it or parses it.
std::expected<boost::json::array, DriverError> parseArray(
    const std::vector<std::string>& argv, const std::expected<std::string, DriverError>& out) {
  if (!out) return std::unexpected(out.error());
  boost::system::error_code ec;
  auto value = boost::json::parse(*out, ec);
  if (ec || !value.is_array()) {
    return std::unexpected(DriverError{DriverError::Kind::kTransient,
                                       fmt::format("{}: unparsable output: {}", joinedCommand(argv),
                                                   ec ? ec.message() : "not a JSON array")});
  }
  return std::move(value.as_array());
}

}  // namespace

std::optional<std::uint32_t> jsonCount(const boost::json::value* value) {
  if (value == nullptr || !value->is_number()) return std::nullopt;
  boost::system::error_code ec;
  const auto number = value->to_number<std::uint32_t>(ec);
  if (ec) return std::nullopt;
  return number;
}

std::string jsonText(const boost::json::value* value) {
  return value != nullptr && value->is_string() ? std::string(value->as_string()) : std::string();
}

std::expected<std::string, DriverError> IpJson::run(const std::vector<std::string>& args) {
  std::vector<std::string> argv{ip_};
  argv.insert(argv.end(), args.begin(), args.end());
  return runOk(argv);
}

std::expected<std::string, DriverError> IpJson::runOk(const std::vector<std::string>& argv) {
  auto result = runCommand(runner_, argv, timeout_);
  if (!result) return std::unexpected(std::move(result.error()));
  return std::move(result->out);
}

std::expected<IpLink, DriverError> IpJson::link(const std::string& device) {
  const std::vector<std::string> argv{ip_, "-j", "-d", "link", "show", "dev", device};
  auto result = runCommand(runner_, argv, timeout_, ExitCheck::kReturnAny);
  if (!result) return std::unexpected(std::move(result.error()));
  // `Device "D" does not exist.` on stderr, exit 1.
  if (!result->exitedWith(0) && result->err.find("does not exist") != std::string::npos) {
    return IpLink{};
  }
  if (!result->exitedWith(0)) return std::unexpected(exitError(argv, *result));
  auto links = parseArray(argv, std::move(result->out));
  if (!links) return std::unexpected(std::move(links.error()));
  for (const auto& entry : *links) {
    const auto* name = field(entry, "ifname");
    if (name == nullptr || !name->is_string() || name->as_string() != device) continue;
    IpLink link;
    link.exists = true;
    link.name = device;
    link.mtu = jsonCount(field(entry, "mtu")).value_or(0);
    if (const auto* flags = arrayField(entry, "flags")) {
      for (const auto& flag : *flags) {
        link.admin_up = link.admin_up || (flag.is_string() && flag.as_string() == "UP");
        link.lower_up = link.lower_up || (flag.is_string() && flag.as_string() == "LOWER_UP");
      }
    }
    if (const auto* info = field(entry, "linkinfo")) {
      link.kind = jsonText(field(*info, "info_kind"));
      if (const auto* data = field(*info, "info_data"); data != nullptr && data->is_object()) {
        link.info_data = data->as_object();
      }
    }
    return link;
  }
  return IpLink{};
}

std::expected<std::vector<IpAddress>, DriverError> IpJson::addresses(const std::string& device) {
  const std::vector<std::string> argv{ip_, "-j", "addr", "show", "dev", device};
  auto links = parseArray(argv, runOk(argv));
  if (!links) return std::unexpected(std::move(links.error()));
  std::vector<IpAddress> addresses;
  for (const auto& entry : *links) {
    const auto* infos = arrayField(entry, "addr_info");
    if (infos == nullptr) continue;
    for (const auto& info : *infos) {
      const auto length = jsonCount(field(info, "prefixlen"));
      auto local = jsonText(field(info, "local"));
      if (jsonText(field(info, "family")) != "inet" || local.empty() || !length || *length > 32) {
        continue;
      }
      addresses.push_back(IpAddress{std::move(local), static_cast<int>(*length)});
    }
  }
  return addresses;
}

std::expected<std::optional<std::string>, DriverError> IpJson::deviceHolding(Ipv4Address address) {
  const std::vector<std::string> argv{ip_, "-j", "-4", "addr", "show"};
  auto links = parseArray(argv, runOk(argv));
  if (!links) return std::unexpected(std::move(links.error()));
  const std::string wanted = address.toString();
  for (const auto& entry : *links) {
    const auto* name = field(entry, "ifname");
    const auto* infos = arrayField(entry, "addr_info");
    if (name == nullptr || !name->is_string() || infos == nullptr) continue;
    for (const auto& info : *infos) {
      if (jsonText(field(info, "local")) == wanted) return std::string(name->as_string());
    }
  }
  return std::optional<std::string>();
}

}  // namespace transit
