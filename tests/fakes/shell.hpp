// Shell commands for tests that drive real tools (ip, birdc, nft) in namespaces they make.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

namespace transit::fakes {

// What `command` printed on stdout and stderr (empty when it could not be started).
inline std::string shellOutput(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen((command + " 2>&1").c_str(), "r")) {
    char buffer[4096];
    std::size_t n = 0;
    while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) out.append(buffer, n);
    ::pclose(pipe);
  }
  return out;
}

// Whether `command` exited 0; its output is discarded.
inline bool shellOk(const std::string& command) {
  return std::system((command + " >/dev/null 2>&1").c_str()) == 0;
}

}  // namespace transit::fakes
