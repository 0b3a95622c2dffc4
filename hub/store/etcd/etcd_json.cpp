#include "hub/store/etcd/etcd_json.hpp"

#include <fmt/format.h>

#include <array>
#include <boost/json/parse.hpp>
#include <charconv>
#include <limits>
#include <string>
#include <system_error>
#include <utility>

namespace transit::hub::etcd {
namespace json = boost::json;
namespace {

constexpr std::string_view kAlphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

// The value of each base64 character, -1 for every other byte.
constexpr std::array<int, 256> decodingTable() {
  std::array<int, 256> table{};
  for (auto& entry : table) entry = -1;
  for (std::size_t i = 0; i < kAlphabet.size(); ++i) {
    table[static_cast<unsigned char>(kAlphabet[i])] = static_cast<int>(i);
  }
  return table;
}
constexpr std::array<int, 256> kDecoding = decodingTable();

// A parse step's failure: where in the answer, and what is wrong (never the value itself).
using Parsed = std::string;
template <typename T>
using Result = std::expected<T, Parsed>;

std::unexpected<Parsed> wrong(std::string_view path, std::string_view what) {
  return std::unexpected(fmt::format("{}: {}", path, what));
}

std::string join(std::string_view path, std::string_view field) {
  return path.empty() ? std::string(field) : fmt::format("{}.{}", path, field);
}

EtcdError corrupt(std::string_view what, const Parsed& problem) {
  return EtcdError{EtcdErrorKind::kCorrupt, fmt::format("malformed {}: {}", what, problem)};
}

const json::value* field(const json::object& o, std::string_view name) {
  const json::value* v = o.if_contains(name);
  return v == nullptr || v->is_null() ? nullptr : v;
}

// An int64 field: a JSON string of digits (what the gateway sends) or a JSON integer; absent is
// zero.
Result<std::int64_t> int64Field(const json::object& o, std::string_view name,
                                std::string_view path) {
  const json::value* v = field(o, name);
  if (v == nullptr) return 0;
  if (v->is_string()) {
    const json::string& text = v->get_string();
    std::int64_t out = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      return wrong(join(path, name), "not an int64");
    }
    return out;
  }
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() &&
      v->get_uint64() <= static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<std::int64_t>(v->get_uint64());
  }
  return wrong(join(path, name), "not an int64");
}

// A uint64 field (member and cluster ids), as int64Field.
Result<std::uint64_t> uint64Field(const json::object& o, std::string_view name,
                                  std::string_view path) {
  const json::value* v = field(o, name);
  if (v == nullptr) return 0;
  if (v->is_string()) {
    const json::string& text = v->get_string();
    std::uint64_t out = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) {
      return wrong(join(path, name), "not a uint64");
    }
    return out;
  }
  if (v->is_uint64()) return v->get_uint64();
  if (v->is_int64() && v->get_int64() >= 0) return static_cast<std::uint64_t>(v->get_int64());
  return wrong(join(path, name), "not a uint64");
}

Result<bool> boolField(const json::object& o, std::string_view name, std::string_view path) {
  const json::value* v = field(o, name);
  if (v == nullptr) return false;
  if (!v->is_bool()) return wrong(join(path, name), "not a boolean");
  return v->get_bool();
}

Result<std::string> stringField(const json::object& o, std::string_view name,
                                std::string_view path) {
  const json::value* v = field(o, name);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return wrong(join(path, name), "not a string");
  return std::string(v->get_string());
}

Result<std::string> bytesField(const json::object& o, std::string_view name,
                               std::string_view path) {
  const json::value* v = field(o, name);
  if (v == nullptr) return std::string();
  if (!v->is_string()) return wrong(join(path, name), "not a string");
  auto bytes = decodeBase64(v->get_string());
  if (!bytes) return wrong(join(path, name), "not base64");
  return std::move(*bytes);
}

// An object field; absent is an empty object (every field of it zero).
Result<const json::object*> objectField(const json::object& o, std::string_view name,
                                        std::string_view path) {
  static const json::object kEmpty;
  const json::value* v = field(o, name);
  if (v == nullptr) return &kEmpty;
  if (!v->is_object()) return wrong(join(path, name), "not an object");
  return &v->get_object();
}

