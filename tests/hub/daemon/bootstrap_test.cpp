// transit-hubd --bootstrap (hub/daemon/bootstrap.hpp): the user data passes through to a
// configuration the hub's loader reads as it reads the user data; missing addresses come from
// the instance metadata; `api.tls: self-signed` makes (and on a re-run reuses) a pair; every bad
// input is refused with a message naming the user data and the key, leaving the directory as it
// was; BIRD's main configuration is written in live mode only, and put back when a later step
// fails.
#include "hub/daemon/bootstrap.hpp"

#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "hub/config/config.hpp"
#include "hub/daemon/wiring.hpp"
#include "routing/bird/bird_render.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/hub/daemon/pem_inspect.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;
using Kind = BootstrapError::Kind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1795674600));

constexpr std::string_view kPublicLine = "  public_ip: 203.0.113.10\n";
constexpr std::string_view kLocalLine = "  local_ip: 10.0.0.10\n";
constexpr std::string_view kSqliteLine = "  sqlite: state.db\n";

// The smallest valid user data; the tests change a line or two.
constexpr std::string_view kMinimal = R"(# cloud-init write_files content
hub:
  name: hub-a
  asn: 65000
  public_ip: 203.0.113.10
  local_ip: 10.0.0.10
api:
  listen: ["127.0.0.1:8080"]
  tokens:
    - name: ops
      role: admin
      sha256: "dc1ca1754a317687fd3b8eb610a98fe553424c12f5b30293e4967cf6c130cb61"
store:
  sqlite: state.db
)";

// A value other than the default in (almost) every key, flow and block style, quoted and plain,
// relative paths: the pair, etcd with TLS and a password file, both drivers sections, routing.
constexpr std::string_view kFull = R"(hub:
  name: hub-a
  asn: 65010
  public_ip: 203.0.113.10
  local_ip: 10.0.0.10
api:
  listen: ["127.0.0.1:8080", "[::1]:8443", 0.0.0.0:9090]
  tokens:
    - name: ops
      role: admin
      sha256: "dc1ca1754a317687fd3b8eb610a98fe553424c12f5b30293e4967cf6c130cb61"
    - {name: monitoring, role: read,
       sha256: E178C7AC8D7A78EC5F68EF5CF16FADE449E0FDFE574D253D0A7C120B0D2842AD}
  unauthenticated: []
  threads: 4
store:
  etcd:
    endpoints: ["https://10.0.1.5:2379", "https://10.0.2.5:2379"]
    prefix: "/th/"
    tls: {ca: etcd/ca.pem, cert: etcd/client.pem, key: etcd/client.key}
    user: transit-hub
    password_file: etcd/password
pair:
  peer: {name: hub-b, public_ip: 203.0.113.20, local_ip: 10.0.2.10}
  link: {vni: 100, port: 4790, inside: 169.254.250.0/30, mtu: 1400, underlay_device: ens5}
  bfd:
    interval_ms: 300
    multiplier: 4
drivers:
  mode: dry-run
  tunnel_links: external
  xfrm: {underlay_device: eth1}
  dry_run_dir: dry
  runtime_dir: /run/th
  libreswan:
    whack: /opt/ipsec/whack
    addconn: /opt/ipsec/addconn
    ctl_socket: /run/p/pluto.ctl
    pid_file: /run/p/pluto.pid
    conf_dir: /etc/ipsec.d/th
    secrets_file: /etc/ipsec.d/th.secrets
  bird: {socket: /run/b/bird.ctl, include_file: /etc/b/th.conf, main_config: /etc/b/bird.conf}
routing:
  segments: {prod: [shared], dev: [shared, "prod"]}
  reserved: [10.255.0.0/16, 10.254.0.0/16]
  not_preferred: {prepend: 3, med: null}
log:
  level: debug
)";

std::string replaced(std::string_view text, std::string_view from, std::string_view to) {
  std::string out(text);
  const auto at = out.find(from);
  EXPECT_NE(at, std::string::npos) << "fixture has no '" << from << "'";
  if (at != std::string::npos) out.replace(at, from.size(), to);
  return out;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

mode_t modeOf(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

// Every entry under `root`: its mode, and a file's content.
std::map<std::string, std::string> snapshot(const fs::path& root) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(root)) {
    struct stat info {};
    ::lstat(entry.path().c_str(), &info);
    std::string value = fmt::format("{:o}", info.st_mode);
    if (S_ISREG(info.st_mode)) value += " " + slurp(entry.path());
    out[fs::relative(entry.path(), root).string()] = value;
  }
  return out;
}

