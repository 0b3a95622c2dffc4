// transit-hubctl's `spoke import-aws`: the request it sends (the AWS document as the body, the
// flags as the query), the files it refuses, and what it prints, run through runCtl against
// tests/fakes/canned_http_server.hpp answering canned API replies and recording what it was sent.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "hub/ctl/client.hpp"
#include "hub/ctl/commands.hpp"
#include "hub/ctl/output.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/hub/ctl/ctl_harness.hpp"

namespace transit::ctl {
namespace {

using transit::fakes::TempDir;

namespace http = boost::beast::http;

constexpr std::string_view kPsk = "Lab.Only_Psk_7f3a9c";

// A CustomerGatewayConfiguration document, trimmed; the client never parses it. CRLF line ends,
// a non-ASCII comment and no final newline, so a byte-for-byte comparison means something.
const std::string kDocument =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
    "<vpn_connection id=\"vpn-0123456789abcdef0\">\r\n"
    "  <!-- caf\xc3\xa9 -->\r\n"
    "  <ipsec_tunnel>\r\n"
    "    <ike><pre_shared_key>" +
    std::string(kPsk) +
    "</pre_shared_key></ike>\r\n"
    "  </ipsec_tunnel>\r\n"
    "</vpn_connection>\t ";

// The created spoke, as POST /v1/spokes and the import answer it.
constexpr std::string_view kSpoke =
    R"({"name":"prod-a","kind":"vpc","cidrs":["10.1.0.0/16","10.2.0.0/16"],"routing":"bgp",)"
    R"("asn":64512,"preferred_hub":"hub-a","segment":"prod","tunnels":[)"
    R"({"outside_ip":"198.51.100.10","inside_cidr":"169.254.80.144/30",)"
    R"("hub_inside_ip":"169.254.80.146","peer_inside_ip":"169.254.80.145","psk_set":true},)"
    R"({"outside_ip":"198.51.100.11","inside_cidr":"169.254.172.84/30",)"
    R"("hub_inside_ip":"169.254.172.86","peer_inside_ip":"169.254.172.85","psk_set":true}],)"
    R"("generation":1,"route_tag":1,"created_at":"2026-11-26T06:30:00Z","updated_at":"2026-11-26T06:30:00Z"})";

constexpr std::string_view kBadPsk =
    R"({"error":{"code":"invalid_field","message":"the pre-shared key has characters )"
    R"(libreswan cannot take","field":"xml:ipsec_tunnel[2]/ike/pre_shared_key"}})";

// ---- The in-test API server: tests/hub/ctl/ctl_harness.hpp
// ------------------------------------------

// `status` with `body`; a 201 carries the Location and ETag of the created prod-a, as the API's.
Canned answer(unsigned status, std::string_view body) {
  Canned canned{status, std::string(body)};
  if (status == 201) {
    canned.headers = {{http::field::location, "/v1/spokes/prod-a"}, {http::field::etag, "\"1\""}};
  }
  return canned;
}

// Runs `args` after --server against a server answering `status` with `body` once.
Exchange exchange(unsigned status, std::string_view body, const std::vector<std::string>& args,
                  const std::string& stdin_text = "") {
  return runAgainstServer({answer(status, body)}, args, stdin_text);
}

