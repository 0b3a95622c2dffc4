#include "hub/daemon/dry_run_drivers.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <sstream>
#include <system_error>

#include "routing/base/file_io.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;
using Kind = DriverError::Kind;

constexpr std::string_view kIpsecDir = "ipsec";
constexpr std::string_view kBirdDir = "bird";
constexpr std::string_view kNftDir = "nft";
constexpr std::string_view kSecretsFile = "transit-hub.secrets";
constexpr std::string_view kIncludeFile = "transit-hub.conf";
constexpr std::string_view kInstance = "dry-run";
constexpr std::string_view kTunnelState = "dry-run (not negotiated)";

DriverError invalid(std::string message) { return DriverError{Kind::kInvalid, std::move(message)}; }
DriverError transient(std::string message) {
  return DriverError{Kind::kTransient, std::move(message)};
}

// Creates `dir` with mode 0700 when it does not exist (its parents with the default mode). An
// existing directory is left as the operator made it.
std::expected<void, DriverError> makePrivateDirectory(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);  // mkdir reports
  if (::mkdir(dir.c_str(), 0700) != 0) {
    if (errno == EEXIST && fs::is_directory(dir, ec)) return {};
    return std::unexpected(
        transient(fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno))));
  }
  (void)::chmod(dir.c_str(), 0700);  // whatever the umask
  return {};
}

// Writes `path` atomically with mode 0600. Errors name the path, never the content.
std::expected<void, DriverError> writePrivateFile(const fs::path& path, std::string_view content) {
  if (auto written = writeFileAtomically(path.string(), content, 0600); !written) {
    return std::unexpected(transient(std::move(written.error())));
  }
  return {};
}

std::optional<std::string> readFile(const fs::path& path) {
  return readWholeFile(path.string());
}

