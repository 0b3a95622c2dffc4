// Tests of the daemon's configuration loader: what an operator writes, what the daemon gets, and
// which key an error names.
#include "hub/config/config.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/hub/config/config_fixtures.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>  // access

#include <array>
#include <cctype>
#include <cstdlib>  // mkdtemp
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace transit::hub {
namespace {

using transit::fakes::TempDir;

namespace fs = std::filesystem;
using ::testing::HasSubstr;
using ::testing::Not;

std::string tlsSection(const fs::path& cert, const fs::path& key) {
  return "  tls:\n    cert: " + cert.string() + "\n    key: " + key.string() + "\n";
}

TEST(ConfigTest, FullConfigRoundTripsEveryField) {
  TempDir dir;
  const auto cert = dir.write("cert.pem", "certificate");
  const auto key = dir.write("key.pem", "private key");
  const std::string yaml = R"(hub:
  name: hub-b
  asn: 2147483647
  public_ip: 198.51.100.7
  local_ip: 172.16.5.9
api:
  listen: ["0.0.0.0:8443", "[2001:db8::1]:9443", "127.0.0.1:0"]
  tokens:
    - name: ops
      role: admin
      sha256: )" + std::string(kHashA) +
                           R"(
    - name: grafana
      role: read
      sha256: ')" + std::string(kHashB) +
                           R"('
)" + tlsSection(cert, key) +
                           R"(  unauthenticated: ["[2001:db8::1]:9443"]
  threads: 64
store:
  sqlite: /var/lib/transit-hub/state.db
drivers:
  mode: dry-run
log:
  level: warn
)";

  auto config = parseConfig(yaml);

  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->hub.name, "hub-b");
  EXPECT_EQ(config->hub.asn, 2147483647U);
  EXPECT_EQ(config->hub.public_ip.toString(), "198.51.100.7");
  EXPECT_EQ(config->hub.local_ip.toString(), "172.16.5.9");
  const std::vector<ListenAddress> listen = {
      {"0.0.0.0", 8443}, {"2001:db8::1", 9443}, {"127.0.0.1", 0}};
  EXPECT_EQ(config->api.listen, listen);
  ASSERT_EQ(config->api.tokens.size(), 2U);
  EXPECT_EQ(config->api.tokens[0].name, "ops");
  EXPECT_EQ(config->api.tokens[0].role, Role::kAdmin);
  EXPECT_EQ(config->api.tokens[0].sha256, bytesOf(kHashA));
  EXPECT_EQ(config->api.tokens[1].name, "grafana");
  EXPECT_EQ(config->api.tokens[1].role, Role::kRead);
  EXPECT_EQ(config->api.tokens[1].sha256, bytesOf(kHashB));
  ASSERT_TRUE(config->api.tls);
  EXPECT_EQ(config->api.tls->cert_file, cert);
  EXPECT_EQ(config->api.tls->key_file, key);
  EXPECT_EQ(config->api.unauthenticated, std::vector<ListenAddress>{listen[1]});
  EXPECT_EQ(config->api.threads, 64U);
  EXPECT_EQ(config->store.sqlite, fs::path("/var/lib/transit-hub/state.db"));
  EXPECT_EQ(config->drivers.mode, DriverMode::kDryRun);
  EXPECT_EQ(config->log.level, LogLevel::kWarn);
}

TEST(ConfigTest, MinimalConfigGetsTheDocumentedDefaults) {
  auto config = parseConfig(kMinimal);

  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_FALSE(config->api.tls);
  EXPECT_EQ(config->api.unauthenticated, config->api.listen);
  EXPECT_EQ(config->api.threads, 2U);
  EXPECT_EQ(config->drivers.mode, DriverMode::kDryRun);
  EXPECT_EQ(config->log.level, LogLevel::kInfo);
  EXPECT_EQ(config->store.sqlite, fs::path("state.db"));  // parseConfig keeps it as given
}

TEST(ConfigTest, AbsentDriversSectionGetsTheDocumentedDefaults) {
  auto config = parseConfig(kMinimal);

  ASSERT_TRUE(config) << config.error().toString();
  const auto& drivers = config->drivers;
  EXPECT_EQ(drivers.mode, DriverMode::kDryRun);
  EXPECT_EQ(drivers.tunnel_links, peers::TunnelLinks::kXfrm);
  EXPECT_EQ(drivers.libreswan.whack, fs::path("/usr/libexec/ipsec/whack"));
  EXPECT_EQ(drivers.libreswan.addconn, fs::path("/usr/libexec/ipsec/addconn"));
  EXPECT_EQ(drivers.libreswan.ctl_socket, fs::path("/run/pluto/pluto.ctl"));
  EXPECT_EQ(drivers.libreswan.pid_file, fs::path("/run/pluto/pluto.pid"));
  EXPECT_EQ(drivers.libreswan.conf_dir, fs::path("/etc/ipsec.d/transit-hub"));
  EXPECT_EQ(drivers.libreswan.secrets_file, fs::path("/etc/ipsec.d/transit-hub.secrets"));
  EXPECT_EQ(drivers.bird.socket, fs::path("/run/bird/bird.ctl"));
  EXPECT_EQ(drivers.bird.include_file, fs::path("/etc/bird/transit-hub.conf"));
  EXPECT_EQ(drivers.bird.main_config, fs::path("/etc/bird/bird.conf"));
}

TEST(ConfigTest, EmptyDriverSubsectionsKeepTheDefaults) {
  auto config = parseConfig(kMinimal + "drivers:\n  libreswan: {}\n  bird: {}\n");

  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->drivers.libreswan.whack, fs::path("/usr/libexec/ipsec/whack"));
  EXPECT_EQ(config->drivers.bird.socket, fs::path("/run/bird/bird.ctl"));
}