// `spoke import-aws FILE --name prod-a --cidr 10.1.0.0/16` plus `extra`.
std::vector<std::string> importArgs(const std::string& file,
                                    const std::vector<std::string>& extra = {}) {
  std::vector<std::string> args{"spoke",  "import-aws", file,         "--name",
                                "prod-a", "--cidr",     "10.1.0.0/16"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void expectNoPsk(const RunResult& result) {
  EXPECT_EQ(result.out.find(kPsk), std::string::npos) << result.out;
  EXPECT_EQ(result.err.find(kPsk), std::string::npos) << result.err;
  EXPECT_EQ(result.err.find("pre_shared_key>"), std::string::npos) << result.err;
}

// ---- The request ----------------------------------------------------------------------------

TEST(CtlImportAws, PostsTheDocumentAsXmlWithEveryFlagInTheQuery) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(
      201, kSpoke,
      importArgs(file, {"--cidr", "10.2.0.0/16", "--segment", "prod", "--preferred-hub", "hub-a"}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  ASSERT_EQ(ex.requests.size(), 1U);
  const Recorded& sent = ex.requests.front();
  EXPECT_EQ(sent.method, "POST");
  EXPECT_EQ(sent.target,
            "/v1/spokes/import/aws?name=prod-a&cidr=10.1.0.0%2F16&cidr=10.2.0.0%2F16"
            "&segment=prod&preferred_hub=hub-a");
  EXPECT_EQ(sent.content_type, "application/xml");
  EXPECT_EQ(sent.authorization, "Bearer tok-123");
}

TEST(CtlImportAws, TheBodyIsTheFileByteForByte) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(201, kSpoke, importArgs(file));
  ASSERT_EQ(ex.requests.size(), 1U);
  EXPECT_EQ(ex.requests.front().body, kDocument);
}

TEST(CtlImportAws, LeavesOutSegmentAndPreferredHubWhenNotGiven) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(201, kSpoke, importArgs(file));
  ASSERT_EQ(ex.requests.size(), 1U);
  EXPECT_EQ(ex.requests.front().target, "/v1/spokes/import/aws?name=prod-a&cidr=10.1.0.0%2F16");
}

TEST(CtlImportAws, PercentEncodesTheQueryValues) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(
      201, kSpoke,
      {"spoke", "import-aws", file, "--name", "a b&c", "--cidr", "x=y", "--segment", "s?t"});
  ASSERT_EQ(ex.requests.size(), 1U);
  EXPECT_EQ(ex.requests.front().target,
            "/v1/spokes/import/aws?name=a%20b%26c&cidr=x%3Dy&segment=s%3Ft");
}

TEST(CtlImportAws, DashReadsTheDocumentFromStdin) {
  auto ex = exchange(201, kSpoke, importArgs("-"), kDocument);
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  ASSERT_EQ(ex.requests.size(), 1U);
  EXPECT_EQ(ex.requests.front().content_type, "application/xml");
  EXPECT_EQ(ex.requests.front().body, kDocument);
}

TEST(CtlImportAws, SendsADocumentOfExactlyTheLimit) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", std::string(kMaxAwsDocumentSize, 'x')).string();
  auto ex = exchange(201, kSpoke, importArgs(file));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  ASSERT_EQ(ex.requests.size(), 1U);
  EXPECT_EQ(ex.requests.front().body.size(), kMaxAwsDocumentSize);
}

TEST(CtlImportAws, ClientRequestCarriesTheGivenContentType) {
  ClientOptions options;
  options.server = *parseServerUrl("http://h");
  ApiRequest request{http::verb::post, {"v1", "spokes", "import", "aws"}, "<a/>", std::nullopt, {},
                     "application/xml"};
  auto built = buildHttpRequest(options, request);
  EXPECT_EQ(built[http::field::content_type], "application/xml");
  EXPECT_EQ(built.body(), "<a/>");
}

// ---- Files it refuses (usage errors: nothing is sent) ---------------------------------------

TEST(CtlImportAws, AMissingFileIsAUsageErrorNamingIt) {
  TempDir dir;
  const auto file = (dir / "nope.xml").string();
  auto ex = exchange(201, kSpoke, importArgs(file));
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_EQ(ex.result.err, "error: cannot read " + file + ": No such file or directory\n");
  EXPECT_TRUE(ex.requests.empty());
}

TEST(CtlImportAws, ADirectoryIsAUsageError) {
  TempDir dir;
  auto ex = exchange(201, kSpoke, importArgs(dir.path().string()));
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_NE(ex.result.err.find("cannot read " + dir.path().string()), std::string::npos)
      << ex.result.err;
  EXPECT_TRUE(ex.requests.empty());
}

TEST(CtlImportAws, AnEmptyFileIsAUsageError) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", "").string();
  auto ex = exchange(201, kSpoke, importArgs(file));
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_EQ(ex.result.err,
            "error: " + file + " is empty: expected the VPN connection's configuration document\n");
  EXPECT_TRUE(ex.requests.empty());
}

