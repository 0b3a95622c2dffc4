// What transit-hubctl reads from outside: the server URL (--server, TRANSIT_HUB_URL), a --tunnel
// SPEC, and the hub's answers it interprets (an error body; a site configuration's files, whose
// paths decide where the CLI writes).
#include <boost/json.hpp>

#include "hub/ctl/client.hpp"
#include "hub/ctl/commands/spokes.hpp"
#include "hub/ctl/output.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = transit::fuzz::text(data, size);
  if (auto url = transit::ctl::parseServerUrl(text)) {
    FUZZ_CHECK(!url->host.empty() && !url->port.empty());
    const std::string target = transit::ctl::apiTarget(*url, {"v1", "spokes", std::string(text)});
    FUZZ_CHECK(target.find_first_of(" \r\n?#") == std::string::npos);
  }
  if (auto tunnel = transit::ctl::parseTunnelSpec(text)) {
    FUZZ_CHECK(!tunnel->outside_ip.empty());
  }
  (void)transit::ctl::parseApiError(text);
  boost::system::error_code ec;
  const boost::json::value body = boost::json::parse(text, ec);
  if (!ec) {
    if (auto files = transit::ctl::parseConfigFiles(body)) {
      for (const auto& file : *files) FUZZ_CHECK(!transit::ctl::checkConfigPath(file.path));
    }
  }
  return 0;
}
