// Dry-run as the daemon builds it (makeDrivers with drivers.mode dry-run) under the real
// Reconciler, registry and planner: every file rendered into dry_run_dir (conns, secrets 0600,
// the BIRD include, the nft scripts), every command in the log, no PSK in the log, no daemon.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include "hub/core/reconciler.hpp"
#include "hub/daemon/drivers.hpp"
#include "hub/daemon/wiring.hpp"
#include "routing/base/file_io.hpp"
#include "tests/fakes/log_capture.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }

std::string read(const fs::path& path) { return readWholeFile(path.string()).value_or(""); }

unsigned mode(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

Config dryRunConfig(const fs::path& root) {
  Config config;
  config.hub.name = "hub-a";
  config.hub.asn = 65000;
  config.hub.public_ip = ip("203.0.113.10");
  config.hub.local_ip = ip("10.0.0.10");
  config.drivers.mode = DriverMode::kDryRun;
  config.drivers.dry_run_dir = root;
  config.routing.segments = {{"prod", {}}, {"dev", {}}};
  return config;
}

peers::SpokeDraft spoke(std::string name, std::string cidr, std::string remote,
                        std::string segment) {
  peers::SpokeDraft draft;
  draft.name = std::move(name);
  draft.kind = "vpc";
  draft.cidrs = std::vector<std::string>{std::move(cidr)};
  draft.asn = 64512;
  draft.segment = std::move(segment);
  draft.tunnels = std::vector<peers::TunnelDraft>{{std::move(remote), std::nullopt, std::nullopt}};
  return draft;
}

class DryRunDaemonTest : public ::testing::Test {
 protected:
  DryRunDaemonTest() {
    Registry::Options options;
    options.validation.hub_name = "hub-a";
    registry_ = std::move(*Registry::create(store_, clock_, nullptr, std::move(options)));
  }
  fs::path root() const { return temp_ / "dry-run"; }

  fakes::TempDir temp_;
  fakes::MemoryStore store_;
  fakes::ManualClock clock_;
  std::unique_ptr<Registry> registry_;
};

TEST_F(DryRunDaemonTest, MakesItsDirectoriesPrivateAndDrivesNoDaemon) {
  fakes::LogCapture log;
  auto drivers = makeDrivers(dryRunConfig(root()));
  ASSERT_TRUE(drivers) << drivers.error();
  for (const auto& dir : {root(), root() / "ipsec", root() / "bird", root() / "nft"}) {
    EXPECT_EQ(mode(dir), 0700u) << dir;
  }
  EXPECT_NE(log.text().find("dry-run: rendering into " + root().string() + "; no daemon is driven"),
            std::string::npos)
      << log.text();
  const auto pluto = drivers->tunnel->observe();
  ASSERT_TRUE(pluto) << pluto.error().message;
  EXPECT_TRUE(pluto->tunnels.empty());
  const auto bird = drivers->routing->observe();
  ASSERT_TRUE(bird) << bird.error().message;
  EXPECT_TRUE(bird->sessions.empty());
}

TEST_F(DryRunDaemonTest, AnOutputDirectoryThatCannotBeMadeIsAStartError) {
  const auto blocker = temp_.write("file", "not a directory");
  const auto drivers = makeDrivers(dryRunConfig(blocker / "dry-run"));
  ASSERT_FALSE(drivers);
  EXPECT_NE(drivers.error().find((blocker / "dry-run").string()), std::string::npos)
      << drivers.error();
}

TEST_F(DryRunDaemonTest, AddingASpokeRendersItsFilesAndDeletingItRemovesThem) {
  const auto config = dryRunConfig(root());
  auto drivers = std::move(*makeDrivers(config));
  Reconciler::Options options;
  options.plan.local_address = config.hub.local_ip;
  options.plan.public_address = config.hub.public_ip;
  options.plan.local_as = config.hub.asn;
  options.plan.router_id = config.hub.public_ip;
  options.plan.hub_name = config.hub.name;
  options.plan.segments = config.routing.segments;
  Reconciler reconciler(*registry_, *drivers.tunnel, *drivers.routing, drivers.forwarding.get(),
                        clock_, nullptr, options);

  ASSERT_TRUE(registry_->create(spoke("prod-a", "10.1.0.0/16", "198.51.100.10", "prod")));
  ASSERT_TRUE(registry_->create(spoke("dev-a", "10.2.0.0/16", "198.51.100.20", "dev")));
  const std::string psk = registry_->snapshot()->spokes.at("prod-a")->tunnels.at(0).psk;
  ASSERT_FALSE(psk.empty());
  fakes::LogCapture log;
  reconciler.runOnce();

  const fs::path conf = root() / "ipsec" / "th-prod-a-1.conf";
  const fs::path secrets = root() / "ipsec" / "transit-hub.secrets";
  const fs::path include = root() / "bird" / "transit-hub.conf";
  const fs::path segments = root() / "nft" / "transit_hub_segments.nft";
  EXPECT_TRUE(fs::exists(conf));
  EXPECT_NE(read(secrets).find(psk), std::string::npos);
  EXPECT_EQ(mode(secrets), 0600u);
  EXPECT_NE(read(include).find("protocol bgp th_prod_a_1"), std::string::npos);
  EXPECT_NE(read(segments).find("segment prod may not reach dev"), std::string::npos);
  // The MSS clamp of the XFRM links is the nft module's too (it moved out of the tunnel driver).
  const fs::path mss = root() / "nft" / "transit_hub_mss.nft";
  EXPECT_NE(read(mss).find("tcp option maxseg size set"), std::string::npos) << read(mss);
  EXPECT_NE(read(mss).find("\"ipsec"), std::string::npos) << read(mss);
  EXPECT_NE(log.text().find("dry-run: would run: /usr/libexec/ipsec/addconn"), std::string::npos);
  EXPECT_NE(log.text().find("dry-run: would send to /run/bird/bird.ctl: configure confirm"),
            std::string::npos);
  EXPECT_NE(log.text().find("dry-run: would run: nft -f " + segments.string()), std::string::npos)
      << log.text();
  EXPECT_EQ(log.text().find(psk), std::string::npos) << "no PSK in the log";

  reconciler.runOnce();
  const auto status = reconciler.status();
  EXPECT_TRUE(status->pluto.up) << status->pluto.error;
  EXPECT_TRUE(status->bird.up) << status->bird.error;
  EXPECT_EQ(status->tunnels.at("th-prod-a-1").object.state, ObjectState::kApplied);
  EXPECT_TRUE(status->tunnels.at("th-prod-a-1").observed.loaded);
  EXPECT_FALSE(status->tunnels.at("th-prod-a-1").observed.ike_up);
  EXPECT_EQ(status->sessions.at("th_prod_a_1").object.state, ObjectState::kApplied);
  EXPECT_EQ(status->forwarding.state, ObjectState::kApplied);

  ASSERT_TRUE(registry_->remove("prod-a", std::nullopt));
  reconciler.runOnce();
  EXPECT_FALSE(fs::exists(conf));
  EXPECT_EQ(read(secrets).find(psk), std::string::npos);
  EXPECT_EQ(read(include).find("th_prod_a_1"), std::string::npos);
  EXPECT_FALSE(reconciler.status()->tunnels.contains("th-prod-a-1"));
}

TEST_F(DryRunDaemonTest, AQuietPassLogsNothing) {
  const auto config = dryRunConfig(root());
  auto drivers = std::move(*makeDrivers(config));
  Reconciler::Options options;
  options.plan.local_address = config.hub.local_ip;
  options.plan.public_address = config.hub.public_ip;
  options.plan.local_as = config.hub.asn;
  options.plan.router_id = config.hub.public_ip;
  Reconciler reconciler(*registry_, *drivers.tunnel, *drivers.routing, drivers.forwarding.get(),
                        clock_, nullptr, options);
  ASSERT_TRUE(registry_->create(spoke("prod-a", "10.1.0.0/16", "198.51.100.10", "prod")));
  reconciler.runOnce();
  fakes::LogCapture log;
  reconciler.runOnce();
  EXPECT_EQ(log.text(), "");
}

// The pair's link in dry-run: the `ip` commands live mode would run are logged once, the BIRD
// include has the iBGP session, and a quiet pass after it logs nothing (the link is in place).
TEST_F(DryRunDaemonTest, ThePairsLinkIsMadeOnceAndTheIncludeHasTheIbgpSession) {
  auto config = dryRunConfig(root());
  Config::Pair pair;
  pair.peer = {"hub-b", ip("198.51.100.2"), ip("10.0.1.20")};
  config.pair = pair;
  auto drivers = std::move(*makeDrivers(config));
  Reconciler reconciler(*registry_, *drivers.tunnel, *drivers.routing, drivers.forwarding.get(),
                        clock_, nullptr, reconcilerOptions(config), drivers.pair_link.get());
  ASSERT_TRUE(registry_->create(spoke("prod-a", "10.1.0.0/16", "198.51.100.10", "prod")));
  {
    fakes::LogCapture log;
    reconciler.runOnce();
    EXPECT_NE(log.text().find("dry-run: would run: ip link add th-pair type vxlan id 4789 local "
                              "10.0.0.10 remote 10.0.1.20 dstport 4789 dev"),
              std::string::npos)
        << log.text();
    EXPECT_NE(log.text().find("dry-run: would run: ip addr add 169.254.253.253/30 dev th-pair"),
              std::string::npos)
        << log.text();
  }
  const auto status = reconciler.status();
  ASSERT_TRUE(status->pair.has_value());
  EXPECT_TRUE(status->pair->linkUp());
  const auto include = read(root() / "bird" / "transit-hub.conf");
  EXPECT_NE(include.find("protocol bgp th_pair {"), std::string::npos) << include;
  EXPECT_NE(include.find("neighbor 169.254.253.254 as 65000;"), std::string::npos);
  fakes::LogCapture log;
  reconciler.runOnce();
  EXPECT_EQ(log.text(), "");
}

}  // namespace
}  // namespace transit::hub