TEST(ConfigTest, EveryDriverKeyIsParsed) {
  // Dry-run: none of these paths has to exist.
  const std::string drivers = R"(drivers:
  mode: dry-run
  tunnel_links: external
  libreswan:
    whack: /opt/ls/whack
    addconn: /opt/ls/addconn
    ctl_socket: /var/run/pluto/ctl
    pid_file: /var/run/pluto/pid
    conf_dir: /srv/ipsec/hub
    secrets_file: /srv/ipsec/hub.secrets
  xfrm:
    underlay_device: ens5
  bird:
    socket: /var/run/bird.ctl
    include_file: /srv/bird/hub.conf
    main_config: /srv/bird/bird.conf
  dry_run_dir: /srv/hub/rendered
)";

  auto config = parseConfig(kMinimal + drivers);

  ASSERT_TRUE(config) << config.error().toString();
  const auto& parsed = config->drivers;
  EXPECT_EQ(parsed.mode, DriverMode::kDryRun);
  EXPECT_EQ(parsed.tunnel_links, peers::TunnelLinks::kExternal);
  EXPECT_EQ(parsed.libreswan.whack, fs::path("/opt/ls/whack"));
  EXPECT_EQ(parsed.libreswan.addconn, fs::path("/opt/ls/addconn"));
  EXPECT_EQ(parsed.libreswan.ctl_socket, fs::path("/var/run/pluto/ctl"));
  EXPECT_EQ(parsed.libreswan.pid_file, fs::path("/var/run/pluto/pid"));
  EXPECT_EQ(parsed.libreswan.conf_dir, fs::path("/srv/ipsec/hub"));
  EXPECT_EQ(parsed.libreswan.secrets_file, fs::path("/srv/ipsec/hub.secrets"));
  EXPECT_EQ(parsed.bird.socket, fs::path("/var/run/bird.ctl"));
  EXPECT_EQ(parsed.bird.include_file, fs::path("/srv/bird/hub.conf"));
  EXPECT_EQ(parsed.bird.main_config, fs::path("/srv/bird/bird.conf"));
  EXPECT_EQ(parsed.xfrm.underlay_device, "ens5");
  EXPECT_EQ(parsed.dry_run_dir, fs::path("/srv/hub/rendered"));
}

TEST(ConfigTest, DryRunOutputDefaultsToADirectoryBesideTheStore) {
  auto config = parseConfig(
      replaced(kMinimal, "  sqlite: state.db\n", "  sqlite: /var/lib/transit-hub/state.db\n"));
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->drivers.dry_run_dir, fs::path("/var/lib/transit-hub/dry-run"));
  EXPECT_EQ(config->drivers.xfrm.underlay_device, "");  // found from hub.local_ip at run time
}

TEST(ConfigTest, RoutingPolicyDefaults) {
  auto config = parseConfig(kMinimal);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_TRUE(config->routing.segments.empty());  // every segment reaches only itself
  EXPECT_EQ(config->routing.not_preferred_prepend, 2u);
  EXPECT_EQ(config->routing.not_preferred_med, 100u);
}

TEST(ConfigTest, RoutingSegmentsAndNotPreferredAreParsed) {
  auto config = parseConfig(kMinimal +
                            "routing:\n"
                            "  segments:\n"
                            "    prod: [shared]\n"
                            "    dev: [shared]\n"
                            "  reserved: [10.255.0.0/16]\n"
                            "  not_preferred: {prepend: 3, med: null}\n");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->routing.segments.at("prod"), std::vector<std::string>{"shared"});
  EXPECT_EQ(config->routing.segments.at("dev"), std::vector<std::string>{"shared"});
  EXPECT_EQ(config->routing.not_preferred_prepend, 3u);
  EXPECT_FALSE(config->routing.not_preferred_med);
  ASSERT_EQ(config->routing.reserved.size(), 1u);
  EXPECT_EQ(config->routing.reserved[0].toString(), "10.255.0.0/16");
}

TEST(ConfigTest, BadRoutingSectionsNameTheKey) {
  const std::pair<std::string, std::string> cases[] = {
      {"routing:\n  segments: [prod]\n", "routing.segments"},
      {"routing:\n  segments:\n    Prod: [shared]\n", "routing.segments.Prod"},
      {"routing:\n  segments:\n    prod: shared\n", "routing.segments.prod"},
      {"routing:\n  segments:\n    prod: [shared, Dev]\n", "routing.segments.prod[1]"},
      {"routing:\n  not_preferred: {prepend: 11}\n", "routing.not_preferred.prepend"},
      {"routing:\n  not_preferred: {med: -1}\n", "routing.not_preferred.med"},
      {"routing:\n  summarize: yes\n", "routing.summarize"},
      {"routing:\n  reserved: [10.255.0.1/16]\n", "routing.reserved[0]"},
  };
  for (const auto& [yaml, key] : cases) {
    auto config = parseConfig(kMinimal + yaml);
    ASSERT_FALSE(config) << yaml;
    EXPECT_EQ(config.error().key, key) << yaml;
  }
}

TEST(ConfigTest, AuditRetentionHasDefaultsAndIsParsed) {
  auto defaults = parseConfig(kMinimal);
  ASSERT_TRUE(defaults) << defaults.error().toString();
  EXPECT_EQ(defaults->audit.retention_days, 365U);
  EXPECT_EQ(defaults->audit.max_records, 100000U);
  auto config = parseConfig(kMinimal + "audit:\n  retention_days: 30\n  max_records: 5000\n");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->audit.retention_days, 30U);
  EXPECT_EQ(config->audit.max_records, 5000U);
}