// Every value a configuration holds, one per line, for comparing two loads.
std::string describe(const Config& c) {
  std::string out = fmt::format("hub {} {} {} {}\n", c.hub.name, c.hub.asn,
                                c.hub.public_ip.toString(), c.hub.local_ip.toString());
  for (const auto& listen : c.api.listen) out += "listen " + listen.toString() + "\n";
  for (const auto& open : c.api.unauthenticated) out += "open " + open.toString() + "\n";
  for (const auto& token : c.api.tokens) {
    out += fmt::format("token {} {} {:02x}\n", token.name, toString(token.role),
                       fmt::join(token.sha256, ""));
  }
  if (c.api.tls) {
    out += fmt::format("tls {} {}\n", c.api.tls->cert_file.string(), c.api.tls->key_file.string());
  }
  out += fmt::format("threads {}\nsqlite {}\n", c.api.threads, c.store.sqlite.string());
  if (c.store.etcd) {
    const auto& e = *c.store.etcd;
    out += fmt::format("etcd {} {} {} {} {} {} {}\n", fmt::join(e.endpoints, ","), e.prefix,
                       e.tls.ca.string(), e.tls.cert.string(), e.tls.key.string(), e.user,
                       e.password_file.string());
  }
  if (c.pair) {
    const auto& p = *c.pair;
    out += fmt::format("pair {} {} {} {} {} {} {} {} {} {}\n", p.peer.name,
                       p.peer.public_ip.toString(), p.peer.local_ip.toString(), p.link.vni,
                       p.link.port, p.link.inside.toString(), p.link.mtu, p.link.underlay_device,
                       p.bfd.interval_ms, p.bfd.multiplier);
  }
  const auto& d = c.drivers;
  out += fmt::format(
      "drivers {} {} {} {} {} {} {} {} {} {} {} {} {} {} {}\n", toString(d.mode),
      static_cast<int>(d.tunnel_links), d.xfrm.underlay_device, d.dry_run_dir.string(),
      d.runtime_dir.string(), d.libreswan.whack.string(), d.libreswan.addconn.string(),
      d.libreswan.ctl_socket.string(), d.libreswan.pid_file.string(), d.libreswan.conf_dir.string(),
      d.libreswan.secrets_file.string(), d.bird.socket.string(), d.bird.include_file.string(),
      d.bird.main_config.string(), static_cast<int>(c.log.level));
  for (const auto& [segment, reaches] : c.routing.segments) {
    out += fmt::format("segment {} {}\n", segment, fmt::join(reaches, ","));
  }
  for (const auto& prefix : c.routing.reserved) out += "reserved " + prefix.toString() + "\n";
  out += fmt::format(
      "not_preferred {} {}\n", c.routing.not_preferred_prepend,
      c.routing.not_preferred_med ? std::to_string(*c.routing.not_preferred_med) : "none");
  return out;
}

class BootstrapTest : public ::testing::Test {
 protected:
  void SetUp() override {
    metadata_["public-ipv4"] = "198.51.100.7";
    metadata_["local-ipv4"] = "10.0.3.7";
  }

  BootstrapDeps deps() {
    return BootstrapDeps{
        .metadata = [this](std::string_view item) -> std::expected<std::string, ImdsError> {
          asked_.emplace_back(item);
          auto it = metadata_.find(std::string(item));
          if (it == metadata_.end()) return std::unexpected(ImdsError{"no such item", 404});
          return it->second;
        },
        .certificate =
            [this](const fs::path& dir, const SelfSignedRequest& request) {
              certificate_requests_.push_back(request);
              return ensureSelfSignedFiles(dir, request, kNow);
            },
    };
  }

  fs::path writeUserData(std::string_view text) {
    user_data_ = dir_.write("user-data.yaml", text);
    return user_data_;
  }
  std::expected<BootstrapReport, BootstrapError> run(std::string_view text) {
    writeUserData(text);
    return runBootstrap(user_data_, out(), deps());
  }
  // The user data written with run() or writeUserData(), bootstrapped again.
  std::expected<BootstrapReport, BootstrapError> rerun() {
    return runBootstrap(user_data_, out(), deps());
  }
  fs::path out() const { return dir_ / "hub.yaml"; }

