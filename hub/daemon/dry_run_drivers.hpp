// Dry-run drivers: render what live mode would load into pluto and BIRD, and drive no daemon.
//
// Owns one output directory (created 0700 on first write) laid out as:
//   ROOT/ipsec/NAME.conf              one libreswan conn per applied tunnel (0600)
//   ROOT/ipsec/transit-hub.secrets    the secrets file of all applied tunnels (0600)
//   ROOT/bird/transit-hub.conf        the BIRD include file (0600)
//   ROOT/nft/TABLE.nft                the segment filter's nft script (0600)
// Each file holds exactly the text the live driver would write to its live path. Every actual
// change is logged at info as the commands live mode would run ("dry-run: would run: ...");
// re-applying an identical spec writes and logs nothing. PSKs go only into the secrets file,
// never into a log line or an error.
//
// Restarts: the tunnel driver reads its directory back on first use (conn files and the secrets
// file) and reports those tunnels as loaded, as pluto would still have them; the reconciler then
// adopts the wanted ones without a change and removes the others.
//
// Called only from the reconciler's thread (like the live drivers); no locking.
#pragma once

#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "routing/nft/nft_filter.hpp"
#include "peers/libreswan/libreswan_render.hpp"
#include "peers/model/tunnel_driver.hpp"
#include "routing/bird/bird_render.hpp"
#include "routing/policy/routing_driver.hpp"

namespace transit::hub {

class DryRunTunnelDriver final : public peers::TunnelDriver {
 public:
  // `root` is the dry-run output directory; `options` gives the prefix the hub owns, the live
  // paths and commands named in the log, and the proposals rendered.
  DryRunTunnelDriver(std::filesystem::path root, peers::LibreswanOptions options);

  std::expected<void, DriverError> apply(const peers::TunnelSpec& spec) override;
  std::expected<void, DriverError> remove(std::string_view name) override;
  // daemon_instance "dry-run"; every tunnel applied (or found on disk) loaded, none negotiated.
  std::expected<peers::TunnelObservation, DriverError> observe() override;
  // Logs the whack command live mode would run; changes nothing.
  std::expected<void, DriverError> deleteIkeSa(std::string_view name,
                                               std::uint64_t serial) override;

 private:
  struct Secret {
    Ipv4Address local_id;
    Ipv4Address remote;
    std::string psk;
    bool operator==(const Secret&) const = default;
  };

  void loadOnce();
  std::expected<void, DriverError> writeSecrets();
  std::filesystem::path confPath(std::string_view name) const;
  std::string liveConfPath(std::string_view name) const;
  // The whack command line live mode would run, for the log.
  std::string whackCommand(const std::vector<std::string>& args) const;
  bool owned(std::string_view name) const;

  std::filesystem::path root_;
  peers::LibreswanOptions options_;
  bool loaded_from_disk_ = false;
  std::set<std::string, std::less<>> loaded_;           // tunnels "loaded" (a conn or a secret)
  std::set<std::string, std::less<>> initiated_;        // loaded with the UP policy (initiated)
  std::map<std::string, Secret, std::less<>> secrets_;  // what the secrets file holds
};

class DryRunRoutingDriver final : public routing::RoutingDriver {
 public:
  // `root` is the same dry-run output directory; `options` gives the protocol prefix, the live
  // paths named in the log and the configure timeout.
  DryRunRoutingDriver(std::filesystem::path root, routing::BirdOptions options);

  std::expected<void, DriverError> apply(const routing::RoutingSpec& spec) override;
  // daemon_instance "dry-run"; one session per session of the last applied spec, none up.
  std::expected<routing::RoutingObservation, DriverError> observe() override;

 private:
  std::filesystem::path root_;
  routing::BirdOptions options_;
  std::optional<routing::RoutingSpec> applied_;
};

class DryRunForwardingFilter final : public routing::ForwardingFilter {
 public:
  // `root` is the same dry-run output directory; `options` gives the table and the live path
  // and command named in the log.
  DryRunForwardingFilter(std::filesystem::path root, routing::NftForwardingFilterOptions options);

  std::expected<void, DriverError> apply(const routing::ForwardingPolicy& policy) override;
  // No kernel is touched: nothing is dropped.
  std::expected<std::optional<std::uint64_t>, DriverError> observe() override;

 private:
  std::filesystem::path root_;
  routing::NftForwardingFilterOptions options_;
  std::optional<routing::ForwardingPolicy> applied_;
};

}  // namespace transit::hub