TEST(ConfigTest, BadAuditSettingsNameTheKey) {
  const std::pair<std::string, std::string> cases[] = {
      {"audit:\n  retention_days: 0\n", "audit.retention_days"},
      {"audit:\n  retention_days: 3651\n", "audit.retention_days"},
      {"audit:\n  retention_days: forever\n", "audit.retention_days"},
      {"audit:\n  max_records: 99\n", "audit.max_records"},
      {"audit:\n  max_records: 10000001\n", "audit.max_records"},
      {"audit:\n  keep: all\n", "audit.keep"},
  };
  for (const auto& [yaml, key] : cases) {
    auto config = parseConfig(kMinimal + yaml);
    ASSERT_FALSE(config) << yaml;
    EXPECT_EQ(config.error().key, key) << yaml;
  }
}

TEST(ConfigTest, XfrmTunnelLinksIsAccepted) {
  auto config = parseConfig(kMinimal + "drivers:\n  tunnel_links: xfrm\n");
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->drivers.tunnel_links, peers::TunnelLinks::kXfrm);
}

TEST(ConfigTest, EveryLogLevelIsAccepted) {
  const std::pair<std::string_view, LogLevel> levels[] = {{"trace", LogLevel::kTrace},
                                                          {"debug", LogLevel::kDebug},
                                                          {"info", LogLevel::kInfo},
                                                          {"warn", LogLevel::kWarn},
                                                          {"error", LogLevel::kError}};
  for (const auto& [text, level] : levels) {
    auto config = parseConfig(kMinimal + "log:\n  level: " + std::string(text) + "\n");
    ASSERT_TRUE(config) << text << ": " << config.error().toString();
    EXPECT_EQ(config->log.level, level) << text;
  }
}

struct Edit {
  std::string_view from;
  std::string to;
  std::string key;
  std::string message;  // a part of the expected message
};

void expectEditsFail(const std::vector<Edit>& edits) {
  for (const auto& edit : edits) {
    SCOPED_TRACE(edit.to.empty() ? std::string("without ") + std::string(edit.from) : edit.to);
    const auto error = errorOf(replaced(kMinimal, edit.from, edit.to));
    EXPECT_EQ(error.key, edit.key);
    EXPECT_THAT(error.message, HasSubstr(edit.message));
  }
}

TEST(ConfigTest, EveryMissingRequiredKeyIsReportedByItsPath) {
  expectEditsFail({
      {kHubBlock, "", "hub", "is required"},
      {"  name: hub-a\n", "", "hub.name", "is required"},
      {"  asn: 65000\n", "", "hub.asn", "is required"},
      {"  public_ip: 203.0.113.10\n", "", "hub.public_ip", "is required"},
      {"  local_ip: 10.0.0.10\n", "", "hub.local_ip", "is required"},
      {kApiBlock, "", "api", "is required"},
      {kListenLine, "", "api.listen", "is required"},
      {kTokensBlock, "", "api.tokens", "is required"},
      {"    - name: ops\n      role: admin\n", "    - role: admin\n", "api.tokens[0].name",
       "is required"},
      {"      role: admin\n", "", "api.tokens[0].role", "is required"},
      {kHashLine, "", "api.tokens[0].sha256", "is required"},
      {kStoreBlock, "", "store", "is required"},
      {kStoreBlock, "store: {}\n", "store.sqlite", "is required"},
  });
}

TEST(ConfigTest, TlsNeedsBothCertAndKey) {
  TempDir dir;
  const auto cert = dir.write("cert.pem", "certificate");
  const auto only_cert = std::string(kListenLine) + "  tls:\n    cert: " + cert.string() + "\n";
  EXPECT_EQ(errorOf(replaced(kMinimal, kListenLine, only_cert)).toString(),
            "api.tls.key: is required");
  const auto only_key = std::string(kListenLine) + "  tls:\n    key: " + cert.string() + "\n";
  EXPECT_EQ(errorOf(replaced(kMinimal, kListenLine, only_key)).toString(),
            "api.tls.cert: is required");
}

TEST(ConfigTest, UnknownKeysAreReportedAtEveryLevel) {
  const std::string listen(kListenLine);
  expectEditsFail({
      {"store:\n", "color: blue\nstore:\n", "color", "is not a known key"},
      {"  asn: 65000\n", "  asn: 65000\n  region: eu\n", "hub.region", "is not a known key"},
      {kListenLine, listen + "  port: 80\n", "api.port", "is not a known key"},
      {"      role: admin\n", "      role: admin\n      token: x\n", "api.tokens[0].token",
       "is not a known key"},
      {kListenLine, listen + "  tls: {cert: c, key: k, ca: a}\n", "api.tls.ca",
       "is not a known key"},
      {"  sqlite: state.db\n", "  sqlite: state.db\n  postgres: x\n", "store.postgres",
       "is not a known key"},
      {"store:\n", "drivers:\n  mode: dry-run\n  vici: x\nstore:\n", "drivers.vici",
       "is not a known key"},
      {"store:\n", "drivers:\n  libreswan:\n    ipsec: /usr/sbin/ipsec\nstore:\n",
       "drivers.libreswan.ipsec", "is not a known key"},
      {"store:\n", "drivers:\n  bird:\n    socket: /b\n    birdc: /usr/sbin/birdc\nstore:\n",
       "drivers.bird.birdc", "is not a known key"},
      {"store:\n", "log:\n  file: x\nstore:\n", "log.file", "is not a known key"},
  });
}

