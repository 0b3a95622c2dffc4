// etcd's v3 JSON gateway answers, as the etcd store reads them: unary answers (range, txn,
// status, authenticate, the header's revision), error bodies, and watch streams cut into lines.
#include <boost/json.hpp>

#include "hub/store/etcd/etcd_json.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace etcd = transit::hub::etcd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto text = transit::fuzz::text(data, size);
  (void)etcd::parseErrorBody(text);
  boost::system::error_code ec;
  const boost::json::value answer = boost::json::parse(text, ec);
  if (!ec) {
    (void)etcd::parseHeaderRevision(answer);
    (void)etcd::parseRangeResponse(answer);
    (void)etcd::parseTxnResponse(answer);
    (void)etcd::parseStatusResponse(answer);
    if (auto token = etcd::parseAuthenticateResponse(answer)) FUZZ_CHECK(!token->empty());
  }
  // A watch stream: the lines are what the bytes hold, whatever the reads were.
  std::string buffer(text);
  for (const std::string& line : etcd::takeLines(buffer)) {
    FUZZ_CHECK(!line.empty() && line.find('\n') == std::string::npos);
    (void)etcd::parseWatchLine(line);
  }
  FUZZ_CHECK(buffer.find('\n') == std::string::npos);
  return 0;
}
