// transit-hubctl's `spoke config`: the request it sends, how it prints the configuration files
// (and the aws-xml document), how it writes them under --output-dir (modes, subdirectories,
// replacing), the paths it refuses from a server, and that no PSK reaches stderr. Run through
// runCtl against tests/fakes/canned_http_server.hpp answering canned API replies and recording
// what it was sent.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "hub/ctl/commands.hpp"
#include "hub/ctl/output.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/hub/ctl/ctl_harness.hpp"

namespace transit::ctl {
namespace {

using transit::fakes::TempDir;

namespace http = boost::beast::http;
namespace json = boost::json;
namespace fs = std::filesystem;

constexpr std::string_view kPsk = "Lab.Only_Psk_7f3a9c";

const std::string kSwanctl =
    "connections {\n  transit-hub-site-1-t1 {\n  }\n}\nsecrets {\n  ike-1 {\n"
    "    secret = \"" +
    std::string(kPsk) + "\"\n  }\n}\n";
const std::string kScript = "#!/bin/sh\nip link add xfrm-t1 type xfrm if_id 101\n";
const std::string kFrr = "router bgp 65010\n neighbor 169.254.20.2 remote-as 64512";  // no final \n

// One file of a config body.
json::object file(std::string_view path, std::string_view description, bool secret,
                  std::string_view content) {
  return json::object{
      {"path", path}, {"description", description}, {"secret", secret}, {"content", content}};
}

std::string configBody(const json::array& files, std::string_view format = "strongswan") {
  return json::serialize(json::object{{"spoke", "site-1"}, {"format", format}, {"files", files}});
}

// A strongswan answer: a secret file in a subdirectory, a script, a file two levels down whose
// content lacks a final newline.
const std::string kConfig = configBody(
    json::array{file("swanctl/conf.d/transit-hub-site-1.conf",
                     "swanctl connections and PSKs of both tunnels", true, kSwanctl),
                file("transit-hub-site-1-links.sh", "creates the XFRM interfaces", false, kScript),
                file("frr/conf.d/transit-hub-site-1.conf", "", false, kFrr)});

// An aws-xml answer: CRLF line ends, non-ASCII, no final newline.
const std::string kXml =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n<vpn_connection id=\"site-1\">\r\n"
    "  <!-- caf\xc3\xa9 -->\r\n  <ike><pre_shared_key>" +
    std::string(kPsk) + "</pre_shared_key></ike>\r\n</vpn_connection>";

std::string apiError(std::string_view code, std::string_view message) {
  return R"({"error":{"code":")" + std::string(code) + R"(","message":")" + std::string(message) +
         R"("}})";
}

// ---- The in-test API server: tests/hub/ctl/ctl_harness.hpp
// ------------------------------------------

// `canned`, marked never to be cached as the API marks a configuration.
Canned noStore(Canned canned) {
  canned.headers.emplace_back(http::field::cache_control, "no-store");
  return canned;
}

// Runs `args` after --server against a server answering `canned` once.
Exchange ask(const Canned& canned, const std::vector<std::string>& args) {
  return runAgainstServer({noStore(canned)}, args);
}

Canned xmlAnswer() { return Canned{200, kXml, "application/xml"}; }

// `spoke config site-1 --format FORMAT` plus `extra`.
std::vector<std::string> configArgs(std::string_view format,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"spoke", "config", "site-1", "--format", std::string(format)};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

