// etcd's JSON gateway codec (hub/store/etcd/etcd_json.hpp) against the answers etcd 3.4.23
// gave in shared/reference/ha-pair.md §3.3: base64 keys and values, int64 as strings (or
// numbers), zero values omitted (a failed txn has no "succeeded"), error objects; and every
// malformed answer is an error, never a crash.
#include "hub/store/etcd/etcd_json.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace transit::hub {
namespace {

namespace json = boost::json;
using ::testing::HasSubstr;
using ::testing::Not;

// The header of every answer in the transcripts.
constexpr std::string_view kHeader5 =
    R"("header":{"cluster_id":"13559057498191525593","member_id":"14276188688502128214",)"
    R"("revision":"5","raft_term":"2"})";

json::value answer(std::string_view text) { return json::parse(text); }

// ---- base64 and ranges ------------------------------------------------------------------------

TEST(EtcdBase64, EncodesAsTheGatewayDoes) {
  EXPECT_EQ(etcd::encodeBase64(""), "");
  EXPECT_EQ(etcd::encodeBase64("f"), "Zg==");
  EXPECT_EQ(etcd::encodeBase64("fo"), "Zm8=");
  EXPECT_EQ(etcd::encodeBase64("foo"), "Zm9v");
  EXPECT_EQ(etcd::encodeBase64("foob"), "Zm9vYg==");
  // The keys of the transcripts.
  EXPECT_EQ(etcd::encodeBase64("/th/spokes/vpc-0a1"), "L3RoL3Nwb2tlcy92cGMtMGEx");
  EXPECT_EQ(etcd::encodeBase64("/th/alloc/169.254.100.0_30"),
            "L3RoL2FsbG9jLzE2OS4yNTQuMTAwLjBfMzA=");
  EXPECT_EQ(etcd::encodeBase64("vpc-0a1"), "dnBjLTBhMQ==");
}

TEST(EtcdBase64, RoundTripsEveryByte) {
  std::string bytes;
  for (int i = 0; i < 256; ++i) bytes += static_cast<char>(i);
  for (std::size_t length = 0; length <= bytes.size(); length += 37) {
    const std::string part = bytes.substr(bytes.size() - length);
    EXPECT_EQ(etcd::decodeBase64(etcd::encodeBase64(part)), part) << length;
  }
  EXPECT_EQ(etcd::decodeBase64(etcd::encodeBase64(bytes)), bytes);
}

TEST(EtcdBase64, RefusesWhatIsNotPaddedStandardBase64) {
  for (const std::string_view text : {"Zg", "Zm9", "Zg=a", "Z===", "=Zg=", "Zg==Zg==", "Zm9v!A==",
                                      "Zm9v\nYg==", "Zm9-", "Zm9_", "Zm9v Yg=="}) {
    EXPECT_EQ(etcd::decodeBase64(text), std::nullopt) << text;
  }
}

TEST(EtcdPrefixEnd, IncrementsTheLastByte) {
  EXPECT_EQ(etcd::prefixEnd("/th/spokes/"), "/th/spokes0");
  EXPECT_EQ(etcd::prefixEnd("/th/"), "/th0");
  EXPECT_EQ(etcd::prefixEnd("a\xff"), "b");
  EXPECT_EQ(etcd::prefixEnd("\xff\xff"), std::string(1, '\0'));
  EXPECT_EQ(etcd::prefixEnd(""), std::string(1, '\0'));
}

// ---- request bodies ---------------------------------------------------------------------------

TEST(EtcdRequests, ARangeOverAPrefixAsInTheTranscript) {
  etcd::RangeOptions options;
  options.keys_only = true;
  EXPECT_EQ(
      json::value(etcd::rangeRequest("/th/spokes/", "/th/spokes0", options)),
      answer(R"({"key":"L3RoL3Nwb2tlcy8=","range_end":"L3RoL3Nwb2tlczA=","keys_only":true})"));
  EXPECT_EQ(json::value(etcd::rangeRequest("/th/nonexistent")),
            answer(R"({"key":"L3RoL25vbmV4aXN0ZW50"})"));
  options = {};
  options.serializable = true;
  options.limit = 10;
  EXPECT_EQ(json::value(etcd::rangeRequest("a", {}, options)),
            answer(R"({"key":"YQ==","serializable":true,"limit":"10"})"));
}

TEST(EtcdRequests, TheCompareAndSwapTxnOfTheTranscript) {
  const std::string alloc = "/th/alloc/169.254.100.0_30";
  const std::string spoke = "/th/spokes/vpc-0a1";
  const std::vector<etcd::Compare> compare{etcd::absent(alloc), etcd::unchangedSince(spoke, 3)};
  const std::vector<etcd::RequestOp> success{etcd::putOp(alloc, "vpc-0a1"),
                                             etcd::putOp(spoke, "x")};
  const std::vector<etcd::RequestOp> failure{etcd::rangeOp(alloc)};
  EXPECT_EQ(json::value(etcd::txnRequest(compare, success, failure)), answer(R"({
    "compare":[{"target":"CREATE","key":"L3RoL2FsbG9jLzE2OS4yNTQuMTAwLjBfMzA=","result":"EQUAL",
                "create_revision":"0"},
               {"target":"MOD","key":"L3RoL3Nwb2tlcy92cGMtMGEx","result":"EQUAL",
                "mod_revision":"3"}],
    "success":[{"request_put":{"key":"L3RoL2FsbG9jLzE2OS4yNTQuMTAwLjBfMzA=","value":"dnBjLTBhMQ=="}},
               {"request_put":{"key":"L3RoL3Nwb2tlcy92cGMtMGEx","value":"eA=="}}],
    "failure":[{"request_range":{"key":"L3RoL2FsbG9jLzE2OS4yNTQuMTAwLjBfMzA="}}]})"));
}

TEST(EtcdRequests, DeletesAndOtherCompares) {
  const std::vector<etcd::Compare> compare{
      {etcd::CompareTarget::kVersion, "a", etcd::CompareResult::kGreater, 1},
      {etcd::CompareTarget::kMod, "b", etcd::CompareResult::kNotEqual, 9000000000},
      {etcd::CompareTarget::kCreate, "c", etcd::CompareResult::kLess, 2}};
  const std::vector<etcd::RequestOp> success{etcd::deleteOp("a"), etcd::deleteOp("p/", "p0")};
  EXPECT_EQ(json::value(etcd::txnRequest(compare, success, {})), answer(R"({
    "compare":[{"target":"VERSION","key":"YQ==","result":"GREATER","version":"1"},
               {"target":"MOD","key":"Yg==","result":"NOT_EQUAL","mod_revision":"9000000000"},
               {"target":"CREATE","key":"Yw==","result":"LESS","create_revision":"2"}],
    "success":[{"request_delete_range":{"key":"YQ=="}},
               {"request_delete_range":{"key":"cC8=","range_end":"cDA="}}],
    "failure":[]})"));
  EXPECT_EQ(json::value(etcd::authenticateRequest("hub", "pw")),
            answer(R"({"name":"hub","password":"pw"})"));
}

// ---- answers ----------------------------------------------------------------------------------

TEST(EtcdAnswers, APutAnswerGivesItsRevision) {
  const auto put = answer(
      R"({"header":{"cluster_id":"13559057498191525593","member_id":"14276188688502128214",)"
      R"("revision":"3","raft_term":"2"},"prev_kv":{"key":"L3RoL3Nwb2tlcy92cGMtMGEx",)"
      R"("create_revision":"2","mod_revision":"2","version":"1","value":"eyJ2Z3ciOiJ2Z3ctMGExIn0="}})");
  EXPECT_EQ(etcd::parseHeaderRevision(put), 3);
}

TEST(EtcdAnswers, AKeysOnlyRangeHasNoValues) {
  const auto range = etcd::parseRangeResponse(answer(
      R"({"header":{"revision":"4","raft_term":"2"},"kvs":[{"key":"L3RoL3Nwb2tlcy92cGMtMGEx",)"
      R"("create_revision":"2","mod_revision":"2","version":"1"}],"count":"1"})"));
  ASSERT_TRUE(range.has_value()) << range.error().message;
  EXPECT_EQ(range->revision, 4);
  EXPECT_EQ(range->count, 1);
  EXPECT_FALSE(range->more);
  ASSERT_EQ(range->kvs.size(), 1U);
  EXPECT_EQ(range->kvs[0].key, "/th/spokes/vpc-0a1");
  EXPECT_EQ(range->kvs[0].value, "");
  EXPECT_EQ(range->kvs[0].create_revision, 2);
  EXPECT_EQ(range->kvs[0].mod_revision, 2);
  EXPECT_EQ(range->kvs[0].version, 1);
}

TEST(EtcdAnswers, AMissIsAHeaderAlone) {
  const auto range = etcd::parseRangeResponse(
      answer(R"({"header":{"cluster_id":"13559057498191525593","member_id":"14276188688502128214",)"
             R"("revision":"4","raft_term":"2"}})"));
  ASSERT_TRUE(range.has_value()) << range.error().message;
  EXPECT_EQ(range->revision, 4);
  EXPECT_TRUE(range->kvs.empty());
  EXPECT_EQ(range->count, 0);
}

TEST(EtcdAnswers, ASucceededTxnGivesItsRevisionAndItsPuts) {
  const auto txn = etcd::parseTxnResponse(
      answer(std::string("{") + std::string(kHeader5) +
             R"(,"succeeded":true,"responses":[{"response_put":{"header":{"revision":"5"}}},)"
             R"({"response_put":{"header":{"revision":"5"}}}]})"));
  ASSERT_TRUE(txn.has_value()) << txn.error().message;
  EXPECT_TRUE(txn->succeeded);
  EXPECT_EQ(txn->revision, 5);
  ASSERT_EQ(txn->responses.size(), 2U);
  EXPECT_EQ(txn->responses[0].kind, etcd::OpKind::kPut);
  EXPECT_EQ(txn->responses[1].kind, etcd::OpKind::kPut);
}

TEST(EtcdAnswers, AFailedTxnHasNoSucceededAndAnswersItsFailureBranch) {
  const auto txn = etcd::parseTxnResponse(
      answer(std::string("{") + std::string(kHeader5) +
             R"(,"responses":[{"response_range":{"header":{"revision":"5"},"kvs":[{"key":)"
             R"("L3RoL2FsbG9jLzE2OS4yNTQuMTAwLjBfMzA=","create_revision":"5","mod_revision":"5",)"
             R"("version":"1","value":"dnBjLTBhMQ=="}],"count":"1"}}]})"));
  ASSERT_TRUE(txn.has_value()) << txn.error().message;
  EXPECT_FALSE(txn->succeeded);
  EXPECT_EQ(txn->revision, 5);
  ASSERT_EQ(txn->responses.size(), 1U);
  ASSERT_EQ(txn->responses[0].kind, etcd::OpKind::kRange);
  ASSERT_EQ(txn->responses[0].range.kvs.size(), 1U);
  EXPECT_EQ(txn->responses[0].range.kvs[0].key, "/th/alloc/169.254.100.0_30");
  EXPECT_EQ(txn->responses[0].range.kvs[0].value, "vpc-0a1");
  EXPECT_EQ(txn->responses[0].range.kvs[0].create_revision, 5);
}

TEST(EtcdAnswers, AFailedTxnWhoseRangesMissedHasEmptyRanges) {
  const auto txn = etcd::parseTxnResponse(answer(
      R"({"header":{"revision":"9"},"responses":[{"response_range":{"header":{"revision":"9"}}},)"
      R"({"response_delete_range":{"header":{},"deleted":"2"}}]})"));
  ASSERT_TRUE(txn.has_value()) << txn.error().message;
  EXPECT_FALSE(txn->succeeded);
  EXPECT_TRUE(txn->responses[0].range.kvs.empty());
  EXPECT_EQ(txn->responses[1].kind, etcd::OpKind::kDelete);
  EXPECT_EQ(txn->responses[1].deleted, 2);
}

TEST(EtcdAnswers, Int64FieldsMayBeNumbers) {
  const auto range = etcd::parseRangeResponse(answer(
      R"({"header":{"revision":7},"kvs":[{"key":"YQ==","mod_revision":5,"version":9007199254740993}],)"
      R"("count":1,"more":true})"));
  ASSERT_TRUE(range.has_value()) << range.error().message;
  EXPECT_EQ(range->revision, 7);
  EXPECT_EQ(range->kvs[0].mod_revision, 5);
  EXPECT_EQ(range->kvs[0].version, 9007199254740993);
  EXPECT_EQ(range->kvs[0].create_revision, 0);
  EXPECT_TRUE(range->more);
}

TEST(EtcdAnswers, StatusWithAndWithoutALeader) {
  const auto ok = etcd::parseStatusResponse(answer(
      R"({"header":{"cluster_id":"15118495548433857066","member_id":"13668033151171901709",)"
      R"("revision":"1","raft_term":"2"},"version":"3.4.23","dbSize":"20480",)"
      R"("leader":"13668033151171901709","raftIndex":"4","raftTerm":"2","raftAppliedIndex":"4",)"
      R"("dbSizeInUse":"16384"})"));
  ASSERT_TRUE(ok.has_value()) << ok.error().message;
  EXPECT_EQ(ok->leader, 13668033151171901709ULL);
  EXPECT_EQ(ok->member_id, 13668033151171901709ULL);
  EXPECT_EQ(ok->version, "3.4.23");
  EXPECT_TRUE(ok->errors.empty());
  const auto lost = etcd::parseStatusResponse(answer(
      R"({"header":{"revision":"13"},"version":"3.4.23","errors":["etcdserver: no leader"]})"));
  ASSERT_TRUE(lost.has_value()) << lost.error().message;
  EXPECT_EQ(lost->leader, 0U);
  EXPECT_EQ(lost->errors, std::vector<std::string>{"etcdserver: no leader"});
}

TEST(EtcdAnswers, AuthenticateGivesTheToken) {
  EXPECT_EQ(etcd::parseAuthenticateResponse(
                answer(R"({"header":{"revision":"1"},"token":"QqEolDNywmdSYLWg.13"})")),
            "QqEolDNywmdSYLWg.13");
  EXPECT_FALSE(etcd::parseAuthenticateResponse(answer(R"({"header":{}})")).has_value());
}

TEST(EtcdAnswers, UnaryAndStreamErrorObjects) {
  const auto unary = etcd::parseErrorBody(
      R"({"error":"unknown value \"MODX\" for enum etcdserverpb.Compare_CompareTarget",)"
      R"("message":"unknown value \"MODX\" for enum etcdserverpb.Compare_CompareTarget","code":3})");
  ASSERT_TRUE(unary.has_value());
  EXPECT_EQ(unary->code, 3);
  EXPECT_EQ(unary->message, "unknown value \"MODX\" for enum etcdserverpb.Compare_CompareTarget");
  const auto lease = etcd::parseErrorBody(
      R"({"error":"etcdserver: requested lease not found","message":"etcdserver: requested lease )"
      R"(not found","code":5})");
  ASSERT_TRUE(lease.has_value());
  EXPECT_EQ(lease->code, 5);
  const auto stream = etcd::parseErrorBody(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader",)"
      R"("http_status":"Service Unavailable"}})");
  ASSERT_TRUE(stream.has_value());
  EXPECT_EQ(stream->code, 14);
  EXPECT_EQ(stream->message, "etcdserver: no leader");
  const auto terse = etcd::parseErrorBody(R"({"error":"etcdserver: no leader","code":"14"})");
  ASSERT_TRUE(terse.has_value());
  EXPECT_EQ(terse->message, "etcdserver: no leader");
  EXPECT_EQ(terse->code, 14);
  for (const std::string_view body : {"404 page not found", "", "{}", R"({"error":5})", "[1]",
                                      R"({"error":"x","code":"many"})"}) {
    EXPECT_EQ(etcd::parseErrorBody(body), std::nullopt) << body;
  }
}