TEST(CtlImportAws, AnEmptyStdinIsAUsageError) {
  auto ex = exchange(201, kSpoke, importArgs("-"), "");
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_EQ(ex.result.err,
            "error: stdin is empty: expected the VPN connection's configuration document\n");
  EXPECT_TRUE(ex.requests.empty());
}

TEST(CtlImportAws, AFileOverTheLimitIsRefusedWithoutItsContent) {
  TempDir dir;
  const auto file =
      dir.write("vpn.xml", kDocument + std::string(kMaxAwsDocumentSize, ' ')).string();
  auto ex = exchange(201, kSpoke, importArgs(file));
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_EQ(ex.result.err,
            "error: cannot read " + file + ": larger than 256 KiB, the most the hub accepts\n");
  EXPECT_TRUE(ex.requests.empty());
  expectNoPsk(ex.result);
}

TEST(CtlImportAws, StdinOverTheLimitIsRefused) {
  auto ex = exchange(201, kSpoke, importArgs("-"), std::string(kMaxAwsDocumentSize + 1, 'x'));
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_EQ(ex.result.err,
            "error: cannot read stdin: larger than 256 KiB, the most the hub accepts\n");
  EXPECT_TRUE(ex.requests.empty());
}

TEST(CtlImportAws, NameCidrAndFileAreRequired) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  const std::vector<std::vector<std::string>> incomplete = {
      {"spoke", "import-aws", file, "--cidr", "10.1.0.0/16"},
      {"spoke", "import-aws", file, "--name", "prod-a"},
      {"spoke", "import-aws", "--name", "prod-a", "--cidr", "10.1.0.0/16"}};
  for (const auto& args : incomplete) {
    auto ex = exchange(201, kSpoke, args);
    EXPECT_EQ(ex.result.code, 2) << ex.result.err;
    EXPECT_TRUE(ex.requests.empty());
  }
}

TEST(CtlImportAws, UpdatePutsTheDocumentToTheSpokesOwnPathWithOnlyTheFlagsGiven) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex =
      exchange(200, kSpoke,
               {"spoke", "import-aws", file, "--name", "prod-a", "--update", "--segment", "dev"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  ASSERT_EQ(ex.requests.size(), 1U);
  const Recorded& sent = ex.requests.front();
  EXPECT_EQ(sent.method, "PUT");
  EXPECT_EQ(sent.target, "/v1/spokes/prod-a/import/aws?segment=dev");
  EXPECT_EQ(sent.content_type, "application/xml");
  EXPECT_EQ(sent.body, kDocument);
}

TEST(CtlImportAws, UpdateSendsCidrsWhenGiven) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(200, kSpoke, importArgs(file, {"--update"}));
  ASSERT_EQ(ex.requests.size(), 1U);
  EXPECT_EQ(ex.requests.front().target, "/v1/spokes/prod-a/import/aws?cidr=10.1.0.0%2F16");
}

TEST(CtlImportAws, WithoutUpdateACidrIsRequired) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(201, kSpoke, {"spoke", "import-aws", file, "--name", "prod-a"});
  EXPECT_EQ(ex.result.code, 2);
  EXPECT_NE(ex.result.err.find("--cidr is required"), std::string::npos) << ex.result.err;
  EXPECT_TRUE(ex.requests.empty());
}

// ---- What it prints -------------------------------------------------------------------------

TEST(CtlImportAws, UpdatePrintsTheUpdatedSpoke) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(200, kSpoke, {"spoke", "import-aws", file, "--name", "prod-a", "--update"});
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out.rfind("Updated spoke prod-a (generation 1)\n", 0), 0U) << ex.result.out;
  expectNoPsk(ex.result);
}

TEST(CtlImportAws, PrintsTheCreatedSpokeAsSpokeAddDoes) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto imported = exchange(201, kSpoke, importArgs(file));
  auto added = exchange(201, kSpoke, {"spoke", "add", "--file", "-"}, std::string(kSpoke));
  EXPECT_EQ(imported.result.code, 0) << imported.result.err;
  EXPECT_EQ(imported.result.err, "");
  EXPECT_EQ(imported.result.out.rfind("Created spoke prod-a (generation 1)\n", 0), 0U)
      << imported.result.out;
  EXPECT_EQ(imported.result.out, added.result.out);
}

