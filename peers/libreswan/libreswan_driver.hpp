// LibreswanDriver: the TunnelDriver for libreswan 4.10 (pluto), driven through whack/addconn.
//
// Owns the hub's conn files (options.conf_dir/NAME.conf), the hub's secrets file and the
// in-memory PSKs of the tunnels it applied. Called only from the reconciler's thread; each call
// runs a few short commands (bounded by options.command_timeout) and never waits for a tunnel
// to come up. Touches only connections whose names start with options.prefix. With kXfrm links
// it also owns each tunnel's ipsecN device (through XfrmLinks), made before the conn is loaded.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>

#include "peers/libreswan/libreswan_render.hpp"
#include "peers/model/tunnel_driver.hpp"
#include "routing/base/command_runner.hpp"

namespace transit::peers {

class LibreswanDriver final : public TunnelDriver {
 public:
  // Reads back the existing secrets file (it is ours) so a restart of transit-hubd keeps the
  // PSKs of tunnels that are not re-applied yet. A missing file is an empty one.
  static std::expected<std::unique_ptr<LibreswanDriver>, DriverError> create(
      LibreswanOptions options, CommandRunner& runner);

  std::expected<void, DriverError> apply(const TunnelSpec& spec) override;
  std::expected<void, DriverError> remove(std::string_view name) override;
  std::expected<TunnelObservation, DriverError> observe() override;
  // `whack --deletestate N` after checking, in `--showstates`, that #N is still an established
  // IKE SA of connection `name`.
  std::expected<void, DriverError> deleteIkeSa(std::string_view name,
                                               std::uint64_t serial) override;

 private:
  struct Secret {
    Ipv4Address local_id;
    Ipv4Address remote;
    std::string psk;
    bool operator==(const Secret&) const = default;
  };

  LibreswanDriver(LibreswanOptions options, CommandRunner& runner)
      : options_(std::move(options)), runner_(runner), xfrm_(options_.xfrm, runner) {}

  std::expected<void, DriverError> addconn(const std::string& name, const std::string& file);
  std::expected<void, DriverError> applyUnscrubbed(const TunnelSpec& spec);
  std::expected<void, DriverError> removeUnscrubbed(std::string_view name);
  // Defence in depth: no known key survives in an error message, whatever a command printed.
  DriverError scrub(DriverError error, std::string_view extra_psk = {}) const;
  std::expected<std::string, DriverError> whack(const std::vector<std::string>& args,
                                                bool secrets_output = false);
  std::expected<void, DriverError> writeSecrets();
  std::string confPath(std::string_view name) const;
  // Deletes the XFRM link `interface_id` unless another tunnel of ours uses the same id.
  std::expected<void, DriverError> removeLinkUnlessShared(std::string_view name,
                                                          std::uint32_t interface_id);

  LibreswanOptions options_;
  CommandRunner& runner_;
  std::map<std::string, Secret, std::less<>> secrets_;
  // The secrets file changed (or may have, before a restart) and pluto has not re-read it yet.
  bool reread_pending_ = true;
  XfrmLinks xfrm_;  // kXfrm only
  // kXfrm: the ipsecN id of each tunnel, read from the conf files at create() and kept by
  // apply(), so remove() can delete the link also after a restart of transit-hubd.
  std::map<std::string, std::uint32_t, std::less<>> link_ids_;
  // The owned connections with a file in conf_dir (NAME.conf or NAME.conf.pending): read at
  // create(), kept by apply() and remove(), so observe() reads no directory.
  std::set<std::string, std::less<>> files_;
};

}  // namespace transit::peers