TEST(ConfigTest, KeyGivenTwiceIsAnError) {
  EXPECT_EQ(
      errorOf(replaced(kMinimal, "  asn: 65000\n", "  asn: 65000\n  asn: 65001\n")).toString(),
      "hub.asn: is given more than once");
}

TEST(ConfigTest, BadValuesAreReportedByKey) {
  const std::string listen(kListenLine);
  const std::string& hash_line = kHashLine;
  expectEditsFail({
      // Sections of the wrong type.
      {kHubBlock, "hub: [1]\n", "hub", "must be a map"},
      {"store:\n  sqlite: state.db\n", "store: state.db\n", "store", "must be a map"},
      {"store:\n", "drivers: dry-run\nstore:\n", "drivers", "must be a map"},
      {"store:\n", "log:\nstore:\n", "log", "must be a map"},
      {kListenLine, listen + "  tls: yes\n", "api.tls", "must be a map"},
      // hub
      {"  name: hub-a\n", "  name: Hub_A\n", "hub.name", "must start with a lowercase letter"},
      {"  name: hub-a\n", "  name: hub--a\n", "hub.name", "--"},
      {"  name: hub-a\n", "  name: [hub-a]\n", "hub.name", "must be a string"},
      {"  name: hub-a\n", "  name:\n", "hub.name", "must be a string"},
      {"  asn: 65000\n", "  asn: 65535\n", "hub.asn", "is a reserved ASN"},
      {"  asn: 65000\n", "  asn: 23456\n", "hub.asn", "is a reserved ASN"},
      {"  public_ip: 203.0.113.10\n", "  public_ip: 203.0.113.256\n", "hub.public_ip",
       "not an IPv4 address"},
      {"  public_ip: 203.0.113.10\n", "  public_ip: hub.example.com\n", "hub.public_ip",
       "not an IPv4 address"},
      {"  public_ip: 203.0.113.10\n", "  public_ip: 127.0.0.1\n", "hub.public_ip",
       "special-purpose range"},
      {"  local_ip: 10.0.0.10\n", "  local_ip: 010.0.0.10\n", "hub.local_ip", "leading zero"},
      {"  local_ip: 10.0.0.10\n", "  local_ip: 169.254.0.1\n", "hub.local_ip",
       "special-purpose range"},
      {"  local_ip: 10.0.0.10\n", "  local_ip: {a: 1}\n", "hub.local_ip", "must be a string"},
      // api.listen
      {kListenLine, "  listen: []\n", "api.listen", "must list at least one address"},
      {kListenLine, "  listen: 127.0.0.1:8080\n", "api.listen", "must be a list"},
      {kListenLine, "  listen: [\"localhost:8080\"]\n", "api.listen[0]",
       "hostnames are not accepted"},
      {kListenLine, "  listen: [\"127.0.0.1\"]\n", "api.listen[0]", "must be host:port"},
      {kListenLine, "  listen: [\"127.0.0.1:65536\"]\n", "api.listen[0]", "port 0-65535"},
      {kListenLine, "  listen: [\"127.0.0.1:080\"]\n", "api.listen[0]", "port 0-65535"},
      {kListenLine, "  listen: [\"127.0.0.1:\"]\n", "api.listen[0]", "port 0-65535"},
      {kListenLine, "  listen: [\"127.0.0.1:+80\"]\n", "api.listen[0]", "port 0-65535"},
      {kListenLine, "  listen: [\"127.0.0.1:8080\", \"10.0.0.1:http\"]\n", "api.listen[1]",
       "port 0-65535"},
      {kListenLine, "  listen: [\"::1:8080\"]\n", "api.listen[0]", "in brackets"},
      {kListenLine, "  listen: [\"[::g]:8080\"]\n", "api.listen[0]", "not a valid IPv6"},
      {kListenLine, "  listen: [\"[fe80::1%eth0]:8080\"]\n", "api.listen[0]", "not a valid IPv6"},
      {kListenLine, "  listen: [\"[::1]8080\"]\n", "api.listen[0]", "must be host:port"},
      {kListenLine, "  listen: [\"[::1]\"]\n", "api.listen[0]", "must be host:port"},
      {kListenLine, "  listen: [[\"127.0.0.1:8080\"]]\n", "api.listen[0]", "must be a string"},
      // api.tokens
      {kTokensBlock, "  tokens: []\n", "api.tokens", "must list at least one token"},
      {kTokensBlock, "  tokens: {name: ops}\n", "api.tokens", "must be a list"},
      {kTokensBlock, "  tokens: [ops]\n", "api.tokens[0]", "must be a map"},
      {"    - name: ops\n", "    - name: Ops\n", "api.tokens[0].name",
       "must start with a lowercase letter"},
      {"      role: admin\n", "      role: root\n", "api.tokens[0].role", "must be read or admin"},
      {"      role: admin\n", "      role: Admin\n", "api.tokens[0].role", "must be read or admin"},
      {hash_line, "      sha256: \"" + std::string(kHashA.substr(1)) + "\"\n",
       "api.tokens[0].sha256", "must be 64 hexadecimal characters"},
      {hash_line, "      sha256: \"" + std::string(kHashA) + "0\"\n", "api.tokens[0].sha256",
       "must be 64 hexadecimal characters"},
      {hash_line, "      sha256: \"" + std::string(kHashA.substr(1)) + "g\"\n",
       "api.tokens[0].sha256", "must be 64 hexadecimal characters"},
      {hash_line, "      sha256: \"0x" + std::string(kHashA.substr(2)) + "\"\n",
       "api.tokens[0].sha256", "must be 64 hexadecimal characters"},
      {hash_line, "      sha256: [" + std::string(kHashA) + "]\n", "api.tokens[0].sha256",
       "must be a string"},
      // api.threads
      {kListenLine, listen + "  threads: 0\n", "api.threads", "must be 1-64"},
      {kListenLine, listen + "  threads: 65\n", "api.threads", "must be 1-64"},
      {kListenLine, listen + "  threads: -2\n", "api.threads", "must be 1-64"},
      {kListenLine, listen + "  threads: 2.5\n", "api.threads", "must be an integer"},
      {kListenLine, listen + "  threads: two\n", "api.threads", "must be an integer"},
      {kListenLine, listen + "  threads:\n", "api.threads", "must be an integer"},
      // store, drivers, log
      {"  sqlite: state.db\n", "  sqlite: \"\"\n", "store.sqlite", "must not be empty"},
      {"  sqlite: state.db\n", "  sqlite:\n", "store.sqlite", "must be a string"},
      {"  sqlite: state.db\n", "  sqlite: [a.db]\n", "store.sqlite", "must be a string"},
      {"store:\n", "drivers:\n  mode: fast\nstore:\n", "drivers.mode", "must be dry-run or live"},
      {"store:\n", "drivers:\n  mode: DRY-RUN\nstore:\n", "drivers.mode",
       "must be dry-run or live"},
      {"store:\n", "drivers:\n  tunnel_links: vti\nstore:\n", "drivers.tunnel_links",
       "must be xfrm or external"},
      {"store:\n", "drivers:\n  tunnel_links: XFRM\nstore:\n", "drivers.tunnel_links",
       "must be xfrm or external"},
      {"store:\n", "drivers:\n  tunnel_links: [xfrm]\nstore:\n", "drivers.tunnel_links",
       "must be a string"},
      {"store:\n", "drivers:\n  libreswan: /usr/sbin/ipsec\nstore:\n", "drivers.libreswan",
       "must be a map"},
      {"store:\n", "drivers:\n  bird: [a]\nstore:\n", "drivers.bird", "must be a map"},
      {"store:\n", "drivers:\n  xfrm:\n    underlay_device: \"eth0; rm\"\nstore:\n",
       "drivers.xfrm.underlay_device", "must be a network interface name"},
      {"store:\n", "drivers:\n  xfrm:\n    underlay_device: averyveryverylongname\nstore:\n",
       "drivers.xfrm.underlay_device", "must be a network interface name"},
      {"store:\n", "drivers:\n  xfrm:\n    device: eth0\nstore:\n", "drivers.xfrm.device",
       "is not a known key"},
      {"store:\n", "drivers:\n  libreswan:\n    whack: \"\"\nstore:\n", "drivers.libreswan.whack",
       "must not be empty"},
      {"store:\n", "drivers:\n  libreswan:\n    conf_dir:\nstore:\n", "drivers.libreswan.conf_dir",
       "must be a string"},
      {"store:\n", "drivers:\n  bird:\n    main_config: ''\nstore:\n", "drivers.bird.main_config",
       "must not be empty"},
      {"store:\n", "log:\n  level: verbose\nstore:\n", "log.level",
       "must be one of trace, debug, info, warn, error"},
  });
}

