// A spoke record as the store holds it (SQLite row or etcd value): read at start and on every
// watch event, written by this hub or another version of it. Also an audit record, read back by
// GET /v1/audit.
#include <boost/json.hpp>
#include <string>

#include "hub/store/audit.hpp"
#include "hub/store/record_codec.hpp"
#include "tests/fuzz/fuzz_input.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (auto record = transit::hub::decodeAuditRecord(transit::fuzz::text(data, size))) {
    // An audit record that reads is written back the same way and reads back the same.
    const std::string again = transit::hub::encodeAuditRecord(*record);
    auto reread = transit::hub::decodeAuditRecord(again);
    FUZZ_CHECK(reread.has_value());
    FUZZ_CHECK(*reread == *record);
    FUZZ_CHECK(transit::hub::encodeAuditRecord(*reread) == again);
    return 0;
  }
  boost::system::error_code ec;
  const boost::json::value json = boost::json::parse(transit::fuzz::text(data, size), ec);
  if (ec) return 0;
  auto spoke = transit::hub::decodeSpokeRecord(json, "hub-a");
  if (!spoke) return 0;
  // What decodes is written back the same way and reads back the same.
  const boost::json::value again = transit::hub::encodeSpokeRecord(*spoke);
  auto reread = transit::hub::decodeSpokeRecord(again, "hub-a");
  FUZZ_CHECK(reread.has_value());
  FUZZ_CHECK(transit::hub::encodeSpokeRecord(*reread) == again);
  return 0;
}