// ---- malformed answers ------------------------------------------------------------------------

// Every parser on `text`: each either succeeds or returns kCorrupt, and none throws.
void expectEveryParserSurvives(std::string_view text) {
  SCOPED_TRACE(text);
  boost::system::error_code ec;
  const json::value value = json::parse(text, ec);
  if (ec) return;  // not JSON: the transport refuses it before any parser sees it
  const auto corruptOrValue = [](const auto& result) {
    EXPECT_TRUE(result.has_value() || result.error().kind == EtcdErrorKind::kCorrupt);
  };
  EXPECT_NO_THROW({
    corruptOrValue(etcd::parseHeaderRevision(value));
    corruptOrValue(etcd::parseRangeResponse(value));
    corruptOrValue(etcd::parseTxnResponse(value));
    corruptOrValue(etcd::parseStatusResponse(value));
    corruptOrValue(etcd::parseAuthenticateResponse(value));
    (void)etcd::parseErrorBody(text);
  });
}

TEST(EtcdMalformed, EveryShapeOfGarbageIsAnError) {
  const std::vector<std::string_view> range_garbage{
      "[]",
      "null",
      R"("x")",
      "{}",
      "5",
      R"({"header":[]})",
      R"({"header":{"revision":"abc"}})",
      R"({"header":{"revision":"-1"}})",
      R"({"header":{"revision":1.5}})",
      R"({"header":{"revision":"99999999999999999999"}})",
      R"({"header":{"revision":""}})",
      R"({"header":{"revision":" 5"}})",
      R"({"header":{"revision":true}})",
      R"({"header":{},"kvs":{}})",
      R"({"header":{},"kvs":[1]})",
      R"({"header":{},"kvs":[{"key":"***"}]})",
      R"({"header":{},"kvs":[{"key":5}]})",
      R"({"header":{},"kvs":[{"key":"YQ==","version":"x"}]})",
      R"({"header":{},"count":true})",
      R"({"header":{},"more":"yes"})"};
  for (const std::string_view text : range_garbage) {
    const auto parsed = etcd::parseRangeResponse(answer(text));
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().kind, EtcdErrorKind::kCorrupt) << text;
    expectEveryParserSurvives(text);
  }
  const std::vector<std::string_view> txn_garbage{
      R"({"header":{},"succeeded":"yes"})",
      R"({"header":{},"succeeded":1})",
      R"({"header":{},"responses":{}})",
      R"({"header":{},"responses":[{}]})",
      R"({"header":{},"responses":[5]})",
      R"({"header":{},"responses":[{"response_range":[]}]})",
      R"({"header":{},"responses":[{"response_put":"x"}]})",
      R"({"header":{},"responses":[{"response_txn":{}}]})",
      R"({"header":{},"responses":[{"response_delete_range":{"deleted":"x"}}]})",
      R"({"header":{},"responses":[{"response_range":{"kvs":[{"value":"%%"}]}}]})"};
  for (const std::string_view text : txn_garbage) {
    const auto parsed = etcd::parseTxnResponse(answer(text));
    ASSERT_FALSE(parsed.has_value()) << text;
    EXPECT_EQ(parsed.error().kind, EtcdErrorKind::kCorrupt) << text;
    expectEveryParserSurvives(text);
  }
  for (const std::string_view text :
       {R"({"header":{},"leader":"-3"})", R"({"header":{},"errors":"no leader"})",
        R"({"header":{},"errors":[7]})", R"({"header":{},"version":3})",
        R"({"header":{"member_id":"x"}})"}) {
    EXPECT_FALSE(etcd::parseStatusResponse(answer(text)).has_value()) << text;
  }
  EXPECT_FALSE(etcd::parseAuthenticateResponse(answer(R"({"header":{},"token":7})")).has_value());
}