  // Runs `text`, expects it refused (kInvalid unless said) with a message that contains
  // `message` (after the user data's path when `message` starts with ": "), and the directory as
  // it was.
  void expectRefused(std::string_view text, std::string_view message, Kind kind = Kind::kInvalid) {
    writeUserData(text);
    const auto before = snapshot(dir_.path());
    auto report = runBootstrap(user_data_, out(), deps());
    ASSERT_FALSE(report.has_value()) << text;
    EXPECT_EQ(report.error().kind, kind) << report.error().message;
    // ": KEY: ..." is about the user data's content: the message names the user data first.
    const std::string expected = message.starts_with(": ")
                                     ? user_data_.string() + std::string(message)
                                     : std::string(message);
    EXPECT_THAT(report.error().message, HasSubstr(expected));
    EXPECT_EQ(report.error().message.find('\n'), std::string::npos) << "one line";
    EXPECT_EQ(snapshot(dir_.path()), before) << "the directory is as it was";
  }

  fakes::TempDir dir_;
  fs::path user_data_;
  std::map<std::string, std::expected<std::string, ImdsError>> metadata_;
  std::vector<std::string> asked_;
  std::vector<SelfSignedRequest> certificate_requests_;
};

// ---- the user data passes through -----------------------------------------------------------

TEST_F(BootstrapTest, AFullUserDataLoadsAsTheUserDataItselfLoads) {
  dir_.write("etcd/ca.pem", "ca");
  dir_.write("etcd/client.pem", "cert");
  dir_.write("etcd/client.key", "key");
  dir_.write("etcd/password", "secret\n");
  auto report = run(kFull);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_TRUE(asked_.empty()) << "both addresses are given";
  EXPECT_TRUE(certificate_requests_.empty());

  auto expected = loadConfig(user_data_);
  ASSERT_TRUE(expected.has_value()) << expected.error().toString();
  auto written = loadConfig(out());
  ASSERT_TRUE(written.has_value()) << written.error().toString();
  EXPECT_EQ(describe(*written), describe(*expected));
  EXPECT_EQ(written->store.etcd->tls.ca, dir_ / "etcd/ca.pem");  // relative: beside OUT
  EXPECT_EQ(modeOf(out()), 0600U);
  EXPECT_THAT(slurp(out()), StartsWith("# The hub's configuration, written by transit-hubd "
                                       "--bootstrap from " +
                                       user_data_.string()));
}

TEST_F(BootstrapTest, TheExampleConfigurationPassesThrough) {
  auto report = run(slurp(TRANSIT_EXAMPLE_CONFIG));
  ASSERT_TRUE(report.has_value()) << report.error().message;
  auto expected = loadConfig(TRANSIT_EXAMPLE_CONFIG);
  ASSERT_TRUE(expected.has_value()) << expected.error().toString();
  auto written = loadConfig(out());
  ASSERT_TRUE(written.has_value()) << written.error().toString();
  EXPECT_EQ(describe(*written), describe(*expected));
}

TEST_F(BootstrapTest, WritesOnlyTheConfigurationAndSaysWhat) {
  auto report = run(kMinimal);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(dir_.path())) {
    names.push_back(entry.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("hub.yaml", "user-data.yaml"));
  EXPECT_EQ(report->summary(),
            fmt::format("wrote {} (hub hub-a, public_ip 203.0.113.10, local_ip 10.0.0.10)",
                        out().string()));
  EXPECT_FALSE(report->bird_main_config);
}

// ---- the instance metadata --------------------------------------------------------------------

TEST_F(BootstrapTest, MissingAddressesComeFromTheInstanceMetadata) {
  auto report = run(replaced(replaced(kMinimal, kPublicLine, ""), kLocalLine, ""));
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(asked_, ElementsAre("public-ipv4", "local-ipv4"));
  auto config = loadConfig(out());
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  EXPECT_EQ(config->hub.public_ip.toString(), "198.51.100.7");
  EXPECT_EQ(config->hub.local_ip.toString(), "10.0.3.7");
  EXPECT_TRUE(report->public_ip_from_metadata);
  EXPECT_TRUE(report->local_ip_from_metadata);
  EXPECT_EQ(report->summary(), fmt::format("wrote {} (hub hub-a, public_ip 198.51.100.7, "
                                           "local_ip 10.0.3.7, both from instance metadata)",
                                           out().string()));
}

