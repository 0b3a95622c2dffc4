// TokenAuth: bearer-token authentication against the SHA-256 hashes in the configuration.
//
// Owns: a copy of the configured tokens. Immutable after construction; any thread.
// The token itself is never stored or logged; comparison is constant-time.
#pragma once

#include <string_view>
#include <vector>

#include "hub/config/config.hpp"

namespace transit::http {

class TokenAuth {
 public:
  explicit TokenAuth(std::vector<hub::ApiToken> tokens);

  // The token matching an "Authorization: Bearer <token>" header value, or nullptr.
  const hub::ApiToken* authenticate(std::string_view authorization_header) const;

 private:
  std::vector<hub::ApiToken> tokens_;
};

}  // namespace transit::http
