// transit-hubctl: the pure parts (--tunnel parsing, request bodies, token loading, rendering,
// exit codes) and round trips of the real client against tests/fakes/canned_http_server.hpp.
#include <gtest/gtest.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdlib.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/json/parse.hpp>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "hub/ctl/client.hpp"
#include "hub/ctl/commands.hpp"
#include "hub/ctl/output.hpp"
#include "tests/fakes/canned_http_server.hpp"
#include "tests/fakes/temp_dir.hpp"
#include "tests/hub/ctl/ctl_harness.hpp"

namespace transit::ctl {
namespace {

using transit::fakes::TempDir;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
namespace fs = std::filesystem;
using tcp = asio::ip::tcp;

constexpr std::string_view kSpoke =
    R"({"name":"prod-a","kind":"vpc","cidrs":["10.1.0.0/16","10.2.0.0/16"],"routing":"bgp",)"
    R"("asn":64512,"preferred_hub":"hub-a","segment":"default","tunnels":[)"
    R"({"hub":"hub-a","outside_ip":"198.51.100.10","inside_cidr":"169.254.20.0/30",)"
    R"("hub_inside_ip":"169.254.20.2","peer_inside_ip":"169.254.20.1","psk_set":true},)"
    R"({"hub":"hub-b","outside_ip":"198.51.100.11","inside_cidr":"169.254.21.0/30",)"
    R"("hub_inside_ip":"169.254.21.2","peer_inside_ip":"169.254.21.1","psk_set":true}],)"
    R"("generation":1,"route_tag":1,"created_at":"2026-11-26T06:30:00Z","updated_at":"2026-11-26T06:30:00Z"})";
constexpr std::string_view kStaticSpoke =
    R"({"name":"site-b","kind":"site","cidrs":["192.168.0.0/24"],"routing":"static",)"
    R"("preferred_hub":null,"segment":"onprem","tunnels":[{"outside_ip":"203.0.113.7",)"
    R"("inside_cidr":"169.254.30.0/30","hub_inside_ip":"169.254.30.1",)"
    R"("peer_inside_ip":"169.254.30.2","psk_set":false}],"generation":3,)"
    R"("created_at":"2026-11-26T06:30:00Z","updated_at":"2026-11-27T08:00:00Z"})";
constexpr std::string_view kHub =
    R"({"name":"hub-a","asn":65000,"public_ip":"203.0.113.1","local_ip":"10.0.0.10",)"
    R"("version":"0.1.0","drivers_mode":"real","store":{"location":"sqlite:/var/lib/th.db",)"
    R"("state":"current","loaded":true,"revision":7,"since":null,"reason":null},"revision":7,)"
    R"("spokes":{"vpc":2,"site":1},"ready":true})";
constexpr std::string_view kInvalidField =
    R"({"error":{"code":"invalid_field","message":"is not an IPv4 address",)"
    R"("field":"tunnels[0].outside_ip"}})";
constexpr std::string_view kPsk = "secretpsk1234";

std::string spokeList() {
  return "{\"spokes\":[" + std::string(kSpoke) + "," + std::string(kStaticSpoke) + "]}";
}

// ---- The in-test API server: tests/fakes/canned_http_server.hpp, through ctl_harness.hpp ------

// A self-signed certificate for DNS name `name` (its own CA), and its key, in PEM.
struct TestCertificate {
  std::string cert_pem;
  std::string key_pem;
};

std::string drain(BIO* bio) {
  char* data = nullptr;
  const long size = BIO_ctrl(bio, BIO_CTRL_INFO, 0, &data);
  return std::string(data, static_cast<std::size_t>(size));
}

TestCertificate makeCertificate(const std::string& name) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()), 86400);
  X509_set_pubkey(cert.get(), key.get());
  X509_NAME* subject = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(name.c_str()), -1, -1, 0);
  X509_set_issuer_name(cert.get(), subject);
  X509V3_CTX context;
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  const std::string san = "DNS:" + name;
  X509_EXTENSION* extension =
      X509V3_EXT_conf_nid(nullptr, &context, NID_subject_alt_name, san.c_str());
  X509_add_ext(cert.get(), extension, -1);
  X509_EXTENSION_free(extension);
  X509_sign(cert.get(), key.get(), EVP_sha256());

  std::unique_ptr<BIO, decltype(&BIO_free)> cert_bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(cert_bio.get(), cert.get());
  std::unique_ptr<BIO, decltype(&BIO_free)> key_bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_PrivateKey(key_bio.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr);
  return TestCertificate{drain(cert_bio.get()), drain(key_bio.get())};
}

ssl::context serverContext(const TestCertificate& certificate) {
  ssl::context context(ssl::context::tls_server);
  context.use_certificate_chain(asio::buffer(certificate.cert_pem));
  context.use_private_key(asio::buffer(certificate.key_pem), ssl::context::pem);
  return context;
}

