// Request and Response: the HTTP messages handlers see, independent of Beast, so handlers are
// pure functions that tests call without sockets.
#pragma once

#include <boost/beast/http/verb.hpp>
#include <string>
#include <utility>
#include <vector>

namespace transit::http {

struct Request {
  boost::beast::http::verb method = boost::beast::http::verb::get;
  std::string target;         // origin form as received: "/v1/spokes?x=1"
  std::string authorization;  // the Authorization header, empty when absent
  std::string content_type;
  std::string if_match;
  std::string request_id;  // X-Request-Id as received; Api sets the one it answers with
  std::string actor;       // set by Api: the authenticated token's name ("" when none)
  std::string body;
};

struct Response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
};

}  // namespace transit::http
