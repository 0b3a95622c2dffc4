// What a PEM certificate and key say, read back with OpenSSL's API: for the tests of the
// self-signed certificate (self_signed_test.cpp) and of --bootstrap (bootstrap_test.cpp).
#pragma once

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace transit::hub {

struct CertificateFacts {
  long version = -1;  // 2 for X.509 v3
  std::string common_name;
  std::string issuer_common_name;
  std::vector<std::string> ip_alt_names;  // in the certificate's order
  int dns_alt_names = 0;
  std::time_t not_before = 0;
  std::time_t not_after = 0;
  bool ca = true;
  std::uint32_t key_usage = 0;           // KU_* bits
  std::uint32_t extended_key_usage = 0;  // XKU_* bits
  int signature_nid = 0;
  std::string key_group;  // "prime256v1"
  int serial_bits = 0;
  bool serial_negative = false;
  std::string serial_hex;
  bool self_signature_valid = false;
  std::optional<bool> key_matches;  // with a key PEM: it is the certificate's key
};

inline std::time_t asn1Time(const ASN1_TIME* time) {
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return 0;
  return ::timegm(&tm);
}

// nullopt when `cert_pem` does not hold a certificate (or `key_pem`, when given, a key).
inline std::optional<CertificateFacts> inspectCertificate(const std::string& cert_pem,
                                                          const std::string& key_pem = "") {
  auto bioOf = [](const std::string& text) {
    return std::unique_ptr<BIO, decltype(&BIO_free)>(
        BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), &BIO_free);
  };
  auto cert_bio = bioOf(cert_pem);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return std::nullopt;

  CertificateFacts facts;
  facts.version = X509_get_version(cert.get());
  char text[256] = {};
  if (X509_NAME_get_text_by_NID(X509_get_subject_name(cert.get()), NID_commonName, text,
                                sizeof text) > 0) {
    facts.common_name = text;
  }
  if (X509_NAME_get_text_by_NID(X509_get_issuer_name(cert.get()), NID_commonName, text,
                                sizeof text) > 0) {
    facts.issuer_common_name = text;
  }
  auto* names = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names != nullptr && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* name = sk_GENERAL_NAME_value(names, i);
    if (name->type == GEN_DNS) ++facts.dns_alt_names;
    if (name->type != GEN_IPADD || ASN1_STRING_length(name->d.iPAddress) != 4) continue;
    const unsigned char* b = ASN1_STRING_get0_data(name->d.iPAddress);
    facts.ip_alt_names.push_back(std::to_string(b[0]) + "." + std::to_string(b[1]) + "." +
                                 std::to_string(b[2]) + "." + std::to_string(b[3]));
  }
  GENERAL_NAMES_free(names);
  facts.not_before = asn1Time(X509_get0_notBefore(cert.get()));
  facts.not_after = asn1Time(X509_get0_notAfter(cert.get()));
  facts.ca = (X509_get_extension_flags(cert.get()) & EXFLAG_CA) != 0;
  facts.key_usage = X509_get_key_usage(cert.get());
  facts.extended_key_usage = X509_get_extended_key_usage(cert.get());
  facts.signature_nid = X509_get_signature_nid(cert.get());
  EVP_PKEY* public_key = X509_get0_pubkey(cert.get());
  char group[64] = {};
  std::size_t group_length = 0;
  if (public_key != nullptr &&
      EVP_PKEY_get_group_name(public_key, group, sizeof group, &group_length) == 1) {
    facts.key_group = group;
  }
  facts.self_signature_valid = public_key != nullptr && X509_verify(cert.get(), public_key) == 1;
  std::unique_ptr<BIGNUM, decltype(&BN_free)> serial(
      ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert.get()), nullptr), &BN_free);
  if (serial) {
    facts.serial_bits = BN_num_bits(serial.get());
    facts.serial_negative = BN_is_negative(serial.get()) != 0;
    char* hex = BN_bn2hex(serial.get());
    facts.serial_hex = hex != nullptr ? hex : "";
    OPENSSL_free(hex);
  }
  if (!key_pem.empty()) {
    auto key_bio = bioOf(key_pem);
    std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
        PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
    if (!key) return std::nullopt;
    facts.key_matches = X509_check_private_key(cert.get(), key.get()) == 1;
  }
  return facts;
}

}  // namespace transit::hub
