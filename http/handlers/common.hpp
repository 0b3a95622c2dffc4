// What several resources' handlers share: finding a spoke by name, a spoke's response, the
// route owners of a desired state.
//
// Pure functions over the HandlerContext; any HTTP thread.
#pragma once

#include <expected>
#include <string_view>

#include "http/handlers/context.hpp"
#include "hub/core/conflicts.hpp"

namespace transit::http {

Response noSuchSpoke(std::string_view name);

// Who asks for a change, for its audit record: the request's token and id; `action` names an
// import ("import", "reimport"), empty for the write's own kind.
hub::ChangeOrigin originOf(const Request& request, std::string action = {});

// The spoke named `name` in the current snapshot, or the 404 that says there is none. The
// pointer shares ownership of the spoke, so it stays valid after the snapshot is released.
std::expected<hub::Registry::SpokePtr, Response> findSpoke(std::string_view name,
                                                           const HandlerContext& context);

// `status` with the spoke as its body and its ETag.
Response spokeResponse(unsigned status, const peers::Spoke& spoke, const HandlerContext& context);

}  // namespace transit::http
