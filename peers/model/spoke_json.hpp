// JSON forms of a spoke.
//
// Owns: nothing; pure functions, any thread.
// - The API form (encodeSpokeForApi / decodeSpokeDraft) is what clients send and receive. It
//   never carries a PSK: a tunnel says "psk_set": true instead. Decoding is strict: a field of
//   the wrong type or an unknown field is a FieldError naming it. Fields the hub computes
//   (generation, timestamps, inside addresses, psk_set, status) are accepted and ignored, so a
//   client can PUT back what it got from GET. Each tunnel names its "hub"; a request may leave
//   it out (the hub that receives the request), a response always has it.
// The stored form (PSKs included, versioned) is the store's: hub/store/record_codec.hpp.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <expected>
#include <string>

#include "peers/model/spoke.hpp"

namespace transit::peers {

std::expected<SpokeDraft, FieldError> decodeSpokeDraft(const boost::json::value& json);
boost::json::object encodeSpokeForApi(const Spoke& spoke);

// RFC 3339 UTC, second precision: "2026-11-26T06:30:00Z".
std::string formatTimestamp(std::chrono::sys_seconds time);

}  // namespace transit::peers
