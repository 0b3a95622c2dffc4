#include "http/request/query.hpp"

#include <boost/url/parse.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <utility>

#include "http/codec/responses.hpp"
#include "peers/model/spoke_validation.hpp"

namespace transit::http::request {
namespace {

Response notAPath() {
  return errorResponse(400, "bad_request", "the request target is not a valid path");
}

// A list's cursor: what the hub made it of (names, prefixes in hex, BIRD protocol names).
bool isCursor(std::string_view text) {
  return !text.empty() && text.size() <= 256 && std::ranges::all_of(text, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == ':' || c == '-' || c == ',' || c == '/';
  });
}

// Takes ?limit= or ?cursor= into `page`; false when `key` is neither. A refusal in `refused`.
bool pageParam(const std::string& key, std::string_view value, PageQuery& page, bool& limited,
               bool& cursored, std::optional<Response>& refused) {
  if (key == "limit") {
    if (limited) {
      refused = invalidField(key, "may be given only once");
      return true;
    }
    limited = true;
    std::size_t limit = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), limit);
    if (value.empty() || ec != std::errc{} || end != value.data() + value.size() || limit == 0 ||
        limit > kMaxPage) {
      refused = invalidField(key, fmt::format("must be a whole number from 1 to {}", kMaxPage));
    }
    page.limit = limit;
    return true;
  }
  if (key == "cursor") {
    if (cursored) {
      refused = invalidField(key, "may be given only once");
      return true;
    }
    cursored = true;
    if (!isCursor(value)) {
      refused = invalidField(key, "must be the \"next\" of an earlier page of this list");
    }
    page.cursor = value;
    return true;
  }
  return false;
}

}  // namespace

std::expected<PageQuery, Response> parsePageQuery(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return std::unexpected(notAPath());
  }
  PageQuery page;
  bool limited = false;
  bool cursored = false;
  std::optional<Response> refused;
  for (const auto& param : url->params()) {
    const std::string key = param.key;
    if (!pageParam(key, param.value, page, limited, cursored, refused)) {
      return std::unexpected(
          invalidField(key, "is not a parameter of this path; use limit or cursor"));
    }
    if (refused) return std::unexpected(std::move(*refused));
  }
  return page;
}

std::expected<RouteFilter, Response> parseRouteFilter(std::string_view target) {
  RouteFilter filter;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return std::unexpected(notAPath());
  }
  bool limited = false;
  bool cursored = false;
  std::optional<Response> refused;
  for (const auto& param : url->params()) {
    const std::string key = param.key;
    if (pageParam(key, param.value, filter.page, limited, cursored, refused)) {
      if (refused) return std::unexpected(std::move(*refused));
      continue;
    }
    if (key != "spoke" && key != "filtered") {
      return std::unexpected(invalidField(
          key, "is not a parameter of this path; use spoke, filtered, limit or cursor"));
    }
    if ((key == "spoke" && filter.spoke) || (key == "filtered" && filter.filtered)) {
      return std::unexpected(invalidField(key, "may be given only once"));
    }
    if (key == "spoke") {
      if (auto problem = peers::checkName(param.value)) {
        return std::unexpected(invalidField(key, "is not a spoke name: " + *problem));
      }
      filter.spoke = param.value;
    } else if (param.value == "true" || param.value == "false") {
      filter.filtered = param.value == "true";
    } else {
      return std::unexpected(invalidField(key, "must be true or false"));
    }
  }
  return filter;
}

std::expected<peers::AwsImportRequest, Response> parseImportQuery(std::string_view target,
                                                                  bool name_in_path) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return std::unexpected(notAPath());
  }
  peers::AwsImportRequest out;
  bool named = false;
  for (const auto& param : url->params()) {
    const std::string key = param.key;
    if (key == "cidr") {
      out.cidrs.push_back(param.value);
      continue;
    }
    std::optional<std::string>* field = nullptr;
    if (key == "segment") {
      field = &out.segment;
    } else if (key == "preferred_hub") {
      field = &out.preferred_hub;
    } else if (key != "name" || name_in_path) {
      return std::unexpected(invalidField(
          key, name_in_path
                   ? "is not a parameter of this path; use cidr, segment or preferred_hub (the "
                     "spoke's name is in the path)"
                   : "is not a parameter of this path; use name, cidr, segment or preferred_hub"));
    }
    if ((key == "name" && named) || (field != nullptr && field->has_value())) {
      return std::unexpected(invalidField(key, "may be given only once"));
    }
    if (key == "name") {
      out.name = param.value;
      named = true;
    } else {
      *field = param.value;
    }
  }
  return out;
}

std::expected<AuditFilter, Response> parseAuditFilter(std::string_view target) {
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return std::unexpected(notAPath());
  }
  AuditFilter filter;
  PageQuery page;
  bool limited = false;
  bool cursored = false;
  bool spoke = false;
  std::optional<Response> refused;
  for (const auto& param : url->params()) {
    const std::string key = param.key;
    if (pageParam(key, param.value, page, limited, cursored, refused)) {
      if (refused) return std::unexpected(std::move(*refused));
      continue;
    }
    if (key != "spoke") {
      return std::unexpected(
          invalidField(key, "is not a parameter of this path; use limit, cursor or spoke"));
    }
    if (spoke) {
      return std::unexpected(invalidField(key, "may be given only once"));
    }
    spoke = true;
    if (auto problem = peers::checkName(param.value)) {
      return std::unexpected(invalidField(key, "is not a spoke name: " + *problem));
    }
    filter.spoke = param.value;
  }
  filter.limit = page.limit.value_or(filter.limit);
  filter.cursor = std::move(page.cursor);
  return filter;
}

std::expected<peers::SiteConfigFormat, Response> parseConfigFormat(std::string_view target) {
  std::optional<std::string> format_text;
  auto url = boost::urls::parse_origin_form(target);
  if (!url) {
    return std::unexpected(notAPath());
  }
  for (const auto& param : url->params()) {
    if (param.key != "format") {
      return std::unexpected(
          invalidField(std::string(param.key), "is not a parameter of this path; use format"));
    }
    if (format_text) {
      return std::unexpected(invalidField("format", "may be given only once"));
    }
    format_text = param.value;
  }
  const auto format = format_text ? peers::parseSiteConfigFormat(*format_text) : std::nullopt;
  if (!format) {
    return std::unexpected(invalidField("format", "must be strongswan, libreswan or aws-xml"));
  }
  return *format;
}

}  // namespace transit::http::request
