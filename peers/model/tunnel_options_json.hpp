// The JSON form of a spoke's tunnel options (peers/model/tunnel_options.hpp), AWS's names.
//
// Owns: nothing; pure functions, any thread. Used by peers/spoke_json for the API and store
// forms of a spoke.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <expected>
#include <string_view>

#include "peers/model/spoke.hpp"
#include "peers/model/tunnel_options.hpp"

namespace transit::peers {

// The options a client sent: a JSON object whose keys are all optional (a missing or null key
// keeps the default; null for the whole object means every default). Decoding and validation
// are one step; `path` prefixes field names in errors ("tunnel_options.phase1_dh_groups[2]").
std::expected<TunnelOptions, FieldError> decodeTunnelOptions(const boost::json::value& json,
                                                             std::string_view path);
// Every option, defaults included (what GET shows and the store keeps); `site` picks the
// default startup action.
boost::json::object encodeTunnelOptions(const TunnelOptions& options, bool site);

}  // namespace transit::peers