TEST(EtcdMalformed, AnErrorNamesTheFieldNeverTheValue) {
  // A value that is not base64 (a record with a PSK, damaged) is not repeated.
  const auto parsed = etcd::parseRangeResponse(
      answer(R"({"header":{},"kvs":[{"key":"YQ==","value":"Sekr3t-PSK!"}]})"));
  ASSERT_FALSE(parsed.has_value());
  EXPECT_THAT(parsed.error().message, HasSubstr("kvs[0].value"));
  EXPECT_THAT(parsed.error().message, Not(HasSubstr("Sekr3t")));
}

TEST(EtcdMalformed, EveryCutOfARealAnswerIsHandled) {
  const std::string text =
      std::string("{") + std::string(kHeader5) +
      R"(,"responses":[{"response_range":{"header":{"revision":"5"},"kvs":[{"key":)"
      R"("L3RoL2FsbG9jLzE2OS4yNTQuMTAwLjBfMzA=","create_revision":"5","mod_revision":"5",)"
      R"("version":"1","value":"dnBjLTBhMQ=="}],"count":"1"}}]})";
  for (std::size_t length = 0; length <= text.size(); ++length) {
    expectEveryParserSurvives(std::string_view(text).substr(0, length));
  }
}

TEST(EtcdWatch, TheCreateRequestNamesTheRangeAndTheStartRevision) {
  EXPECT_EQ(json::serialize(etcd::watchCreateRequest("/th/spokes/", "/th/spokes0", 12)),
            R"({"create_request":{"key":"L3RoL3Nwb2tlcy8=","range_end":"L3RoL3Nwb2tlczA=",)"
            R"("start_revision":"12"}})");
  EXPECT_EQ(json::serialize(etcd::watchCreateRequest("/th/spokes/", "/th/spokes0", 0)),
            R"({"create_request":{"key":"L3RoL3Nwb2tlcy8=","range_end":"L3RoL3Nwb2tlczA="}})");
}