TEST_F(BootstrapTest, OnlyTheMissingAddressIsAsked) {
  auto report = run(replaced(kMinimal, kLocalLine, ""));
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(asked_, ElementsAre("local-ipv4"));
  EXPECT_THAT(report->summary(), HasSubstr("public_ip 203.0.113.10, local_ip 10.0.3.7, "
                                           "local_ip from instance metadata"));
}

TEST_F(BootstrapTest, AMetadataFailureIsTheErrorAndWritesNothing) {
  metadata_["public-ipv4"] =
      std::unexpected(ImdsError{"instance metadata: GET /latest/meta-data/public-ipv4: 404", 404});
  const auto text =
      replaced(replaced(kMinimal, kPublicLine, ""), "  listen:", "  tls: self-signed\n  listen:");
  expectRefused(text,
                "instance metadata: GET /latest/meta-data/public-ipv4: 404 (the instance has no "
                "public IPv4 address: give hub.public_ip in the user data)",
                Kind::kFailed);
  EXPECT_TRUE(certificate_requests_.empty()) << "no certificate before the addresses are known";
}

TEST_F(BootstrapTest, AnUnreachableMetadataServiceIsTheError) {
  metadata_["local-ipv4"] = std::unexpected(ImdsError{
      "instance metadata: PUT /latest/api/token: no answer from 169.254.169.254:80 within 2 s "
      "(9 attempts over 31 s)",
      0});
  expectRefused(replaced(kMinimal, kLocalLine, ""),
                "instance metadata: PUT /latest/api/token: no answer from 169.254.169.254:80 "
                "within 2 s (9 attempts over 31 s)",
                Kind::kFailed);
}

TEST_F(BootstrapTest, AMetadataAnswerThatIsNoUsableAddressIsRefused) {
  metadata_["local-ipv4"] = "not-an-address";
  expectRefused(replaced(kMinimal, kLocalLine, ""),
                "instance metadata: local-ipv4: the answer is not an IPv4 address", Kind::kFailed);
  metadata_["local-ipv4"] = "127.0.0.1";
  expectRefused(replaced(kMinimal, kLocalLine, ""),
                "instance metadata: local-ipv4: 127.0.0.1 cannot be hub.local_ip", Kind::kFailed);
}

// ---- api.tls: self-signed ---------------------------------------------------------------------

TEST_F(BootstrapTest, SelfSignedMakesAPairForTheHubAndReusesItOnARerun) {
  const auto text =
      replaced(replaced(kMinimal, kPublicLine, ""), "  listen:", "  tls: self-signed\n  listen:");
  auto report = run(text);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  const auto cert = dir_ / "tls" / "cert.pem";
  const auto key = dir_ / "tls" / "key.pem";
  EXPECT_EQ(report->summary(),
            fmt::format("wrote {} (hub hub-a, public_ip 198.51.100.7, local_ip 10.0.0.10, "
                        "public_ip from instance metadata, self-signed certificate {} (new))",
                        out().string(), cert.string()));
  EXPECT_EQ(modeOf(dir_ / "tls"), 0700U);
  EXPECT_EQ(modeOf(cert), 0644U);
  EXPECT_EQ(modeOf(key), 0600U);
  auto facts = inspectCertificate(slurp(cert), slurp(key));
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->common_name, "hub-a");
  EXPECT_THAT(facts->ip_alt_names, ElementsAre("198.51.100.7", "10.0.0.10"));
  EXPECT_EQ(facts->key_matches, true);
  auto config = loadConfig(out());
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  ASSERT_TRUE(config->api.tls);
  EXPECT_EQ(config->api.tls->cert_file, cert);
  EXPECT_EQ(config->api.tls->key_file, key);

  // A re-run (the operator removed hub.yaml) keeps the pair as it is.
  const auto cert_pem = slurp(cert);
  const auto key_pem = slurp(key);
  fs::remove(out());
  auto again = rerun();
  ASSERT_TRUE(again.has_value()) << again.error().message;
  EXPECT_THAT(again->summary(),
              HasSubstr(fmt::format("self-signed certificate {} (reused)", cert.string())));
  EXPECT_EQ(slurp(cert), cert_pem);
  EXPECT_EQ(slurp(key), key_pem);
  EXPECT_TRUE(loadConfig(out()).has_value());
}

