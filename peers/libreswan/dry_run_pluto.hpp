// DryRunPluto: what an idle pluto (and the kernel's link table) would answer the live
// LibreswanDriver in dry-run, so dry-run is the live driver over a RecordingCommandRunner.
//
// Owns a model of what pluto would have loaded (connections added with addconn, the UP policy
// set by --initiate, both dropped by --delete) and of the ipsecN links XfrmLinks would have
// made. Answers `whack --status` with those connections in pluto's format, `--showstates` and
// `--trafficstatus` with nothing (no peer ever answers in dry-run), and `ip -j ...` queries with
// the links made so far; every other whack, addconn and ip command succeeds silently. Nothing is
// negotiated, so the driver's observation shows each applied tunnel loaded and down.
//
// Restarts: connections whose NAME.conf an earlier run left in options.conf_dir count as loaded
// with the UP policy, as pluto would still have them; the reconciler then adopts the wanted ones
// and removes the others. The link model starts empty (the first apply after a restart logs the
// link commands again).
//
// Called through the runner on the reconciler's thread; no locking. Its answerer() must not
// outlive it.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "peers/libreswan/libreswan_render.hpp"
#include "routing/base/prefix.hpp"
#include "routing/base/recording_command_runner.hpp"

namespace transit::peers {

class DryRunPluto {
 public:
  // `options` are the driver's (the commands to recognise, the conf directory to read back);
  // `local_address` is the hub's local address, which `ip -j -4 addr show` reports on a device
  // named kUnderlay (the underlay XfrmLinks looks for when none is configured).
  DryRunPluto(LibreswanOptions options, Ipv4Address local_address);

  static constexpr std::string_view kUnderlay = "<underlay>";

  std::optional<RecordingCommandRunner::Answer> answer(const std::vector<std::string>& argv);
  // answer() as a RecordingCommandRunner::Answerer bound to this object.
  RecordingCommandRunner::Answerer answerer() {
    return [this](const std::vector<std::string>& argv) { return answer(argv); };
  }

  // Writes `path` holding this process's pid, so the driver's liveness check (pid file, then
  // /proc/PID/stat) finds a running "pluto": the hub itself. The driver's daemon_instance is then
  // the hub's pid and start time. A failure names the path.
  static std::expected<void, DriverError> writePidFile(const std::string& path);

 private:
  struct Link {
    std::uint32_t if_id = 0;
    std::uint32_t mtu = 1500;
    bool up = false;
    std::vector<std::string> addresses;  // "A.B.C.D/L"
  };

  std::optional<RecordingCommandRunner::Answer> whack(const std::vector<std::string>& args);
  std::optional<RecordingCommandRunner::Answer> ip(const std::vector<std::string>& args);
  std::string status() const;

  LibreswanOptions options_;
  Ipv4Address local_address_;
  std::map<std::string, bool, std::less<>> loaded_;  // connection -> UP policy
  std::map<std::string, Link, std::less<>> links_;   // device -> what was made
};

}  // namespace transit::peers
