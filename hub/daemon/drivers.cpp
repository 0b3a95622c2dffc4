#include "hub/daemon/drivers.hpp"

#include <sys/stat.h>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>

#include "hub/daemon/wiring.hpp"
#include "peers/libreswan/libreswan_driver.hpp"
#include "routing/base/recording_command_runner.hpp"
#include "routing/bird/bird_driver.hpp"
#include "routing/bird/dry_run_channel.hpp"
#include "routing/link/pair_link.hpp"
#include "routing/nft/nft_filter.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;

// `dir` with mode 0700 (its parents with the default mode) when it does not exist; an existing
// directory is left as the operator made it.
std::expected<void, std::string> makePrivateDirectory(const fs::path& dir) {
  std::error_code ec;
  if (fs::is_directory(dir, ec)) return {};
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path(), ec);  // mkdir reports
  if (::mkdir(dir.c_str(), 0700) != 0 && !(errno == EEXIST && fs::is_directory(dir, ec))) {
    return std::unexpected(fmt::format("cannot create {}: {}", dir.string(), std::strerror(errno)));
  }
  (void)::chmod(dir.c_str(), 0700);  // whatever the umask
  return {};
}

// What nft answers `nft -j list table inet T` for a table with no rule yet: nothing dropped.
std::optional<RecordingCommandRunner::Answer> nftAnswer(const std::string& nft,
                                                        const std::vector<std::string>& argv) {
  if (argv[0] != nft || argv.size() < 3 || argv[2] != "list") return std::nullopt;
  return RecordingCommandRunner::Answer{
      RecordingCommandRunner::success(R"({"nftables": [{"metainfo": {"version": "1.0.6", )"
                                      R"("release_name": "Lester Gooch #5", )"
                                      R"("json_schema_version": 1}}]})"),
      true};
}

std::expected<Drivers, std::string> liveDrivers(const Config& config,
                                                const DriverOptions& options) {
  Drivers drivers;
  drivers.runner = std::make_unique<PosixCommandRunner>();
  auto libreswan = peers::LibreswanDriver::create(options.libreswan, *drivers.runner);
  if (!libreswan) {
    return std::unexpected("cannot start the libreswan driver: " + libreswan.error().message);
  }
  drivers.tunnel = std::move(*libreswan);
  drivers.routing = std::make_unique<routing::BirdDriver>(options.bird);
  drivers.forwarding =
      std::make_unique<routing::NftForwardingFilter>(options.segment_filter, *drivers.runner);
  drivers.pair_link =
      std::make_unique<routing::VxlanPairLink>(routing::VxlanPairLinkOptions{}, *drivers.runner);
  spdlog::info("live drivers: pluto at {}, BIRD at {}",
               config.drivers.libreswan.ctl_socket.string(), config.drivers.bird.socket.string());
  return drivers;
}

std::expected<Drivers, std::string> dryRunDrivers(const Config& config,
                                                  const DriverOptions& options) {
  const fs::path& root = config.drivers.dry_run_dir;
  for (const auto& dir : {root, root / "ipsec", root / "bird", root / "nft"}) {
    if (auto made = makePrivateDirectory(dir); !made) return std::unexpected(made.error());
  }
  if (auto written = peers::DryRunPluto::writePidFile(options.libreswan.pid_file); !written) {
    return std::unexpected(written.error().message);
  }
  Drivers drivers;
  drivers.pluto = std::make_unique<peers::DryRunPluto>(options.libreswan, config.hub.local_ip);
  auto recording = std::make_unique<RecordingCommandRunner>();
  drivers.pair_link_kernel =
      std::make_unique<routing::DryRunPairLink>(routing::VxlanPairLinkOptions{});
  recording->addAnswerer(drivers.pair_link_kernel->answerer());  // before pluto's `ip` answers
  recording->addAnswerer(drivers.pluto->answerer());
  recording->addAnswerer(
      [nft = options.segment_filter.nft](const auto& argv) { return nftAnswer(nft, argv); });
  drivers.runner = std::move(recording);
  auto libreswan = peers::LibreswanDriver::create(options.libreswan, *drivers.runner);
  if (!libreswan) {
    return std::unexpected("cannot start the libreswan driver: " + libreswan.error().message);
  }
  drivers.tunnel = std::move(*libreswan);
  drivers.bird_channel = std::make_unique<routing::DryRunBirdChannel>(options.bird);
  drivers.routing = std::make_unique<routing::BirdDriver>(options.bird, *drivers.bird_channel);
  drivers.forwarding =
      std::make_unique<routing::NftForwardingFilter>(options.segment_filter, *drivers.runner);
  drivers.pair_link =
      std::make_unique<routing::VxlanPairLink>(routing::VxlanPairLinkOptions{}, *drivers.runner);
  spdlog::info("dry-run: rendering into {}; no daemon is driven", root.string());
  return drivers;
}

}  // namespace

std::expected<Drivers, std::string> makeDrivers(const Config& config) {
  const DriverOptions options = driverOptions(config);
  return config.drivers.mode == DriverMode::kLive ? liveDrivers(config, options)
                                                  : dryRunDrivers(config, options);
}

}  // namespace transit::hub
