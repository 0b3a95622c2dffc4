#include "hub/daemon/self_signed.hpp"

#include <fmt/format.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <ctime>
#include <memory>
#include <system_error>

#include "routing/base/file_io.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;

constexpr std::time_t kBackdate = 3600;               // valid from an hour ago: clock skew
constexpr std::time_t kValidity = 825LL * 24 * 3600;  // the longest browsers accept
constexpr int kSerialBytes = 20;                      // RFC 5280's limit

struct OpensslFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
  void operator()(X509* p) const { X509_free(p); }
  void operator()(X509_EXTENSION* p) const { X509_EXTENSION_free(p); }
  void operator()(BIO* p) const { BIO_free(p); }
  void operator()(BIGNUM* p) const { BN_free(p); }
};
template <typename T>
using Owned = std::unique_ptr<T, OpensslFree>;

// OpenSSL's first queued reason, then an empty queue.
std::string opensslReason() {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return "no reason given";
  char text[256] = {};
  ERR_error_string_n(code, text, sizeof text);
  return text;
}

std::unexpected<std::string> failed(std::string_view what) {
  return std::unexpected(
      fmt::format("cannot make the self-signed certificate: {} ({})", what, opensslReason()));
}

bool addExtension(X509* cert, X509V3_CTX& context, int nid, const std::string& value) {
  Owned<X509_EXTENSION> extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  return extension && X509_add_ext(cert, extension.get(), -1) == 1;
}

// The PEM text a writer puts into a memory BIO.
template <typename Write>
std::expected<std::string, std::string> pem(Write write, std::string_view what) {
  Owned<BIO> bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return failed(what);
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  if (size <= 0 || data == nullptr) return failed(what);
  return std::string(data, static_cast<std::size_t>(size));
}

// Whether `path` exists (a dangling symlink does too); an error when that cannot be told.
std::expected<bool, std::string> pathExists(const fs::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) == 0) return true;
  if (errno == ENOENT) return false;
  return std::unexpected(fmt::format("cannot inspect {}: {}", path.string(),
                                     std::error_code(errno, std::generic_category()).message()));
}

}  // namespace

std::expected<PemPair, std::string> makeSelfSigned(const SelfSignedRequest& request,
                                                   std::chrono::system_clock::time_point now) {
  ERR_clear_error();
  if (request.common_name.empty()) {
    return std::unexpected("cannot make the self-signed certificate: the common name is empty");
  }
  Owned<EVP_PKEY> key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
  if (!key) return failed("generating a P-256 key");
  Owned<X509> cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) return failed("a new certificate");

  unsigned char serial[kSerialBytes] = {};
  if (RAND_bytes(serial, sizeof serial) != 1) return failed("a random serial");
  serial[0] &= 0x7f;  // positive
  serial[0] |= 0x01;  // and never zero
  Owned<BIGNUM> serial_number(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!serial_number ||
      BN_to_ASN1_INTEGER(serial_number.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return failed("the serial");
  }

  const std::time_t not_before = std::chrono::system_clock::to_time_t(now) - kBackdate;
  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()), not_before) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), not_before + kValidity) == nullptr) {
    return failed("the validity");
  }
  if (X509_set_pubkey(cert.get(), key.get()) != 1) return failed("the public key");
  X509_NAME* subject = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(
          subject, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(request.common_name.c_str()), -1, -1, 0) != 1 ||
      X509_set_issuer_name(cert.get(), subject) != 1) {
    return failed("the subject");
  }

  std::vector<Ipv4Address> addresses;  // in the request's order, each once
  std::string alt_names;
  for (const auto& address : request.addresses) {
    if (std::find(addresses.begin(), addresses.end(), address) != addresses.end()) continue;
    addresses.push_back(address);
    alt_names += (alt_names.empty() ? "IP:" : ",IP:") + address.toString();
  }
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, cert.get(), cert.get(), nullptr, nullptr, 0);
  if (!addExtension(cert.get(), context, NID_basic_constraints, "critical,CA:FALSE") ||
      !addExtension(cert.get(), context, NID_key_usage, "critical,digitalSignature") ||
      !addExtension(cert.get(), context, NID_ext_key_usage, "serverAuth") ||
      !addExtension(cert.get(), context, NID_subject_key_identifier, "hash") ||
      (!alt_names.empty() && !addExtension(cert.get(), context, NID_subject_alt_name, alt_names))) {
    return failed("the extensions");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) <= 0) return failed("signing");

  auto cert_pem =
      pem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert.get()); }, "writing the certificate");
  if (!cert_pem) return std::unexpected(cert_pem.error());
  auto key_pem = pem(
      [&](BIO* bio) {
        return PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
      },
      "writing the key");
  if (!key_pem) return std::unexpected(key_pem.error());
  return PemPair{std::move(*cert_pem), std::move(*key_pem)};
}

std::expected<CertificateFiles, std::string> ensureSelfSignedFiles(
    const fs::path& dir, const SelfSignedRequest& request,
    std::chrono::system_clock::time_point now) {
  CertificateFiles files{dir / "cert.pem", dir / "key.pem", false, {}};
  auto cert_there = pathExists(files.cert);
  if (!cert_there) return std::unexpected(cert_there.error());
  auto key_there = pathExists(files.key);
  if (!key_there) return std::unexpected(key_there.error());
  if (*cert_there && *key_there) {
    files.reused = true;
    return files;
  }
  if (*cert_there || *key_there) {
    const auto& there = *cert_there ? files.cert : files.key;
    const auto& missing = *cert_there ? files.key : files.cert;
    return std::unexpected(fmt::format(
        "{} exists without {}: remove it to have a new pair made, or give api.tls {{cert, key}}",
        there.string(), missing.string()));
  }

  auto pair = makeSelfSigned(request, now);
  if (!pair) return std::unexpected(pair.error());

  auto dir_there = pathExists(dir);
  if (!dir_there) return std::unexpected(dir_there.error());
  auto fail = [&files](std::string message) {
    removeCreated(files.created);
    return std::unexpected(std::move(message));
  };
  if (!*dir_there) {
    if (::mkdir(dir.c_str(), 0700) != 0) {
      return std::unexpected(
          fmt::format("cannot create directory {}: {}", dir.string(),
                      std::error_code(errno, std::generic_category()).message()));
    }
    files.created.push_back(dir);
    if (::chmod(dir.c_str(), 0700) != 0) {  // the umask may have cleared owner bits
      return fail(fmt::format("cannot set the mode of {}: {}", dir.string(),
                              std::error_code(errno, std::generic_category()).message()));
    }
    const fs::path parent = dir.has_parent_path() ? dir.parent_path() : fs::path(".");
    if (auto synced = syncDirectory(parent); !synced) return fail(synced.error());
  }
  if (auto written = writeAtomically(files.key, pair->private_key, WriteOptions{.mode = 0600});
      !written) {
    return fail(written.error());
  }
  files.created.push_back(files.key);
  if (auto written = writeAtomically(files.cert, pair->certificate, WriteOptions{.mode = 0644});
      !written) {
    return fail(written.error());
  }
  files.created.push_back(files.cert);
  return files;
}

void removeCreated(const std::vector<fs::path>& created) {
  for (auto it = created.rbegin(); it != created.rend(); ++it) {
    std::error_code ignored;
    fs::remove(*it, ignored);
  }
}

}  // namespace transit::hub