// One word of a command line as a shell would need it, so a logged command can be pasted.
std::string shellWord(std::string_view word) {
  const bool plain = !word.empty() && word.find_first_not_of(
                                          "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789_-./:=@%+,") == std::string_view::npos;
  if (plain) return std::string(word);
  std::string out = "'";
  for (const char c : word) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string commandLine(const std::vector<std::string>& argv) {
  std::string out;
  for (const auto& word : argv) {
    if (!out.empty()) out += ' ';
    out += shellWord(word);
  }
  return out;
}

// A libreswan connection name the way the live driver accepts it: [A-Za-z0-9._-], 1..100.
bool validConnectionName(std::string_view name) {
  if (name.empty() || name.size() > 100 || name == "." || name == "..") return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

// ---- DryRunTunnelDriver ----------------------------------------------------------------------

DryRunTunnelDriver::DryRunTunnelDriver(std::filesystem::path root, peers::LibreswanOptions options)
    : root_(std::move(root)), options_(std::move(options)) {}

bool DryRunTunnelDriver::owned(std::string_view name) const {
  return validConnectionName(name) && name.starts_with(options_.prefix);
}

std::filesystem::path DryRunTunnelDriver::confPath(std::string_view name) const {
  return root_ / kIpsecDir / fmt::format("{}.conf", name);
}

std::string DryRunTunnelDriver::liveConfPath(std::string_view name) const {
  return fmt::format("{}/{}.conf", options_.conf_dir, name);
}

std::string DryRunTunnelDriver::whackCommand(const std::vector<std::string>& args) const {
  std::vector<std::string> argv{options_.whack, "--ctlsocket", options_.ctl_socket};
  argv.insert(argv.end(), args.begin(), args.end());
  return commandLine(argv);
}

// What an earlier run left: NAME.conf files and the secrets file, as pluto would still have them
// loaded after a restart of transit-hubd. Unreadable or foreign content is ignored; no line of
// the secrets file is ever logged (it could be a key).
void DryRunTunnelDriver::loadOnce() {
  if (loaded_from_disk_) return;
  loaded_from_disk_ = true;
  const fs::path dir = root_ / kIpsecDir;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const fs::path& file = it->path();
    if (file.extension() != ".conf") continue;
    const std::string name = file.stem().string();
    if (owned(name)) {
      loaded_.insert(name);
      initiated_.insert(name);
    }
  }
  const auto text = readFile(dir / kSecretsFile);
  if (!text) return;
  for (auto& secret : peers::parseSecrets(*text)) {
    if (!owned(secret.name)) continue;
    loaded_.insert(secret.name);
    secrets_[secret.name] = Secret{secret.local_id, secret.remote, std::move(secret.psk)};
  }
}

std::expected<void, DriverError> DryRunTunnelDriver::writeSecrets() {
  std::vector<peers::TunnelSpec> specs;
  specs.reserve(secrets_.size());
  for (const auto& [name, secret] : secrets_) {
    peers::TunnelSpec spec;
    spec.name = name;
    spec.local_id = secret.local_id;
    spec.remote_address = secret.remote;
    spec.psk = secret.psk;
    specs.push_back(std::move(spec));
  }
  const std::string content = peers::renderSecrets(specs);
  const fs::path path = root_ / kIpsecDir / kSecretsFile;
  if (readFile(path) == content) return {};
  if (auto made = makePrivateDirectory(root_); !made) return made;
  if (auto made = makePrivateDirectory(root_ / kIpsecDir); !made) return made;
  return writePrivateFile(path, content);
}

std::expected<void, DriverError> DryRunTunnelDriver::apply(const peers::TunnelSpec& spec) {
  if (!owned(spec.name)) {
    return std::unexpected(invalid(fmt::format(
        "tunnel name '{}' is not one the hub owns (prefix '{}')", spec.name, options_.prefix)));
  }
  if (!peers::pskRenderable(spec.psk)) {
    return std::unexpected(invalid(fmt::format(
        "tunnel {}: the pre-shared key has characters the secrets file cannot hold", spec.name)));
  }
  loadOnce();

  const fs::path conf = confPath(spec.name);
  const std::string rendered = peers::renderConnection(spec, options_);
  const bool conf_changed = readFile(conf) != rendered;
  const Secret secret{spec.local_id, spec.remote_address, spec.psk};
  const auto old_secret = secrets_.find(spec.name);
  const bool secret_changed = old_secret == secrets_.end() || !(old_secret->second == secret);
  const bool initiate = spec.initiate && (conf_changed || !initiated_.contains(spec.name));
  if (!conf_changed && !secret_changed && !initiate) return {};

  if (secret_changed) {
    std::optional<Secret> before;
    if (old_secret != secrets_.end()) before = old_secret->second;
    secrets_.insert_or_assign(spec.name, secret);
    if (auto written = writeSecrets(); !written) {
      if (before) {
        secrets_.insert_or_assign(spec.name, *before);
      } else {
        secrets_.erase(spec.name);
      }
      return written;
    }
    loaded_.insert(spec.name);
    spdlog::info("dry-run: tunnel {}: would write {} ({} key(s)); rendered to {}", spec.name,
                 options_.secrets_file, secrets_.size(),
                 (root_ / kIpsecDir / kSecretsFile).string());
    spdlog::info("dry-run: would run: {}", whackCommand({"--rereadsecrets"}));
  }

  if (conf_changed) {
    if (auto made = makePrivateDirectory(root_); !made) return made;
    if (auto made = makePrivateDirectory(root_ / kIpsecDir); !made) return made;
    if (auto written = writePrivateFile(conf, rendered); !written) return written;
    loaded_.insert(spec.name);
    initiated_.erase(spec.name);  // addconn replaces the connection, UP policy included
    // Live mode loads NAME.conf.pending and renames it to NAME.conf once addconn accepted it.
    const std::string live = liveConfPath(spec.name);
    const std::string pending = live + ".pending";
    spdlog::info("dry-run: tunnel {}: would write {} (as {}, renamed once loaded); rendered to {}",
                 spec.name, live, pending, conf.string());
    spdlog::info("dry-run: would run: {}",
                 commandLine({options_.addconn, "--ctlsocket", options_.ctl_socket, "--config",
                              pending, spec.name}));
  }

  if (initiate) {
    initiated_.insert(spec.name);
    spdlog::info("dry-run: would run: {}",
                 whackCommand({"--name", spec.name, "--initiate", "--asynchronous"}));
  }
  return {};
}

std::expected<void, DriverError> DryRunTunnelDriver::remove(std::string_view name) {
  if (!owned(name)) {
    return std::unexpected(invalid(fmt::format(
        "tunnel name '{}' is not one the hub owns (prefix '{}')", name, options_.prefix)));
  }
  loadOnce();
  const fs::path conf = confPath(name);
  std::error_code ec;
  const bool had_conf = fs::exists(conf, ec);
  const auto secret = secrets_.find(name);
  if (!loaded_.contains(name) && !had_conf && secret == secrets_.end()) return {};

  if (had_conf && ::unlink(conf.c_str()) != 0 && errno != ENOENT) {
    return std::unexpected(
        transient(fmt::format("cannot delete {}: {}", conf.string(), std::strerror(errno))));
  }
  spdlog::info("dry-run: would run: {}", whackCommand({"--name", std::string(name), "--delete"}));
  if (had_conf) {
    spdlog::info("dry-run: tunnel {}: would delete {}; deleted {}", name, liveConfPath(name),
                 conf.string());
  }
  if (secret != secrets_.end()) {
    const Secret before = secret->second;
    secrets_.erase(secret);
    if (auto written = writeSecrets(); !written) {
      secrets_.emplace(std::string(name), before);
      return written;
    }
    spdlog::info("dry-run: tunnel {}: would write {} ({} key(s)); rendered to {}", name,
                 options_.secrets_file, secrets_.size(),
                 (root_ / kIpsecDir / kSecretsFile).string());
    spdlog::info("dry-run: would run: {}", whackCommand({"--rereadsecrets"}));
  }
  if (auto it = loaded_.find(name); it != loaded_.end()) loaded_.erase(it);
  if (auto it = initiated_.find(name); it != initiated_.end()) initiated_.erase(it);
  return {};
}

std::expected<peers::TunnelObservation, DriverError> DryRunTunnelDriver::observe() {
  loadOnce();
  peers::TunnelObservation observation;
  observation.daemon_instance = std::string(kInstance);
  for (const auto& name : loaded_) {
    peers::ObservedTunnel tunnel;
    tunnel.name = name;
    tunnel.loaded = true;
    tunnel.state = std::string(kTunnelState);
    observation.tunnels.push_back(std::move(tunnel));
  }
  return observation;
}

std::expected<void, DriverError> DryRunTunnelDriver::deleteIkeSa(std::string_view name,
                                                                 std::uint64_t serial) {
  if (!owned(name)) {
    return std::unexpected(invalid(fmt::format(
        "tunnel name '{}' is not one the hub owns (prefix '{}')", name, options_.prefix)));
  }
  // Never called by the reconciler here: observe() reports no negotiated SA, so no duplicate.
  spdlog::info("dry-run: tunnel {}: would run: {}", name,
               whackCommand({"--deletestate", std::to_string(serial)}));
  return {};
}

// ---- DryRunRoutingDriver ---------------------------------------------------------------------

DryRunRoutingDriver::DryRunRoutingDriver(std::filesystem::path root, routing::BirdOptions options)
    : root_(std::move(root)), options_(std::move(options)) {}

std::expected<void, DriverError> DryRunRoutingDriver::apply(const routing::RoutingSpec& spec) {
  auto text = routing::renderInclude(spec, options_);
  if (!text) return std::unexpected(text.error());
  const fs::path dir = root_ / kBirdDir;
  const fs::path path = dir / kIncludeFile;
  if (readFile(path) != *text) {
    if (auto made = makePrivateDirectory(root_); !made) return made;
    if (auto made = makePrivateDirectory(dir); !made) return made;
    if (auto written = writePrivateFile(path, *text); !written) return written;
    const auto& main = options_.main_config_path;
    const std::string& socket = options_.socket_path;
    spdlog::info("dry-run: BIRD: would write {} ({} session(s)); rendered to {}",
                 options_.include_path, spec.sessions.size(), path.string());
    spdlog::info("dry-run: would send to {}: configure check \"{}\"", socket, main);
    spdlog::info("dry-run: would send to {}: configure \"{}\" timeout {}", socket, main,
                 std::max<long long>(1, options_.configure_timeout.count()));
    spdlog::info("dry-run: would send to {}: show protocols \"{}*\"", socket,
                 options_.protocol_prefix);
    spdlog::info("dry-run: would send to {}: configure confirm", socket);
  }
  applied_ = spec;
  return {};
}

std::expected<routing::RoutingObservation, DriverError> DryRunRoutingDriver::observe() {
  routing::RoutingObservation observation;
  observation.daemon_instance = std::string(kInstance);
  if (!applied_) return observation;
  for (const auto& session : applied_->sessions) {
    routing::ObservedSession observed;
    observed.name = session.name;
    observed.protocol_state = std::string(kInstance);
    observation.sessions.push_back(std::move(observed));
  }
  return observation;
}

DryRunForwardingFilter::DryRunForwardingFilter(fs::path root, routing::NftForwardingFilterOptions options)
    : root_(std::move(root)), options_(std::move(options)) {}

std::expected<void, DriverError> DryRunForwardingFilter::apply(const routing::ForwardingPolicy& policy) {
  if (applied_ && *applied_ == policy) return {};
  const fs::path dir = root_ / kNftDir;
  const fs::path path = dir / (options_.table + ".nft");
  if (auto made = makePrivateDirectory(root_); !made) return made;
  if (auto made = makePrivateDirectory(dir); !made) return made;
  if (auto written = writePrivateFile(path, routing::renderForwardingTable(options_.table, policy));
      !written) {
    return written;
  }
  const std::string live = fmt::format("{}/{}.nft", options_.dir, options_.table);
  spdlog::info("dry-run: segment filter: would write {} ({} isolated pair(s)); rendered to {}",
               live, policy.isolated.size(), path.string());
  spdlog::info("dry-run: would run: {}", commandLine({options_.nft, "-f", live}));
  applied_ = policy;
  return {};
}

std::expected<std::optional<std::uint64_t>, DriverError> DryRunForwardingFilter::observe() {
  return std::optional<std::uint64_t>(0);
}

}  // namespace transit::hub