TEST(ConfigTest, IntegersArePlainDecimalOnly) {
  for (const std::string_view text :
       {"0x10", "0o10", "010", "1e3", "65000.0", "65000abc", "+65000", "65_000", "true", "~",
        "\"65000\"", "'65000'", "[65000]", "{a: 1}", "!!str 65000"}) {
    SCOPED_TRACE(text);
    const auto error =
        errorOf(replaced(kMinimal, "  asn: 65000\n", "  asn: " + std::string(text) + "\n"));
    EXPECT_EQ(error.toString(), "hub.asn: must be an integer");
  }
}

TEST(ConfigTest, IntegersOutOfRangeGetTheKeysRange) {
  for (const std::string_view text : {"0", "-1", "2147483648", "4294967296",
                                      "99999999999999999999999", "-99999999999999999999"}) {
    SCOPED_TRACE(text);
    const auto error =
        errorOf(replaced(kMinimal, "  asn: 65000\n", "  asn: " + std::string(text) + "\n"));
    EXPECT_EQ(error.toString(), "hub.asn: must be 1-2147483647");
  }
}

TEST(ConfigTest, ExplicitlyTaggedIntegerIsAccepted) {
  auto config = parseConfig(replaced(kMinimal, "  asn: 65000\n", "  asn: !!int 64999\n"));
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->hub.asn, 64999U);
}

TEST(ConfigTest, DuplicateListenEntriesAreRefused) {
  const auto error = errorOf(
      replaced(kMinimal, kListenLine, "  listen: [\"127.0.0.1:8080\", \"127.0.0.1:8080\"]\n"));
  EXPECT_EQ(error.toString(), "api.listen[1]: duplicates api.listen[0]");
}

TEST(ConfigTest, TwoSpellingsOfOneIpv6AddressAreDuplicates) {
  const auto error = errorOf(
      replaced(kMinimal, kListenLine,
               "  listen: [\"[::1]:8080\", \"10.0.0.10:8080\", \"[0:0:0:0:0:0:0:1]:8080\"]\n"));
  EXPECT_EQ(error.toString(), "api.listen[2]: duplicates api.listen[0]");
}