unsigned modeOf(const fs::path& path) {
  struct stat info {};
  EXPECT_EQ(::stat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777U;
}

// Every entry under `dir`, relative, sorted.
std::vector<std::string> entries(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& entry : fs::recursive_directory_iterator(dir)) {
    out.push_back(fs::relative(entry.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

void expectNoPskOnStderr(const RunResult& result) {
  EXPECT_EQ(result.err.find(kPsk), std::string::npos) << result.err;
}

// ---- The request ----------------------------------------------------------------------------

TEST(CtlSpokeConfig, GetsTheConfigOfTheSpokeInTheFormatWithTheToken) {
  for (const std::string format : {"strongswan", "libreswan"}) {
    auto ex = ask(Canned{200, kConfig}, configArgs(format));
    EXPECT_EQ(ex.result.code, 0) << ex.result.err;
    ASSERT_EQ(ex.requests.size(), 1U);
    EXPECT_EQ(ex.requests.front().method, "GET");
    EXPECT_EQ(ex.requests.front().target, "/v1/spokes/site-1/config?format=" + format);
    EXPECT_EQ(ex.requests.front().authorization, "Bearer tok-123");
    EXPECT_EQ(ex.requests.front().accept, "application/json");
  }
}

TEST(CtlSpokeConfig, AwsXmlAcceptsXml) {
  auto ex = ask(xmlAnswer(), configArgs("aws-xml"));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  ASSERT_EQ(ex.requests.size(), 1U);
  EXPECT_EQ(ex.requests.front().target, "/v1/spokes/site-1/config?format=aws-xml");
  EXPECT_EQ(ex.requests.front().accept, "application/xml, application/json");
}

TEST(CtlSpokeConfig, AnUnknownFormatOrAMissingOneIsAUsageErrorAndSendsNothing) {
  for (const auto& args : {configArgs("cisco"), std::vector<std::string>{"spoke", "config", "a"}}) {
    auto ex = ask(Canned{200, kConfig}, args);
    EXPECT_EQ(ex.result.code, 2) << ex.result.err;
    EXPECT_TRUE(ex.requests.empty());
  }
}

TEST(CtlSpokeConfig, JsonWithOutputDirIsAUsageErrorAndSendsNothing) {
  TempDir dir;
  auto ex = ask(Canned{200, kConfig},
                configArgs("strongswan", {"--json", "--output-dir", (dir / "out").string()}));
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_NE(ex.result.err.find("--json"), std::string::npos) << ex.result.err;
  EXPECT_TRUE(ex.requests.empty());
  EXPECT_FALSE(fs::exists(dir / "out"));
}

// ---- Printing -------------------------------------------------------------------------------

TEST(CtlSpokeConfig, PrintsEachFileAfterItsPathAndDescriptionInTheServersOrder) {
  auto ex = ask(Canned{200, kConfig}, configArgs("strongswan"));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.err, "");
  EXPECT_EQ(ex.result.out,
            "# ==== swanctl/conf.d/transit-hub-site-1.conf ====\n"
            "# swanctl connections and PSKs of both tunnels\n" +
                kSwanctl +
                "\n"
                "# ==== transit-hub-site-1-links.sh ====\n"
                "# creates the XFRM interfaces\n" +
                kScript +
                "\n"
                "# ==== frr/conf.d/transit-hub-site-1.conf ====\n" +
                kFrr + "\n");
}

TEST(CtlSpokeConfig, ControlCharactersInAPrintedDescriptionAreReplaced) {
  auto ex = ask(
      Canned{200, configBody(json::array{file("a.conf", "one\x1b[2Jtwo\nthree", false, "x\n")})},
      configArgs("libreswan"));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, "# ==== a.conf ====\n# one?[2Jtwo?three\nx\n");
}

TEST(CtlSpokeConfig, AwsXmlPrintsTheDocumentExactly) {
  auto ex = ask(xmlAnswer(), configArgs("aws-xml"));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, kXml);
  EXPECT_EQ(ex.result.err, "");
}

TEST(CtlSpokeConfig, AwsXmlTakesAContentTypeWithParameters) {
  auto ex = ask(Canned{200, kXml, "Application/XML; charset=utf-8"}, configArgs("aws-xml"));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, kXml);
}

