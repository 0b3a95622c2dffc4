// The stored record of a spoke: the hub's own JSON form, PSKs included, versioned.
//
// Owns: nothing; pure functions, any thread. Only stores call it (hub/store/sqlite now, the
// pair's etcd store next), so two hub versions that share records during an upgrade agree on
// what a record means:
// - every record written carries "v": kRecordVersion;
// - a record without "v" was written before the field existed and has version 1's layout;
// - version 2 added "route_tag" (required from 2 on); a version 1 record decodes with
//   route_tag 0 ("not allocated"), and the registry allocates one when it loads the record;
// - version 3 added each tunnel's "hub" (required from 3 on): a spoke holds tunnels on both
//   hubs of the pair. A tunnel of an older record belongs to the hub that loads it (the store's
//   `local_hub`, this hub's name): such records come from a single hub, whose tunnels they all
//   were, so they load unchanged;
// - a record of a newer version than this hub reads is refused (kCorrupt for the store), never
//   half-loaded: the newer hub may have added fields whose meaning this one cannot know.
// Decoding goes through the same validation as an API request, so a damaged record is reported
// with the field at fault, and no message repeats a PSK.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <expected>
#include <string>

#include "peers/model/spoke.hpp"

namespace transit::hub {

// The record layout this hub writes and the newest it reads.
inline constexpr std::int64_t kRecordVersion = 3;

boost::json::object encodeSpokeRecord(const peers::Spoke& spoke);
// `local_hub`: the hub the tunnels of a record older than version 3 belong to (the loading
// hub's name). A tunnel of such a record is refused when it is empty.
std::expected<peers::Spoke, std::string> decodeSpokeRecord(const boost::json::value& json,
                                                           std::string_view local_hub);

}  // namespace transit::hub
