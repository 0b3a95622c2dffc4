// Site config: GET /v1/spokes/{name}/config?format=strongswan|libreswan|aws-xml (admin), a
// complete configuration for a site's device (peers/export/site_config.hpp), PSKs included: the
// one place the API returns them. 409 for a vpc spoke. aws-xml answers application/xml; the
// others JSON {"spoke", "format", "files": [{"path", "description", "secret", "content"}]}.
//
// Called by Api on HTTP threads.
#pragma once

#include "http/handlers/context.hpp"

namespace transit::http::handlers {

Response getSpokeConfig(const Request& request, const PathParams& params, HandlerContext& context);

}  // namespace transit::http::handlers
