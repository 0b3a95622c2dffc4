// Text helpers for the parsers of outside input (daemon replies, AWS documents, metadata
// answers): one definition of "trim" instead of one per parser.
//
// Pure functions over string_view; nothing is copied or allocated, any thread.
#pragma once

#include <string_view>

namespace transit::routing {

// The blank sets parsers trim: BIRD's replies pad with spaces and tabs; documents and answers
// that end in a newline use the ASCII whitespace of their line ends too.
inline constexpr std::string_view kBlanks = " \t";
inline constexpr std::string_view kWhitespace = " \t\r\n\v\f";

// `text` without leading and trailing characters from `set`; empty when nothing else is left.
constexpr std::string_view trim(std::string_view text, std::string_view set = kWhitespace) {
  const auto first = text.find_first_not_of(set);
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(set);
  return text.substr(first, last - first + 1);
}

}  // namespace transit::routing
