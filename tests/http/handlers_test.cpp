// The REST API's behaviour, request by request, without sockets.
#include "tests/http/api_fixture.hpp"

namespace transit::testing {
namespace {

using boost::beast::http::verb;

class Handlers : public ApiFixture {};

TEST_F(Handlers, CreateAnswers201WithLocationEtagAndNoKey) {
  auto r = call(verb::post, "/v1/spokes",
                spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10", R"(, "segment": "prod")"));
  ASSERT_EQ(r.status, 201u) << r.body;
  EXPECT_EQ(header(r, "Location"), "/v1/spokes/prod-a");
  EXPECT_EQ(header(r, "ETag"), "\"1\"");
  const auto body = json(r).as_object();
  EXPECT_EQ(body.at("segment"), "prod");
  const auto& tunnel = body.at("tunnels").as_array().at(0).as_object();
  EXPECT_EQ(tunnel.at("psk_set"), true);
  EXPECT_FALSE(tunnel.contains("psk"));
  // vpc: the VGW takes the first usable address of the /30, the hub (customer gateway) the second.
  auto inside = *Ipv4Prefix::parse(std::string(tunnel.at("inside_cidr").as_string()));
  EXPECT_EQ(tunnel.at("peer_inside_ip").as_string(), inside.host(1).toString());
  EXPECT_EQ(tunnel.at("hub_inside_ip").as_string(), inside.host(2).toString());
}

TEST_F(Handlers, NoResponseEverContainsAPreSharedKey) {
  constexpr std::string_view kSecret = "VerySecretKey_123456";
  auto r = call(verb::post, "/v1/spokes",
                R"({"name": "prod-a", "kind": "site", "cidrs": ["172.16.1.0/24"], "asn": 65010,)"
                R"( "tunnels": [{"outside_ip": "198.51.100.10", "psk": "VerySecretKey_123456"}]})");
  ASSERT_EQ(r.status, 201u) << r.body;
  for (const auto& target : {"/v1/spokes", "/v1/spokes/prod-a", "/v1/hub", "/metrics", "/readyz"}) {
    auto got = call(verb::get, target);
    EXPECT_EQ(got.body.find(kSecret), std::string::npos) << target;
  }
  auto put = call(verb::put, "/v1/spokes/prod-a",
                  R"({"name": "prod-a", "kind": "site", "cidrs": ["172.16.1.0/24"], "asn": 65010,)"
                  R"( "tunnels": [{"outside_ip": "198.51.100.10", "psk": "0bad"}]})");
  EXPECT_EQ(put.status, 422u);
  EXPECT_EQ(put.body.find("0bad"), std::string::npos);
  EXPECT_EQ(r.body.find(kSecret), std::string::npos);
}

TEST_F(Handlers, ListAndGetReturnWhatWasCreated) {
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-b", "10.2.0.0/16", "198.51.100.20")).status,
      201u);
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")).status,
      201u);
  auto list = call(verb::get, "/v1/spokes", "", kReadToken);
  ASSERT_EQ(list.status, 200u);
  const auto list_body = json(list);
  const auto& spokes = list_body.at("spokes").as_array();
  ASSERT_EQ(spokes.size(), 2u);
  EXPECT_EQ(spokes[0].at("name"), "prod-a");  // sorted by name
  EXPECT_EQ(header(list, "Cache-Control"), "no-store");

  auto one = call(verb::get, "/v1/spokes/prod-b", "", kReadToken);
  ASSERT_EQ(one.status, 200u);
  EXPECT_EQ(json(one).at("cidrs").at(0), "10.2.0.0/16");
  EXPECT_EQ(header(one, "ETag"), "\"1\"");
  // Route tags in creation order, not by name: prod-b was created first.
  EXPECT_EQ(json(one).at("route_tag"), 1);
  EXPECT_EQ(spokes[0].at("route_tag"), 2);

