// Tunnel options of a spoke: the IKE and IPsec parameters of its VPN tunnels, in AWS's terms.
//
// Owns: plain values and pure functions (any thread). The options describe the AWS side of the
// VPN connection (for a site, the side the hub plays): the algorithms it accepts, its lifetimes,
// DPD and startup behaviour. Validation admits AWS's allowed set (Site-to-Site VPN tunnel
// options) minus what the hub's IKE daemon cannot do (libreswan 4.10 has no DH 2 or 22-24, no
// GCM in IKEv1 phase 1); renderers turn them into libreswan proposals (peers/libreswan_render)
// and, later, into site configurations. Defaults are strong: AES-256 (GCM first), SHA2-256,
// DH 20/19/14, IKEv2 only. The JSON form is in peers/model/tunnel_options_json.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace transit::peers {

enum class IkeVersion { kIkev1, kIkev2 };
enum class Encryption { kAes128, kAes256, kAes128Gcm16, kAes256Gcm16 };
enum class Integrity { kSha1, kSha2_256, kSha2_384, kSha2_512 };
enum class DpdAction { kClear, kNone, kRestart };
enum class StartupAction { kAdd, kStart };

// AWS's names: "ikev2", "AES256-GCM-16", "SHA2-256", "clear", "start".
std::string_view toString(IkeVersion value);
std::string_view toString(Encryption value);
std::string_view toString(Integrity value);
std::string_view toString(DpdAction value);
std::string_view toString(StartupAction value);

struct PhaseOptions {
  std::vector<Encryption> encryption;  // in the hub's order of preference
  std::vector<Integrity> integrity;    // phase 1: also the PRF; phase 2: unused by GCM
  std::vector<int> dh_groups;          // phase 2: the hub proposes the first (PFS)
  std::uint32_t lifetime_seconds = 0;

  bool operator==(const PhaseOptions&) const = default;
};

struct TunnelOptions {
  std::vector<IkeVersion> ike_versions{IkeVersion::kIkev2};
  PhaseOptions phase1{
      {Encryption::kAes256Gcm16, Encryption::kAes256}, {Integrity::kSha2_256}, {20, 19, 14}, 28800};
  PhaseOptions phase2{
      {Encryption::kAes256Gcm16, Encryption::kAes256}, {Integrity::kSha2_256}, {20, 19, 14}, 3600};
  std::uint32_t rekey_margin_seconds = 270;
  std::uint32_t rekey_fuzz_percent = 100;
  std::uint32_t replay_window = 1024;  // packets
  std::uint32_t dpd_timeout_seconds = 30;
  // What the AWS-side endpoint does when DPD times out. Unset: the default for the kind
  // (defaultDpdAction), normalised like startup_action.
  std::optional<DpdAction> dpd_timeout_action;
  // Whether the AWS-side endpoint initiates. Unset: the default for the spoke's kind (see
  // defaultStartupAction); validation stores a given value equal to that default as unset, so
  // a spoke PUT back as it was read stays equal.
  std::optional<StartupAction> startup_action;

  bool operator==(const TunnelOptions&) const = default;

  bool ikev2() const;  // IKEv2 is allowed (then the hub speaks IKEv2; else IKEv1 main mode)
};

// add for a vpc (a VGW waits; the hub, its customer gateway, initiates anyway), start for a site
// (the hub plays the AWS side and initiates; add makes it wait for the site).
StartupAction defaultStartupAction(bool site);
inline StartupAction startupAction(const TunnelOptions& options, bool site) {
  return options.startup_action.value_or(defaultStartupAction(site));
}
// clear for a vpc (AWS's default: its customer gateway, the hub, restarts the tunnel), restart
// for a site (the hub is the AWS side that started the tunnel; it starts it again).
DpdAction defaultDpdAction(bool site);
inline DpdAction dpdAction(const TunnelOptions& options, bool site) {
  return options.dpd_timeout_action.value_or(defaultDpdAction(site));
}

// The one DH group the hub uses for PFS: phase 2's first, or with IKEv1 (where libreswan has
// no elliptic-curve groups for ESP) its first MODP group (5, 14-18).
int pfsGroup(const TunnelOptions& options);

// libreswan (4.10) proposal strings. IKEv2: one proposal per encryption algorithm with every
// integrity/PRF and DH group joined by '+'. IKEv1 (no '+' lists, no GCM in phase 1): one
// proposal per combination. ESP: every proposal carries pfsGroup, the one PFS group libreswan
// negotiates.
std::string libreswanIke(const TunnelOptions& options);
std::string libreswanEsp(const TunnelOptions& options);

}  // namespace transit::peers