TEST(ConfigTest, Ipv6ListenAddressIsCanonicalAndRebracketed) {
  auto config =
      parseConfig(replaced(kMinimal, kListenLine, "  listen: [\"[2001:DB8:0:0::0:1]:443\"]\n"));
  ASSERT_TRUE(config) << config.error().toString();
  ASSERT_EQ(config->api.listen.size(), 1U);
  EXPECT_EQ(config->api.listen[0].host, "2001:db8::1");
  EXPECT_EQ(config->api.listen[0].toString(), "[2001:db8::1]:443");
}

TEST(ConfigTest, UnauthenticatedEntryMustBeAListener) {
  const auto error = errorOf(replaced(
      kMinimal, kListenLine,
      std::string(kListenLine) + "  unauthenticated: [\"127.0.0.1:8080\", \"127.0.0.1:9090\"]\n"));
  EXPECT_EQ(error.toString(), "api.unauthenticated[1]: is not one of api.listen");
}

TEST(ConfigTest, UnauthenticatedEntriesMustBeDistinct) {
  const auto error = errorOf(replaced(
      kMinimal, kListenLine,
      std::string(kListenLine) + "  unauthenticated: [\"127.0.0.1:8080\", \"127.0.0.1:8080\"]\n"));
  EXPECT_EQ(error.toString(), "api.unauthenticated[1]: duplicates api.unauthenticated[0]");
}

TEST(ConfigTest, EmptyUnauthenticatedListRequiresTokensEverywhere) {
  auto config = parseConfig(
      replaced(kMinimal, kListenLine, std::string(kListenLine) + "  unauthenticated: []\n"));
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_TRUE(config->api.unauthenticated.empty());
}

TEST(ConfigTest, DuplicateTokenNamesAreRefused) {
  const auto error = errorOf(
      replaced(kMinimal, "store:\n",
               "    - {name: ops, role: read, sha256: " + std::string(kHashB) + "}\nstore:\n"));
  EXPECT_EQ(error.toString(), "api.tokens[1].name: duplicates api.tokens[0].name");
}

TEST(ConfigTest, DuplicateTokenHashesAreRefusedWithoutEchoingThem) {
  std::string upper(kHashA);
  for (auto& c : upper) {
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  const auto error = errorOf(replaced(
      kMinimal, "store:\n", "    - {name: ci, role: read, sha256: " + upper + "}\nstore:\n"));
  EXPECT_EQ(error.toString(), "api.tokens[1].sha256: duplicates api.tokens[0].sha256");
}

TEST(ConfigTest, ErrorsNeverEchoTheValue) {
  const std::string bad_hash = std::string(kHashA.substr(0, 40)) + "zzzzzzzzzzzzzzzzzzzzzzzz";
  const auto error = errorOf(replaced(kMinimal, std::string(kHashA), bad_hash));
  EXPECT_EQ(error.key, "api.tokens[0].sha256");
  EXPECT_THAT(error.toString(), Not(HasSubstr(bad_hash.substr(0, 16))));

  const auto listen_error =
      errorOf(replaced(kMinimal, kListenLine, "  listen: [\"secret-host.example:8080\"]\n"));
  EXPECT_THAT(listen_error.toString(), Not(HasSubstr("secret-host")));
}

TEST(ConfigTest, MissingTlsFileIsReportedWithItsPath) {
  TempDir dir;
  const auto key = dir.write("key.pem", "private key");
  const auto cert = dir.path() / "missing.pem";
  const auto error =
      errorOf(replaced(kMinimal, kListenLine, std::string(kListenLine) + tlsSection(cert, key)));
  EXPECT_EQ(error.key, "api.tls.cert");
  EXPECT_EQ(error.message, "cannot read " + cert.string() + ": No such file or directory");
}

TEST(ConfigTest, TlsKeyThatIsADirectoryIsReported) {
  TempDir dir;
  const auto cert = dir.write("cert.pem", "certificate");
  const auto error = errorOf(
      replaced(kMinimal, kListenLine, std::string(kListenLine) + tlsSection(cert, dir.path())));
  EXPECT_EQ(error.key, "api.tls.key");
  EXPECT_EQ(error.message, "cannot read " + dir.path().string() + ": Is a directory");
}

// A drivers section in live mode whose two programs are `whack` and `addconn`.
std::string liveDrivers(const fs::path& whack, const fs::path& addconn) {
  return "drivers:\n  mode: live\n  libreswan:\n    whack: " + whack.string() +
         "\n    addconn: " + addconn.string() + "\n";
}

TEST(ConfigTest, LiveModeLoadsWithExecutablePrograms) {
  TempDir dir;
  const auto whack = dir.writeExecutable("bin/whack");
  const auto addconn = dir.writeExecutable("bin/addconn");

  auto config = parseConfig(kMinimal + liveDrivers(whack, addconn));

  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->drivers.mode, DriverMode::kLive);
  EXPECT_EQ(config->drivers.libreswan.whack, whack);
  EXPECT_EQ(config->drivers.libreswan.addconn, addconn);
}

TEST(ConfigTest, LiveModeLoadsWithTheInstalledLibreswan) {
  // The defaults name libreswan's own programs; where it is not installed, stand-ins take
  // their place so that the test does not depend on the machine.
  TempDir dir;
  std::string yaml = kMinimal + "drivers:\n  mode: live\n";
  const Config::Drivers::Libreswan defaults;
  if (::access(defaults.whack.c_str(), X_OK) != 0 ||
      ::access(defaults.addconn.c_str(), X_OK) != 0) {
    yaml = kMinimal + liveDrivers(dir.writeExecutable("whack"), dir.writeExecutable("addconn"));
  }

  auto config = parseConfig(yaml);

  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->drivers.mode, DriverMode::kLive);
}