  auto missing = call(verb::get, "/v1/spokes/nope");
  EXPECT_EQ(missing.status, 404u);
  EXPECT_EQ(json(missing).at("error").at("code"), "not_found");
}

TEST_F(Handlers, AuthenticationComesFirstOnV1) {
  for (const auto& target : {"/v1/spokes", "/v1/nothing-here", "/v1/hub"}) {
    auto none = call(verb::get, target, "", "");
    EXPECT_EQ(none.status, 401u) << target;
    EXPECT_EQ(header(none, "WWW-Authenticate"), "Bearer");
    EXPECT_EQ(json(none).at("error").at("code"), "unauthorized");
    EXPECT_EQ(call(verb::get, target, "", "not-a-token").status, 401u) << target;
  }
}

TEST_F(Handlers, ReadTokensCannotWrite) {
  const auto body = spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10");
  auto post = call(verb::post, "/v1/spokes", body, kReadToken);
  EXPECT_EQ(post.status, 403u);
  EXPECT_EQ(json(post).at("error").at("code"), "forbidden");
  EXPECT_TRUE(registry_->snapshot()->spokes.empty());
  ASSERT_EQ(call(verb::post, "/v1/spokes", body).status, 201u);
  EXPECT_EQ(call(verb::put, "/v1/spokes/prod-a", body, kReadToken).status, 403u);
  EXPECT_EQ(call(verb::delete_, "/v1/spokes/prod-a", "", kReadToken).status, 403u);
  EXPECT_EQ(call(verb::get, "/v1/spokes/prod-a", "", kReadToken).status, 200u);
}

TEST_F(Handlers, UnknownPathsAndMethods) {
  EXPECT_EQ(call(verb::get, "/v1/nothing").status, 404u);
  EXPECT_EQ(call(verb::get, "/v1/spokes/a/b").status, 404u);
  auto patch = call(verb::patch, "/v1/spokes/prod-a");
  EXPECT_EQ(patch.status, 405u);
  EXPECT_EQ(header(patch, "Allow"), "GET, HEAD, PUT, DELETE");
  EXPECT_EQ(json(patch).at("error").at("code"), "method_not_allowed");
  EXPECT_EQ(header(call(verb::delete_, "/v1/spokes"), "Allow"), "GET, HEAD, POST");
  EXPECT_EQ(call(verb::get, "/", "", "").status, 404u);
}

TEST_F(Handlers, BadBodiesAreRefusedWithTheRightCodeAndChangeNothing) {
  auto malformed = call(verb::post, "/v1/spokes", R"({"name": "prod-a",)");
  EXPECT_EQ(malformed.status, 400u);
  EXPECT_EQ(json(malformed).at("error").at("code"), "malformed_json");

  auto form = call(verb::post, "/v1/spokes", "name=prod-a", kAdminToken, true, "",
                   "application/x-www-form-urlencoded");
  EXPECT_EQ(form.status, 415u);
  EXPECT_EQ(json(form).at("error").at("code"), "unsupported_media_type");

  auto charset = call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10"),
                      kAdminToken, true, "", "application/json; charset=utf-8");
  EXPECT_EQ(charset.status, 201u);

  auto invalid = call(verb::post, "/v1/spokes", spokeJson("prod-b", "10.2.0.1/16", "198.51.100.2"));
  EXPECT_EQ(invalid.status, 422u);
  EXPECT_EQ(json(invalid).at("error").at("code"), "invalid_field");
  EXPECT_EQ(json(invalid).at("error").at("field"), "cidrs[0]");
  EXPECT_NE(json(invalid).at("error").at("message").as_string().find("10.2.0.0/16"),
            std::string::npos);

  auto wrong_type = call(verb::post, "/v1/spokes",
                         R"({"name": "prod-b", "kind": "vpc", "cidrs": "10.2.0.0/16"})");
  EXPECT_EQ(wrong_type.status, 422u);
  EXPECT_EQ(json(wrong_type).at("error").at("field"), "cidrs");

  auto unknown = call(verb::post, "/v1/spokes",
                      spokeJson("prod-b", "10.2.0.0/16", "198.51.100.2", R"(, "colour": "red")"));
  EXPECT_EQ(unknown.status, 422u);
  EXPECT_EQ(json(unknown).at("error").at("field"), "colour");

  EXPECT_EQ(registry_->snapshot()->spokes.size(), 1u);
}