// ---- --tunnel ------------------------------------------------------------------------------

TEST(TunnelSpec, TakesTheOutsideIpAlone) {
  auto spec = parseTunnelSpec("198.51.100.10");
  ASSERT_TRUE(spec) << spec.error();
  EXPECT_EQ(spec->outside_ip, "198.51.100.10");
  EXPECT_FALSE(spec->inside_cidr);
  EXPECT_FALSE(spec->psk_file);
}

TEST(TunnelSpec, TakesInsideAndPskFileInAnyOrder) {
  auto spec = parseTunnelSpec("198.51.100.10,psk-file=/etc/k,inside=169.254.20.0/30");
  ASSERT_TRUE(spec) << spec.error();
  EXPECT_EQ(spec->inside_cidr, "169.254.20.0/30");
  EXPECT_EQ(spec->psk_file, "/etc/k");
}

// hub=NAME puts the tunnel on that hub of the pair; without it the tunnel is the hub's the
// command talks to (the request names no hub).
TEST(TunnelSpec, TakesTheHub) {
  auto spec = parseTunnelSpec("198.51.100.10,hub=hub-b,inside=169.254.20.0/30");
  ASSERT_TRUE(spec) << spec.error();
  EXPECT_EQ(spec->hub, "hub-b");
  EXPECT_EQ(spec->outside_ip, "198.51.100.10");
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10")->hub);
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,hub="));
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,hub=hub-a,hub=hub-b"));
}

TEST(TunnelSpec, RefusesAMissingOutsideIp) {
  EXPECT_FALSE(parseTunnelSpec(""));
  EXPECT_FALSE(parseTunnelSpec("inside=169.254.20.0/30"));
  EXPECT_FALSE(parseTunnelSpec(",inside=169.254.20.0/30"));
}

TEST(TunnelSpec, RefusesAnOutsideIpThatIsNotIpv4) {
  EXPECT_FALSE(parseTunnelSpec("vgw.example.com"));
  EXPECT_FALSE(parseTunnelSpec("2001:db8::1"));
  EXPECT_FALSE(parseTunnelSpec("198.51.100.300"));
}

TEST(TunnelSpec, RefusesABadInsideCidr) {
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,inside=169.254.20.0"));
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,inside=169.254.20.0/33"));
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,inside="));
}

TEST(TunnelSpec, RefusesUnknownDuplicateAndBareItems) {
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,mtu=1400"));
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,psk-file=/a,psk-file=/b"));
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,,inside=169.254.20.0/30"));
  EXPECT_FALSE(parseTunnelSpec("198.51.100.10,psk-file="));
}

TEST(TunnelSpec, RefusesAnInlinePskWithoutEchoingIt) {
  auto spec = parseTunnelSpec("198.51.100.10,psk=" + std::string(kPsk));
  ASSERT_FALSE(spec);
  EXPECT_NE(spec.error().find("psk-file="), std::string::npos);
  EXPECT_EQ(spec.error().find(kPsk), std::string::npos);
}

TEST(TunnelSpec, DoesNotEchoAnUnknownItem) {
  auto spec = parseTunnelSpec("198.51.100.10," + std::string(kPsk) + "=");
  ASSERT_FALSE(spec);
  EXPECT_EQ(spec.error().find(kPsk), std::string::npos);
}

// ---- The spoke body from flags or a file ----------------------------------------------------

SpokeAddFlags bgpFlags() {
  SpokeAddFlags flags;
  flags.name = "prod-a";
  flags.kind = "vpc";
  flags.cidrs = {"10.1.0.0/16", "10.2.0.0/16"};
  flags.asn = 64512;
  flags.tunnels = {"198.51.100.10,inside=169.254.20.0/30", "198.51.100.11"};
  return flags;
}

TEST(SpokeBody, CarriesTheFlagsOfABgpSpoke) {
  auto flags = bgpFlags();
  flags.preferred_hub = "hub-a";
  flags.segment = "prod";
  auto body = buildSpokeBody(flags);
  ASSERT_TRUE(body) << body.error();
  EXPECT_EQ(json::value(*body),
            json::parse(R"({"name":"prod-a","kind":"vpc","cidrs":["10.1.0.0/16","10.2.0.0/16"],
                "routing":"bgp","asn":64512,"preferred_hub":"hub-a","segment":"prod",
                "tunnels":[{"outside_ip":"198.51.100.10","inside_cidr":"169.254.20.0/30"},
                           {"outside_ip":"198.51.100.11"}]})"));
}

TEST(SpokeBody, OmitsAsnForStatic) {
  auto flags = bgpFlags();
  flags.routing = "static";
  flags.asn.reset();
  auto body = buildSpokeBody(flags);
  ASSERT_TRUE(body) << body.error();
  EXPECT_EQ(body->at("routing"), "static");
  EXPECT_FALSE(body->contains("asn"));
}

