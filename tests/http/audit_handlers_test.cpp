// GET /v1/audit and request ids: every change made through the API is in the trail with the
// token that asked and the request's id; every answer carries X-Request-Id.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <regex>
#include <string>
#include <vector>

#include "tests/http/api_fixture.hpp"

namespace transit::testing {
namespace {

using boost::beast::http::verb;
using ::testing::HasSubstr;
using ::testing::Not;

class AuditHandlers : public ApiFixture {
 protected:
  boost::json::array records(const std::string& query = "") {
    const auto r = call(verb::get, "/v1/audit" + query, "", kReadToken);
    EXPECT_EQ(r.status, 200U) << r.body;
    return r.status == 200 ? json(r).at("records").as_array() : boost::json::array{};
  }
};

TEST_F(AuditHandlers, ChangesMadeThroughTheApiAreInTheTrailWithTheTokenAndRequestId) {
  next_request_id_ = "deploy-42.create";
  const auto created =
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10"));
  ASSERT_EQ(created.status, 201U) << created.body;
  EXPECT_EQ(header(created, "X-Request-Id"), "deploy-42.create");

  clock_.advance(std::chrono::seconds(5));
  next_request_id_ = "deploy-42.replace";
  const auto replaced =
      call(verb::put, "/v1/spokes/prod-a", spokeJson("prod-a", "10.2.0.0/16", "198.51.100.10"),
           kAdminToken, true, "\"1\"");
  ASSERT_EQ(replaced.status, 200U) << replaced.body;
  const auto removed = call(verb::delete_, "/v1/spokes/prod-a", "", kAdminToken, true, "\"2\"");
  ASSERT_EQ(removed.status, 204U) << removed.body;
  const std::string removal_id = header(removed, "X-Request-Id");

  const auto trail = records();
  ASSERT_EQ(trail.size(), 3U);
  EXPECT_EQ(trail[0].at("action"), "delete");
  EXPECT_EQ(trail[0].at("request_id"), removal_id.c_str());
  EXPECT_EQ(trail[1].at("action"), "replace");
  EXPECT_EQ(trail[1].at("request_id"), "deploy-42.replace");
  EXPECT_EQ(trail[1].at("generation"), 2);
  EXPECT_EQ(trail[2].at("action"), "create");
  EXPECT_EQ(trail[2].at("request_id"), "deploy-42.create");
  for (const auto& record : trail) {
    EXPECT_EQ(record.at("actor"), "ops");
    EXPECT_EQ(record.at("hub"), "hub-a");
    EXPECT_EQ(record.at("spoke"), "prod-a");
  }
  // What the replace changed, before and after.
  const auto& changes = trail[1].at("changes").as_array();
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].at("field"), "cidrs[0]");
  EXPECT_EQ(changes[0].at("before"), "10.1.0.0/16");
  EXPECT_EQ(changes[0].at("after"), "10.2.0.0/16");
  // The trail's time is the hub's clock, in UTC with milliseconds.
  EXPECT_TRUE(std::regex_match(std::string(trail[0].at("at").as_string()),
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
}

TEST_F(AuditHandlers, APskIsNeverInTheTrail) {
  ASSERT_EQ(call(verb::post, "/v1/spokes",
                 R"({"name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "routing": "bgp",)"
                 R"( "asn": 64512, "tunnels": [{"outside_ip": "198.51.100.10",)"
                 R"( "psk": "firstSekr3tKey_1"}]})")
                .status,
            201U);
  ASSERT_EQ(call(verb::put, "/v1/spokes/prod-a",
                 R"({"name": "prod-a", "kind": "vpc", "cidrs": ["10.1.0.0/16"], "routing": "bgp",)"
                 R"( "asn": 64512, "tunnels": [{"outside_ip": "198.51.100.10",)"
                 R"( "psk": "secondSekr3tKey_2"}]})",
                 kAdminToken, true, "\"1\"")
                .status,
            200U);
  const auto r = call(verb::get, "/v1/audit", "", kReadToken);
  ASSERT_EQ(r.status, 200U);
  EXPECT_THAT(r.body, Not(HasSubstr("Sekr3t")));
  const auto body = json(r);
  const auto& changes = body.at("records").at(0).at("changes").as_array();
  ASSERT_EQ(changes.size(), 1U);
  EXPECT_EQ(changes[0].at("field"), "tunnels[0].psk");
  EXPECT_EQ(changes[0].at("secret"), true);
}

TEST_F(AuditHandlers, RefusedChangesLeaveNoRecord) {
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")).status,
      201U);
  EXPECT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-b", "10.1.0.0/16", "198.51.100.11")).status,
      409U);
  EXPECT_EQ(call(verb::put, "/v1/spokes/prod-a",
                 spokeJson("prod-a", "10.9.0.0/16", "198.51.100.10"), kAdminToken, true, "\"7\"")
                .status,
            412U);
  EXPECT_EQ(call(verb::post, "/v1/spokes", spokeJson("prod-c", "10.3.0.0/16", "198.51.100.12"),
                 kReadToken)
                .status,
            403U);
  EXPECT_EQ(records().size(), 1U);
}