TEST(EtcdWatch, TakesCompleteLinesAndKeepsTheRest) {
  std::string buffer = "{\"a\":1}\n\r\n{\"b\":2}\r\n{\"c\"";
  EXPECT_EQ(etcd::takeLines(buffer), (std::vector<std::string>{"{\"a\":1}", "{\"b\":2}"}));
  EXPECT_EQ(buffer, "{\"c\"");
  EXPECT_TRUE(etcd::takeLines(buffer).empty());
  buffer += ":3}\n";
  EXPECT_EQ(etcd::takeLines(buffer), std::vector<std::string>{"{\"c\":3}"});
  EXPECT_EQ(buffer, "");
}

TEST(EtcdWatch, ParsesTheLinesOfTheTranscripts) {
  auto created = etcd::parseWatchLine(
      R"({"result":{"header":{"cluster_id":"1","member_id":"2","revision":"9","raft_term":"2"},"created":true}})");
  ASSERT_TRUE(created.has_value()) << created.error().message;
  EXPECT_EQ(created->kind, etcd::WatchLineKind::kCreated);
  EXPECT_EQ(created->revision, 9);

  auto events = etcd::parseWatchLine(
      R"({"result":{"header":{"revision":"11"},"events":[{"kv":{"key":"L3RoL3Nwb2tlcy92cGMtMGIy","mod_revision":"11"}}]}})");
  ASSERT_TRUE(events.has_value()) << events.error().message;
  EXPECT_EQ(events->kind, etcd::WatchLineKind::kEvents);
  EXPECT_EQ(events->revision, 11);
  EXPECT_EQ(events->events, 1U);

  auto progress =
      etcd::parseWatchLine(R"({"result":{"header":{"revision":"14"},"watch_id":"-1"}})");
  ASSERT_TRUE(progress.has_value());
  EXPECT_EQ(progress->kind, etcd::WatchLineKind::kProgress);

  auto compacted = etcd::parseWatchLine(
      R"({"result":{"header":{"raft_term":"2"},"canceled":true,"compact_revision":"11"}})");
  ASSERT_TRUE(compacted.has_value()) << compacted.error().message;
  EXPECT_EQ(compacted->kind, etcd::WatchLineKind::kCanceled);
  EXPECT_EQ(compacted->compact_revision, 11);
  EXPECT_EQ(compacted->revision, 0);

  auto canceled = etcd::parseWatchLine(
      R"({"result":{"header":{"revision":"14"},"watch_id":"1","canceled":true}})");
  ASSERT_TRUE(canceled.has_value());
  EXPECT_EQ(canceled->kind, etcd::WatchLineKind::kCanceled);

  auto error = etcd::parseWatchLine(
      R"({"error":{"grpc_code":14,"http_code":503,"message":"etcdserver: no leader","http_status":"Service Unavailable"}})");
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->kind, etcd::WatchLineKind::kError);
  EXPECT_EQ(error->message, "etcdserver: no leader");
}

TEST(EtcdWatch, AnythingElseIsCorrupt) {
  for (const std::string_view line :
       {"not json", "[1]", R"({"other":{}})", R"({"result":{"events":{}}})",
        R"({"result":{"header":{"revision":"x"}}})", R"({"result":{"canceled":"yes"}})"}) {
    auto parsed = etcd::parseWatchLine(line);
    ASSERT_FALSE(parsed.has_value()) << line;
    EXPECT_EQ(parsed.error().kind, EtcdErrorKind::kCorrupt) << line;
  }
}

}  // namespace
}  // namespace transit::hub