TEST(SpokeBody, RefusesAsnWithStatic) {
  auto flags = bgpFlags();
  flags.routing = "static";
  EXPECT_FALSE(buildSpokeBody(flags));
}

TEST(SpokeBody, RefusesBgpWithoutAsn) {
  auto flags = bgpFlags();
  flags.asn.reset();
  EXPECT_FALSE(buildSpokeBody(flags));
}

TEST(SpokeBody, HasNoPskKeyWhenNoPskFileIsGiven) {
  auto body = buildSpokeBody(bgpFlags());
  ASSERT_TRUE(body) << body.error();
  for (const auto& tunnel : body->at("tunnels").as_array()) {
    EXPECT_FALSE(tunnel.as_object().contains("psk"));
  }
}

TEST(SpokeBody, ReadsThePskFromItsFileWithoutTrailingWhitespace) {
  TempDir dir;
  const auto psk_file = dir.write("psk", std::string(kPsk) + " \n\n");
  auto flags = bgpFlags();
  flags.tunnels = {"198.51.100.10,psk-file=" + psk_file.string()};
  auto body = buildSpokeBody(flags);
  ASSERT_TRUE(body) << body.error();
  EXPECT_EQ(std::string(body->at("tunnels").at(0).at("psk").as_string()), kPsk);
}

TEST(SpokeBody, NamesAnUnreadablePskFile) {
  TempDir dir;
  auto flags = bgpFlags();
  flags.tunnels = {"198.51.100.10,psk-file=" + dir.path("missing").string()};
  auto body = buildSpokeBody(flags);
  ASSERT_FALSE(body);
  EXPECT_NE(body.error().find(dir.path("missing")), std::string::npos);
}

TEST(SpokeBody, RefusesAnEmptyPskFile) {
  TempDir dir;
  auto flags = bgpFlags();
  flags.tunnels = {"198.51.100.10,psk-file=" + dir.write("psk", "\n").string()};
  EXPECT_FALSE(buildSpokeBody(flags));
}

// Two tunnels on each hub of the pair: the other hub's name their hub, this hub's need not.
TEST(SpokeBody, CarriesTheOtherHubsTunnels) {
  auto flags = bgpFlags();
  flags.tunnels.push_back("198.51.100.10,hub=hub-b");
  flags.tunnels.push_back("198.51.100.11,hub=hub-b");
  auto body = buildSpokeBody(flags);
  ASSERT_TRUE(body) << body.error();
  const auto& tunnels = body->at("tunnels").as_array();
  ASSERT_EQ(tunnels.size(), 4u);
  EXPECT_FALSE(tunnels[0].as_object().contains("hub"));
  EXPECT_EQ(tunnels[2], json::parse(R"({"hub":"hub-b","outside_ip":"198.51.100.10"})"));
}

TEST(SpokeBody, RefusesFiveTunnels) {
  auto flags = bgpFlags();
  for (const auto* more : {"198.51.100.12", "198.51.100.13", "198.51.100.14"}) {
    flags.tunnels.push_back(more);
  }
  auto body = buildSpokeBody(flags);
  ASSERT_FALSE(body);
  EXPECT_EQ(body.error(), "spoke add needs --tunnel one to four times (at most two per hub)");
}

TEST(SpokeBody, RefusesAMalformedTunnel) {
  auto flags = bgpFlags();
  flags.tunnels = {"198.51.100.10,inside"};
  EXPECT_FALSE(buildSpokeBody(flags));
}

TEST(SpokeFile, FillsInTheNameWhenTheFileHasNone) {
  auto body = spokeBodyFromFile(R"({"kind":"vpc"})", "prod-a");
  ASSERT_TRUE(body) << body.error();
  EXPECT_EQ(body->at("name"), "prod-a");
}

TEST(SpokeFile, RefusesANameThatDiffersFromTheFile) {
  EXPECT_FALSE(spokeBodyFromFile(R"({"name":"prod-b"})", "prod-a"));
}

TEST(SpokeFile, RefusesTextThatIsNotAJsonObject) {
  EXPECT_FALSE(spokeBodyFromFile("{\"name\":", std::nullopt));
  EXPECT_FALSE(spokeBodyFromFile("[1]", std::nullopt));
}

// ---- Token ---------------------------------------------------------------------------------

TEST(Token, IsTheFirstLineOfTheTokenFile) {
  TempDir dir;
  auto token = loadToken(dir.write("token", "tok-abc\r\nsecond line\n"), std::nullopt);
  ASSERT_TRUE(token) << token.error();
  EXPECT_EQ(token->value, "tok-abc");
  EXPECT_FALSE(token->warning);
}

TEST(Token, FileWinsOverTheEnvironment) {
  TempDir dir;
  auto token = loadToken(dir.write("token", "from-file\n"), std::string("from-env"));
  ASSERT_TRUE(token) << token.error();
  EXPECT_EQ(token->value, "from-file");
}

