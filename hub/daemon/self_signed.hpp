// SelfSigned: the API's self-signed TLS certificate for `api.tls: self-signed` in the user data of
// `transit-hubd --bootstrap` (bootstrap.hpp).
//
// Owns nothing past a call. makeSelfSigned is pure (OpenSSL's EVP and X509 API, in memory);
// ensureSelfSignedFiles writes the pair once and reuses it on a re-run. Called on the main thread
// during --bootstrap. The private key is never logged and never in a message.
//
// The certificate: X.509 v3, ECDSA P-256 key, SHA-256 signature, a random positive 159-bit
// serial, subject and issuer CN = the hub's name, valid from `now` - 1 h for 825 days,
// basicConstraints CA:FALSE, keyUsage digitalSignature, extendedKeyUsage serverAuth,
// subjectAltName one IP entry per distinct address (hub.public_ip, hub.local_ip), and a subject
// key identifier.
#pragma once

#include <chrono>
#include <expected>
#include <filesystem>
#include <string>
#include <vector>

#include "routing/base/prefix.hpp"

namespace transit::hub {

struct SelfSignedRequest {
  std::string common_name;             // hub.name
  std::vector<Ipv4Address> addresses;  // the subjectAltName IP entries (duplicates dropped)
  bool operator==(const SelfSignedRequest&) const = default;
};

struct PemPair {
  std::string certificate;  // PEM "CERTIFICATE"
  std::string private_key;  // PEM "PRIVATE KEY" (PKCS #8, unencrypted); never logged
};

// Error: "cannot make the self-signed certificate: <what failed> (<OpenSSL's reason>)".
std::expected<PemPair, std::string> makeSelfSigned(const SelfSignedRequest& request,
                                                   std::chrono::system_clock::time_point now);

struct CertificateFiles {
  std::filesystem::path cert;  // DIR/cert.pem
  std::filesystem::path key;   // DIR/key.pem
  bool reused = false;         // both were there already; nothing was written
  // What this call created, in order (DIR when it was missing, then key.pem, cert.pem): what a
  // failed bootstrap removes again, in reverse order.
  std::vector<std::filesystem::path> created;
};

// DIR/cert.pem (0644) and DIR/key.pem (0600) for `request`; DIR is created 0700 when missing (its
// parent must exist). Both files there already (a re-run): reused as they are, nothing written.
// Errors, after removing whatever this call created: "DIR/cert.pem exists without DIR/key.pem
// ..." (one of the two there: never overwritten), a makeSelfSigned error, or a file error
// naming the path.
std::expected<CertificateFiles, std::string> ensureSelfSignedFiles(
    const std::filesystem::path& dir, const SelfSignedRequest& request,
    std::chrono::system_clock::time_point now);

// Removes `created` (files and empty directories) in reverse order; errors are ignored.
void removeCreated(const std::vector<std::filesystem::path>& created);

}  // namespace transit::hub
