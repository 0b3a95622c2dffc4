#include "http/request/json_body.hpp"

#include <fmt/format.h>

#include <boost/json/basic_parser_impl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <optional>
#include <string>
#include <unordered_set>
#include <vector>

#include "http/codec/responses.hpp"

namespace transit::http::request {
namespace {

namespace json = boost::json;
using ErrorCode = boost::system::error_code;

constexpr std::size_t kMaxDepth = 32;

// A basic_parser handler that builds nothing: it remembers the keys of each open object and
// stops at the first one seen twice.
class DuplicateKeyFinder {
 public:
  static constexpr std::size_t max_object_size = std::size_t(-1);
  static constexpr std::size_t max_array_size = std::size_t(-1);
  static constexpr std::size_t max_key_size = std::size_t(-1);
  static constexpr std::size_t max_string_size = std::size_t(-1);

  // The key seen twice in one object, once the parser stopped on it.
  const std::optional<std::string>& duplicate() const { return duplicate_; }

  bool on_document_begin(ErrorCode&) { return true; }
  bool on_document_end(ErrorCode&) { return true; }
  bool on_array_begin(ErrorCode&) { return true; }
  bool on_array_end(std::size_t, ErrorCode&) { return true; }
  bool on_object_begin(ErrorCode&) {
    keys_.emplace_back();
    return true;
  }
  bool on_object_end(std::size_t, ErrorCode&) {
    keys_.pop_back();
    return true;
  }
  bool on_string_part(json::string_view, std::size_t, ErrorCode&) { return true; }
  bool on_string(json::string_view, std::size_t, ErrorCode&) { return true; }
  bool on_key_part(json::string_view part, std::size_t, ErrorCode&) {
    key_.append(part.data(), part.size());
    return true;
  }
  bool on_key(json::string_view last, std::size_t, ErrorCode& ec) {
    key_.append(last.data(), last.size());
    if (!keys_.back().insert(key_).second) {
      duplicate_ = std::move(key_);
      ec = json::error::syntax;  // stops the parser; parseJsonBody says what it was
      return false;
    }
    key_.clear();
    return true;
  }
  bool on_number_part(json::string_view, ErrorCode&) { return true; }
  bool on_int64(std::int64_t, json::string_view, ErrorCode&) { return true; }
  bool on_uint64(std::uint64_t, json::string_view, ErrorCode&) { return true; }
  bool on_double(double, json::string_view, ErrorCode&) { return true; }
  bool on_bool(bool, ErrorCode&) { return true; }
  bool on_null(ErrorCode&) { return true; }
  bool on_comment_part(json::string_view, ErrorCode&) { return true; }
  bool on_comment(json::string_view, ErrorCode&) { return true; }

 private:
  std::vector<std::unordered_set<std::string>> keys_;  // one set per open object
  std::string key_;                                    // the key being read
  std::optional<std::string> duplicate_;
};

Response malformed(std::string message) {
  return errorResponse(400, "malformed_json", "the body is not valid JSON: " + message);
}

// A key as the message quotes it: JSON-escaped, at most 64 characters.
std::string quoted(const std::string& key) {
  std::string text = json::serialize(json::string_view(key.data(), key.size()));
  if (text.size() > 66) text = text.substr(0, 62) + "...\"";
  return text;
}

}  // namespace

std::expected<json::value, Response> parseJsonBody(std::string_view body) {
  json::parse_options options;
  options.max_depth = kMaxDepth;
  {
    json::basic_parser<DuplicateKeyFinder> finder(options);
    ErrorCode ec;
    finder.write_some(false, body.data(), body.size(), ec);
    if (const auto& duplicate = finder.handler().duplicate()) {
      return std::unexpected(
          malformed(fmt::format("the key {} appears twice in one object", quoted(*duplicate))));
    }
    if (ec) return std::unexpected(malformed(ec.message()));
  }
  ErrorCode ec;
  json::value value = json::parse(body, ec, {}, options);
  if (ec) return std::unexpected(malformed(ec.message()));
  return value;
}

}  // namespace transit::http::request