TEST_F(AuditHandlers, PagesFollowTheCursorAndFilterBySpoke) {
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(call(verb::post, "/v1/spokes",
                   spokeJson(fmt::format("vpc-{}", i), fmt::format("10.{}.0.0/16", i + 1),
                             fmt::format("198.51.100.{}", i + 10)))
                  .status,
              201U);
  }
  std::vector<std::string> seen;
  std::string query = "?limit=2";
  for (int page = 0; page < 5; ++page) {
    const auto r = call(verb::get, "/v1/audit" + query, "", kReadToken);
    ASSERT_EQ(r.status, 200U) << r.body;
    const auto body = json(r);
    for (const auto& record : body.at("records").as_array()) {
      seen.emplace_back(record.at("spoke").as_string());
    }
    if (body.at("next").is_null()) break;
    query = "?limit=2&cursor=" + std::string(body.at("next").as_string());
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"vpc-4", "vpc-3", "vpc-2", "vpc-1", "vpc-0"}));
  const auto one = records("?spoke=vpc-2");
  ASSERT_EQ(one.size(), 1U);
  EXPECT_EQ(one[0].at("spoke"), "vpc-2");
  const auto r = call(verb::get, "/v1/audit", "", kReadToken);
  EXPECT_EQ(json(r).at("retention").at("days"), 365);
}

TEST_F(AuditHandlers, BadQueriesAreRefusedNamingTheParameter) {
  for (const std::string query : {"?limit=0", "?limit=1001", "?limit=x", "?cursor=a%20b",
                                  "?spoke=Not_A_Name", "?page=2", "?limit=1&limit=2"}) {
    const auto r = call(verb::get, "/v1/audit" + query, "", kReadToken);
    EXPECT_EQ(r.status, 422U) << query << ": " << r.body;
  }
  // A well-formed cursor that is no record's place in this trail.
  EXPECT_EQ(call(verb::get, "/v1/audit?cursor=zzz", "", kReadToken).status, 422U);
  EXPECT_EQ(call(verb::get, "/v1/audit", "", "").status, 401U);
}

TEST_F(AuditHandlers, EveryAnswerCarriesARequestIdAndABadOneIsReplaced) {
  const std::regex ours("[0-9a-f]{32}");
  const auto hub = call(verb::get, "/v1/hub", "", kReadToken);
  EXPECT_TRUE(std::regex_match(header(hub, "X-Request-Id"), ours)) << header(hub, "X-Request-Id");
  const auto anonymous = call(verb::get, "/v1/spokes", "", "");
  EXPECT_EQ(anonymous.status, 401U);
  EXPECT_TRUE(std::regex_match(header(anonymous, "X-Request-Id"), ours));
  next_request_id_ = "bad id with spaces";
  const auto replaced = call(verb::get, "/v1/hub", "", kReadToken);
  EXPECT_TRUE(std::regex_match(header(replaced, "X-Request-Id"), ours));
  next_request_id_ = std::string(129, 'a');
  EXPECT_TRUE(
      std::regex_match(header(call(verb::get, "/v1/hub", "", kReadToken), "X-Request-Id"), ours));
  next_request_id_ = "client:trace-7";
  EXPECT_EQ(header(call(verb::get, "/v1/hub", "", kReadToken), "X-Request-Id"), "client:trace-7");
  EXPECT_NE(header(call(verb::get, "/v1/hub", "", kReadToken), "X-Request-Id"),
            header(call(verb::get, "/v1/hub", "", kReadToken), "X-Request-Id"));
}

}  // namespace
}  // namespace transit::testing
