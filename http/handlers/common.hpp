// What several resources' handlers share: finding a spoke by name, a spoke's response, the
// route owners of a desired state.
//
// Pure functions over the HandlerContext; any HTTP thread.
#pragma once

#include <boost/json/value.hpp>
#include <cstddef>
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "http/handlers/context.hpp"
#include "http/request/query.hpp"
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

// A page of a list, by its items' keys: `keys[i]` is item i's (unique to it, or shared only with
// its neighbours), in the list's order, each >= the one before. The page is [begin, end): the
// items after the cursor's key, at most `limit` of them (a run of equal keys is never split);
// `next` is the cursor of the page after it, null at the end. No limit: every item after the
// cursor.
struct PageBounds {
  std::size_t begin = 0;
  std::size_t end = 0;
  boost::json::value next;  // the last key of the page, or null
};
PageBounds pageOf(const std::vector<std::string>& keys, const request::PageQuery& page);
// Whether `page` asks for less than the whole list (a limit or a cursor): only then are the keys
// worth building.
inline bool paged(const request::PageQuery& page) { return page.limit || !page.cursor.empty(); }

// A key that sorts like the prefix (network, then length): 8 and 2 hex digits.
std::string prefixKey(const Ipv4Prefix& prefix);

// `status` with the spoke as its body and its ETag.
Response spokeResponse(unsigned status, const peers::Spoke& spoke, const HandlerContext& context);

}  // namespace transit::http