TEST(Token, FallsBackToTheEnvironment) {
  auto token = loadToken(std::nullopt, std::string("from-env"));
  ASSERT_TRUE(token) << token.error();
  EXPECT_EQ(token->value, "from-env");
}

TEST(Token, MissingSaysHowToGiveOne) {
  auto token = loadToken(std::nullopt, std::nullopt);
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().find("--token-file"), std::string::npos);
  EXPECT_NE(token.error().find("TRANSIT_HUB_TOKEN"), std::string::npos);
}

TEST(Token, WarnsWhenTheFileIsReadableByOthers) {
  TempDir dir;
  using fs::perms;
  auto token = loadToken(dir.write("token", "tok-abc\n", perms::owner_read | perms::group_read),
                         std::nullopt);
  ASSERT_TRUE(token) << token.error();
  ASSERT_TRUE(token->warning);
  EXPECT_EQ(token->warning->find("tok-abc"), std::string::npos);
}

TEST(Token, NamesAnUnreadableFile) {
  TempDir dir;
  auto token = loadToken(dir.path("missing"), std::string("from-env"));
  ASSERT_FALSE(token);
  EXPECT_NE(token.error().find(dir.path("missing")), std::string::npos);
}

TEST(Token, RefusesAnEmptyFirstLine) {
  TempDir dir;
  EXPECT_FALSE(loadToken(dir.write("token", "\ntok-abc\n"), std::nullopt));
}

// ---- Rendering -----------------------------------------------------------------------------

TEST(Render, SpokeListIsAnAlignedTable) {
  auto text = renderSpokeList(json::parse(spokeList()));
  ASSERT_TRUE(text) << text.error();
  EXPECT_EQ(*text,
            "NAME    KIND  ROUTING  ASN    SEGMENT  CIDRS                    TUNNELS  GEN\n"
            "prod-a  vpc   bgp      64512  default  10.1.0.0/16,10.2.0.0/16  2        1\n"
            "site-b  site  static   -      onprem   192.168.0.0/24           1        3\n");
}

TEST(Render, EmptySpokeListSaysSo) {
  auto text = renderSpokeList(json::parse(R"({"spokes":[]})"));
  ASSERT_TRUE(text) << text.error();
  EXPECT_EQ(*text, "No spokes.\n");
}

TEST(Render, SpokeListNeedsTheSpokesArray) {
  EXPECT_FALSE(renderSpokeList(json::parse(R"({"items":[]})")));
}

TEST(Render, SpokeShowsKeyValuesThenTunnels) {
  auto text = renderSpoke(json::parse(kSpoke));
  ASSERT_TRUE(text) << text.error();
  EXPECT_EQ(*text,
            "name: prod-a\n"
            "kind: vpc\n"
            "routing: bgp\n"
            "asn: 64512\n"
            "preferred_hub: hub-a\n"
            "segment: default\n"
            "cidrs: 10.1.0.0/16, 10.2.0.0/16\n"
            "generation: 1\n"
            "route_tag: 1\n"
            "created_at: 2026-11-26T06:30:00Z\n"
            "updated_at: 2026-11-26T06:30:00Z\n"
            "\n"
            "HUB    OUTSIDE_IP     INSIDE_CIDR      HUB_INSIDE_IP  PEER_INSIDE_IP  PSK\n"
            "hub-a  198.51.100.10  169.254.20.0/30  169.254.20.2   169.254.20.1    set\n"
            "hub-b  198.51.100.11  169.254.21.0/30  169.254.21.2   169.254.21.1    set\n");
}

TEST(Render, StaticSpokeShowsDashesForAsnPreferredHubAndPsk) {
  auto text = renderSpoke(json::parse(kStaticSpoke));
  ASSERT_TRUE(text) << text.error();
  EXPECT_NE(text->find("asn: -\n"), std::string::npos);
  EXPECT_NE(text->find("preferred_hub: -\n"), std::string::npos);
  EXPECT_NE(text->find("203.0.113.7  169.254.30.0/30  169.254.30.1   169.254.30.2    -\n"),
            std::string::npos);
}

TEST(Render, SpokeShowsExtraFieldsButNeverAPsk) {
  auto spoke = json::parse(kSpoke).as_object();
  spoke["status"] = "applied";
  spoke["psk"] = kPsk;
  auto text = renderSpoke(spoke);
  ASSERT_TRUE(text) << text.error();
  EXPECT_NE(text->find("status: applied\n"), std::string::npos);
  EXPECT_EQ(text->find(kPsk), std::string::npos);
}

TEST(Render, ServerTextCannotDriveTheTerminal) {
  auto spoke = json::parse(kSpoke).as_object();
  spoke["name"] = "evil\x1b[2J\xc2\x9b";
  auto text = renderSpoke(spoke);
  ASSERT_TRUE(text) << text.error();
  EXPECT_NE(text->find("name: evil?[2J?\n"), std::string::npos);
}

