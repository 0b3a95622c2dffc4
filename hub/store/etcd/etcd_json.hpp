// etcd_json: etcd 3.4's JSON gateway (/v3/*) as pure functions: request bodies built from typed
// values, answers parsed into typed values, error bodies classified.
//
// Owns: nothing; plain values and pure functions, any thread. Called by EtcdClient (error
// bodies, authentication) and EtcdStore (range and txn bodies, their answers). The encoding, as
// measured against etcd 3.4.23 (shared/reference/ha-pair.md §3.2):
// - bytes fields (key, value, range_end) are standard base64 with padding;
// - int64 fields are JSON strings both ways ("revision":"5"); numbers are accepted as well, so
//   the parsers take either;
// - zero values are omitted: a failed txn has no "succeeded", a miss has no "kvs" nor "count";
//   the parsers read every absent field as its zero value;
// - the server ignores unknown fields (a misspelt "valu" writes an empty value), so bodies are
//   only ever built here, from typed values.
// A malformed answer (not an object, a revision that is no int64, a key that is no base64) is an
// EtcdError of kind kCorrupt, never an exception. No message repeats a key's value (a stored
// record holds PSKs) or anything sent in a body.
#pragma once

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <expected>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace transit::hub {

enum class EtcdErrorKind {
  kUnavailable,  // no answer, or etcd cannot serve now (no leader, timeout, 5xx): retry later
  kInvalid,      // etcd refused the request (bad request, authentication, permission): needs
                 // an operator, retrying cannot help
  kCorrupt,      // the answer is not what the gateway sends (not JSON, wrong types)
};

struct EtcdError {
  EtcdErrorKind kind = EtcdErrorKind::kUnavailable;
  std::string message;           // names the endpoint and etcd's message; no password, token or PSK
  unsigned http_status = 0;      // 0: no HTTP answer
  std::int64_t grpc_code = 0;    // etcd's "code" when it answered an error object
  std::string etcd_message{};    // etcd's own "message" ("etcdserver: no leader"), if any
  bool outcome_unknown = false;  // a write was sent and nothing says whether etcd applied it
};

namespace etcd {

// ---- bytes fields

std::string encodeBase64(std::string_view bytes);
// nullopt unless `text` is standard, padded base64.
std::optional<std::string> decodeBase64(std::string_view text);
// The range_end that selects every key starting with `prefix`: the prefix with its last byte
// incremented (trailing 0xff bytes dropped first), so "/th/spokes/" -> "/th/spokes0". An empty
// or all-0xff prefix gives "\0", etcd's "every key from `key` on".
std::string prefixEnd(std::string_view prefix);

// ---- requests

enum class CompareTarget {
  kVersion,  // the key's version (0: absent)
  kCreate,   // its create_revision (0: absent)
  kMod,      // its mod_revision
};
enum class CompareResult { kEqual, kGreater, kLess, kNotEqual };

// One condition of a txn: `target` of `key` compared with `number`.
struct Compare {
  CompareTarget target = CompareTarget::kVersion;
  std::string key;
  CompareResult result = CompareResult::kEqual;
  std::int64_t number = 0;
};
// The key does not exist (CREATE == 0).
Compare absent(std::string key);
// The key was last modified at `mod_revision` (MOD == mod_revision).
Compare unchangedSince(std::string key, std::int64_t mod_revision);

enum class OpKind { kRange, kPut, kDelete };

// One operation of a txn branch.
struct RequestOp {
  OpKind kind = OpKind::kRange;
  std::string key;
  std::string value;      // kPut
  std::string range_end;  // kRange, kDelete: empty for the key alone
};
RequestOp rangeOp(std::string key, std::string range_end = {});
RequestOp putOp(std::string key, std::string value);
RequestOp deleteOp(std::string key, std::string range_end = {});

struct RangeOptions {
  bool keys_only = false;
  bool serializable = false;  // served by the member alone, without a quorum round
  std::int64_t limit = 0;     // 0: no limit
  bool descending = false;    // keys in descending order (sort by key), e.g. the newest first
  bool count_only = false;    // only the count of keys in the range
};

boost::json::object rangeRequest(std::string_view key, std::string_view range_end = {},
                                 const RangeOptions& options = {});
boost::json::object putRequest(std::string_view key, std::string_view value);
boost::json::object deleteRangeRequest(std::string_view key, std::string_view range_end = {});
boost::json::object txnRequest(std::span<const Compare> compare, std::span<const RequestOp> success,
                               std::span<const RequestOp> failure);
boost::json::object authenticateRequest(std::string_view user, std::string_view password);
// The body of POST /v3/watch: {"create_request":{key, range_end, start_revision}}; a
// start_revision of 0 watches from the current revision on.
boost::json::object watchCreateRequest(std::string_view key, std::string_view range_end,
                                       std::int64_t start_revision);

// ---- answers

struct KeyValue {
  std::string key;
  std::string value;  // empty for a keys_only range
  std::int64_t create_revision = 0;
  std::int64_t mod_revision = 0;
  std::int64_t version = 0;
};

struct RangeResponse {
  std::int64_t revision = 0;  // header.revision: the store's revision it was served at
  std::vector<KeyValue> kvs;
  std::int64_t count = 0;
  bool more = false;
};

// One answer of a txn branch, in the order of its RequestOps.
struct ResponseOp {
  OpKind kind = OpKind::kRange;
  RangeResponse range;       // kRange
  std::int64_t deleted = 0;  // kDelete
};

struct TxnResponse {
  std::int64_t revision = 0;  // the write's revision when it succeeded; else the current one
  bool succeeded = false;     // whether every compare held (absent: false)
  std::vector<ResponseOp> responses;  // the success branch's answers, or the failure branch's
};

struct StatusResponse {
  std::int64_t revision = 0;
  std::uint64_t member_id = 0;
  std::uint64_t leader = 0;         // 0: the member knows no leader
  std::string version;              // "3.4.23"
  std::vector<std::string> errors;  // "etcdserver: no leader", an alarm, ...
};

// etcd's error answer: unary {"error","message","code"} or, inside a stream,
// {"error":{"grpc_code","http_code","message","http_status"}}.
struct ErrorBody {
  std::string message;
  std::int64_t code = 0;  // the gRPC code: 14 unavailable, 16 unauthenticated, ...
};

std::expected<std::int64_t, EtcdError> parseHeaderRevision(const boost::json::value& answer);
std::expected<RangeResponse, EtcdError> parseRangeResponse(const boost::json::value& answer);
std::expected<TxnResponse, EtcdError> parseTxnResponse(const boost::json::value& answer);
std::expected<StatusResponse, EtcdError> parseStatusResponse(const boost::json::value& answer);
// The token of /v3/auth/authenticate's answer (never empty).
std::expected<std::string, EtcdError> parseAuthenticateResponse(const boost::json::value& answer);
// nullopt when `body` is not one of etcd's error shapes.
std::optional<ErrorBody> parseErrorBody(std::string_view body);

// ---- watch streams: one JSON object per line, {"result":{...}} or {"error":{...}}

enum class WatchLineKind {
  kCreated,   // the watch is set up
  kEvents,    // keys in the range changed (revision: the change's)
  kProgress,  // nothing for this watch (a progress notification)
  kCanceled,  // etcd dropped the watch (compact_revision set when it was compacted)
  kError,     // an error inside the stream ("etcdserver: no leader"): the stream ends
};

struct WatchLine {
  WatchLineKind kind = WatchLineKind::kProgress;
  std::int64_t revision = 0;  // header.revision (0 if absent)
  std::int64_t compact_revision = 0;
  std::size_t events = 0;
  std::string message;  // kError: etcd's message; kCanceled: its cancel_reason, if any
};

// One line of a watch stream (without its newline); kCorrupt when it is none of etcd's shapes.
std::expected<WatchLine, EtcdError> parseWatchLine(std::string_view line);
// Removes every complete line (up to a '\n', CR dropped, empty lines skipped) from the front of
// `buffer`, which keeps the incomplete rest.
std::vector<std::string> takeLines(std::string& buffer);

}  // namespace etcd
}  // namespace transit::hub