TEST(CtlImportAws, JsonPrintsTheServersBodyAsIs) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(201, kSpoke, importArgs(file, {"--json"}));
  EXPECT_EQ(ex.result.code, 0) << ex.result.err;
  EXPECT_EQ(ex.result.out, std::string(kSpoke) + "\n");
}

TEST(CtlImportAws, ARefusedFieldOfTheDocumentIsPrintedWithItsPath) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(422, kBadPsk, importArgs(file));
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err,
            "error: the pre-shared key has characters libreswan cannot take "
            "(field: xml:ipsec_tunnel[2]/ike/pre_shared_key)\n");
  EXPECT_EQ(ex.result.out, "");
}

TEST(CtlImportAws, ARefusedQueryValueIsPrintedWithItsName) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  auto ex = exchange(
      422, R"({"error":{"code":"invalid_field","message":"is not an IPv4 CIDR","field":"cidr"}})",
      importArgs(file));
  EXPECT_EQ(ex.result.code, 1);
  EXPECT_EQ(ex.result.err, "error: is not an IPv4 CIDR (field: cidr)\n");
}

TEST(CtlImportAws, OtherRefusalsExitOneWithTheServersMessage) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  struct Refusal {
    unsigned status;
    std::string code;
    std::string message;
  };
  const std::vector<Refusal> refusals = {
      {400, "malformed_xml", "not well-formed XML at line 3"},
      {413, "payload_too_large", "the body is larger than 256 KiB"},
      {415, "unsupported_media_type", "the body must be application/xml"},
      {409, "conflict", "a spoke named prod-a exists"}};
  for (const auto& refusal : refusals) {
    auto ex = exchange(
        refusal.status,
        R"({"error":{"code":")" + refusal.code + R"(","message":")" + refusal.message + R"("}})",
        importArgs(file));
    EXPECT_EQ(ex.result.code, 1) << refusal.status;
    EXPECT_EQ(ex.result.err, "error: " + refusal.message + "\n");
    EXPECT_EQ(ex.result.out, "");
  }
}

TEST(CtlImportAws, NoOutputEverContainsThePsk) {
  TempDir dir;
  const auto file = dir.write("vpn.xml", kDocument).string();
  expectNoPsk(exchange(201, kSpoke, importArgs(file)).result);
  expectNoPsk(exchange(201, kSpoke, importArgs(file, {"--json"})).result);
  expectNoPsk(exchange(201, kSpoke, importArgs("-"), kDocument).result);
  expectNoPsk(exchange(422, kBadPsk, importArgs(file)).result);
  expectNoPsk(
      exchange(400, R"({"error":{"code":"malformed_xml","message":"bad"}})", importArgs(file))
          .result);
  expectNoPsk(exchange(200, "<html>not the API</html>", importArgs(file)).result);
  expectNoPsk(run({"--server", "http://127.0.0.1:1", "spoke", "import-aws", file, "--name",
                   "prod-a", "--cidr", "10.1.0.0/16"}));
}

// ---- Help -----------------------------------------------------------------------------------

TEST(CtlImportAwsHelp, SaysWhatToPassAndForWhom) {
  auto help = run({"spoke", "import-aws", "--help"});
  EXPECT_EQ(help.code, 0);
  for (const char* text :
       {"For ", "POST /v1/spokes/import/aws", "DescribeVpnConnections",
        "CustomerGatewayConfiguration", "Generic", "256 KiB", "--name", "--cidr", "--segment",
        "--preferred-hub", "--update", "PUT /v1/spokes/NAME/import/aws", "Exit codes:"}) {
    EXPECT_NE(help.out.find(text), std::string::npos) << text << "\n" << help.out;
  }
  auto spoke = run({"spoke", "--help"});
  EXPECT_NE(spoke.out.find("import-aws"), std::string::npos) << spoke.out;
}

}  // namespace
}  // namespace transit::ctl