TEST_F(BootstrapTest, ACertificateThatCannotBeMadeIsTheError) {
  dir_.write("tls/key.pem", "an operator's key\n");
  expectRefused(replaced(kMinimal, "  listen:", "  tls: self-signed\n  listen:"),
                "tls/key.pem exists without", Kind::kFailed);
}

// ---- the transformation itself (no files) -----------------------------------------------------

TEST(BootstrapTransform, PutsTheMadePairIntoApiTlsAndAsksNothingElse) {
  std::vector<SelfSignedRequest> requests;
  const BootstrapDeps deps{
      .metadata = [](std::string_view) -> std::expected<std::string, ImdsError> {
        return std::unexpected(ImdsError{"not expected", 0});
      },
      .certificate = [&requests](const fs::path& dir, const SelfSignedRequest& request)
          -> std::expected<CertificateFiles, std::string> {
        requests.push_back(request);
        return CertificateFiles{dir / "c.pem", dir / "k.pem", false, {}};
      },
  };
  auto output = transformUserData(replaced(kMinimal, "  listen:", "  tls: self-signed\n  listen:"),
                                  "ud.yaml", "/etc/th/tls", deps);
  ASSERT_TRUE(output.has_value()) << output.error().message;
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].common_name, "hub-a");
  EXPECT_EQ(requests[0].addresses.size(), 2U);
  EXPECT_THAT(output->yaml, HasSubstr("  tls:\n    cert: /etc/th/tls/c.pem\n"
                                      "    key: /etc/th/tls/k.pem\n"));
  EXPECT_THAT(output->yaml, Not(HasSubstr("self-signed")));
  EXPECT_THAT(output->yaml, Not(HasSubstr("write_files content"))) << "comments are not kept";
}

TEST(BootstrapTransform, KeepsKeysGivenTwiceForTheLoaderToRefuse) {
  const BootstrapDeps deps{.metadata = {}, .certificate = {}};
  auto output = transformUserData(std::string(kMinimal) + "log:\n  level: info\n  level: debug\n",
                                  "ud.yaml", "/tls", deps);
  ASSERT_TRUE(output.has_value()) << output.error().message;
  EXPECT_THAT(output->yaml, HasSubstr("level: info\n  level: debug\n"));
  auto config = parseConfig(output->yaml);
  ASSERT_FALSE(config.has_value());
  EXPECT_EQ(config.error().toString(), "log.level: is given more than once");
}

TEST(BootstrapTransform, KeepsQuotedValuesQuoted) {
  const BootstrapDeps deps{.metadata = {}, .certificate = {}};
  auto output = transformUserData(replaced(kMinimal, "asn: 65000", "asn: \"65000\""), "ud.yaml",
                                  "/tls", deps);
  ASSERT_TRUE(output.has_value()) << output.error().message;
  auto config = parseConfig(output->yaml);
  ASSERT_FALSE(config.has_value()) << "a quoted number is a string, as in hub.yaml";
  EXPECT_EQ(config.error().toString(), "hub.asn: must be an integer");
}

// ---- bad input: refused, naming the user data and the key; nothing left behind ---------------

// Each also asks for a self-signed pair: made before the loader runs, and removed again.
std::string selfSigned(std::string_view text) {
  return replaced(text, "  listen:", "  tls: self-signed\n  listen:");
}

TEST_F(BootstrapTest, AnUnknownKeyIsRefused) {
  expectRefused(selfSigned(replaced(kMinimal, "  asn: 65000\n", "  asn: 65000\n  nmae: x\n")),
                ": hub.nmae: is not a known key");
  EXPECT_EQ(certificate_requests_.size(), 1U) << "the pair was made, then removed";
}

TEST_F(BootstrapTest, AKeyGivenTwiceIsRefusedWhereverItIs) {
  expectRefused(selfSigned(std::string(kMinimal) + "log:\n  level: info\n  level: debug\n"),
                ": log.level: is given more than once");
  expectRefused(selfSigned(std::string(kMinimal) + "log: {level: info}\nlog: {level: info}\n"),
                ": log: is given more than once");
  expectRefused(replaced(kMinimal, kLocalLine, std::string(kLocalLine) + std::string(kLocalLine)),
                ": hub.local_ip: is given more than once");
  expectRefused(std::string(kMinimal) + "hub: {name: hub-b}\n", ": hub: is given more than once");
  expectRefused(selfSigned(replaced(kMinimal, "      role: admin\n",
                                    "      role: admin\n      role: read\n")),
                ": api.tokens[0].role: is given more than once");
  EXPECT_TRUE(asked_.empty());
}

