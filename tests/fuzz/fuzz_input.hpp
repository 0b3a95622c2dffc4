// Helpers shared by the fuzz targets: the input as text, and a check that stays on in every
// build type (a broken invariant is reported like a crash, so libFuzzer keeps the input).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace transit::fuzz {

inline std::string_view text(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

[[noreturn]] inline void invariantFailed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: invariant broken: %s\n", file, line, what);
  std::abort();
}

}  // namespace transit::fuzz

#define FUZZ_CHECK(condition) \
  ((condition) ? void(0) : ::transit::fuzz::invariantFailed(#condition, __FILE__, __LINE__))
