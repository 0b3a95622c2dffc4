// Tool test (label `tool`) of --bootstrap in live mode: BIRD parses (`bird -p`) the main
// configuration bootstrap writes, with the empty include it creates, so BIRD can start before the
// hub has written its sessions. Needs bird; ami/dev.sh installs it and fails on a skip.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "hub/daemon/bootstrap.hpp"
#include "tests/fakes/shell.hpp"
#include "tests/fakes/temp_dir.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;

TEST(BootstrapBird, BirdParsesTheMainConfigurationWithTheEmptyInclude) {
  if (!fs::exists(TRANSIT_BIRD_BINARY)) GTEST_SKIP() << TRANSIT_BIRD_BINARY << " is not installed";
  fakes::TempDir dir;
  fs::create_directory(dir / "bird");
  const auto whack = dir.writeExecutable("bin/whack");
  const auto addconn = dir.writeExecutable("bin/addconn");
  const auto user_data = dir.write("user-data.yaml", fmt::format(R"(hub:
  name: hub-a
  asn: 65000
  public_ip: 203.0.113.10
api:
  listen: ["127.0.0.1:8080"]
  tokens:
    - name: ops
      role: admin
      sha256: "dc1ca1754a317687fd3b8eb610a98fe553424c12f5b30293e4967cf6c130cb61"
store:
  sqlite: state.db
drivers:
  mode: live
  libreswan: {{whack: {}, addconn: {}}}
  bird: {{include_file: bird/transit-hub.conf, main_config: bird/bird.conf}}
)",
                                                                 whack.string(), addconn.string()));
  const BootstrapDeps deps{
      .metadata = [](std::string_view) -> std::expected<std::string, ImdsError> {
        return "10.0.3.7";
      },
      .certificate = {},
  };
  auto report = runBootstrap(user_data, dir / "hub.yaml", deps);
  ASSERT_TRUE(report.has_value()) << report.error().message;
  ASSERT_TRUE(report->bird_main_config);
  const auto output = fakes::shellOutput(std::string(TRANSIT_BIRD_BINARY) + " -p -c " +
                                         report->bird_main_config->string() + "; echo rc=$?");
  EXPECT_NE(output.find("rc=0"), std::string::npos) << output;
}

}  // namespace
}  // namespace transit::hub
