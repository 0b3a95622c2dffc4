// Paging of the lists without a reconciler's routes: GET /v1/spokes and GET /v1/tunnels (the
// pair's other hub's tunnels, which this hub lists from its registry). ?limit=N answers N items
// and the cursor of the rest; a cursor names the last item of its page, so a change between two
// requests moves nothing else across pages.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <string>
#include <vector>

#include "tests/http/api_fixture.hpp"

namespace transit::testing {
namespace {

using boost::beast::http::verb;

class Paging : public ApiFixture {
 protected:
  Paging() { pair_ = true; }

  // vpc-0 ... vpc-(n-1), each with one tunnel on this hub and one on hub-b.
  void createSpokes(int n) {
    for (int i = 0; i < n; ++i) {
      const auto r =
          call(verb::post, "/v1/spokes",
               fmt::format(R"({{"name": "vpc-{}", "kind": "vpc", "cidrs": ["10.{}.0.0/16"],)"
                           R"( "asn": 64512, "tunnels": [{{"outside_ip": "198.51.100.{}"}},)"
                           R"( {{"outside_ip": "198.51.100.{}", "hub": "hub-b"}}]}})",
                           i, i + 1, 10 + i, 10 + i));
      ASSERT_EQ(r.status, 201U) << r.body;
    }
  }

  // Every page of `path` with ?limit=`limit`: the `field` of each item, and the page sizes.
  std::pair<std::vector<std::string>, std::vector<std::size_t>> pages(const std::string& path,
                                                                      const std::string& list,
                                                                      const std::string& field,
                                                                      int limit) {
    std::vector<std::string> seen;
    std::vector<std::size_t> sizes;
    std::string cursor;
    for (int page = 0; page < 50; ++page) {
      std::string target = path + "?limit=" + std::to_string(limit);
      if (!cursor.empty()) target += "&cursor=" + cursor;
      const auto r = call(verb::get, target, "", kReadToken);
      EXPECT_EQ(r.status, 200U) << target << ": " << r.body;
      if (r.status != 200) break;
      const auto body = json(r);
      sizes.push_back(body.at(list).as_array().size());
      for (const auto& item : body.at(list).as_array()) {
        seen.emplace_back(boost::json::value_to<std::string>(item.at(field)));
      }
      if (body.at("next").is_null()) break;
      cursor = std::string(body.at("next").as_string());
    }
    return {seen, sizes};
  }
};

TEST_F(Paging, SpokesPageByNameAndTheLastPageSaysSo) {
  createSpokes(5);
  const auto [names, sizes] = pages("/v1/spokes", "spokes", "name", 2);
  EXPECT_EQ(names, (std::vector<std::string>{"vpc-0", "vpc-1", "vpc-2", "vpc-3", "vpc-4"}));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 2, 1}));
  const auto whole = json(call(verb::get, "/v1/spokes", "", kReadToken));
  EXPECT_EQ(whole.at("spokes").as_array().size(), 5U);
  EXPECT_TRUE(whole.at("next").is_null());
}

TEST_F(Paging, AChangeBetweenTwoPagesMovesNothingElse) {
  createSpokes(4);
  const auto first = json(call(verb::get, "/v1/spokes?limit=2", "", kReadToken));
  ASSERT_EQ(first.at("next"), "vpc-1");
  // vpc-0 (on the page read) goes; vpc-2 must still start the next page.
  ASSERT_EQ(call(verb::delete_, "/v1/spokes/vpc-0").status, 204U);
  const auto second = json(call(verb::get, "/v1/spokes?limit=2&cursor=vpc-1", "", kReadToken));
  ASSERT_EQ(second.at("spokes").as_array().size(), 2U);
  EXPECT_EQ(second.at("spokes").at(0).at("name"), "vpc-2");
  EXPECT_EQ(second.at("spokes").at(1).at("name"), "vpc-3");
  EXPECT_TRUE(second.at("next").is_null());
  // A cursor whose spoke is gone still places the page.
  ASSERT_EQ(call(verb::delete_, "/v1/spokes/vpc-1").status, 204U);
  const auto again = json(call(verb::get, "/v1/spokes?limit=2&cursor=vpc-1", "", kReadToken));
  EXPECT_EQ(again.at("spokes").at(0).at("name"), "vpc-2");
}

TEST_F(Paging, TunnelsPageAcrossTheOtherHubsToo) {
  createSpokes(3);
  const auto [spokes, sizes] = pages("/v1/tunnels", "tunnels", "spoke", 2);
  // No pass yet: only hub-b's tunnels, from the registry, by spoke.
  EXPECT_EQ(spokes, (std::vector<std::string>{"vpc-0", "vpc-1", "vpc-2"}));
  EXPECT_EQ(sizes, (std::vector<std::size_t>{2, 1}));
}

TEST_F(Paging, BadPageParametersAreRefusedNamingThem) {
  for (const std::string target :
       {"/v1/spokes?limit=0", "/v1/spokes?limit=1001", "/v1/spokes?limit=two",
        "/v1/spokes?cursor=a%20b", "/v1/spokes?limit=1&limit=2", "/v1/spokes?page=2",
        "/v1/tunnels?offset=3", "/v1/conflicts?limit=-1"}) {
    const auto r = call(verb::get, target, "", kReadToken);
    EXPECT_EQ(r.status, 422U) << target << ": " << r.body;
  }
}

}  // namespace
}  // namespace transit::testing