Result<const json::array*> arrayField(const json::object& o, std::string_view name,
                                      std::string_view path) {
  static const json::array kEmpty;
  const json::value* v = field(o, name);
  if (v == nullptr) return &kEmpty;
  if (!v->is_array()) return wrong(join(path, name), "not an array");
  return &v->get_array();
}

// The top of every unary answer: an object with a "header" object (the gateway always sends
// one; an answer without it did not come from etcd).
Result<const json::object*> answerObject(const json::value& answer) {
  if (!answer.is_object()) return wrong("answer", "not a JSON object");
  const json::value* header = field(answer.get_object(), "header");
  if (header == nullptr) return wrong("header", "missing");
  if (!header->is_object()) return wrong("header", "not an object");
  return &answer.get_object();
}

Result<std::int64_t> headerRevision(const json::object& o, std::string_view path) {
  auto header = objectField(o, "header", path);
  if (!header) return std::unexpected(header.error());
  auto revision = int64Field(**header, "revision", join(path, "header"));
  if (revision && *revision < 0) return wrong(join(path, "header.revision"), "negative");
  return revision;
}

Result<KeyValue> keyValue(const json::value& v, std::string_view path) {
  if (!v.is_object()) return wrong(path, "not an object");
  const json::object& o = v.get_object();
  KeyValue out;
  auto key = bytesField(o, "key", path);
  auto value = bytesField(o, "value", path);
  auto created = int64Field(o, "create_revision", path);
  auto modified = int64Field(o, "mod_revision", path);
  auto version = int64Field(o, "version", path);
  if (!key) return std::unexpected(key.error());
  if (!value) return std::unexpected(value.error());
  if (!created) return std::unexpected(created.error());
  if (!modified) return std::unexpected(modified.error());
  if (!version) return std::unexpected(version.error());
  return KeyValue{std::move(*key), std::move(*value), *created, *modified, *version};
}

Result<RangeResponse> range(const json::object& o, std::string_view path) {
  RangeResponse out;
  auto revision = headerRevision(o, path);
  auto kvs = arrayField(o, "kvs", path);
  auto count = int64Field(o, "count", path);
  auto more = boolField(o, "more", path);
  if (!revision) return std::unexpected(revision.error());
  if (!kvs) return std::unexpected(kvs.error());
  if (!count) return std::unexpected(count.error());
  if (!more) return std::unexpected(more.error());
  out.revision = *revision;
  out.count = *count;
  out.more = *more;
  out.kvs.reserve((*kvs)->size());
  for (std::size_t i = 0; i < (*kvs)->size(); ++i) {
    auto kv = keyValue((**kvs)[i], fmt::format("{}[{}]", join(path, "kvs"), i));
    if (!kv) return std::unexpected(kv.error());
    out.kvs.push_back(std::move(*kv));
  }
  return out;
}

Result<ResponseOp> responseOp(const json::value& v, std::string_view path) {
  if (!v.is_object()) return wrong(path, "not an object");
  const json::object& o = v.get_object();
  ResponseOp out;
  if (const json::value* r = field(o, "response_range")) {
    if (!r->is_object()) return wrong(join(path, "response_range"), "not an object");
    auto parsed = range(r->get_object(), join(path, "response_range"));
    if (!parsed) return std::unexpected(parsed.error());
    out.kind = OpKind::kRange;
    out.range = std::move(*parsed);
    return out;
  }
  if (const json::value* r = field(o, "response_put")) {
    if (!r->is_object()) return wrong(join(path, "response_put"), "not an object");
    out.kind = OpKind::kPut;
    return out;
  }
  if (const json::value* r = field(o, "response_delete_range")) {
    if (!r->is_object()) return wrong(join(path, "response_delete_range"), "not an object");
    auto deleted = int64Field(r->get_object(), "deleted", join(path, "response_delete_range"));
    if (!deleted) return std::unexpected(deleted.error());
    out.kind = OpKind::kDelete;
    out.deleted = *deleted;
    return out;
  }
  return wrong(path, "no response_range, response_put or response_delete_range");
}

std::string_view targetName(CompareTarget target) {
  switch (target) {
    case CompareTarget::kCreate:
      return "CREATE";
    case CompareTarget::kMod:
      return "MOD";
    case CompareTarget::kVersion:
      break;
  }
  return "VERSION";
}