TEST_F(BootstrapTest, BadValuesAreRefusedAsTheLoaderRefusesThem) {
  expectRefused(selfSigned(replaced(kMinimal, "asn: 65000", "asn: 0")), ": hub.asn: must be");
  expectRefused(replaced(kMinimal, "asn: 65000", "asn: \"65000\""),
                ": hub.asn: must be an integer");
  expectRefused(replaced(kMinimal, kSqliteLine, "  sqlite: state.db\n  etcd: {endpoints: []}\n"),
                ": store: must name one store");
  expectRefused(replaced(kMinimal, "203.0.113.10", "203.0.113.300"), ": hub.public_ip: ");
  expectRefused(replaced(kMinimal, "203.0.113.10", "127.0.0.1"), ": hub.public_ip: ");
  expectRefused(replaced(kMinimal, kPublicLine, "  public_ip:\n"),
                ": hub.public_ip: must be a string");
  expectRefused(replaced(kMinimal, "  listen:", "  tls: self-made\n  listen:"),
                ": api.tls: must be a map of cert and key, or self-signed");
  expectRefused(selfSigned(replaced(kMinimal, "name: hub-a", "name: Hub_A")), ": hub.name: ");
  expectRefused(replaced(kMinimal, "name: hub-a\n  asn", "asn"), ": hub.name: is required");
  expectRefused("api: {}\n", ": hub: is required");
  expectRefused("hub: [a]\n", ": hub: must be a map");
  EXPECT_TRUE(asked_.empty());
}

TEST_F(BootstrapTest, WhatIsNotAMapOfSectionsIsRefused) {
  expectRefused("", ": the user data is empty");
  expectRefused("# only a comment\n", ": the user data is empty");
  expectRefused("- hub\n- api\n", ": the top level must be a map of sections");
  expectRefused("just text\n", ": the top level must be a map of sections");
  expectRefused(std::string(kMinimal) + "---\n" + std::string(kMinimal),
                ": the user data must be a single YAML document");
  expectRefused("hub: [\n", ": YAML syntax error at line");
  // yaml-cpp 0.7's LoadAll loops for ever (allocating) on this stream.
  expectRefused("\n,\n    ", ": ");
}

TEST_F(BootstrapTest, UserDataOver64KiBIsRefused) {
  std::string text(kMinimal);
  text += "#" + std::string(kMaxUserDataBytes - text.size() - 2, 'x') + "\n";
  ASSERT_EQ(text.size(), kMaxUserDataBytes);
  auto report = run(text);
  ASSERT_TRUE(report.has_value()) << "exactly 64 KiB is accepted: " << report.error().message;
  fs::remove(out());
  expectRefused(text + "\n", "is larger than 65536 bytes");
}

TEST_F(BootstrapTest, AMissingUserDataIsRefused) {
  auto report = runBootstrap(dir_ / "no-such.yaml", out(), deps());
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().kind, Kind::kInvalid);
  EXPECT_EQ(report.error().message, fmt::format("cannot read {}: No such file or directory",
                                                (dir_ / "no-such.yaml").string()));
  EXPECT_TRUE(fs::is_empty(dir_.path()));
}

TEST_F(BootstrapTest, AnExistingConfigurationIsNeverOverwritten) {
  dir_.write("hub.yaml", "an operator's configuration\n");
  expectRefused(
      replaced(kMinimal, kPublicLine, ""),
      fmt::format("{} already exists: refusing to overwrite a configuration", out().string()));
  EXPECT_TRUE(asked_.empty()) << "refused before anything is asked";
  EXPECT_EQ(slurp(out()), "an operator's configuration\n");
}

TEST_F(BootstrapTest, AMissingDirectoryForTheConfigurationIsRefused) {
  writeUserData(kMinimal);
  auto report = runBootstrap(user_data_, dir_ / "missing" / "hub.yaml", deps());
  ASSERT_FALSE(report.has_value());
  EXPECT_EQ(report.error().kind, Kind::kInvalid);
  EXPECT_THAT(report.error().message, HasSubstr("does not exist"));
}

