#include "http/auth.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <array>
#include <cctype>

namespace transit::http {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

TokenAuth::TokenAuth(std::vector<hub::ApiToken> tokens) : tokens_(std::move(tokens)) {}

const hub::ApiToken* TokenAuth::authenticate(std::string_view header) const {
  constexpr std::string_view kScheme = "bearer";
  if (header.size() <= kScheme.size() || !iequals(header.substr(0, kScheme.size()), kScheme) ||
      header[kScheme.size()] != ' ') {
    return nullptr;
  }
  std::string_view token = header.substr(kScheme.size() + 1);
  while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ') token.remove_suffix(1);
  if (token.empty()) {
    return nullptr;
  }
  std::array<unsigned char, SHA256_DIGEST_LENGTH> digest{};
  SHA256(reinterpret_cast<const unsigned char*>(token.data()), token.size(), digest.data());
  const hub::ApiToken* found = nullptr;
  for (const auto& candidate : tokens_) {
    // Compare with every token, always, so timing says nothing about which one nearly matched.
    if (CRYPTO_memcmp(candidate.sha256.data(), digest.data(), digest.size()) == 0) {
      found = &candidate;
    }
  }
  return found;
}

}  // namespace transit::http
