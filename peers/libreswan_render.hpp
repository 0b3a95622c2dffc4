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

#include "peers/tunnel_driver.hpp"
#include "peers/xfrm_links.hpp"

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
  // Proposals, strongest first. AWS accepts all of them (AES-GCM-256 / AES-256, SHA2-256,
  // DH 14/19/20). ESP may name only one DH group (pluto 4.10 cannot do INVALID_KE for Child
  // SAs), so PFS uses MODP2048, which every AWS tunnel and the reference peers accept.
  std::string ike = "aes_gcm256-sha2_256;dh20,aes_gcm256-sha2_256;dh19,aes256-sha2_256;dh14";
  std::string esp = "aes_gcm256;dh14,aes256-sha2_256;dh14";
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
  routing::Ipv4Address local_id;
  routing::Ipv4Address remote;
  std::string psk;
};

// Reads renderSecrets' format back (`# conn NAME` then `LOCAL REMOTE : PSK "KEY"`); anything
// else, and any key pskRenderable refuses, is skipped. Nothing of a line goes into an error.
std::vector<RenderedSecret> parseSecrets(std::string_view text);

// True when psk only uses the characters validation allows ([A-Za-z0-9._], 1..64 chars).
bool pskRenderable(std::string_view psk);

}  // namespace transit::peers