TEST(CtlSpokeConfig, JsonPrintsTheServersBodyAsIs) {
  auto ex = ask(Canned{200, kConfig}, configArgs("strongswan", {"--json"}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, kConfig + "\n");
}

TEST(CtlSpokeConfig, JsonForAwsXmlPrintsTheXml) {
  auto ex = ask(xmlAnswer(), configArgs("aws-xml", {"--json"}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, kXml);
}

TEST(CtlSpokeConfig, AnAwsXmlAnswerThatIsNotXmlIsNotTheApis) {
  for (const auto& canned :
       {Canned{200, kConfig, "application/json"}, Canned{200, "<html>portal</html>", "text/html"},
        Canned{200, "", "application/xml"}}) {
    auto ex = ask(canned, configArgs("aws-xml"));
    EXPECT_EQ(ex.result.code, 3) << canned.body;
    EXPECT_EQ(ex.result.out, "");
    EXPECT_NE(ex.result.err.find("unexpected response"), std::string::npos) << ex.result.err;
    expectNoPskOnStderr(ex.result);
  }
}

TEST(CtlSpokeConfig, AnAwsXmlAnswerWithoutAContentTypeSaysSo) {
  TestServer server({noStore(Canned{200, kXml, ""})});
  auto result = run({"--server", server.url(), "spoke", "config", "site-1", "--format", "aws-xml"});
  EXPECT_EQ(result.code, 3);
  EXPECT_EQ(result.err, "error: unexpected response from " + server.url() +
                            ": HTTP 200 OK without a Content-Type, expected application/xml "
                            "(is --server the hub's API?)\n");
}

TEST(CtlSpokeConfig, ABodyWithoutFilesIsNotTheApis) {
  auto ex = ask(Canned{200, R"({"spoke":"site-1"})"}, configArgs("strongswan"));
  EXPECT_EQ(ex.result.code, 3);
  EXPECT_NE(ex.result.err.find("\"files\""), std::string::npos) << ex.result.err;
  auto no_secret =
      ask(Canned{200, R"({"files":[{"path":"a","content":"x"}]})"}, configArgs("strongswan"));
  EXPECT_EQ(no_secret.result.code, 3);
  EXPECT_EQ(no_secret.result.out, "");
}

// ---- Writing files --------------------------------------------------------------------------

TEST(CtlSpokeConfig, OutputDirWritesEachFileWithItsModeAndPrintsOnlyWhatItWrote) {
  TempDir dir;
  const fs::path out = dir / "site-1";
  auto ex = ask(Canned{200, kConfig}, configArgs("strongswan", {"--output-dir", out}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.err, "");
  const std::string prefix = out.string() + "/";
  EXPECT_EQ(ex.result.out, "wrote " + prefix + "swanctl/conf.d/transit-hub-site-1.conf (0600)\n" +
                               "wrote " + prefix + "transit-hub-site-1-links.sh (0755)\n" +
                               "wrote " + prefix + "frr/conf.d/transit-hub-site-1.conf (0644)\n");
  EXPECT_EQ(slurp(out / "swanctl/conf.d/transit-hub-site-1.conf"), kSwanctl);
  EXPECT_EQ(slurp(out / "transit-hub-site-1-links.sh"), kScript);
  EXPECT_EQ(slurp(out / "frr/conf.d/transit-hub-site-1.conf"), kFrr);
  EXPECT_EQ(modeOf(out / "swanctl/conf.d/transit-hub-site-1.conf"), 0600U);
  EXPECT_EQ(modeOf(out / "transit-hub-site-1-links.sh"), 0755U);
  EXPECT_EQ(modeOf(out / "frr/conf.d/transit-hub-site-1.conf"), 0644U);
}

TEST(CtlSpokeConfig, OutputDirIsCreatedPrivateWithItsSubdirectoriesAndNothingElse) {
  TempDir dir;
  const fs::path out = dir / "new" / "site-1";
  auto ex = ask(Canned{200, kConfig}, configArgs("strongswan", {"--output-dir", out}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(modeOf(out), 0700U);
  EXPECT_EQ(entries(out), (std::vector<std::string>{
                              "frr", "frr/conf.d", "frr/conf.d/transit-hub-site-1.conf", "swanctl",
                              "swanctl/conf.d", "swanctl/conf.d/transit-hub-site-1.conf",
                              "transit-hub-site-1-links.sh"}));
}

TEST(CtlSpokeConfig, AnExistingOutputDirKeepsItsModeAndItsFilesAreReplaced) {
  TempDir dir;
  const fs::path out = dir / "site-1";
  fs::create_directories(out / "swanctl/conf.d");
  fs::permissions(out, fs::perms(0750));
  const fs::path conf =
      dir.write("site-1/swanctl/conf.d/transit-hub-site-1.conf", "old and long", fs::perms(0644));
  const fs::path script = dir.write("site-1/transit-hub-site-1-links.sh", "old", fs::perms(0600));
  dir.write("site-1/other.conf", "mine");
  auto ex = ask(Canned{200, kConfig}, configArgs("strongswan", {"--output-dir", out}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(modeOf(out), 0750U);
  EXPECT_EQ(slurp(conf), kSwanctl);
  EXPECT_EQ(modeOf(conf), 0600U);
  EXPECT_EQ(slurp(script), kScript);
  EXPECT_EQ(modeOf(script), 0755U);
  EXPECT_EQ(slurp(out / "other.conf"), "mine");
  EXPECT_EQ(entries(out).size(), 8U);  // the three, their 4 directories, other.conf: no temp file
}

TEST(CtlSpokeConfig, AwsXmlOutputDirWritesNameDotXmlPrivately) {
  TempDir dir;
  const fs::path out = dir / "aws";
  auto ex = ask(xmlAnswer(), configArgs("aws-xml", {"--output-dir", out}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, "wrote " + (out / "site-1.xml").string() + " (0600)\n");
  EXPECT_EQ(slurp(out / "site-1.xml"), kXml);
  EXPECT_EQ(modeOf(out / "site-1.xml"), 0600U);
  EXPECT_EQ(entries(out), std::vector<std::string>{"site-1.xml"});
}

TEST(CtlSpokeConfig, ATrailingSlashOnTheOutputDirIsTheSameDirectory) {
  TempDir dir;
  auto ex =
      ask(xmlAnswer(), configArgs("aws-xml", {"--output-dir", (dir / "aws").string() + "//"}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, "wrote " + (dir / "aws" / "site-1.xml").string() + " (0600)\n");
  EXPECT_EQ(modeOf(dir / "aws"), 0700U);
}

TEST(CtlSpokeConfig, AnOutputDirThatIsAFileIsAUsageErrorWithoutThePsk) {
  TempDir dir;
  const fs::path out = dir.write("taken", "a file");
  auto ex = ask(Canned{200, kConfig}, configArgs("strongswan", {"--output-dir", out}));
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_EQ(ex.result.out, "");
  EXPECT_EQ(ex.result.err,
            "error: cannot create " + out.string() + ": it exists and is not a directory\n");
  EXPECT_EQ(slurp(out), "a file");
}

TEST(CtlSpokeConfig, ADirectoryInTheWayOfAFileIsAnErrorWithoutThePsk) {
  TempDir dir;
  const fs::path out = dir / "site-1";
  fs::create_directories(out / "swanctl/conf.d/transit-hub-site-1.conf");
  auto ex = ask(Canned{200, kConfig}, configArgs("strongswan", {"--output-dir", out}));
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_EQ(
      ex.result.err.rfind(
          "error: cannot write " + out.string() + "/swanctl/conf.d/transit-hub-site-1.conf: ", 0),
      0U)
      << ex.result.err;
  expectNoPskOnStderr(ex.result);
  EXPECT_EQ(entries(out), (std::vector<std::string>{"swanctl", "swanctl/conf.d",
                                                    "swanctl/conf.d/transit-hub-site-1.conf"}));
}

// ---- Paths a server must not make the CLI write ---------------------------------------------

TEST(CtlSpokeConfig, RefusesPathsOutsideTheOutputDirAndWritesNothing) {
  const std::vector<std::string> bad = {
      "/etc/passwd", "../escape.conf", "a/../../escape.conf", "a/..", "", "a//b", "./a", "a/",
      "a\nb"};
  for (const auto& path : bad) {
    TempDir dir;
    const fs::path out = dir / "out";
    // The refused path comes second: the first file must not be written either.
    const std::string body = configBody(
        json::array{file("swanctl/ok.conf", "", true, kSwanctl), file(path, "", true, kSwanctl)});
    auto ex = ask(Canned{200, body}, configArgs("strongswan", {"--output-dir", out}));
    EXPECT_EQ(ex.result.code, 3) << path;
    EXPECT_EQ(ex.result.out, "") << path;
    EXPECT_NE(ex.result.err.find("nothing was written"), std::string::npos) << ex.result.err;
    expectNoPskOnStderr(ex.result);
    EXPECT_FALSE(fs::exists(out)) << path;
    EXPECT_EQ(entries(dir.path()), std::vector<std::string>{}) << path;
  }
}

TEST(CtlSpokeConfig, SaysWhyAPathIsRefused) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"/etc/passwd", "file 1's path \"/etc/passwd\" is absolute"},
      {"a/../../x", "file 1's path \"a/../../x\" has a \"..\" component"},
      {"", "file 1's path \"\" is empty"}};
  for (const auto& [path, why] : cases) {
    auto ex = ask(Canned{200, configBody(json::array{file(path, "", true, kSwanctl)})},
                  configArgs("strongswan"));
    EXPECT_EQ(ex.result.code, 3);
    EXPECT_EQ(ex.result.out, "");  // printing refuses such an answer too
    EXPECT_NE(ex.result.err.find(why), std::string::npos) << ex.result.err;
  }
}

TEST(CtlSpokeConfig, RefusesAPathGivenTwiceOrUsedAsBothFileAndDirectory) {
  const std::vector<json::array> bodies = {
      json::array{file("a.conf", "", false, "1"), file("a.conf", "", true, kSwanctl)},
      json::array{file("a", "", false, "1"), file("a/b.conf", "", true, kSwanctl)}};
  for (const auto& files : bodies) {
    TempDir dir;
    auto ex = ask(Canned{200, configBody(files)},
                  configArgs("strongswan", {"--output-dir", dir / "out"}));
    EXPECT_EQ(ex.result.code, 3) << ex.result.err;
    EXPECT_FALSE(fs::exists(dir / "out"));
    expectNoPskOnStderr(ex.result);
  }
}

TEST(CtlSpokeConfig, CheckConfigPathAcceptsPlainRelativePaths) {
  EXPECT_EQ(checkConfigPath("a.conf"), std::nullopt);
  EXPECT_EQ(checkConfigPath("swanctl/conf.d/transit-hub-site-1.conf"), std::nullopt);
  EXPECT_EQ(checkConfigPath(".hidden/..x/x.."), std::nullopt);
  EXPECT_NE(checkConfigPath(std::string("a\0b", 3)), std::nullopt);
}

// ---- API errors -----------------------------------------------------------------------------

TEST(CtlSpokeConfig, PrintsTheApisRefusalsWithTheirExitCodes) {
  struct Refusal {
    unsigned status;
    std::string code;
    std::string message;
    int exit;
  };
  const std::vector<Refusal> refusals = {
      {404, "not_found", "no spoke named site-1", 1},
      {409, "conflict",
       "site-1 is a vpc: its other end is an AWS VGW, configured by AWS (import its document "
       "with POST /v1/spokes/import/aws)",
       1},
      {401, "unauthorized", "a valid bearer token is required", 4},
      {403, "forbidden", "this token may only read", 4}};
  for (const auto& format : {"strongswan", "aws-xml"}) {
    for (const auto& refusal : refusals) {
      TempDir dir;
      auto ex = ask(Canned{refusal.status, apiError(refusal.code, refusal.message)},
                    configArgs(format, {"--output-dir", dir / "out"}));
      EXPECT_EQ(ex.result.code, refusal.exit) << refusal.status;
      EXPECT_EQ(ex.result.err, "error: " + refusal.message + "\n");
      EXPECT_EQ(ex.result.out, "");
      EXPECT_FALSE(fs::exists(dir / "out"));
    }
  }
}

TEST(CtlSpokeConfig, AnInvalidFormatRefusalNamesTheField) {
  auto ex = ask(Canned{422, R"({"error":{"code":"invalid_field","message":"must be )"
                            R"(strongswan, libreswan or aws-xml","field":"format"}})"},
                configArgs("libreswan"));
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err, "error: must be strongswan, libreswan or aws-xml (field: format)\n");
  EXPECT_EQ(ex.result.out, "");
}

// ---- No PSK on stderr -----------------------------------------------------------------------

TEST(CtlSpokeConfig, NoPskEverReachesStderr) {
  TempDir dir;
  const std::vector<std::pair<Canned, std::vector<std::string>>> runs = {
      {Canned{200, kConfig}, configArgs("strongswan")},
      {Canned{200, kConfig}, configArgs("strongswan", {"--json"})},
      {Canned{200, kConfig}, configArgs("strongswan", {"--output-dir", dir / "a"})},
      {xmlAnswer(), configArgs("aws-xml")},
      {xmlAnswer(), configArgs("aws-xml", {"--output-dir", dir / "b"})},
      {Canned{200, kXml, "text/html"}, configArgs("aws-xml")},
      {Canned{200, kXml, "application/xml"}, configArgs("strongswan")},
      {Canned{500, kConfig}, configArgs("strongswan")},
      {Canned{404, kXml, "application/xml"}, configArgs("aws-xml")}};
  for (const auto& [canned, args] : runs) {
    auto ex = ask(canned, args);
    expectNoPskOnStderr(ex.result);
  }
}

// ---- Help -----------------------------------------------------------------------------------

TEST(CtlSpokeConfigHelp, SaysWhatItIsForAndListsTheFormats) {
  auto help = run({"spoke", "config", "--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* text :
       {"For ", "on-prem router", "site spoke", "GET /v1/spokes/NAME/config", "PSK", "private",
        "strongswan", "libreswan", "aws-xml", "--format", "--output-dir", "0600", "Exit codes:"}) {
    EXPECT_NE(help.out.find(text), std::string::npos) << text << "\n" << help.out;
  }
  auto spoke = run({"spoke", "--help"});
  EXPECT_NE(spoke.out.find("config"), std::string::npos) << spoke.out;
}

}  // namespace
}  // namespace transit::ctl