TEST(ConfigTest, LiveModeDoesNotRequireTheDaemonsFiles) {
  TempDir dir;
  const auto absent = dir.path() / "absent";
  const std::string yaml =
      kMinimal + liveDrivers(dir.writeExecutable("whack"), dir.writeExecutable("addconn")) +
      "    ctl_socket: " + (absent / "pluto.ctl").string() +
      "\n    pid_file: " + (absent / "pluto.pid").string() +
      "\n    conf_dir: " + (absent / "ipsec.d").string() +
      "\n    secrets_file: " + (absent / "hub.secrets").string() +
      "\n  bird:\n    socket: " + (absent / "bird.ctl").string() +
      "\n    include_file: " + (absent / "hub.conf").string() +
      "\n    main_config: " + (absent / "bird.conf").string() + "\n";

  auto config = parseConfig(yaml);

  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->drivers.bird.socket, absent / "bird.ctl");
}

TEST(ConfigTest, LiveModeWithoutWhackIsRefusedNamingTheKey) {
  TempDir dir;
  const auto whack = dir.path() / "missing-whack";

  const auto error = errorOf(kMinimal + liveDrivers(whack, dir.writeExecutable("addconn")));

  EXPECT_EQ(error.toString(),
            "drivers.libreswan.whack: " + whack.string() + " is not an executable file");
}

TEST(ConfigTest, LiveModeWithoutAddconnIsRefusedNamingTheKey) {
  TempDir dir;
  const auto addconn = dir.path() / "missing-addconn";

  const auto error = errorOf(kMinimal + liveDrivers(dir.writeExecutable("whack"), addconn));

  EXPECT_EQ(error.toString(),
            "drivers.libreswan.addconn: " + addconn.string() + " is not an executable file");
}

TEST(ConfigTest, LiveModeRefusesAWhackThatCannotBeExecuted) {
  TempDir dir;
  const auto plain = dir.write("whack", "#!/bin/sh\n");  // mode 0644
  const auto addconn = dir.writeExecutable("addconn");
  for (const auto& whack : {plain, dir.path()}) {
    SCOPED_TRACE(whack.string());
    const auto error = errorOf(kMinimal + liveDrivers(whack, addconn));
    EXPECT_EQ(error.toString(),
              "drivers.libreswan.whack: " + whack.string() + " is not an executable file");
  }
}

TEST(ConfigTest, DryRunDoesNotCheckThePrograms) {
  TempDir dir;
  const auto yaml = replaced(kMinimal + liveDrivers(dir.path() / "no-whack", dir.path() / "no-ac"),
                             "mode: live", "mode: dry-run");

  auto config = parseConfig(yaml);

  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->drivers.libreswan.whack, dir.path() / "no-whack");
}

TEST(ConfigTest, SyntaxErrorGivesLineAndColumn) {
  const auto error = errorOf("hub:\n  name: hub-a\n  asn: [65000\n");
  EXPECT_EQ(error.key, "");
  EXPECT_THAT(error.message, HasSubstr("line "));
  EXPECT_THAT(error.message, HasSubstr("column "));
}

TEST(ConfigTest, SyntaxErrorNamesTheRightLine) {
  const auto error = errorOf("hub:\n  name: hub-a\n  asn: 65000: 1\n");
  EXPECT_THAT(error.message, HasSubstr("line 3,"));
}

TEST(ConfigTest, EmptyDocumentIsAnError) {
  for (const std::string_view text : {"", "\n", "# nothing here\n", "---\n", "~\n"}) {
    SCOPED_TRACE(text);
    const auto error = errorOf(text);
    EXPECT_EQ(error.key, "");
    EXPECT_EQ(error.message, "the configuration is empty");
  }
}

TEST(ConfigTest, TopLevelMustBeAMap) {
  for (const std::string_view text : {"- hub\n- api\n", "hub\n", "42\n"}) {
    SCOPED_TRACE(text);
    const auto error = errorOf(text);
    EXPECT_EQ(error.key, "");
    EXPECT_THAT(error.message, HasSubstr("must be a map"));
  }
}

TEST(ConfigTest, SecondDocumentIsAnError) {
  const auto error = errorOf(kMinimal + "---\nhub: {}\n");
  EXPECT_EQ(error.key, "");
  EXPECT_THAT(error.message, HasSubstr("single YAML document"));
}

// yaml-cpp 0.7's LoadAll loops for ever (allocating) on these; found by tests/fuzz/config_yaml.
TEST(ConfigTest, StreamsThatHangYamlCppsLoadAllAreErrorsAtOnce) {
  for (const std::string_view text : {"\n,\n    ", ",", "hub: {}\n,\n"}) {
    SCOPED_TRACE(text);
    const auto error = errorOf(text);
    EXPECT_EQ(error.key, "");
    EXPECT_FALSE(error.message.empty());
  }
}

TEST(ConfigTest, LoadConfigOfMissingFileNamesThePathAndReason) {
  TempDir dir;
  const auto path = dir.path() / "absent.yaml";
  auto config = loadConfig(path);
  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().key, "");
  EXPECT_EQ(config.error().message, "cannot read " + path.string() + ": No such file or directory");
  EXPECT_EQ(config.error().toString(), config.error().message);
}

TEST(ConfigTest, LoadConfigResolvesRelativeSqliteAgainstTheFilesDirectory) {
  TempDir dir;
  const auto path = dir.write("etc/hub.yaml",
                              replaced(kMinimal, "sqlite: state.db", "sqlite: ../var/./state.db"));
  auto config = loadConfig(path);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->store.sqlite, dir.path() / "var/state.db");
}