TEST_F(Handlers, ConflictsAre409) {
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")).status,
      201u);
  auto dup = call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.9.0.0/16", "198.51.100.90"));
  EXPECT_EQ(dup.status, 409u);
  EXPECT_EQ(json(dup).at("error").at("code"), "conflict");
  auto overlap =
      call(verb::post, "/v1/spokes", spokeJson("prod-b", "10.1.2.0/24", "198.51.100.20"));
  EXPECT_EQ(overlap.status, 409u);
  EXPECT_EQ(json(overlap).at("error").at("field"), "cidrs[0]");
}

TEST_F(Handlers, PutHonoursIfMatch) {
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")).status,
      201u);
  const auto body = spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10", R"(, "segment": "prod")");
  auto stale = call(verb::put, "/v1/spokes/prod-a", body, kAdminToken, true, "\"5\"");
  EXPECT_EQ(stale.status, 412u);
  EXPECT_EQ(json(stale).at("error").at("code"), "precondition_failed");
  // Not an entity tag at all: 400 (a bare number included: the quotes are part of the tag).
  for (const char* garbage : {"yesterday", "1", "\"1", "W/1"}) {
    auto refused = call(verb::put, "/v1/spokes/prod-a", body, kAdminToken, true, garbage);
    EXPECT_EQ(refused.status, 400u) << garbage;
    EXPECT_EQ(json(refused).at("error").at("code"), "bad_request") << garbage;
  }
  // HTTP's strong comparison: a weak tag never matches, even the current generation's.
  auto weak = call(verb::put, "/v1/spokes/prod-a", body, kAdminToken, true, "W/\"1\"");
  EXPECT_EQ(weak.status, 412u);
  EXPECT_EQ(registry_->snapshot()->spokes.at("prod-a")->segment, "default");

  // A list: weak tags are skipped, the strong one decides.
  auto ok = call(verb::put, "/v1/spokes/prod-a", body, kAdminToken, true, "W/\"7\", \"1\"");
  ASSERT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(header(ok, "ETag"), "\"2\"");
  EXPECT_EQ(json(ok).at("segment"), "prod");

  // GET, then PUT the very same document back: accepted, nothing changes.
  auto got = call(verb::get, "/v1/spokes/prod-a");
  auto back = call(verb::put, "/v1/spokes/prod-a", got.body, kAdminToken, true, "\"2\"");
  ASSERT_EQ(back.status, 200u) << back.body;
  EXPECT_EQ(json(back).at("generation"), 2);

  // A route_tag in the body is the hub's to set: accepted and ignored, like generation.
  const auto retag = spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10", R"(, "route_tag": 9)");
  auto ignored = call(verb::put, "/v1/spokes/prod-a", retag, kAdminToken);
  ASSERT_EQ(ignored.status, 200u) << ignored.body;
  EXPECT_EQ(json(ignored).at("route_tag"), 1);

  auto missing = call(verb::put, "/v1/spokes/nope", spokeJson("nope", "10.5.0.0/16", "1.2.3.4"));
  EXPECT_EQ(missing.status, 404u);
}

TEST_F(Handlers, DeleteAnswers204ThenTheSpokeIsGone) {
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")).status,
      201u);
  EXPECT_EQ(call(verb::delete_, "/v1/spokes/prod-a", "", kAdminToken, true, "\"9\"").status, 412u);
  auto gone = call(verb::delete_, "/v1/spokes/prod-a");
  EXPECT_EQ(gone.status, 204u);
  EXPECT_TRUE(gone.body.empty());
  EXPECT_EQ(call(verb::get, "/v1/spokes/prod-a").status, 404u);
  EXPECT_EQ(call(verb::delete_, "/v1/spokes/prod-a").status, 404u);
}

TEST_F(Handlers, StoreFailureIs503AndNothingChanges) {
  store_.failNextWrites(1, hub::StoreErrorCode::kUnavailable);
  auto r = call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10"));
  EXPECT_EQ(r.status, 503u);
  EXPECT_EQ(json(r).at("error").at("code"), "unavailable");
  EXPECT_EQ(header(r, "Retry-After"), "1");
  EXPECT_EQ(call(verb::get, "/v1/spokes/prod-a").status, 404u);
  auto ready = call(verb::get, "/readyz");
  EXPECT_EQ(ready.status, 503u);
}