TEST(Render, CreatedSaysTheGenerationThenShowsTheSpoke) {
  auto text = renderCreated(json::parse(kSpoke));
  ASSERT_TRUE(text) << text.error();
  EXPECT_EQ(text->rfind("Created spoke prod-a (generation 1)\nname: prod-a\n", 0), 0U);
}

TEST(Render, HubIsKeyValueLines) {
  auto text = renderHub(json::parse(kHub));
  ASSERT_TRUE(text) << text.error();
  EXPECT_EQ(*text,
            "name: hub-a\n"
            "asn: 65000\n"
            "public_ip: 203.0.113.1\n"
            "local_ip: 10.0.0.10\n"
            "version: 0.1.0\n"
            "drivers_mode: real\n"
            "store: sqlite:/var/lib/th.db (current, revision 7)\n"
            "revision: 7\n"
            "spokes: vpc=2, site=1\n"
            "ready: true\n");
}

TEST(Render, HubSaysWhenItsViewOfTheStoreIsStale) {
  auto text = renderHub(json::parse(
      R"({"name":"hub-a","store":{"location":"etcd:http://10.0.1.5:2379/th/","state":"stale",)"
      R"("loaded":true,"revision":12,"since":"2026-11-26T06:30:00Z",)"
      R"("reason":"etcd http://10.0.1.5:2379: connection refused"},"revision":12})"));
  ASSERT_TRUE(text) << text.error();
  EXPECT_NE(text->find("store: etcd:http://10.0.1.5:2379/th/ (STALE since 2026-11-26T06:30:00Z, "
                       "revision 12: etcd http://10.0.1.5:2379: connection refused)\n"),
            std::string::npos)
      << *text;
  // A hub older than the store object sends its location alone.
  auto old = renderHub(json::parse(R"({"name":"hub-a","store":"sqlite:/var/lib/th.db"})"));
  ASSERT_TRUE(old) << old.error();
  EXPECT_NE(old->find("store: sqlite:/var/lib/th.db\n"), std::string::npos) << *old;
}

// ---- Exit codes and response interpretation -----------------------------------------------

TEST(ExitCodes, SuccessIsZero) {
  for (unsigned status : {200U, 201U, 204U}) {
    EXPECT_EQ(exitCodeForStatus(status), ExitCode::kOk) << status;
  }
}

TEST(ExitCodes, RefusalsAreOne) {
  for (unsigned status : {400U, 404U, 405U, 409U, 412U, 413U, 415U, 422U, 500U, 503U}) {
    EXPECT_EQ(exitCodeForStatus(status), ExitCode::kApiRefused) << status;
  }
}

TEST(ExitCodes, AuthIsFour) {
  EXPECT_EQ(exitCodeForStatus(401), ExitCode::kAuth);
  EXPECT_EQ(exitCodeForStatus(403), ExitCode::kAuth);
}

TEST(ExitCodes, RedirectsAndInformationalAreNotTheApis) {
  EXPECT_EQ(exitCodeForStatus(101), ExitCode::kUnreachable);
  EXPECT_EQ(exitCodeForStatus(302), ExitCode::kUnreachable);
  EXPECT_EQ(static_cast<int>(ExitCode::kUnreachable), 3);
}

TEST(Interpret, ApiErrorGivesMessageAndField) {
  auto result = interpretResponse(422, "Unprocessable Entity", kInvalidField, "http://h");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::kApiRefused);
  EXPECT_EQ(result.error().message, "is not an IPv4 address (field: tunnels[0].outside_ip)");
}

TEST(Interpret, AnErrorPageThatIsNotJsonIsNotTheApis) {
  auto result = interpretResponse(502, "Bad Gateway", "<html>bad gateway</html>", "http://h");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::kUnreachable);
  EXPECT_NE(result.error().message.find("HTTP 502 Bad Gateway"), std::string::npos);
}

TEST(Interpret, SuccessThatIsNotJsonIsNotTheApis) {
  auto result = interpretResponse(200, "OK", "<html></html>", "http://h");
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ExitCode::kUnreachable);
}

TEST(Interpret, EmptySuccessIsNull) {
  auto result = interpretResponse(204, "No Content", "", "http://h");
  ASSERT_TRUE(result);
  EXPECT_TRUE(result->is_null());
}

// ---- Server URL and request building ---------------------------------------------------------

TEST(ServerUrl, UsesTheSchemesDefaultPort) {
  EXPECT_EQ(parseServerUrl("http://hub.example")->port, "80");
  EXPECT_EQ(parseServerUrl("https://hub.example")->port, "443");
  EXPECT_TRUE(parseServerUrl("https://hub.example")->tls);
}

