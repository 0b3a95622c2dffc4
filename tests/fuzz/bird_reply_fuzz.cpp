// BIRD's control-socket framing, and every parser of what it frames (show status, show
// protocols [all], show route [filtered] all). The first byte picks where the stream is cut
// into reads: framing must not depend on how the socket splits the bytes.
#include <string>
#include <vector>

#include "routing/bird/bird_reply.hpp"
#include "routing/bird/bird_routes.hpp"
#include "routing/bird/bird_status.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

using transit::routing::BirdReply;
using transit::routing::BirdReplyReader;

struct Framed {
  std::vector<BirdReply> replies;
  bool failed = false;
};

// Frames `bytes` fed in reads of `step` bytes (0: all at once).
Framed frame(std::string_view bytes, std::size_t step) {
  Framed framed;
  BirdReplyReader reader;
  std::size_t fed = 0;
  while (true) {
    BirdReply reply;
    const auto status = reader.next(reply);
    if (status == BirdReplyReader::Status::kReply) {
      framed.replies.push_back(std::move(reply));
      continue;
    }
    if (status == BirdReplyReader::Status::kError) {
      FUZZ_CHECK(!reader.error().empty());
      framed.failed = true;
      return framed;
    }
    if (fed == bytes.size()) return framed;
    const std::size_t n = step == 0 ? bytes.size() : std::min(step, bytes.size() - fed);
    reader.feed(bytes.substr(fed, n));
    fed += n;
  }
}

bool sameReplies(const std::vector<BirdReply>& a, const std::vector<BirdReply>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].code != b[i].code || a[i].lines != b[i].lines) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::size_t step = data[0] % 17 + 1;
  const auto bytes = transit::fuzz::text(data + 1, size - 1);
  const Framed whole = frame(bytes, 0);
  const Framed split = frame(bytes, step);
  FUZZ_CHECK(whole.failed == split.failed);
  FUZZ_CHECK(sameReplies(whole.replies, split.replies));
  for (const BirdReply& reply : whole.replies) {
    (void)reply.ok();
    (void)reply.errorText();
    (void)transit::routing::parseShowStatus(reply);
    (void)transit::routing::parseShowProtocols(reply);
    (void)transit::routing::parseShowProtocolsAll(reply, "th_");
    if (auto routes = transit::routing::parseShowRouteAll(reply, false)) {
      FUZZ_CHECK(routes->routes.size() + routes->skipped <= reply.lines.size());
    }
    (void)transit::routing::parseShowRouteAll(reply, true);
  }
  return 0;
}
