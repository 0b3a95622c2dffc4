// ImdsClient: the EC2 instance metadata service (IMDSv2), asked by `transit-hubd --bootstrap`
// (bootstrap.hpp) for hub.public_ip and hub.local_ip when the user data leaves them out.
//
// Owns: the session token, in memory only (never logged, never in a message). Synchronous: get()
// runs on the calling thread (main.cpp, during --bootstrap, once per boot); one thread at a time.
// Each request is one plain HTTP/1.1 connection (Connection: close) with its own io_context.
//
// Protocol: PUT /latest/api/token with X-aws-ec2-metadata-token-ttl-seconds: 300 answers the
// token; GET /latest/meta-data/<item> with X-aws-ec2-metadata-token: <token> answers the value.
// The token is fetched once and reused; a GET answered 401 fetches a new one, once.
//
// Timeouts and retries: each request has `request_timeout` (connecting included). A request that
// got no answer (cannot connect, no answer in time, a broken answer) or was answered 5xx or 429 is
// sent again after a backoff (first_backoff, doubled up to max_backoff) while the retry budget
// lasts: the network may come up after the unit starts. The budget runs from the client's first
// request and is shared by all of them; every request is tried at least once. Any other answer
// ends the request at once (404: the instance has no such item). The first retry is logged at
// info (spdlog), the rest are not; the error after the last says how many attempts it made.
//
// Test-only: TRANSIT_HUB_IMDS_ENDPOINT=host:port (an IPv4 address and a port) in the environment
// points the client at a fake metadata service instead of 169.254.169.254:80
// (imdsOptionsFromEnvironment). It exists for the tests and is never set on an appliance.
#pragma once

#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "hub/core/clock.hpp"

namespace transit::hub {

struct ImdsOptions {
  std::string host = "169.254.169.254";  // an IP address
  std::uint16_t port = 80;
  std::chrono::milliseconds request_timeout{2000};  // one request, connecting included
  std::chrono::milliseconds retry_budget{30000};    // from the first request, for all of them
  std::chrono::milliseconds first_backoff{500};     // doubled after each failed attempt
  std::chrono::milliseconds max_backoff{4000};
};

struct ImdsError {
  // One line, e.g. "instance metadata: GET /latest/meta-data/public-ipv4: 404" or
  // "instance metadata: PUT /latest/api/token: cannot connect to 169.254.169.254:80: Connection
  // refused (9 attempts over 31 s)". Never the token.
  std::string message;
  unsigned status = 0;  // the HTTP status that ended the request; 0 when there was no answer
};

class ImdsClient {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;

  // `clock` measures the retry budget and `sleep` waits between attempts (tests pass a
  // ManualClock and a sleep that advances it). The client keeps a reference to the clock.
  ImdsClient(ImdsOptions options, const Clock& clock, Sleep sleep);

  // The value of /latest/meta-data/<item> ("public-ipv4", "local-ipv4"), surrounding
  // whitespace removed.
  std::expected<std::string, ImdsError> get(std::string_view item);

 private:
  struct Answer {
    unsigned status = 0;
    std::string body;
  };
  // One request, sent again while it gets no answer or a 5xx/429 and the budget lasts.
  std::expected<Answer, ImdsError> request(bool put, const std::string& target,
                                           std::string_view header, const std::string& value);
  std::expected<void, ImdsError> fetchToken();

  ImdsOptions options_;
  const Clock& clock_;
  Sleep sleep_;
  std::optional<std::chrono::steady_clock::time_point> started_;  // set by the first request
  bool retry_logged_ = false;
  std::string token_;  // empty until fetched; never logged
};

// The default options, with TRANSIT_HUB_IMDS_ENDPOINT (test-only, see above) applied when it is
// set. Error: "TRANSIT_HUB_IMDS_ENDPOINT must be IPV4:PORT".
std::expected<ImdsOptions, std::string> imdsOptionsFromEnvironment();

}  // namespace transit::hub