TEST(ServerUrl, JoinsAPathPrefixWithOrWithoutTrailingSlash) {
  const std::vector<std::string> path = {"v1", "spokes", "prod a"};
  EXPECT_EQ(apiTarget(*parseServerUrl("http://h:8080/prefix"), path), "/prefix/v1/spokes/prod%20a");
  EXPECT_EQ(apiTarget(*parseServerUrl("http://h:8080/prefix/"), path),
            "/prefix/v1/spokes/prod%20a");
  EXPECT_EQ(apiTarget(*parseServerUrl("http://h:8080"), path), "/v1/spokes/prod%20a");
}

TEST(ServerUrl, TakesAnIpv6Literal) {
  auto url = parseServerUrl("http://[::1]:8080/");
  ASSERT_TRUE(url) << url.error();
  EXPECT_EQ(url->host, "::1");
  EXPECT_EQ(url->host_header, "[::1]:8080");
}

TEST(ServerUrl, RefusesOtherSchemesUserInfoAndQueries) {
  EXPECT_FALSE(parseServerUrl("ftp://h"));
  EXPECT_FALSE(parseServerUrl("hub.example:8080"));
  EXPECT_FALSE(parseServerUrl("http://user:pass@h"));
  EXPECT_FALSE(parseServerUrl("http://h/?x=1"));
  EXPECT_FALSE(parseServerUrl("http://h:99999"));
}

TEST(HttpRequest, CarriesHostAuthAcceptAndAgent) {
  ClientOptions options;
  options.server = *parseServerUrl("http://[::1]:8080");
  options.token = kToken;
  ApiRequest request;
  request.path = {"v1", "hub"};
  auto built = buildHttpRequest(options, request);
  EXPECT_EQ(built.target(), "/v1/hub");
  EXPECT_EQ(built[http::field::host], "[::1]:8080");
  EXPECT_EQ(built[http::field::authorization], "Bearer tok-123");
  EXPECT_EQ(built[http::field::accept], "application/json");
  EXPECT_EQ(built[http::field::user_agent], "transit-hubctl/" TRANSIT_HUB_VERSION);
  EXPECT_EQ(built.count(http::field::content_type), 0U);
}

TEST(HttpRequest, BodyIsJsonAndIfMatchIsQuoted) {
  ClientOptions options;
  options.server = *parseServerUrl("http://h");
  options.token = kToken;
  ApiRequest request{http::verb::delete_, {"v1", "spokes", "a"}, "{}", 7, {}};
  auto built = buildHttpRequest(options, request);
  EXPECT_EQ(built[http::field::content_type], "application/json");
  EXPECT_EQ(built[http::field::if_match], "\"7\"");
}

TEST(HttpRequest, QueryParametersFollowThePathEncoded) {
  ClientOptions options;
  options.server = *parseServerUrl("http://h/api/");
  ApiRequest request{http::verb::get,
                     {"v1", "routes"},
                     std::nullopt,
                     std::nullopt,
                     {{"spoke", "a b&c"}, {"filtered", "true"}}};
  EXPECT_EQ(buildHttpRequest(options, request).target(),
            "/api/v1/routes?spoke=a%20b%26c&filtered=true");
}

// ---- Command line without a server -----------------------------------------------------------

TEST(CommandLine, HelpDocumentsTheExitCodes) {
  auto result = run({"--help"});
  EXPECT_EQ(result.code, 0);
  for (const char* line : {"  0  success", "  1  the API refused", "  2  usage error",
                           "  3  cannot reach the server", "  4  authentication"}) {
    EXPECT_NE(result.out.find(line), std::string::npos) << line;
  }
}

TEST(CommandLine, VersionNeedsNoServerOrToken) {
  auto result = run({"version"}, Environment{});
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.out, "transit-hubctl " TRANSIT_HUB_VERSION "\n");
}

TEST(CommandLine, VersionFlagPrintsTheSameWithoutACommand) {
  auto result = run({"--version"}, Environment{});
  EXPECT_EQ(result.code, 0);
  EXPECT_EQ(result.out, "transit-hubctl " TRANSIT_HUB_VERSION "\n");
  EXPECT_EQ(result.err, "");
}

TEST(CommandLine, UnknownFlagIsAUsageError) { EXPECT_EQ(run({"--bogus", "hub"}).code, 2); }

TEST(CommandLine, MissingTokenIsAUsageErrorBeforeAnyConnection) {
  auto result = run({"--server", "http://127.0.0.1:1", "hub"}, Environment{});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("error: no API token"), std::string::npos);
}

TEST(CommandLine, MalformedTunnelIsAUsageError) {
  auto result = run({"--server", "http://127.0.0.1:1", "spoke", "add", "a", "--kind", "vpc",
                     "--cidr", "10.0.0.0/16", "--asn", "64512", "--tunnel", "nope"});
  EXPECT_EQ(result.code, 2);
  EXPECT_NE(result.err.find("--tunnel"), std::string::npos);
}

