// Bootstrap: `transit-hubd --bootstrap USER_DATA --config OUT`, the appliance's first boot. Turns
// the operator's cloud-init user data into the hub's configuration and leaves no half-configured
// hub behind when anything is wrong.
//
// Owns nothing past a call. main.cpp calls runBootstrap once, on the main thread, with the real
// instance metadata client (imds.hpp) and certificate maker (self_signed.hpp); a systemd oneshot
// runs it before transit-hubd.service. transformUserData is the pure part (text in, text out, the
// two lookups injected); runBootstrap does the files.
//
// The user data is the hub.yaml schema (hub/config/transit-hub.example.yaml), as strict (unknown
// keys, keys given twice and bad values are refused, naming the key), with two differences:
//  - hub.public_ip and hub.local_ip may be left out (the key absent; a key with no value is an
//    error, as in hub.yaml). Each one left out is asked from the EC2 instance metadata (IMDSv2):
//    public-ipv4 and local-ipv4.
//  - api.tls may be the string `self-signed` instead of {cert, key}: a key and a self-signed
//    certificate for hub.name and the two addresses (self_signed.hpp) are written to
//    DIR/tls/key.pem (0600) and DIR/tls/cert.pem (0644), DIR being OUT's directory (DIR/tls is
//    created 0700), and api.tls becomes {cert: DIR/tls/cert.pem, key: DIR/tls/key.pem}. When both
//    files are there already (a re-run) they are reused as they are.
// Everything else passes through unchanged, quoted values staying quoted (so `asn: "65000"` is
// refused as in hub.yaml); comments are not kept. At most 64 KiB, one YAML document, a map.
//
// runBootstrap, in order: refuse if OUT exists (never overwrite an operator's configuration);
// read USER_DATA; transform it; write the result to a temporary file beside OUT (0600) and load
// it with the hub's own strict loader (hub::loadConfig), so the hub will accept exactly what was
// written; in drivers.mode live, write BIRD's main configuration (routing/bird renderMainConfig
// with the options the daemon itself uses, wiring.hpp birdOptions: router id hub.local_ip, the
// include drivers.bird.include_file, log to syslog) to drivers.bird.main_config (0644, atomically)
// and create the include file empty (0644) when it is missing, so BIRD can start before the hub
// has written it; then move the temporary file to OUT (atomically, never over an existing OUT).
// On any error everything this run created is removed again (the temporary file, a new key and
// certificate and their directory, a new include file) and a BIRD main configuration it replaced
// is put back, so the disk is as it was before the run.
#pragma once

#include <cstddef>
#include <expected>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hub/daemon/imds.hpp"
#include "hub/daemon/self_signed.hpp"
#include "routing/base/prefix.hpp"

namespace transit::hub {

inline constexpr std::size_t kMaxUserDataBytes = 64 * 1024;

struct BootstrapError {
  enum class Kind {
    kInvalid,  // the user data, or OUT or a file beside it, is wrong: fix it (exit 2)
    kFailed,   // the instance metadata, OpenSSL or writing a file failed (exit 1)
  };
  Kind kind = Kind::kInvalid;
  // One line, complete: "/etc/transit-hub/user-data.yaml: hub.asn: must be ..." for the content
  // of the user data (naming the user data, never the temporary file); never a token or a key.
  std::string message;
};

// The instance metadata's value of an item ("public-ipv4"): ImdsClient::get.
using MetadataLookup = std::function<std::expected<std::string, ImdsError>(std::string_view)>;
// Makes or reuses the self-signed pair in a directory: ensureSelfSignedFiles with the time.
using CertificateMaker = std::function<std::expected<CertificateFiles, std::string>(
    const std::filesystem::path& dir, const SelfSignedRequest& request)>;

struct BootstrapDeps {
  MetadataLookup metadata;
  CertificateMaker certificate;
};

struct UserDataOutput {
  std::string yaml;  // the hub's configuration
  bool public_ip_from_metadata = false;
  bool local_ip_from_metadata = false;
  // api.tls: self-signed. Its `created` files are the caller's to remove if a later step fails.
  std::optional<CertificateFiles> certificate;
};

// The user data `text` as the hub's configuration. `source` names the user data in messages and
// in the output's first line (a comment); a self-signed pair goes to `tls_dir` (an absolute
// path). The metadata is asked only for an address left out, and before the certificate is
// made, so a failed lookup leaves nothing behind. Errors: kInvalid "SOURCE: KEY: what is wrong"
// for what the user data says (the messages hub::loadConfig gives, for the keys read here); kFailed
// for the metadata ("instance metadata: GET /latest/meta-data/public-ipv4: 404 (the instance has
// no public IPv4 address: give hub.public_ip in the user data)") and the certificate.
std::expected<UserDataOutput, BootstrapError> transformUserData(
    std::string_view text, std::string_view source, const std::filesystem::path& tls_dir,
    const BootstrapDeps& deps);

struct BootstrapReport {
  std::filesystem::path out;  // as given
  std::string hub_name;
  Ipv4Address public_ip;
  Ipv4Address local_ip;
  bool public_ip_from_metadata = false;
  bool local_ip_from_metadata = false;
  std::optional<CertificateFiles> certificate;                // api.tls: self-signed
  std::optional<std::filesystem::path> bird_main_config;      // written (drivers.mode live)
  std::optional<std::filesystem::path> bird_include_created;  // created empty (live, was missing)

  // "wrote OUT (hub NAME, public_ip X, local_ip Y[, ... from instance metadata][, self-signed
  // certificate PATH (new|reused)][, BIRD main configuration PATH])"
  std::string summary() const;
};

// The whole first boot (see the header comment). Errors: kInvalid "OUT already exists: ...",
// "cannot read USER_DATA: ...", "USER_DATA is larger than 65536 bytes", "USER_DATA: KEY: ..."
// (transformUserData and hub::loadConfig); kFailed for the metadata, the certificate and files
// that cannot be written.
std::expected<BootstrapReport, BootstrapError> runBootstrap(const std::filesystem::path& user_data,
                                                            const std::filesystem::path& out,
                                                            const BootstrapDeps& deps);

}  // namespace transit::hub