// The Compare field that holds the number compared against, by target.
std::string_view targetField(CompareTarget target) {
  switch (target) {
    case CompareTarget::kCreate:
      return "create_revision";
    case CompareTarget::kMod:
      return "mod_revision";
    case CompareTarget::kVersion:
      break;
  }
  return "version";
}

std::string_view resultName(CompareResult result) {
  switch (result) {
    case CompareResult::kGreater:
      return "GREATER";
    case CompareResult::kLess:
      return "LESS";
    case CompareResult::kNotEqual:
      return "NOT_EQUAL";
    case CompareResult::kEqual:
      break;
  }
  return "EQUAL";
}

json::object keyAndEnd(std::string_view key, std::string_view range_end) {
  json::object o;
  o["key"] = encodeBase64(key);
  if (!range_end.empty()) o["range_end"] = encodeBase64(range_end);
  return o;
}

json::object opJson(const RequestOp& op) {
  switch (op.kind) {
    case OpKind::kPut:
      return json::object{{"request_put", putRequest(op.key, op.value)}};
    case OpKind::kDelete:
      return json::object{{"request_delete_range", deleteRangeRequest(op.key, op.range_end)}};
    case OpKind::kRange:
      break;
  }
  return json::object{{"request_range", rangeRequest(op.key, op.range_end)}};
}

}  // namespace