TEST(CommandLine, FileAndFlagsExcludeEachOther) {
  EXPECT_EQ(run({"spoke", "add", "--file", "-", "--kind", "vpc"}).code, 2);
}

TEST(CommandLine, BadServerUrlIsAUsageError) {
  EXPECT_EQ(run({"--server", "ftp://h", "hub"}).code, 2);
}

TEST(CommandLine, MissingCaFileIsAUsageError) {
  TempDir dir;
  auto result = run({"--server", "https://127.0.0.1:1", "--ca-file", dir.path("ca.pem"), "hub"});
  EXPECT_EQ(result.code, 2);
}

TEST(CommandLine, ConnectionRefusedExitsThree) {
  std::string port;
  {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address_v4("127.0.0.1"), 0));
    port = std::to_string(acceptor.local_endpoint().port());
  }
  auto result = run({"--server", "http://127.0.0.1:" + port, "hub"});
  EXPECT_EQ(result.code, 3);
  EXPECT_NE(result.err.find("error: cannot connect to http://127.0.0.1:" + port),
            std::string::npos);
}

// ---- Round trips against the in-test server --------------------------------------------------

TEST(RoundTrip, ListSendsAuthAndRendersTheTable) {
  TestServer server({Canned{200, spokeList()}});
  auto result = run({"--server", server.url("http", "127.0.0.1", "/prefix/"), "spoke", "list"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("NAME    KIND", 0), 0U);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "GET");
  EXPECT_EQ(requests[0].target, "/prefix/v1/spokes");
  EXPECT_EQ(requests[0].host, "127.0.0.1:" + server.port());
  EXPECT_EQ(requests[0].authorization, "Bearer tok-123");
  EXPECT_EQ(requests[0].accept, "application/json");
  EXPECT_EQ(requests[0].user_agent, "transit-hubctl/" TRANSIT_HUB_VERSION);
}

TEST(RoundTrip, TokenFileIsSent) {
  TempDir dir;
  TestServer server({Canned{200, std::string(kHub)}});
  auto result =
      run({"--server", server.url(), "--token-file", dir.write("token", "tok-file\n"), "hub"});
  EXPECT_EQ(result.code, 0) << result.err;
  ASSERT_EQ(server.requests().size(), 1U);
  EXPECT_EQ(server.requests()[0].authorization, "Bearer tok-file");
}

TEST(RoundTrip, AddPostsJsonWithThePskAndNeverPrintsIt) {
  TempDir dir;
  const auto psk_file = dir.write("psk", std::string(kPsk) + "\n");
  TestServer server({Canned{201, std::string(kSpoke)}});
  auto result = run({"--server", server.url(), "spoke", "add", "prod-a", "--kind", "vpc", "--cidr",
                     "10.1.0.0/16", "--asn", "64512", "--tunnel",
                     "198.51.100.10,psk-file=" + psk_file.string()});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out.rfind("Created spoke prod-a (generation 1)\n", 0), 0U);
  EXPECT_EQ(result.out.find(kPsk), std::string::npos);
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "POST");
  EXPECT_EQ(requests[0].target, "/v1/spokes");
  EXPECT_EQ(requests[0].content_type, "application/json");
  const auto sent = json::parse(requests[0].body);
  EXPECT_EQ(std::string(sent.at("tunnels").at(0).at("psk").as_string()), kPsk);
}

TEST(RoundTrip, AddFromStdinSendsTheFilesJson) {
  TestServer server({Canned{201, std::string(kSpoke)}});
  auto result = run({"--server", server.url(), "--json", "spoke", "add", "--file", "-"},
                    Environment{std::nullopt, std::string(kToken)}, std::string(kSpoke));
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, std::string(kSpoke) + "\n");
  ASSERT_EQ(server.requests().size(), 1U);
  EXPECT_EQ(json::parse(server.requests()[0].body), json::parse(kSpoke));
}

TEST(RoundTrip, InvalidFieldExitsOneWithMessageAndField) {
  TestServer server({Canned{422, std::string(kInvalidField)}});
  auto result = run({"--server", server.url(), "spoke", "add", "prod-a", "--kind", "vpc", "--cidr",
                     "10.1.0.0/16", "--asn", "64512", "--tunnel", "198.51.100.10"});
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.err, "error: is not an IPv4 address (field: tunnels[0].outside_ip)\n");
  EXPECT_EQ(result.out, "");
}

TEST(RoundTrip, NotFoundExitsOne) {
  TestServer server(
      {Canned{404, R"({"error":{"code":"not_found","message":"no spoke named nope"}})"}});
  auto result = run({"--server", server.url(), "spoke", "show", "nope"});
  EXPECT_EQ(result.code, 1);
  EXPECT_EQ(result.err, "error: no spoke named nope\n");
  ASSERT_EQ(server.requests().size(), 1U);
  EXPECT_EQ(server.requests()[0].target, "/v1/spokes/nope");
}

