#include "http/request/if_match.hpp"

#include <charconv>
#include <vector>

#include "http/codec/responses.hpp"
#include "routing/base/text.hpp"

namespace transit::http::request {
namespace {

constexpr std::string_view kSyntax =
    "If-Match must be \"*\" or an entity tag this API returned, such as \"3\" (quotes included)";

// entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE; this API's tags are a generation in decimal.
struct Tag {
  bool weak = false;
  std::string_view opaque;
};

std::optional<Tag> parseTag(std::string_view text) {
  Tag tag;
  if (text.starts_with("W/")) {
    tag.weak = true;
    text.remove_prefix(2);
  }
  if (text.size() < 2 || text.front() != '"' || text.back() != '"') return std::nullopt;
  tag.opaque = text.substr(1, text.size() - 2);
  // etagc: %x21 / %x23-7E / obs-text; no DQUOTE inside.
  for (const char c : tag.opaque) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte < 0x21 || byte == 0x22 || byte == 0x7f) return std::nullopt;
  }
  return tag;
}

}  // namespace

std::expected<std::optional<std::uint64_t>, Response> parseIfMatch(std::string_view value) {
  value = routing::trim(value, " \t");
  if (value.empty() || value == "*") {
    return std::nullopt;
  }
  std::optional<std::uint64_t> strong;
  bool any_weak = false;
  while (!value.empty()) {
    const auto comma = value.find(',');
    const std::string_view item = routing::trim(value.substr(0, comma), " \t");
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    if (item.empty()) continue;  // #rule: empty list elements are allowed
    const auto tag = parseTag(item);
    if (!tag) return std::unexpected(errorResponse(400, "bad_request", std::string(kSyntax)));
    if (tag->weak) {
      any_weak = true;  // the strong comparison never matches a weak tag (RFC 9110 13.1.1)
      continue;
    }
    std::uint64_t generation = 0;
    const auto* end = tag->opaque.data() + tag->opaque.size();
    auto [ptr, ec] = std::from_chars(tag->opaque.data(), end, generation);
    if (ec != std::errc() || ptr != end || tag->opaque.empty()) {
      // A well-formed tag this API never issued: it matches no spoke.
      return std::unexpected(errorResponse(412, "precondition_failed",
                                           "If-Match names an entity tag this API never returned"));
    }
    if (strong && *strong != generation) {
      return std::unexpected(errorResponse(
          400, "bad_request", "If-Match may name one entity tag of the spoke, not several"));
    }
    strong = generation;
  }
  if (!strong && !any_weak) {
    return std::unexpected(errorResponse(400, "bad_request", std::string(kSyntax)));
  }
  if (!strong) {
    return std::unexpected(
        errorResponse(412, "precondition_failed",
                      "If-Match uses the strong comparison: a weak tag (W/\"3\") never matches"));
  }
  return strong;
}

}  // namespace transit::http::request
