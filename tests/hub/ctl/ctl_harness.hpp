// The transit-hubctl test harness: runs the real CLI (runCtl) in-process with its own streams,
// and against tests/fakes/canned_http_server.hpp answering canned API replies and recording what
// the client sent.
//
// Used by the tests/hub/ctl_*_test.cpp binaries, on the test thread; the canned server runs its
// own thread for the length of one call.
#pragma once

#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/ctl/commands.hpp"
#include "tests/fakes/canned_http_server.hpp"

namespace transit::ctl {

using Canned = transit::fakes::CannedResponse;
using Recorded = transit::fakes::RecordedRequest;
using TestServer = transit::fakes::CannedHttpServer;

// The token every test's environment carries (TRANSIT_HUB_TOKEN).
inline constexpr std::string_view kToken = "tok-123";

// What one run of the CLI returned and printed.
struct RunResult {
  int code = -1;
  std::string out;
  std::string err;
};

// The environment of a user who set TRANSIT_HUB_TOKEN to kToken and no server.
inline Environment tokenEnvironment() { return Environment{std::nullopt, std::string(kToken)}; }

// Runs `transit-hubctl args...` with `env` and `stdin_text` on stdin.
inline RunResult run(const std::vector<std::string>& args,
                     const Environment& env = tokenEnvironment(),
                     const std::string& stdin_text = "") {
  std::vector<const char*> argv{"transit-hubctl"};
  for (const auto& arg : args) {
    argv.push_back(arg.c_str());
  }
  std::istringstream in(stdin_text);
  std::ostringstream out;
  std::ostringstream err;
  const int code = runCtl(static_cast<int>(argv.size()), argv.data(), env, in, out, err);
  return RunResult{code, out.str(), err.str()};
}

// What the CLI returned and printed, and every request the server read.
struct Exchange {
  RunResult result;
  std::vector<Recorded> requests;
};

// Runs `args` after `--server URL` against a server answering `answers` in turn, with
// `stdin_text` on stdin; URL is the server's http://127.0.0.1:PORT followed by `path`.
inline Exchange runAgainstServer(std::vector<Canned> answers, const std::vector<std::string>& args,
                                 const std::string& stdin_text = "", const std::string& path = "") {
  TestServer server(std::move(answers));
  std::vector<std::string> all{"--server", server.url("http", "127.0.0.1", path)};
  all.insert(all.end(), args.begin(), args.end());
  Exchange out{run(all, tokenEnvironment(), stdin_text), {}};
  out.requests = server.requests();
  return out;
}

}  // namespace transit::ctl
