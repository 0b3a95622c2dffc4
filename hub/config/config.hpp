// The daemon's configuration: a YAML file given with --config.
//
// Owns: plain values, read once at start by hub/daemon/main.cpp and handed to the components that
// need them. Loading is strict: an unknown key, a missing required key or a bad value is an error
// that names the key by its path ("api.tokens[0].sha256"), so `transit-hubd --check` can tell an
// operator exactly what to fix. Every key is documented in the README and in
// hub/config/transit-hub.example.yaml.
#pragma once

#include <array>
#include <cstdint>
#include <expected>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "peers/model/tunnel_driver.hpp"
#include "routing/base/prefix.hpp"

namespace transit::hub {

enum class Role {
  kRead,   // may call every GET
  kAdmin,  // may also create, replace and delete
};
std::string_view toString(Role role);

struct ApiToken {
  std::string name;  // who holds the token; appears in logs, never the token
  Role role = Role::kRead;
  std::array<std::uint8_t, 32> sha256{};  // SHA-256 of the bearer token
};

// host:port. host is an IPv4 literal or a bracketed IPv6 literal ("[::1]:8080"); port 0 asks the
// kernel for a free port (tests).
struct ListenAddress {
  std::string host;  // without brackets
  std::uint16_t port = 0;
  std::string toString() const;  // as written in the config, brackets restored for IPv6
  bool operator==(const ListenAddress&) const = default;
};

struct TlsConfig {
  std::filesystem::path cert_file;  // PEM certificate chain
  std::filesystem::path key_file;   // PEM private key
};

enum class DriverMode {
  kDryRun,  // render what live mode would load into drivers.dry_run_dir; drive no daemon
  kLive,    // drive pluto and BIRD
};
std::string_view toString(DriverMode mode);

enum class LogLevel { kTrace, kDebug, kInfo, kWarn, kError };

struct Config {
  struct Hub {
    std::string name;  // a name as peers::checkName accepts it
    std::uint32_t asn = 0;
    Ipv4Address public_ip;  // the address spokes see (the Elastic IP on EC2)
    Ipv4Address local_ip;   // the instance's own address
  } hub;

  struct Api {
    std::vector<ListenAddress> listen;  // at least one
    std::vector<ApiToken> tokens;       // at least one
    std::optional<TlsConfig> tls;       // when set, every listener speaks HTTPS
    // Listeners on which /healthz, /readyz and /metrics answer without a token. Each entry must
    // also be in `listen`. Default: every listener.
    std::vector<ListenAddress> unauthenticated;
    unsigned threads = 2;  // HTTP worker threads, 1-64
    // Open connections, all listeners together, 1-100000; one more gets a 503 and is closed.
    std::size_t max_connections = 4096;
  } api;

  // Exactly one of sqlite (a single hub, the embedded default) and etcd (the pair).
  struct Store {
    std::filesystem::path sqlite;  // the SQLite database file; empty when etcd is set
    struct Etcd {
      // Each member's client URL, "http://10.0.1.5:2379" or "https://..."; all http or all
      // https; at least one (the pair needs three voters: the two hubs and a witness).
      std::vector<std::string> endpoints;
      std::string prefix = "/transit-hub/";  // every key the hub writes starts with it
      struct Tls {
        std::filesystem::path ca;    // empty: the system's trusted certificates
        std::filesystem::path cert;  // client certificate; with key
        std::filesystem::path key;
      } tls;
      std::string user;  // etcd user auth; empty: none
      // The user's password, read from this file at start (never written in the config, so
      // the config can be shown and logged); required with user.
      std::filesystem::path password_file;
    };
    std::optional<Etcd> etcd;
  } store;