TEST_F(Handlers, HubDescribesItself) {
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")).status,
      201u);
  auto r = call(verb::get, "/v1/hub", "", kReadToken);
  ASSERT_EQ(r.status, 200u);
  auto hub = json(r).as_object();
  EXPECT_EQ(hub.at("name"), "hub-a");
  EXPECT_EQ(hub.at("asn"), 65000);
  EXPECT_EQ(hub.at("drivers_mode"), "dry-run");
  EXPECT_EQ(hub.at("revision"), 1);
  EXPECT_TRUE(hub.at("reconciled_revision").is_null());  // no pass yet
  EXPECT_EQ(hub.at("spokes").at("vpc"), 1);
  EXPECT_EQ(hub.at("spokes").at("site"), 0);
  EXPECT_EQ(hub.at("ready"), true);
  hub::ReconcileStatus pass;
  pass.revision = 1;
  publishStatus(pass);
  EXPECT_EQ(json(call(verb::get, "/v1/hub", "", kReadToken)).at("reconciled_revision"), 1);
}

// While the hub's view of the store is stale every read says so in a header, /v1/hub says why,
// and once the store answers again both go away.
TEST_F(Handlers, ReadsWhileTheStoreIsStaleCarryTheStaleHeader) {
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")).status,
      201u);
  auto fresh = call(verb::get, "/v1/hub", "", kReadToken);
  EXPECT_EQ(header(fresh, "Transit-Hub-Stale"), "");
  EXPECT_EQ(json(fresh).at("store").at("state"), "current");
  EXPECT_EQ(json(fresh).at("store").at("location"), "memory:");
  EXPECT_TRUE(json(fresh).at("store").at("since").is_null());

  store_.failNextWrites(1, hub::StoreErrorCode::kUnavailable);
  store_.failNextLoads(1 << 30, hub::StoreErrorCode::kUnavailable);
  EXPECT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-b", "10.2.0.0/16", "198.51.100.20")).status,
      503u);
  auto list = call(verb::get, "/v1/spokes", "", kReadToken);
  EXPECT_EQ(list.status, 200u);  // the last state read
  EXPECT_EQ(json(list).at("spokes").as_array().size(), 1u);
  EXPECT_EQ(header(list, "Transit-Hub-Stale"),
            "store unavailable since 2026-11-26T06:30:00Z; revision 1");
  auto hub = call(verb::get, "/v1/hub", "", kReadToken);
  const auto store = json(hub).at("store");
  EXPECT_EQ(store.at("state"), "stale");
  EXPECT_EQ(store.at("since"), "2026-11-26T06:30:00Z");
  EXPECT_EQ(store.at("revision"), 1);
  EXPECT_EQ(store.at("reason"), "memory store: injected fault");
  EXPECT_EQ(header(call(verb::get, "/v1/spokes", "", "wrong-token"), "Transit-Hub-Stale"), "");
  auto refused =
      call(verb::post, "/v1/spokes", spokeJson("prod-b", "10.2.0.0/16", "198.51.100.20"));
  EXPECT_EQ(refused.status, 503u);
  EXPECT_NE(json(refused).at("error").at("message").as_string().find(
                "the store memory: is unavailable since 2026-11-26T06:30:00Z"),
            std::string::npos);

  store_.failNextLoads(0, hub::StoreErrorCode::kUnavailable);
  EXPECT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-b", "10.2.0.0/16", "198.51.100.20")).status,
      201u);  // caught up first, then written
  auto again = call(verb::get, "/v1/spokes", "", kReadToken);
  EXPECT_EQ(header(again, "Transit-Hub-Stale"), "");
  EXPECT_EQ(json(call(verb::get, "/v1/hub", "", kReadToken)).at("store").at("state"), "current");
}

