#include "hub/daemon/imds.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <charconv>
#include <cstdlib>
#include <utility>

#include "routing/base/prefix.hpp"
#include "routing/base/text.hpp"

namespace transit::hub {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using ErrorCode = beast::error_code;

constexpr const char* kTokenTarget = "/latest/api/token";
constexpr const char* kMetadataPrefix = "/latest/meta-data/";
constexpr std::string_view kTtlHeader = "X-aws-ec2-metadata-token-ttl-seconds";
constexpr std::string_view kTokenHeader = "X-aws-ec2-metadata-token";
constexpr const char* kTokenTtlSeconds = "300";
// A token is about 60 bytes and an address 15; anything near this is not IMDS.
constexpr std::uint64_t kBodyLimit = 4096;

std::string durationText(std::chrono::milliseconds duration) {
  if (duration.count() % 1000 == 0) return fmt::format("{} s", duration.count() / 1000);
  return fmt::format("{} ms", duration.count());
}

// Answers that say "not now": sent again while the budget lasts.
bool transientStatus(unsigned status) { return status >= 500 || status == 429; }

struct Reply {
  unsigned status = 0;
  std::string body;
};

// One request on a fresh connection, all of it within `options.request_timeout`. The error says
// which step failed and why, never a header's value.
std::expected<Reply, std::string> roundTrip(const ImdsOptions& options, http::verb verb,
                                            const std::string& target, std::string_view header,
                                            const std::string& value) {
  ErrorCode ec;
  const auto address = asio::ip::make_address(options.host, ec);
  if (ec) return std::unexpected(fmt::format("{} is not an IP address", options.host));
  const tcp::endpoint endpoint(address, options.port);
  const std::string where = fmt::format("{}:{}", options.host, options.port);

  asio::io_context ioc;
  beast::tcp_stream stream(ioc);
  stream.expires_after(options.request_timeout);  // one deadline for every step below
  auto run = [&ioc, &ec] {
    ec = asio::error::would_block;
    ioc.restart();
    ioc.run();
  };
  auto failure = [&](std::string_view step) {
    if (ec == beast::error::timeout) {
      return fmt::format("no answer from {} within {}", where,
                         durationText(options.request_timeout));
    }
    return fmt::format("{} {}: {}", step, where, ec.message());
  };

  stream.async_connect(endpoint, [&ec](ErrorCode result) { ec = result; });
  run();
  if (ec) return std::unexpected(failure("cannot connect to"));

  http::request<http::empty_body> request{verb, target, 11};
  request.set(http::field::host, options.host);
  request.set(http::field::user_agent, "transit-hubd/" TRANSIT_HUB_VERSION);
  request.set(header, value);
  request.keep_alive(false);
  request.prepare_payload();
  http::async_write(stream, request, [&ec](ErrorCode result, std::size_t) { ec = result; });
  run();
  if (ec) return std::unexpected(failure("cannot send to"));

  beast::flat_buffer buffer;
  http::response_parser<http::string_body> parser;
  parser.body_limit(kBodyLimit);
  http::async_read(stream, buffer, parser, [&ec](ErrorCode result, std::size_t) { ec = result; });
  run();
  if (ec) return std::unexpected(failure("no usable answer from"));

  ErrorCode ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  auto response = parser.release();
  return Reply{response.result_int(), std::move(response.body())};
}

}  // namespace

ImdsClient::ImdsClient(ImdsOptions options, const Clock& clock, Sleep sleep)
    : options_(std::move(options)), clock_(clock), sleep_(std::move(sleep)) {}

std::expected<ImdsClient::Answer, ImdsError> ImdsClient::request(bool put,
                                                                 const std::string& target,
                                                                 std::string_view header,
                                                                 const std::string& value) {
  const auto now = clock_.monotonicNow();
  if (!started_) started_ = now;
  const auto deadline = *started_ + options_.retry_budget;
  const char* method = put ? "PUT" : "GET";
  auto backoff = options_.first_backoff;
  int attempts = 0;
  for (;;) {
    ++attempts;
    auto reply =
        roundTrip(options_, put ? http::verb::put : http::verb::get, target, header, value);
    if (reply && !transientStatus(reply->status)) {
      return Answer{reply->status, std::move(reply->body)};
    }
    const unsigned status = reply ? reply->status : 0;
    const std::string why = reply ? std::to_string(reply->status) : reply.error();
    const auto remaining =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - clock_.monotonicNow());
    if (remaining.count() <= 0) {
      const auto spent =
          std::chrono::duration_cast<std::chrono::seconds>(clock_.monotonicNow() - *started_);
      return std::unexpected(
          ImdsError{fmt::format("instance metadata: {} {}: {} ({} attempt{} over {} s)", method,
                                target, why, attempts, attempts == 1 ? "" : "s", spent.count()),
                    status});
    }
    if (!retry_logged_) {
      retry_logged_ = true;
      spdlog::info("instance metadata: {} {}: {}; trying again for up to {}", method, target, why,
                   durationText(options_.retry_budget));
    }
    sleep_(std::min(backoff, remaining));
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
}

std::expected<void, ImdsError> ImdsClient::fetchToken() {
  auto answer = request(true, kTokenTarget, kTtlHeader, kTokenTtlSeconds);
  if (!answer) return std::unexpected(answer.error());
  if (answer->status != 200) {
    return std::unexpected(
        ImdsError{fmt::format("instance metadata: PUT {}: {}", kTokenTarget, answer->status),
                  answer->status});
  }
  const auto token = routing::trim(answer->body);
  if (token.empty()) {
    return std::unexpected(
        ImdsError{fmt::format("instance metadata: PUT {}: the answer holds no token", kTokenTarget),
                  answer->status});
  }
  token_ = std::string(token);
  return {};
}

std::expected<std::string, ImdsError> ImdsClient::get(std::string_view item) {
  const std::string target = kMetadataPrefix + std::string(item);
  for (int round = 0;; ++round) {
    if (token_.empty()) {
      if (auto fetched = fetchToken(); !fetched) return std::unexpected(fetched.error());
    }
    auto answer = request(false, target, kTokenHeader, token_);
    if (!answer) return std::unexpected(answer.error());
    if (answer->status == 200) return std::string(routing::trim(answer->body));
    if (answer->status == 401 && round == 0) {
      token_.clear();  // expired or refused: one new token, then the answer stands
      continue;
    }
    return std::unexpected(ImdsError{
        fmt::format("instance metadata: GET {}: {}", target, answer->status), answer->status});
  }
}

std::expected<ImdsOptions, std::string> imdsOptionsFromEnvironment() {
  ImdsOptions options;
  const char* endpoint = std::getenv("TRANSIT_HUB_IMDS_ENDPOINT");
  if (endpoint == nullptr) return options;
  const std::string_view text(endpoint);
  const auto colon = text.rfind(':');
  const auto error = [] { return std::unexpected("TRANSIT_HUB_IMDS_ENDPOINT must be IPV4:PORT"); };
  if (colon == std::string_view::npos || !Ipv4Address::parse(text.substr(0, colon))) {
    return error();
  }
  const auto port = text.substr(colon + 1);
  std::uint16_t value = 0;
  const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value == 0) {
    return error();
  }
  options.host = std::string(text.substr(0, colon));
  options.port = value;
  return options;
}

}  // namespace transit::hub
