// Pure rendering of libreswan 4.10 configuration for the hub's tunnels.
//
// Owns the text of one `conn` block per tunnel and of the hub's secrets file. Called by
// LibreswanDriver (reconciler thread); no I/O. LibreswanOptions also carries the paths and
// commands the driver uses, so the lab can run one pluto per network namespace.
#pragma once

#include <chrono>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "peers/libreswan/xfrm_links.hpp"
#include "peers/model/tunnel_driver.hpp"

namespace transit::peers {

struct LibreswanOptions {
  std::string whack = "/usr/libexec/ipsec/whack";
  std::string addconn = "/usr/libexec/ipsec/addconn";
  std::string ctl_socket = "/run/pluto/pluto.ctl";
  // One NAME.conf per tunnel. Deliberately not /etc/ipsec.d itself: Debian's ipsec.conf
  // includes /etc/ipsec.d/*.conf and pluto would auto-load them at start.
  std::string conf_dir = "/etc/ipsec.d/transit-hub";
  // Debian's /etc/ipsec.secrets includes /etc/ipsec.d/*.secrets, so pluto reads this file.
  std::string secrets_file = "/etc/ipsec.d/transit-hub.secrets";
  std::string pid_file = "/run/pluto/pluto.pid";  // pluto's --rundir/pluto.pid
  std::string prefix = "th-";                     // names the hub owns
  TunnelLinks links = TunnelLinks::kXfrm;
  XfrmLinkOptions xfrm;  // how the hub makes the ipsecN links (kXfrm only)
  std::chrono::milliseconds command_timeout = std::chrono::seconds(10);
  // Proposals, lifetimes, DPD and replay window come from each spoke's tunnel options
  // (TunnelSpec::options; peers/model/tunnel_options.hpp).
};

// The mark that confines a tunnel's 0/0 policy in kExternal mode (see renderConnection).
std::uint32_t externalMark(const TunnelSpec& spec);

// One `conn NAME` block (a complete file: pass it to `addconn --config FILE NAME`).
std::string renderConnection(const TunnelSpec& spec, const LibreswanOptions& options);

// The secrets file: one `LOCAL_ID REMOTE : PSK "..."` line per tunnel, each after a
// `# conn NAME` comment so the driver can read the file back after a restart.
std::string renderSecrets(std::span<const TunnelSpec> tunnels);

// One entry of a secrets file renderSecrets wrote.
struct RenderedSecret {
  std::string name;  // the connection it belongs to
  Ipv4Address local_id;
  Ipv4Address remote;
  std::string psk;
};

// Reads renderSecrets' format back (`# conn NAME` then `LOCAL REMOTE : PSK "KEY"`); anything
// else, and any key pskRenderable refuses, is skipped. Nothing of a line goes into an error.
std::vector<RenderedSecret> parseSecrets(std::string_view text);

// A libreswan connection name the drivers accept: [A-Za-z0-9._-], 1..100 characters, not "." or
// ".." (a NAME.conf file name). Owned: valid and starting with the hub's `prefix`.
bool validConnectionName(std::string_view name);
bool ownedConnectionName(std::string_view name, std::string_view prefix);

// True when psk only uses the characters validation allows ([A-Za-z0-9._], 1..64 chars).
bool pskRenderable(std::string_view psk);

}  // namespace transit::peers