TEST_F(Handlers, ReadinessListsEveryCheckAndWhyItFails) {
  auto ok = call(verb::get, "/readyz", "", "");
  ASSERT_EQ(ok.status, 200u);
  EXPECT_EQ(json(ok).at("ready"), true);
  drivers_ok_ = false;
  auto down = call(verb::get, "/readyz", "", "");
  ASSERT_EQ(down.status, 503u);
  const auto down_body = json(down);
  const auto& checks = down_body.at("checks").as_array();
  ASSERT_EQ(checks.size(), 2u);
  EXPECT_EQ(checks[1].at("name"), "drivers");
  EXPECT_EQ(checks[1].at("ok"), false);
  EXPECT_EQ(checks[1].at("reason"), "pluto is down");
  EXPECT_EQ(call(verb::get, "/healthz", "", "").status, 200u);  // alive, though not ready
}

TEST_F(Handlers, OperationalRoutesNeedATokenOnListenersNotOpenedForThem) {
  for (const auto& target : {"/healthz", "/readyz", "/metrics"}) {
    EXPECT_EQ(call(verb::get, target, "", "", true).status, 200u) << target;
    EXPECT_EQ(call(verb::get, target, "", "", false).status, 401u) << target;
    EXPECT_EQ(call(verb::get, target, "", kReadToken, false).status, 200u) << target;
  }
}

TEST_F(Handlers, MetricsUseRouteTemplatesNotRawPaths) {
  ASSERT_EQ(
      call(verb::post, "/v1/spokes", spokeJson("prod-a", "10.1.0.0/16", "198.51.100.10")).status,
      201u);
  call(verb::get, "/v1/spokes/prod-a");
  call(verb::get, "/v1/spokes/zzz");
  auto r = call(verb::get, "/metrics", "", "");
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
  const auto& text = r.body;
  EXPECT_NE(
      text.find(
          R"(transit_hub_api_requests_total{code="200",method="GET",route="/v1/spokes/{name}"} 1)"),
      std::string::npos)
      << text;
  EXPECT_NE(
      text.find(
          R"(transit_hub_api_requests_total{code="404",method="GET",route="/v1/spokes/{name}"} 1)"),
      std::string::npos);
  EXPECT_NE(
      text.find(R"(transit_hub_api_requests_total{code="201",method="POST",route="/v1/spokes"} 1)"),
      std::string::npos);
  EXPECT_EQ(text.find("prod-a"), std::string::npos);
  EXPECT_EQ(text.find("zzz"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_spokes{kind="vpc"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_store_writes_total{result="ok"} 1)"), std::string::npos);
  EXPECT_NE(text.find(R"(transit_hub_build_info{version="test"} 1)"), std::string::npos);
  EXPECT_NE(text.find("transit_hub_api_request_duration_seconds_bucket"), std::string::npos);
}

TEST_F(Handlers, OpenApiDocumentIsServedToReaders) {
  auto r = call(verb::get, "/v1/openapi.yaml", "", kReadToken);
  ASSERT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "application/yaml");
  EXPECT_NE(r.body.find("openapi: 3.0"), std::string::npos);
}

}  // namespace
}  // namespace transit::testing

namespace transit::testing {
namespace {

TEST_F(Handlers, ReadinessFailsWhileTheStoreCheckFails) {
  store_.setCheckProblem("the database file /x/state.db is gone");
  auto down = call(boost::beast::http::verb::get, "/readyz", "", "");
  ASSERT_EQ(down.status, 503u);
  EXPECT_NE(down.body.find("is gone"), std::string::npos);
  EXPECT_EQ(json(call(boost::beast::http::verb::get, "/v1/hub")).at("ready"), false);
  store_.setCheckProblem(std::nullopt);
  EXPECT_EQ(call(boost::beast::http::verb::get, "/readyz", "", "").status, 200u);
}

}  // namespace
}  // namespace transit::testing

namespace transit::testing {
namespace {

TEST_F(Handlers, PathNamesAreDecodedInAnswers) {
  auto r = call(boost::beast::http::verb::get, "/v1/spokes/..%2Fhub");
  EXPECT_EQ(r.status, 404u);
  EXPECT_EQ(json(r).at("error").at("message"), "no spoke named ../hub");
  EXPECT_EQ(call(boost::beast::http::verb::get, "/v1/spokes/bad%zz").status, 400u);
}

}  // namespace
}  // namespace transit::testing