TEST(RoundTrip, UnauthorizedExitsFour) {
  TestServer server(
      {Canned{401, R"({"error":{"code":"unauthorized","message":"missing or bad token"}})"}});
  auto result = run({"--server", server.url(), "hub"});
  EXPECT_EQ(result.code, 4);
  EXPECT_EQ(result.err, "error: missing or bad token\n");
}

TEST(RoundTrip, ForbiddenExitsFour) {
  TestServer server({Canned{403, R"({"error":{"code":"forbidden","message":"read-only token"}})"}});
  EXPECT_EQ(run({"--server", server.url(), "spoke", "delete", "prod-a"}).code, 4);
}

TEST(RoundTrip, ServerErrorExitsOne) {
  TestServer server({Canned{503, R"({"error":{"code":"unavailable","message":"store busy"}})"}});
  EXPECT_EQ(run({"--server", server.url(), "spoke", "list"}).code, 1);
}

TEST(RoundTrip, HtmlErrorPageExitsThree) {
  TestServer server({Canned{502, "<html>Bad Gateway</html>", "text/html"}});
  auto result = run({"--server", server.url(), "spoke", "list"});
  EXPECT_EQ(result.code, 3);
  EXPECT_NE(result.err.find("HTTP 502"), std::string::npos);
}

TEST(RoundTrip, DeleteSendsIfMatchAndSaysDeleted) {
  TestServer server({Canned{204, ""}});
  auto result = run({"--server", server.url(), "spoke", "delete", "prod-a", "--if-match", "3"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "Deleted spoke prod-a\n");
  auto requests = server.requests();
  ASSERT_EQ(requests.size(), 1U);
  EXPECT_EQ(requests[0].method, "DELETE");
  EXPECT_EQ(requests[0].target, "/v1/spokes/prod-a");
  EXPECT_EQ(requests[0].if_match, "\"3\"");
}

TEST(RoundTrip, DeleteWithJsonPrintsNothing) {
  TestServer server({Canned{204, ""}});
  auto result = run({"--server", server.url(), "--json", "spoke", "delete", "prod-a"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "");
}

TEST(RoundTrip, JsonPrintsTheResponseBody) {
  TestServer server({Canned{200, std::string(kHub)}});
  auto result = run({"--server", server.url(), "hub", "--json"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, std::string(kHub) + "\n");
}

TEST(RoundTrip, NoAnswerWithinTheTimeoutExitsThree) {
  Canned silent;
  silent.silent = true;
  TestServer server({silent});
  auto result = run({"--server", server.url(), "--timeout", "0.2", "hub"});
  EXPECT_EQ(result.code, 3);
  EXPECT_NE(result.err.find("no answer"), std::string::npos);
}

TEST(RoundTrip, HttpsVerifiesTheCertificateAndSendsSni) {
  TempDir dir;
  const auto certificate = makeCertificate("localhost");
  auto context = serverContext(certificate);
  TestServer server({Canned{200, std::string(kHub)}}, &context);
  auto result = run({"--server", server.url("https", "localhost"), "--ca-file",
                     dir.write("ca.pem", certificate.cert_pem), "hub"});
  EXPECT_EQ(result.code, 0) << result.err;
  ASSERT_EQ(server.requests().size(), 1U);
  EXPECT_EQ(server.requests()[0].sni, "localhost");
}

TEST(RoundTrip, HttpsRefusesACertificateForAnotherName) {
  TempDir dir;
  const auto certificate = makeCertificate("localhost");
  auto context = serverContext(certificate);
  TestServer server({Canned{200, std::string(kHub)}}, &context);
  auto result = run({"--server", server.url("https", "127.0.0.1"), "--ca-file",
                     dir.write("ca.pem", certificate.cert_pem), "hub"});
  EXPECT_EQ(result.code, 3);
  EXPECT_NE(result.err.find("certificate verify failed"), std::string::npos);
  EXPECT_TRUE(server.requests().empty());
}

TEST(RoundTrip, HttpsRefusesAnUntrustedCertificate) {
  const auto certificate = makeCertificate("localhost");
  auto context = serverContext(certificate);
  TestServer server({Canned{200, std::string(kHub)}}, &context);
  auto result = run({"--server", server.url("https", "localhost"), "hub"});
  EXPECT_EQ(result.code, 3);
  EXPECT_NE(result.err.find("TLS handshake"), std::string::npos);
}

TEST(RoundTrip, HttpsToAPlainServerExitsThree) {
  TestServer server({Canned{200, std::string(kHub)}});
  auto result = run({"--server", server.url("https"), "hub"});
  EXPECT_EQ(result.code, 3);
  EXPECT_NE(result.err.find("TLS handshake"), std::string::npos);
}

}  // namespace
}  // namespace transit::ctl
