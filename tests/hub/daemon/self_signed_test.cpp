// The API's self-signed certificate (hub/daemon/self_signed.hpp): every field the brief names,
// read back with OpenSSL; the files, their modes, reuse on a re-run, and a half pair refused.
#include "hub/daemon/self_signed.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "tests/fakes/temp_dir.hpp"
#include "tests/hub/daemon/pem_inspect.hpp"

namespace transit::hub {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

// 2026-11-26T06:30:00Z.
const auto kNow = std::chrono::system_clock::time_point(std::chrono::seconds(1795674600));
constexpr std::time_t kNowSeconds = 1795674600;

Ipv4Address ip(std::string_view text) { return *Ipv4Address::parse(text); }

SelfSignedRequest request() {
  return SelfSignedRequest{"hub-a", {ip("203.0.113.10"), ip("10.0.0.10")}};
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

mode_t modeOf(const std::filesystem::path& path) {
  struct stat info {};
  EXPECT_EQ(::lstat(path.c_str(), &info), 0) << path;
  return info.st_mode & 07777;
}

TEST(SelfSigned, IsAnEcdsaP256ServerCertificateForTheHub) {
  auto pair = makeSelfSigned(request(), kNow);
  ASSERT_TRUE(pair.has_value()) << pair.error();
  EXPECT_THAT(pair->certificate, HasSubstr("-----BEGIN CERTIFICATE-----"));
  EXPECT_THAT(pair->private_key, HasSubstr("-----BEGIN PRIVATE KEY-----"));
  auto facts = inspectCertificate(pair->certificate, pair->private_key);
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->version, 2);  // v3
  EXPECT_EQ(facts->common_name, "hub-a");
  EXPECT_EQ(facts->issuer_common_name, "hub-a");
  EXPECT_TRUE(facts->self_signature_valid);
  EXPECT_THAT(facts->ip_alt_names, ElementsAre("203.0.113.10", "10.0.0.10"));
  EXPECT_EQ(facts->dns_alt_names, 0);
  EXPECT_EQ(facts->not_before, kNowSeconds - 3600);
  EXPECT_EQ(facts->not_after, kNowSeconds - 3600 + 825LL * 86400);
  EXPECT_FALSE(facts->ca);
  EXPECT_EQ(facts->key_usage, static_cast<std::uint32_t>(KU_DIGITAL_SIGNATURE));
  EXPECT_EQ(facts->extended_key_usage, static_cast<std::uint32_t>(XKU_SSL_SERVER));
  EXPECT_EQ(facts->signature_nid, NID_ecdsa_with_SHA256);
  EXPECT_EQ(facts->key_group, "prime256v1");
  EXPECT_EQ(facts->key_matches, true);
  EXPECT_FALSE(facts->serial_negative);
  EXPECT_GT(facts->serial_bits, 64);
  EXPECT_LE(facts->serial_bits, 159);
}

TEST(SelfSigned, SerialAndKeyAreNewEachTime) {
  auto first = makeSelfSigned(request(), kNow);
  auto second = makeSelfSigned(request(), kNow);
  ASSERT_TRUE(first.has_value() && second.has_value());
  EXPECT_NE(first->private_key, second->private_key);
  EXPECT_NE(inspectCertificate(first->certificate)->serial_hex,
            inspectCertificate(second->certificate)->serial_hex);
  EXPECT_EQ(inspectCertificate(first->certificate, second->private_key)->key_matches, false);
}

TEST(SelfSigned, OneAltNameWhenBothAddressesAreTheSame) {
  auto pair = makeSelfSigned(SelfSignedRequest{"hub-b", {ip("10.0.0.10"), ip("10.0.0.10")}}, kNow);
  ASSERT_TRUE(pair.has_value()) << pair.error();
  EXPECT_THAT(inspectCertificate(pair->certificate)->ip_alt_names, ElementsAre("10.0.0.10"));
}

TEST(SelfSigned, RefusesAnEmptyName) {
  auto pair = makeSelfSigned(SelfSignedRequest{"", {ip("10.0.0.10")}}, kNow);
  ASSERT_FALSE(pair.has_value());
  EXPECT_THAT(pair.error(), HasSubstr("common name is empty"));
}

TEST(SelfSignedFiles, WritesTheKeyPrivateAndTheCertificateReadable) {
  fakes::TempDir dir;
  const auto tls = dir / "tls";
  auto files = ensureSelfSignedFiles(tls, request(), kNow);
  ASSERT_TRUE(files.has_value()) << files.error();
  EXPECT_FALSE(files->reused);
  EXPECT_EQ(files->cert, tls / "cert.pem");
  EXPECT_EQ(files->key, tls / "key.pem");
  EXPECT_THAT(files->created, ElementsAre(tls, tls / "key.pem", tls / "cert.pem"));
  EXPECT_EQ(modeOf(tls), 0700U);
  EXPECT_EQ(modeOf(files->key), 0600U);
  EXPECT_EQ(modeOf(files->cert), 0644U);
  auto facts = inspectCertificate(slurp(files->cert), slurp(files->key));
  ASSERT_TRUE(facts.has_value());
  EXPECT_EQ(facts->key_matches, true);
  EXPECT_THAT(facts->ip_alt_names, ElementsAre("203.0.113.10", "10.0.0.10"));
}

TEST(SelfSignedFiles, ReusesAPairThatIsThere) {
  fakes::TempDir dir;
  const auto tls = dir / "tls";
  auto first = ensureSelfSignedFiles(tls, request(), kNow);
  ASSERT_TRUE(first.has_value()) << first.error();
  const auto cert = slurp(first->cert);
  const auto key = slurp(first->key);
  auto second = ensureSelfSignedFiles(tls, request(), kNow + std::chrono::hours(1));
  ASSERT_TRUE(second.has_value()) << second.error();
  EXPECT_TRUE(second->reused);
  EXPECT_TRUE(second->created.empty());
  EXPECT_EQ(slurp(second->cert), cert);
  EXPECT_EQ(slurp(second->key), key);
}

TEST(SelfSignedFiles, KeepsAnExistingDirectoryAsItIs) {
  fakes::TempDir dir;
  const auto tls = dir / "tls";
  std::filesystem::create_directory(tls);
  ::chmod(tls.c_str(), 0750);
  auto files = ensureSelfSignedFiles(tls, request(), kNow);
  ASSERT_TRUE(files.has_value()) << files.error();
  EXPECT_THAT(files->created, ElementsAre(tls / "key.pem", tls / "cert.pem"));
  EXPECT_EQ(modeOf(tls), 0750U);
}

TEST(SelfSignedFiles, RefusesAHalfPairAndChangesNothing) {
  fakes::TempDir dir;
  const auto tls = dir / "tls";
  dir.write("tls/cert.pem", "an operator's certificate\n");
  auto files = ensureSelfSignedFiles(tls, request(), kNow);
  ASSERT_FALSE(files.has_value());
  EXPECT_THAT(files.error(), HasSubstr((tls / "cert.pem").string() + " exists without " +
                                       (tls / "key.pem").string()));
  EXPECT_EQ(slurp(tls / "cert.pem"), "an operator's certificate\n");
  EXPECT_FALSE(std::filesystem::exists(tls / "key.pem"));
}

TEST(SelfSignedFiles, ANewDirectoryNeedsItsParent) {
  fakes::TempDir dir;
  auto files = ensureSelfSignedFiles(dir / "missing" / "tls", request(), kNow);
  ASSERT_FALSE(files.has_value());
  EXPECT_THAT(files.error(), HasSubstr("cannot create directory"));
  EXPECT_FALSE(std::filesystem::exists(dir / "missing"));
}

TEST(SelfSignedFiles, RemoveCreatedUndoesANewPair) {
  fakes::TempDir dir;
  auto files = ensureSelfSignedFiles(dir / "tls", request(), kNow);
  ASSERT_TRUE(files.has_value()) << files.error();
  removeCreated(files->created);
  EXPECT_TRUE(std::filesystem::is_empty(dir.path()));
}

}  // namespace
}  // namespace transit::hub