// ---- BIRD's main configuration: live mode only ------------------------------------------------

class BootstrapBirdTest : public BootstrapTest {
 protected:
  // Live mode with stand-ins for whack and addconn, BIRD's files under DIR/bird.
  std::string live(std::string_view include = "bird/transit-hub.conf") {
    const auto whack = dir_.writeExecutable("bin/whack");
    const auto addconn = dir_.writeExecutable("bin/addconn");
    return std::string(kMinimal) +
           fmt::format(
               "drivers:\n  mode: live\n  libreswan: {{whack: {}, addconn: {}}}\n"
               "  bird: {{include_file: {}, main_config: bird/bird.conf}}\n",
               whack.string(), addconn.string(), include);
  }
};

TEST_F(BootstrapBirdTest, LiveModeWritesBirdsMainConfigurationAndAnEmptyInclude) {
  fs::create_directory(dir_ / "bird");
  auto report = run(live());
  ASSERT_TRUE(report.has_value()) << report.error().message;
  const auto main_config = dir_ / "bird" / "bird.conf";
  const auto include = dir_ / "bird" / "transit-hub.conf";
  auto config = loadConfig(out());
  ASSERT_TRUE(config.has_value()) << config.error().toString();
  const auto text = slurp(main_config);
  EXPECT_EQ(text, routing::renderMainConfig(birdOptions(*config)));
  EXPECT_THAT(text, HasSubstr("router id 10.0.0.10;\n"));
  EXPECT_THAT(text, HasSubstr("log syslog all;\n"));
  EXPECT_THAT(text, HasSubstr(fmt::format("include \"{}\";\n", include.string())));
  EXPECT_EQ(modeOf(main_config), 0644U);
  EXPECT_EQ(slurp(include), "");
  EXPECT_EQ(modeOf(include), 0644U);
  EXPECT_THAT(report->summary(),
              HasSubstr(fmt::format(", BIRD main configuration {}, empty BIRD include {})",
                                    main_config.string(), include.string())));
}

TEST_F(BootstrapBirdTest, TheRouterIdIsTheLocalAddressFromTheMetadata) {
  fs::create_directory(dir_ / "bird");
  dir_.write("bird/bird.conf", "# Debian's default\n");
  dir_.write("bird/transit-hub.conf", "# the hub's sessions\n");
  auto report = run(replaced(live(), kLocalLine, ""));
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_THAT(slurp(dir_ / "bird" / "bird.conf"), HasSubstr("router id 10.0.3.7;\n"));
  EXPECT_EQ(slurp(dir_ / "bird" / "transit-hub.conf"), "# the hub's sessions\n") << "kept";
  EXPECT_FALSE(report->bird_include_created);
}

TEST_F(BootstrapBirdTest, DryRunWritesNoBirdConfiguration) {
  fs::create_directory(dir_ / "bird");
  auto report = run(replaced(live(), "mode: live", "mode: dry-run"));
  ASSERT_TRUE(report.has_value()) << report.error().message;
  EXPECT_TRUE(fs::is_empty(dir_ / "bird"));
  EXPECT_FALSE(report->bird_main_config);
}

TEST_F(BootstrapBirdTest, AFailureAfterBirdPutsItsMainConfigurationBack) {
  fs::create_directory(dir_ / "bird");
  dir_.write("bird/bird.conf", "# Debian's default\n",
             fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  // The include's directory is missing: BIRD's main configuration is written, then the include
  // cannot be created.
  expectRefused(selfSigned(live("missing/transit-hub.conf")), "cannot create", Kind::kFailed);
  EXPECT_EQ(slurp(dir_ / "bird" / "bird.conf"), "# Debian's default\n");
  EXPECT_EQ(modeOf(dir_ / "bird" / "bird.conf"), 0640U);
}

TEST_F(BootstrapBirdTest, AValidationFailureWritesNoBirdConfiguration) {
  fs::create_directory(dir_ / "bird");
  expectRefused(replaced(live(), "asn: 65000", "asn: 23456"), ": hub.asn: ");
  EXPECT_TRUE(fs::is_empty(dir_ / "bird"));
}

}  // namespace
}  // namespace transit::hub
