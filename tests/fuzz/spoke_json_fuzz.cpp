// The spoke JSON body as POST/PUT /v1/spokes receive it: the strict JSON reader (duplicate keys,
// depth), the spoke decoder and the validation every write goes through. What the hub would send
// back for a valid spoke must decode again (a client may PUT back what it got from GET).
#include <boost/json.hpp>

#include "http/request/json_body.hpp"
#include "peers/model/spoke_json.hpp"
#include "peers/model/spoke_validation.hpp"
#include "tests/fuzz/fuzz_input.hpp"

namespace {

const transit::peers::ValidationContext& context() {
  static const transit::peers::ValidationContext c{
      .hub_asn = 65000,
      .hub_addresses = {*transit::Ipv4Address::parse("203.0.113.10"),
                        *transit::Ipv4Address::parse("10.0.0.10"),
                        *transit::Ipv4Address::parse("203.0.113.11"),
                        *transit::Ipv4Address::parse("10.0.0.11")},
      .hub_name = "hub-a",
      .peer_hub = "hub-b",
  };
  return c;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  auto body = transit::http::request::parseJsonBody(transit::fuzz::text(data, size));
  if (!body) {
    FUZZ_CHECK(body.error().status >= 400 && body.error().status < 500);
    return 0;
  }
  auto draft = transit::peers::decodeSpokeDraft(*body);
  if (!draft) {
    FUZZ_CHECK(!draft.error().message.empty());
    return 0;
  }
  auto request = transit::peers::validateSpoke(*draft, context());
  if (!request) {
    FUZZ_CHECK(!request.error().message.empty());
    return 0;
  }
  const boost::json::value sent = transit::peers::encodeSpokeForApi(request->spoke);
  FUZZ_CHECK(transit::peers::decodeSpokeDraft(sent).has_value());
  return 0;
}
