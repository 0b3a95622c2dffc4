#include "http/request/media_type.hpp"

namespace transit::http::request {

std::string_view mediaType(std::string_view type) {
  if (auto semicolon = type.find(';'); semicolon != std::string_view::npos) {
    type = type.substr(0, semicolon);
  }
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type;
}

}  // namespace transit::http::request