  struct Drivers {
    DriverMode mode = DriverMode::kDryRun;
    // kXfrm on hosts with XFRM interfaces (EC2); kExternal when the inside links already exist
    // (the lab on kernels without ESP).
    peers::TunnelLinks tunnel_links = peers::TunnelLinks::kXfrm;
    // Defaults are Debian's paths, the same as the drivers' own defaults (a test in
    // tests/hub/daemon/wiring_test.cpp holds the two equal; config does not link the drivers).
    struct Libreswan {
      std::filesystem::path whack = "/usr/libexec/ipsec/whack";
      std::filesystem::path addconn = "/usr/libexec/ipsec/addconn";
      std::filesystem::path ctl_socket = "/run/pluto/pluto.ctl";
      std::filesystem::path pid_file = "/run/pluto/pluto.pid";
      std::filesystem::path conf_dir = "/etc/ipsec.d/transit-hub";  // a file per tunnel
      std::filesystem::path secrets_file = "/etc/ipsec.d/transit-hub.secrets";
    } libreswan;
    struct Xfrm {  // tunnel_links: xfrm only
      // The device the ipsecN interfaces are bound to; empty: the one holding hub.local_ip.
      std::string underlay_device;
    } xfrm;
    struct Bird {
      std::filesystem::path socket = "/run/bird/bird.ctl";
      std::filesystem::path include_file = "/etc/bird/transit-hub.conf";  // the hub's file
      std::filesystem::path main_config = "/etc/bird/bird.conf";          // includes it
    } bird;
    // dry-run: where the rendered conns, secrets and BIRD include go. Default: a `dry-run`
    // directory beside store.sqlite (with etcd: /var/lib/transit-hub/dry-run).
    std::filesystem::path dry_run_dir;
    // live: where the nft scripts the hub loads are written (the MSS clamp, the segment
    // filter). Default: systemd's RuntimeDirectory of the unit.
    std::filesystem::path runtime_dir = "/run/transit-hub";
  } drivers;

  // The HA pair: the other hub of the pair and the link between the two. Unset: a single hub.
  // Both hubs share one registry (store.etcd is required), talk iBGP over the link (the same
  // hub.asn on both), and each spoke holds one VPN connection per hub.
  struct Pair {
    struct Peer {
      std::string name;       // the other hub's hub.name; differs from this hub's
      Ipv4Address public_ip;  // its Elastic IP: where spokes connect to it
      Ipv4Address local_ip;   // its instance address: the far end of the link
    } peer;
    // A VXLAN link between the two instances' addresses (UDP over the VPC), which carries the
    // iBGP session and the traffic one hub hands to the other.
    struct Link {
      std::uint32_t vni = 4789;   // 1-16777215; the same on both hubs
      std::uint16_t port = 4789;  // UDP destination port
      // The link's /30: the hub whose name sorts first takes the first usable address. Must
      // not overlap any tunnel's inside /30 (the registry never allocates it).
      Ipv4Prefix inside = Ipv4Prefix::parse("169.254.253.252/30").value();
      std::uint32_t mtu = 1450;  // 1280-8950
      // The device the link is bound to; empty: the one holding hub.local_ip.
      std::string underlay_device;
    } link;
    // BFD on the iBGP session over the link: the other hub's death is seen within
    // interval x multiplier.
    struct Bfd {
      std::uint32_t interval_ms = 200;  // 10-10000
      std::uint32_t multiplier = 3;     // 2-255
    } bfd;
  };
  std::optional<Pair> pair;

  struct Routing {
    // Which segments exchange routes, besides each segment with itself. Symmetric: listing
    // `prod: [shared]` lets shared reach prod too. Segments not named reach only themselves.
    std::map<std::string, std::vector<std::string>> segments;
    // Never covered by a summary (the hub's own VPC CIDRs: a summary is installed as an
    // unreachable route and would cut the hub off from them).
    std::vector<Ipv4Prefix> reserved;
    // For a spoke whose preferred_hub is another hub: extra copies of this hub's ASN on every
    // path it is sent, and the MED, so its gateway sends through the preferred hub.
    std::uint32_t not_preferred_prepend = 2;
    std::optional<std::uint32_t> not_preferred_med = 100;
  } routing;

  struct Log {
    LogLevel level = LogLevel::kInfo;
  } log;

  // The audit trail of changes (GET /v1/audit), kept in the store: records older than
  // retention_days, and the oldest beyond max_records, are removed as new ones are written.
  struct Audit {
    unsigned retention_days = 365;     // 1-3650
    std::size_t max_records = 100000;  // 100-10,000,000
  } audit;
};

struct ConfigError {
  std::string key;      // path of the offending key; empty when the file itself is the problem
  std::string message;  // what is wrong, never the value of a secret
  std::string toString() const;  // "api.tokens[0].sha256: must be 64 hexadecimal characters"
};

std::expected<Config, ConfigError> parseConfig(std::string_view yaml_text);
std::expected<Config, ConfigError> loadConfig(const std::filesystem::path& path);

}  // namespace transit::hub