TEST(ConfigTest, LoadConfigKeepsAbsoluteSqlite) {
  TempDir dir;
  const auto path = dir.write(
      "hub.yaml", replaced(kMinimal, "sqlite: state.db", "sqlite: /var/lib/transit-hub/state.db"));
  auto config = loadConfig(path);
  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->store.sqlite, fs::path("/var/lib/transit-hub/state.db"));
}

TEST(ConfigTest, LoadConfigResolvesRelativeDriverPathsAgainstTheFilesDirectory) {
  TempDir dir;
  dir.writeExecutable("libexec/whack");
  dir.writeExecutable("libexec/addconn");
  const std::string drivers = R"(drivers:
  mode: live
  libreswan:
    whack: ../libexec/whack
    addconn: ../libexec/./addconn
    ctl_socket: run/pluto.ctl
    pid_file: run/pluto.pid
    conf_dir: ipsec.d/hub
    secrets_file: ipsec.d/hub.secrets
  bird:
    socket: run/bird.ctl
    include_file: bird/hub.conf
    main_config: bird/bird.conf
)";
  const auto path = dir.write("etc/hub.yaml", kMinimal + drivers);

  auto config = loadConfig(path);

  ASSERT_TRUE(config) << config.error().toString();
  const auto etc = dir.path() / "etc";
  const auto& parsed = config->drivers;
  EXPECT_EQ(parsed.libreswan.whack, dir.path() / "libexec/whack");
  EXPECT_EQ(parsed.libreswan.addconn, dir.path() / "libexec/addconn");
  EXPECT_EQ(parsed.libreswan.ctl_socket, etc / "run/pluto.ctl");
  EXPECT_EQ(parsed.libreswan.pid_file, etc / "run/pluto.pid");
  EXPECT_EQ(parsed.libreswan.conf_dir, etc / "ipsec.d/hub");
  EXPECT_EQ(parsed.libreswan.secrets_file, etc / "ipsec.d/hub.secrets");
  EXPECT_EQ(parsed.bird.socket, etc / "run/bird.ctl");
  EXPECT_EQ(parsed.bird.include_file, etc / "bird/hub.conf");
  EXPECT_EQ(parsed.bird.main_config, etc / "bird/bird.conf");
}

TEST(ConfigTest, LoadConfigChecksARelativeWhackAgainstTheFilesDirectory) {
  TempDir dir;
  dir.writeExecutable("addconn");
  const auto path = dir.write("hub.yaml", kMinimal + liveDrivers("bin/whack", "addconn"));

  auto config = loadConfig(path);

  ASSERT_FALSE(config);
  EXPECT_EQ(config.error().toString(),
            "drivers.libreswan.whack: " + (dir.path() / "bin/whack").string() +
                " is not an executable file");
}

TEST(ConfigTest, LoadConfigResolvesRelativeTlsFilesAgainstTheFilesDirectory) {
  TempDir dir;
  dir.write("tls/cert.pem", "certificate");
  dir.write("tls/key.pem", "private key");
  const auto path = dir.write(
      "hub.yaml", replaced(kMinimal, kListenLine,
                           std::string(kListenLine) + tlsSection("tls/cert.pem", "tls/key.pem")));
  auto config = loadConfig(path);
  ASSERT_TRUE(config) << config.error().toString();
  ASSERT_TRUE(config->api.tls);
  EXPECT_EQ(config->api.tls->cert_file, dir.path() / "tls/cert.pem");
  EXPECT_EQ(config->api.tls->key_file, dir.path() / "tls/key.pem");
}

TEST(ConfigTest, ExampleFileParses) {
  const fs::path example = TRANSIT_EXAMPLE_CONFIG;
  std::ifstream in(example);
  ASSERT_TRUE(in) << "cannot open " << example;
  std::ostringstream text;
  text << in.rdbuf();

  auto config = parseConfig(text.str());

  ASSERT_TRUE(config) << config.error().toString();
  EXPECT_EQ(config->hub.name, "hub-a");
  EXPECT_EQ(config->api.listen.size(), 2U);
  EXPECT_EQ(config->api.tokens.size(), 2U);
  EXPECT_EQ(config->drivers.mode, DriverMode::kDryRun);
  EXPECT_EQ(config->drivers.tunnel_links, peers::TunnelLinks::kXfrm);
  EXPECT_EQ(config->drivers.libreswan.whack, fs::path("/usr/libexec/ipsec/whack"));
  EXPECT_EQ(config->drivers.bird.main_config, fs::path("/etc/bird/bird.conf"));
  EXPECT_EQ(config->log.level, LogLevel::kInfo);
  EXPECT_TRUE(loadConfig(example)) << "loadConfig of the example failed";
}

TEST(ConfigTest, EnumsAndAddressesPrintAsTheConfigSpellsThem) {
  EXPECT_EQ(toString(Role::kRead), "read");
  EXPECT_EQ(toString(Role::kAdmin), "admin");
  EXPECT_EQ(toString(DriverMode::kDryRun), "dry-run");
  EXPECT_EQ(toString(DriverMode::kLive), "live");
  EXPECT_EQ((ListenAddress{"127.0.0.1", 8080}).toString(), "127.0.0.1:8080");
  EXPECT_EQ((ListenAddress{"::1", 0}).toString(), "[::1]:0");
  EXPECT_EQ((ConfigError{"hub.asn", "must be an integer"}).toString(),
            "hub.asn: must be an integer");
  EXPECT_EQ((ConfigError{"", "the configuration is empty"}).toString(),
            "the configuration is empty");
}

}  // namespace
}  // namespace transit::hub