std::string encodeBase64(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto at = [&](std::size_t k) {
    return static_cast<std::uint32_t>(static_cast<unsigned char>(bytes[k]));
  };
  for (; i + 3 <= bytes.size(); i += 3) {
    const std::uint32_t n = (at(i) << 16) | (at(i + 1) << 8) | at(i + 2);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (const std::size_t rest = bytes.size() - i; rest > 0) {
    const std::uint32_t n = (at(i) << 16) | (rest == 2 ? at(i + 1) << 8 : 0);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

std::optional<std::string> decodeBase64(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::size_t padding = 0;
  if (!text.empty() && text.back() == '=') ++padding;
  if (text.size() >= 2 && text[text.size() - 2] == '=') ++padding;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    const std::size_t pads = last ? padding : 0;
    std::uint32_t n = 0;
    for (std::size_t k = 0; k < 4; ++k) {
      const char c = text[i + k];
      int digit = 0;
      if (k >= 4 - pads) {
        if (c != '=') return std::nullopt;
      } else {
        digit = kDecoding[static_cast<unsigned char>(c)];
        if (digit < 0) return std::nullopt;
      }
      n = (n << 6) | static_cast<std::uint32_t>(digit);
    }
    out += static_cast<char>((n >> 16) & 0xff);
    if (pads < 2) out += static_cast<char>((n >> 8) & 0xff);
    if (pads < 1) out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string prefixEnd(std::string_view prefix) {
  std::string end(prefix);
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff) end.pop_back();
  if (end.empty()) return std::string(1, '\0');
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

Compare absent(std::string key) {
  return Compare{CompareTarget::kCreate, std::move(key), CompareResult::kEqual, 0};
}

Compare unchangedSince(std::string key, std::int64_t mod_revision) {
  return Compare{CompareTarget::kMod, std::move(key), CompareResult::kEqual, mod_revision};
}

RequestOp rangeOp(std::string key, std::string range_end) {
  return RequestOp{OpKind::kRange, std::move(key), {}, std::move(range_end)};
}

RequestOp putOp(std::string key, std::string value) {
  return RequestOp{OpKind::kPut, std::move(key), std::move(value), {}};
}

RequestOp deleteOp(std::string key, std::string range_end) {
  return RequestOp{OpKind::kDelete, std::move(key), {}, std::move(range_end)};
}

json::object rangeRequest(std::string_view key, std::string_view range_end,
                          const RangeOptions& options) {
  json::object o = keyAndEnd(key, range_end);
  if (options.keys_only) o["keys_only"] = true;
  if (options.serializable) o["serializable"] = true;
  if (options.limit > 0) o["limit"] = std::to_string(options.limit);
  if (options.descending) {
    o["sort_order"] = "DESCEND";
    o["sort_target"] = "KEY";
  }
  if (options.count_only) o["count_only"] = true;
  return o;
}

json::object watchCreateRequest(std::string_view key, std::string_view range_end,
                                std::int64_t start_revision) {
  json::object create = keyAndEnd(key, range_end);
  if (start_revision > 0) create["start_revision"] = std::to_string(start_revision);
  return json::object{{"create_request", std::move(create)}};
}

json::object putRequest(std::string_view key, std::string_view value) {
  return json::object{{"key", encodeBase64(key)}, {"value", encodeBase64(value)}};
}

json::object deleteRangeRequest(std::string_view key, std::string_view range_end) {
  return keyAndEnd(key, range_end);
}

json::object txnRequest(std::span<const Compare> compare, std::span<const RequestOp> success,
                        std::span<const RequestOp> failure) {
  json::array compares;
  for (const Compare& c : compare) {
    compares.push_back(json::object{{"target", targetName(c.target)},
                                    {"key", encodeBase64(c.key)},
                                    {"result", resultName(c.result)},
                                    {targetField(c.target), std::to_string(c.number)}});
  }
  json::array on_success;
  for (const RequestOp& op : success) on_success.push_back(opJson(op));
  json::array on_failure;
  for (const RequestOp& op : failure) on_failure.push_back(opJson(op));
  json::object o;
  o["compare"] = std::move(compares);
  o["success"] = std::move(on_success);
  o["failure"] = std::move(on_failure);
  return o;
}

json::object authenticateRequest(std::string_view user, std::string_view password) {
  return json::object{{"name", user}, {"password", password}};
}

std::expected<std::int64_t, EtcdError> parseHeaderRevision(const json::value& answer) {
  auto o = answerObject(answer);
  if (!o) return std::unexpected(corrupt("answer", o.error()));
  auto revision = headerRevision(**o, "");
  if (!revision) return std::unexpected(corrupt("answer", revision.error()));
  return *revision;
}

std::expected<RangeResponse, EtcdError> parseRangeResponse(const json::value& answer) {
  auto o = answerObject(answer);
  if (!o) return std::unexpected(corrupt("range answer", o.error()));
  auto parsed = range(**o, "");
  if (!parsed) return std::unexpected(corrupt("range answer", parsed.error()));
  return std::move(*parsed);
}

std::expected<TxnResponse, EtcdError> parseTxnResponse(const json::value& answer) {
  constexpr std::string_view kWhat = "txn answer";
  auto o = answerObject(answer);
  if (!o) return std::unexpected(corrupt(kWhat, o.error()));
  TxnResponse out;
  auto revision = headerRevision(**o, "");
  auto succeeded = boolField(**o, "succeeded", "");
  auto responses = arrayField(**o, "responses", "");
  if (!revision) return std::unexpected(corrupt(kWhat, revision.error()));
  if (!succeeded) return std::unexpected(corrupt(kWhat, succeeded.error()));
  if (!responses) return std::unexpected(corrupt(kWhat, responses.error()));
  out.revision = *revision;
  out.succeeded = *succeeded;
  for (std::size_t i = 0; i < (*responses)->size(); ++i) {
    auto op = responseOp((**responses)[i], fmt::format("responses[{}]", i));
    if (!op) return std::unexpected(corrupt(kWhat, op.error()));
    out.responses.push_back(std::move(*op));
  }
  return out;
}

std::expected<StatusResponse, EtcdError> parseStatusResponse(const json::value& answer) {
  constexpr std::string_view kWhat = "status answer";
  auto o = answerObject(answer);
  if (!o) return std::unexpected(corrupt(kWhat, o.error()));
  StatusResponse out;
  auto revision = headerRevision(**o, "");
  auto header = objectField(**o, "header", "");
  auto member = header ? uint64Field(**header, "member_id", "header") : Result<std::uint64_t>(0);
  auto leader = uint64Field(**o, "leader", "");
  auto version = stringField(**o, "version", "");
  auto errors = arrayField(**o, "errors", "");
  if (!revision) return std::unexpected(corrupt(kWhat, revision.error()));
  if (!member) return std::unexpected(corrupt(kWhat, member.error()));
  if (!leader) return std::unexpected(corrupt(kWhat, leader.error()));
  if (!version) return std::unexpected(corrupt(kWhat, version.error()));
  if (!errors) return std::unexpected(corrupt(kWhat, errors.error()));
  out.revision = *revision;
  out.member_id = *member;
  out.leader = *leader;
  out.version = std::move(*version);
  for (std::size_t i = 0; i < (*errors)->size(); ++i) {
    const json::value& e = (**errors)[i];
    if (!e.is_string()) {
      return std::unexpected(corrupt(kWhat, fmt::format("errors[{}]: not a string", i)));
    }
    out.errors.emplace_back(e.get_string());
  }
  return out;
}

std::expected<std::string, EtcdError> parseAuthenticateResponse(const json::value& answer) {
  constexpr std::string_view kWhat = "authenticate answer";
  auto o = answerObject(answer);
  if (!o) return std::unexpected(corrupt(kWhat, o.error()));
  auto token = stringField(**o, "token", "");
  if (!token) return std::unexpected(corrupt(kWhat, token.error()));
  if (token->empty()) return std::unexpected(corrupt(kWhat, "token: missing"));
  return std::move(*token);
}

std::optional<ErrorBody> parseErrorBody(std::string_view body) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) return std::nullopt;
  const json::object& o = parsed.get_object();
  const json::value* error = field(o, "error");
  if (error == nullptr) return std::nullopt;
  if (error->is_string()) {  // unary: {"error":"…","message":"…","code":14}
    auto message = stringField(o, "message", "");
    auto code = int64Field(o, "code", "");
    if (!message || !code) return std::nullopt;
    return ErrorBody{message->empty() ? std::string(error->get_string()) : std::move(*message),
                     *code};
  }
  if (error->is_object()) {  // in a stream: {"error":{"grpc_code":14,"message":"…",…}}
    auto message = stringField(error->get_object(), "message", "error");
    auto code = int64Field(error->get_object(), "grpc_code", "error");
    if (!message || !code) return std::nullopt;
    return ErrorBody{std::move(*message), *code};
  }
  return std::nullopt;
}

std::expected<WatchLine, EtcdError> parseWatchLine(std::string_view line) {
  constexpr std::string_view kWhat = "watch stream line";
  boost::system::error_code ec;
  const json::value parsed = json::parse(line, ec);
  if (ec) return std::unexpected(corrupt(kWhat, "not JSON"));
  if (!parsed.is_object()) return std::unexpected(corrupt(kWhat, "not a JSON object"));
  const json::object& o = parsed.get_object();
  if (field(o, "error") != nullptr) {
    auto error = parseErrorBody(line);
    WatchLine out;
    out.kind = WatchLineKind::kError;
    out.message = error ? error->message : std::string("an error without a message");
    return out;
  }
  if (field(o, "result") == nullptr) return std::unexpected(corrupt(kWhat, "result: missing"));
  auto result = objectField(o, "result", "");
  if (!result) return std::unexpected(corrupt(kWhat, result.error()));
  const json::object& r = **result;
  WatchLine out;
  auto revision = headerRevision(r, "result");
  if (!revision) return std::unexpected(corrupt(kWhat, revision.error()));
  out.revision = *revision;
  auto created = boolField(r, "created", "result");
  auto canceled = boolField(r, "canceled", "result");
  auto compacted = int64Field(r, "compact_revision", "result");
  if (!created) return std::unexpected(corrupt(kWhat, created.error()));
  if (!canceled) return std::unexpected(corrupt(kWhat, canceled.error()));
  if (!compacted) return std::unexpected(corrupt(kWhat, compacted.error()));
  out.compact_revision = *compacted;
  if (const json::value* events = field(r, "events"); events != nullptr) {
    if (!events->is_array()) return std::unexpected(corrupt(kWhat, "result.events: not an array"));
    out.events = events->get_array().size();
  }
  if (*canceled || *compacted > 0) {
    out.kind = WatchLineKind::kCanceled;
    if (auto reason = stringField(r, "cancel_reason", "result"); reason) {
      out.message = std::move(*reason);
    }
  } else if (*created) {
    out.kind = WatchLineKind::kCreated;
  } else if (out.events > 0) {
    out.kind = WatchLineKind::kEvents;
  } else {
    out.kind = WatchLineKind::kProgress;
  }
  return out;
}

std::vector<std::string> takeLines(std::string& buffer) {
  std::vector<std::string> out;
  std::size_t from = 0;
  for (std::size_t end = buffer.find('\n'); end != std::string::npos;
       end = buffer.find('\n', from)) {
    std::string_view line(buffer.data() + from, end - from);
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (!line.empty()) out.emplace_back(line);
    from = end + 1;
  }
  buffer.erase(0, from);
  return out;
}

}  // namespace transit::hub::etcd
