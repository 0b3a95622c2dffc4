#include "hub/store/etcd/etcd_store.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/json/object.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>
#include <utility>

#include "hub/store/record_codec.hpp"

namespace transit::hub {
namespace {

namespace json = boost::json;

constexpr std::string_view kRangePath = "/v3/kv/range";
constexpr std::string_view kTxnPath = "/v3/kv/txn";
constexpr std::string_view kDeleteRangePath = "/v3/kv/deleterange";
constexpr std::string_view kStatusPath = "/v3/maintenance/status";
constexpr std::string_view kWatchPath = "/v3/watch";

struct WatchSettings {
  EtcdClientOptions client;
  std::string key;        // prefix + "spokes/"
  std::string range_end;  // its prefixEnd
  std::int64_t start_revision = 0;
  std::chrono::milliseconds check_interval{};
  std::chrono::milliseconds check_timeout{};
  std::chrono::milliseconds retry_min{};
  std::chrono::milliseconds retry_max{};
};

// The thread behind EtcdStore::watch(). Its stream and its check client are cancelled by the
// destructor, so a blocked read, connect or check returns at once.
class EtcdStoreWatch final : public StoreWatch {
 public:
  EtcdStoreWatch(WatchSettings settings, std::unique_ptr<EtcdStream> stream, StoreChanged changed)
      : settings_(std::move(settings)), stream_(std::move(stream)), changed_(std::move(changed)) {
    thread_ = std::thread([this] { run(); });
  }

  ~EtcdStoreWatch() override {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      if (check_) check_->cancel();
    }
    wake_.notify_all();
    stream_->cancel();
    thread_.join();
  }

  EtcdStoreWatch(const EtcdStoreWatch&) = delete;
  EtcdStoreWatch& operator=(const EtcdStoreWatch&) = delete;

  std::optional<std::string> cut() const override {
    std::lock_guard lock(mutex_);
    return cut_reason_;
  }

 private:
  using Clock = std::chrono::steady_clock;

  bool stopping() {
    std::lock_guard lock(mutex_);
    return stopping_;
  }

  // Sleeps `wait` unless stopped first; false once stopping.
  bool pause(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    return !wake_.wait_for(lock, wait, [this] { return stopping_; });
  }

  void run() {
    std::int64_t next = settings_.start_revision;  // 0: from now
    auto backoff = settings_.retry_min;
    bool cut = false;  // a watch was lost (or never set up after a failure): changes may be missed
    std::string last_problem;
    while (!stopping()) {
      const std::pair<std::string, std::string> headers[] = {{"Grpc-Metadata-hasleader", "true"}};
      auto opened = stream_->open(
          kWatchPath, etcd::watchCreateRequest(settings_.key, settings_.range_end, next), headers);
      std::string problem;
      if (opened) {
        problem = follow(next, cut, backoff);
      } else {
        problem = opened.error().message;
      }
      stream_->close();
      if (stopping()) break;
      {
        std::lock_guard lock(mutex_);
        cut_reason_ = fmt::format("the etcd watch was cut: {}", problem);
      }
      if (!cut) {
        cut = true;
        changed_(0);
      }
      if (problem != last_problem) {
        spdlog::warn("etcd store: the watch was cut, watching again: {}", problem);
        last_problem = problem;
      }
      if (!pause(backoff)) break;
      backoff = std::min(backoff * 2, settings_.retry_max);
    }
  }

  // Reads the open stream until it is cut; why. `next` follows the revisions heard.
  std::string follow(std::int64_t& next, bool& cut, std::chrono::milliseconds& backoff) {
    std::string buffer;
    auto heard = Clock::now();
    for (;;) {
      auto read = stream_->read(buffer, settings_.check_interval);
      if (!read) return read.error().message;
      if (*read == EtcdStream::Read::kEnded) return "etcd ended the watch stream";
      if (*read == EtcdStream::Read::kQuiet) {
        if (Clock::now() - heard < settings_.check_interval) continue;
        if (auto alive = check(); !alive.empty()) return alive;
        heard = Clock::now();
        continue;
      }
      heard = Clock::now();
      for (const std::string& text : etcd::takeLines(buffer)) {
        auto line = etcd::parseWatchLine(text);
        if (!line) return line.error().message;
        switch (line->kind) {
          case etcd::WatchLineKind::kCreated:
            backoff = settings_.retry_min;
            if (cut) {  // what happened while there was no watch is unknown
              cut = false;
              {
                std::lock_guard lock(mutex_);
                cut_reason_.reset();
              }
              changed_(0);
            }
            break;
          case etcd::WatchLineKind::kEvents:
            if (line->revision > 0) next = line->revision + 1;
            changed_(static_cast<std::uint64_t>(line->revision));
            break;
          case etcd::WatchLineKind::kProgress:
            break;
          case etcd::WatchLineKind::kCanceled:
            if (line->compact_revision > 0) {
              // What came before it is gone (the registry relists on the 0); watch from it on.
              next = line->compact_revision;
              return fmt::format("etcd compacted past the watch (to revision {})",
                                 line->compact_revision);
            }
            return fmt::format("etcd canceled the watch{}{}", line->message.empty() ? "" : ": ",
                               line->message);
          case etcd::WatchLineKind::kError:
            return fmt::format("etcd {}: {}", stream_->endpoint(), line->message);
        }
      }
      if (buffer.size() > 64 * 1024 * 1024) return "a watch line longer than 64 MiB";
    }
  }

  // A linearizable one-key range on the stream's endpoint: "" if it was served.
  std::string check() {
    EtcdClientOptions options = settings_.client;
    options.endpoints = {stream_->endpoint()};
    options.timeout = settings_.check_timeout;
    options.connect_timeout = std::min(options.connect_timeout, settings_.check_timeout);
    auto created = EtcdClient::create(options);
    if (!created) return created.error().message;
    std::shared_ptr<EtcdClient> client = std::move(*created);
    {
      std::lock_guard lock(mutex_);
      if (stopping_) return "stopping";
      check_ = client;
    }
    auto answer = client->post(kRangePath, etcd::rangeRequest(settings_.key, {}, {}));
    {
      std::lock_guard lock(mutex_);
      check_.reset();
    }
    if (!answer) return fmt::format("the liveness check failed: {}", answer.error().message);
    return {};
  }

  WatchSettings settings_;
  std::unique_ptr<EtcdStream> stream_;
  StoreChanged changed_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;  // guarded by mutex_
  // Why the watch is cut (set before the changed(0) of a cut, cleared before the changed(0) of
  // a new watch); guarded by mutex_.
  std::optional<std::string> cut_reason_;
  std::shared_ptr<EtcdClient> check_;  // the check in progress; guarded by mutex_
  std::thread thread_;                 // last: started once the rest is built
};

StoreError error(StoreErrorCode code, std::string message) {
  return StoreError{code, std::move(message)};
}

StoreError conflict(std::string message) {
  return error(StoreErrorCode::kConflict, std::move(message));
}

// etcd's error as the store's: unreachable, refused or malformed, the write did not happen (or
// may have, when the answer was lost).
StoreError fromEtcd(const EtcdError& failure, std::string_view what) {
  std::string message = fmt::format("etcd store: {} failed: {}", what, failure.message);
  if (failure.outcome_unknown) {
    message += " (etcd may still apply it; the next load shows whether it did)";
  }
  return error(StoreErrorCode::kUnavailable, std::move(message));
}

std::string describeWrite(const StoreWrite& write) {
  switch (write.kind) {
    case StoreWrite::Kind::kCreate:
      return fmt::format("create of spoke '{}'", write.spoke->name);
    case StoreWrite::Kind::kReplace:
      return fmt::format("replace of spoke '{}'", write.spoke->name);
    case StoreWrite::Kind::kRemove:
      break;
  }
  return fmt::format("removal of spoke '{}'", write.name);
}

std::string encodeRecord(const peers::Spoke& spoke) {
  return json::serialize(encodeSpokeRecord(spoke));
}

std::expected<peers::Spoke, StoreError> decodeRecord(std::string_view name, std::string_view record,
                                                     std::string_view local_hub) {
  auto corrupt = [&](std::string_view problem) {
    return std::unexpected(
        error(StoreErrorCode::kCorrupt,
              fmt::format("etcd store: the stored record of spoke '{}' {}", name, problem)));
  };
  boost::system::error_code ec;
  const json::value parsed = json::parse(record, ec);
  if (ec) return corrupt(fmt::format("is not valid JSON ({})", ec.message()));
  auto spoke = decodeSpokeRecord(parsed, local_hub);
  if (!spoke) return corrupt(fmt::format("cannot be decoded: {}", spoke.error()));
  if (spoke->name != name) return corrupt("carries another name");
  return std::move(*spoke);
}

// The key a failure-branch range found, if any.
const etcd::KeyValue* found(const etcd::ResponseOp& op) {
  return op.kind == etcd::OpKind::kRange && !op.range.kvs.empty() ? &op.range.kvs.front() : nullptr;
}

StoreError unexplained(std::string_view what) {
  return error(StoreErrorCode::kUnavailable,
               fmt::format("etcd store: {} failed: etcd refused the txn, yet its failure branch "
                           "shows nothing in the way",
                           what));
}

}  // namespace

struct EtcdStore::Claim {
  std::string key;        // the etcd key, prefix included
  std::string_view kind;  // "tunnel inside network", as SqliteStore words it
  std::string text;       // "169.254.20.0/30"
};

struct EtcdStore::Stored {
  peers::Spoke spoke;
  std::int64_t mod_revision = 0;
};

std::expected<std::unique_ptr<EtcdStore>, StoreError> EtcdStore::open(
    const EtcdStoreOptions& options) {
  if (options.prefix.empty()) {
    return std::unexpected(
        error(StoreErrorCode::kUnavailable, "etcd store: the key prefix must not be empty"));
  }
  EtcdClientOptions client{options.endpoints, options.tls,     options.user,
                           options.password,  options.timeout, options.connect_timeout};
  auto transport = EtcdClient::create(client);
  if (!transport) {
    return std::unexpected(error(StoreErrorCode::kUnavailable,
                                 fmt::format("etcd store: {}", transport.error().message)));
  }
  // The status probe needs no credentials: it stays clear of the writer's token and of bcrypt.
  EtcdClientOptions probe_options{options.endpoints,
                                  options.tls,
                                  {},
                                  {},
                                  options.probe_timeout,
                                  std::min(options.connect_timeout, options.probe_timeout)};
  auto probe = EtcdClient::create(probe_options);
  if (!probe) {
    return std::unexpected(
        error(StoreErrorCode::kUnavailable, fmt::format("etcd store: {}", probe.error().message)));
  }
  EtcdStoreOptions normalized = options;
  if (normalized.prefix.back() != '/') normalized.prefix += '/';
  auto reader = EtcdClient::create(client);
  if (!reader) {
    return std::unexpected(
        error(StoreErrorCode::kUnavailable, fmt::format("etcd store: {}", reader.error().message)));
  }
  std::string description = fmt::format("etcd:{}{}", (*transport)->endpoints(), normalized.prefix);
  auto store = std::unique_ptr<EtcdStore>(
      new EtcdStore(std::move(*transport), std::move(*probe), normalized, std::move(description)));
  store->reader_ = std::move(*reader);
  store->watch_client_ = client;
  return store;
}

std::unique_ptr<EtcdStore> EtcdStore::withTransports(std::unique_ptr<EtcdTransport> transport,
                                                     std::unique_ptr<EtcdTransport> probe,
                                                     const EtcdStoreOptions& options,
                                                     std::string description) {
  return std::unique_ptr<EtcdStore>(
      new EtcdStore(std::move(transport), std::move(probe), options, std::move(description)));
}

EtcdStore::EtcdStore(std::unique_ptr<EtcdTransport> transport, std::unique_ptr<EtcdTransport> probe,
                     const EtcdStoreOptions& options, std::string description)
    : transport_(std::move(transport)),
      probe_(std::move(probe)),
      prefix_(options.prefix),
      hub_name_(options.hub_name),
      description_(std::move(description)),
      quiet_before_probe_(options.quiet_before_probe),
      now_(options.now ? options.now : [] { return std::chrono::steady_clock::now(); }),
      watch_check_interval_(options.watch_check_interval),
      watch_check_timeout_(options.probe_timeout),
      watch_retry_min_(options.watch_retry_min),
      watch_retry_max_(options.watch_retry_max) {}

EtcdStore::~EtcdStore() = default;

std::string EtcdStore::describe() const { return description_; }

std::unique_ptr<StoreWatch> EtcdStore::watch(StoreChanged changed) {
  if (!watch_client_) return nullptr;
  auto stream = EtcdStream::create(*watch_client_);
  if (!stream) {  // the options were checked by open()
    spdlog::error("etcd store: cannot watch: {}", stream.error().message);
    return nullptr;
  }
  WatchSettings settings;
  settings.client = *watch_client_;
  settings.key = fmt::format("{}spokes/", prefix_);
  settings.range_end = etcd::prefixEnd(settings.key);
  const std::int64_t loaded = loaded_revision_;
  settings.start_revision = loaded > 0 ? loaded + 1 : 0;
  settings.check_interval = watch_check_interval_;
  settings.check_timeout = watch_check_timeout_;
  settings.retry_min = watch_retry_min_;
  settings.retry_max = watch_retry_max_;
  return std::make_unique<EtcdStoreWatch>(std::move(settings), std::move(*stream),
                                          std::move(changed));
}

std::string EtcdStore::spokeKey(std::string_view name) const {
  return fmt::format("{}spokes/{}", prefix_, name);
}

std::vector<EtcdStore::Claim> EtcdStore::claimsOf(const peers::Spoke& spoke) const {
  // In SqliteStore's order, so both name the same claim first.
  std::vector<Claim> out;
  for (const peers::Tunnel& tunnel : spoke.tunnels) {
    std::string inside = tunnel.inside_cidr.toString();
    out.push_back({fmt::format("{}claims/inside/{}", prefix_, inside), "tunnel inside network",
                   std::move(inside)});
    // Per hub: a site with one public address connects to both hubs from it.
    const std::string outside = tunnel.outside_ip.toString();
    out.push_back({fmt::format("{}claims/outside/{}/{}", prefix_, tunnel.hub, outside),
                   "tunnel outside address", fmt::format("{} (on hub {})", outside, tunnel.hub)});
  }
  if (spoke.route_tag != 0) {  // 0: not allocated yet (a version 1 record), nothing to claim
    std::string tag = std::to_string(spoke.route_tag);
    out.push_back({fmt::format("{}claims/tag/{}", prefix_, tag), "route tag", std::move(tag)});
  }
  return out;
}

namespace {

// kConflict when one spoke names a claim twice (etcd would refuse a txn that puts a key twice).
template <typename Claims>
std::optional<StoreError> listedTwice(const Claims& claims, std::string_view name) {
  for (std::size_t i = 0; i < claims.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      if (claims[j].key == claims[i].key) {
        return conflict(fmt::format("{} {} is listed twice in spoke '{}'", claims[i].kind,
                                    claims[i].text, name));
      }
    }
  }
  return std::nullopt;
}

}  // namespace

std::expected<json::value, StoreError> EtcdStore::post(std::string_view path,
                                                       const json::value& body,
                                                       std::string_view what) {
  auto answer = transport_->post(path, body);
  if (!answer) {
    StoreError failure = fromEtcd(answer.error(), what);
    heard(failure, answer.error().kind == EtcdErrorKind::kUnavailable);
    return std::unexpected(std::move(failure));
  }
  heard(std::nullopt, false);
  return std::move(*answer);
}

void EtcdStore::heard(const std::optional<StoreError>& failure, bool transient) const {
  std::lock_guard lock(health_mutex_);
  last_heard_ = now_();
  last_failure_ = failure;
  last_failure_transient_ = transient;
}

std::expected<void, StoreError> EtcdStore::check() const {
  auto outcome = [this]() -> std::expected<void, StoreError> {
    if (last_failure_) return std::unexpected(*last_failure_);
    return {};
  };
  {
    std::lock_guard lock(health_mutex_);
    if (last_heard_ && now_() - *last_heard_ < quiet_before_probe_) return outcome();
  }
  std::unique_lock probing(probe_mutex_, std::try_to_lock);
  if (!probing.owns_lock()) {  // another thread is probing: do not queue behind it
    std::lock_guard lock(health_mutex_);
    return outcome();
  }
  std::optional<StoreError> failure;
  const auto answer = probe_->post(kStatusPath, json::object{});
  if (!answer) {
    failure = fromEtcd(answer.error(), "the health probe");
  } else if (auto status = etcd::parseStatusResponse(*answer); !status) {
    failure = fromEtcd(status.error(), "the health probe");
  } else if (!status->errors.empty() || status->leader == 0) {
    std::string problems;
    for (const auto& e : status->errors) problems += (problems.empty() ? "" : "; ") + e;
    failure = error(StoreErrorCode::kUnavailable,
                    fmt::format("etcd store: the etcd member reports {}",
                                problems.empty() ? std::string("no leader") : problems));
  }
  std::lock_guard lock(health_mutex_);
  last_heard_ = now_();
  if (failure) {
    last_failure_ = std::move(failure);
    last_failure_transient_ = true;
  } else if (last_failure_transient_) {
    last_failure_.reset();  // a refusal (a wrong password) stays until a call succeeds
  }
  return outcome();
}

std::expected<StoreContents, StoreError> EtcdStore::load() {
  constexpr std::string_view kWhat = "loading the spokes";
  const std::string from = fmt::format("{}spokes/", prefix_);
  auto answer = post(kRangePath, etcd::rangeRequest(from, etcd::prefixEnd(from)), kWhat);
  if (!answer) return std::unexpected(answer.error());
  auto range = etcd::parseRangeResponse(*answer);
  if (!range) return std::unexpected(fromEtcd(range.error(), kWhat));
  StoreContents out;
  out.revision = static_cast<std::uint64_t>(range->revision);
  loaded_revision_ = range->revision;
  out.spokes.reserve(range->kvs.size());
  for (const etcd::KeyValue& kv : range->kvs) {
    if (!kv.key.starts_with(from)) {
      return std::unexpected(fromEtcd(
          EtcdError{EtcdErrorKind::kCorrupt, "the range answer holds a key outside the range"},
          kWhat));
    }
    auto spoke = decodeRecord(std::string_view(kv.key).substr(from.size()), kv.value, hub_name_);
    if (!spoke) return std::unexpected(spoke.error());
    out.spokes.push_back(std::move(*spoke));
  }
  std::ranges::sort(out.spokes, {}, &peers::Spoke::name);
  return out;
}

std::vector<StoreWriteResult> EtcdStore::apply(std::span<const StoreWrite> writes) {
  std::vector<StoreWriteResult> results;
  results.reserve(writes.size());
  std::optional<StoreError> down;  // set once a write found etcd unavailable
  for (const StoreWrite& write : writes) {
    if (down) {
      results.push_back(std::unexpected(error(
          StoreErrorCode::kUnavailable,
          fmt::format("etcd store: {} not attempted after an earlier write of the batch failed: {}",
                      describeWrite(write), down->message))));
      continue;
    }
    StoreWriteResult result = writeOne(write);
    if (!result && result.error().code == StoreErrorCode::kUnavailable) down = result.error();
    results.push_back(std::move(result));
  }
  return results;
}

StoreWriteResult EtcdStore::writeOne(const StoreWrite& write) {
  StoreWriteResult result;
  switch (write.kind) {
    case StoreWrite::Kind::kCreate:
      result = writeCreate(*write.spoke, write.audit);
      break;
    case StoreWrite::Kind::kReplace:
      result = writeReplace(*write.spoke, write.expected_generation, write.audit);
      break;
    case StoreWrite::Kind::kRemove:
      result = writeRemove(write.name, write.expected_generation, write.audit);
      break;
  }
  if (result && write.audit != nullptr && ++audit_written_ % kAuditCountCheck == 1) {
    trimAuditCount();  // the first record after start, then every kAuditCountCheck
  }
  return result;
}

void EtcdStore::addAuditOps(const AuditRecord* audit, std::vector<etcd::RequestOp>& success) {
  if (audit == nullptr) return;
  const std::int64_t at = audit->at.time_since_epoch().count();
  success.push_back(
      etcd::putOp(fmt::format("{}{:016}-{}-{}", auditPrefix(), std::max<std::int64_t>(0, at),
                              hub_name_, audit_written_ + 1),
                  encodeAuditRecord(*audit)));
  const auto max_age =
      std::chrono::duration_cast<std::chrono::milliseconds>(auditRetention().max_age).count();
  if (at > max_age) {
    // Every key below the cutoff's is older; the new record's key is above it.
    success.push_back(
        etcd::deleteOp(auditPrefix(), fmt::format("{}{:016}", auditPrefix(), at - max_age)));
  }
}

void EtcdStore::trimAuditCount() {
  constexpr std::string_view kWhat = "trimming the audit trail";
  const std::string from = auditPrefix();
  const std::string end = etcd::prefixEnd(from);
  etcd::RangeOptions count_only;
  count_only.count_only = true;
  auto counted = post(kRangePath, etcd::rangeRequest(from, end, count_only), kWhat);
  auto range = counted ? etcd::parseRangeResponse(*counted)
                       : std::expected<etcd::RangeResponse, EtcdError>(
                             std::unexpected(EtcdError{EtcdErrorKind::kUnavailable, ""}));
  if (!counted || !range) {
    spdlog::warn("etcd store: cannot count the audit trail's records; trying again later");
    return;
  }
  const auto keep =
      static_cast<std::int64_t>(std::max<std::size_t>(1, auditRetention().max_records));
  if (range->count <= keep) return;
  etcd::RangeOptions oldest;
  oldest.keys_only = true;
  oldest.limit = range->count - keep;
  auto listed = post(kRangePath, etcd::rangeRequest(from, end, oldest), kWhat);
  auto keys = listed ? etcd::parseRangeResponse(*listed)
                     : std::expected<etcd::RangeResponse, EtcdError>(
                           std::unexpected(EtcdError{EtcdErrorKind::kUnavailable, ""}));
  if (!listed || !keys || keys->kvs.empty()) {
    spdlog::warn("etcd store: cannot list the audit trail's oldest records; trying again later");
    return;
  }
  // Up to and including the last of them: [from, last + "\0").
  std::string last_end = keys->kvs.back().key;
  last_end.push_back('\0');
  if (auto deleted = post(kDeleteRangePath, etcd::deleteRangeRequest(from, last_end), kWhat);
      !deleted) {
    spdlog::warn("etcd store: cannot trim the audit trail: {}", deleted.error().message);
    return;
  }
  spdlog::info("etcd store: trimmed the audit trail to its {} newest records", keep);
}

std::expected<AuditPage, StoreError> EtcdStore::readAudit(const AuditQuery& query) const {
  constexpr std::string_view kWhat = "reading the audit trail";
  const std::string from = auditPrefix();
  // Newest first: keys below the cursor's (exclusive), descending.
  std::string end = query.before.empty() ? etcd::prefixEnd(from) : from + query.before;
  AuditPage page;
  // A spoke's records are found among everyone's: read in chunks until the page is full.
  const std::int64_t chunk = static_cast<std::int64_t>(
      query.spoke.empty() ? query.limit + 1 : std::max<std::size_t>(256, query.limit + 1));
  for (;;) {
    etcd::RangeOptions options;
    options.limit = chunk;
    options.descending = true;
    std::expected<json::value, EtcdError> answer;
    if (reader_) {
      std::lock_guard lock(reader_mutex_);
      answer = reader_->post(kRangePath, etcd::rangeRequest(from, end, options));
    } else {
      std::lock_guard lock(probe_mutex_);
      answer = probe_->post(kRangePath, etcd::rangeRequest(from, end, options));
    }
    if (!answer) return std::unexpected(fromEtcd(answer.error(), kWhat));
    auto range = etcd::parseRangeResponse(*answer);
    if (!range) return std::unexpected(fromEtcd(range.error(), kWhat));
    for (const etcd::KeyValue& kv : range->kvs) {
      if (!kv.key.starts_with(from) || kv.key >= end) {
        return std::unexpected(fromEtcd(
            EtcdError{EtcdErrorKind::kCorrupt, "the range answer holds a key outside it"}, kWhat));
      }
      auto record = decodeAuditRecord(kv.value);
      if (!record) {
        return std::unexpected(error(
            StoreErrorCode::kCorrupt,
            fmt::format("etcd store: audit record {} cannot be read: {}", kv.key, record.error())));
      }
      if (!query.spoke.empty() && record->spoke != query.spoke) continue;
      if (page.records.size() == query.limit) {
        page.next = page.records.back().id;
        return page;
      }
      record->id = kv.key.substr(from.size());
      record->revision = static_cast<std::uint64_t>(kv.mod_revision);
      page.records.push_back(std::move(*record));
    }
    if (!range->more || range->kvs.empty()) return page;
    end = range->kvs.back().key;  // the next chunk: below the last key read
  }
}

std::expected<std::optional<EtcdStore::Stored>, StoreError> EtcdStore::readSpoke(
    std::string_view name, std::string_view what) {
  const std::string key = spokeKey(name);
  auto answer = post(kRangePath, etcd::rangeRequest(key), what);
  if (!answer) return std::unexpected(answer.error());
  auto range = etcd::parseRangeResponse(*answer);
  if (!range) return std::unexpected(fromEtcd(range.error(), what));
  if (range->kvs.empty()) return std::nullopt;
  const etcd::KeyValue& kv = range->kvs.front();
  if (kv.key != key) {
    return std::unexpected(
        fromEtcd(EtcdError{EtcdErrorKind::kCorrupt, "the range answer holds another key"}, what));
  }
  auto spoke = decodeRecord(name, kv.value, hub_name_);
  if (!spoke) return std::unexpected(spoke.error());
  return Stored{std::move(*spoke), kv.mod_revision};
}

namespace {

// The txn's answer; on failure its branch must have answered every range it asked.
std::expected<etcd::TxnResponse, StoreError> parseTxn(std::expected<json::value, StoreError> answer,
                                                      std::size_t failure_ops,
                                                      std::string_view what) {
  if (!answer) return std::unexpected(answer.error());
  auto txn = etcd::parseTxnResponse(*answer);
  if (!txn) return std::unexpected(fromEtcd(txn.error(), what));
  if (!txn->succeeded && txn->responses.size() != failure_ops) {
    return std::unexpected(fromEtcd(
        EtcdError{EtcdErrorKind::kCorrupt, fmt::format("the failed txn answered {} ranges of {}",
                                                       txn->responses.size(), failure_ops)},
        what));
  }
  return std::move(*txn);
}

// Whether `kv` (nullptr: the key absent) is what a write left: `written`, or no key.
bool holdsWritten(const etcd::KeyValue* kv, const std::optional<std::string>& written) {
  return written ? kv != nullptr && kv->value == *written : kv == nullptr;
}

}  // namespace

std::expected<etcd::TxnResponse, StoreError> EtcdStore::sendTxn(
    const json::value& request, std::size_t failure_ops, std::string_view what,
    const std::string& key, const std::optional<std::string>& written) {
  auto answer = transport_->post(kTxnPath, request);
  bool resent = false;
  if (!answer && answer.error().outcome_unknown) {
    // A linearizable read is served only by a leader that has committed an entry of its own
    // term, so the lost proposal has committed by now or never will: the key says which.
    auto read = transport_->post(kRangePath, etcd::rangeRequest(key));
    auto range = read
                     ? etcd::parseRangeResponse(*read)
                     : std::expected<etcd::RangeResponse, EtcdError>(std::unexpected(read.error()));
    if (range) {
      const etcd::KeyValue* kv = range->kvs.empty() ? nullptr : &range->kvs.front();
      if (holdsWritten(kv, written)) {
        spdlog::warn("etcd store: the answer to the {} was lost ({}); etcd applied it", what,
                     answer.error().message);
        heard(std::nullopt, false);
        etcd::TxnResponse applied;
        applied.succeeded = true;
        applied.revision = kv != nullptr ? kv->mod_revision : range->revision;
        return applied;
      }
      spdlog::warn(
          "etcd store: the answer to the {} was lost ({}); etcd did not apply it: "
          "sending it again",
          what, answer.error().message);
      answer = transport_->post(kTxnPath, request);
      resent = true;
    }
  }
  if (!answer) {
    StoreError failure = fromEtcd(answer.error(), what);
    heard(failure, answer.error().kind == EtcdErrorKind::kUnavailable);
    return std::unexpected(std::move(failure));
  }
  heard(std::nullopt, false);
  auto txn = parseTxn(std::move(*answer), failure_ops, what);
  // The first send can still have landed after the read (a slow commit, no lost leader): then
  // this one's compares fail on the key as the first one left it.
  if (resent && txn && !txn->succeeded && holdsWritten(found(txn->responses[0]), written)) {
    const etcd::KeyValue* kv = found(txn->responses[0]);
    txn->succeeded = true;
    if (kv != nullptr) txn->revision = kv->mod_revision;
  }
  return txn;
}

StoreWriteResult EtcdStore::writeCreate(const peers::Spoke& spoke, const AuditRecord* audit) {
  const std::string what = fmt::format("create of spoke '{}'", spoke.name);
  const std::vector<Claim> claims = claimsOf(spoke);
  if (auto twice = listedTwice(claims, spoke.name)) return std::unexpected(std::move(*twice));
  const std::string key = spokeKey(spoke.name);
  std::vector<etcd::Compare> compare{etcd::absent(key)};
  const std::string record = encodeRecord(spoke);
  std::vector<etcd::RequestOp> success{etcd::putOp(key, record)};
  std::vector<etcd::RequestOp> failure{etcd::rangeOp(key)};
  for (const Claim& claim : claims) {
    compare.push_back(etcd::absent(claim.key));
    success.push_back(etcd::putOp(claim.key, spoke.name));
    failure.push_back(etcd::rangeOp(claim.key));
  }
  addAuditOps(audit, success);
  auto txn =
      sendTxn(etcd::txnRequest(compare, success, failure), failure.size(), what, key, record);
  if (!txn) return std::unexpected(txn.error());
  if (txn->succeeded) return static_cast<std::uint64_t>(txn->revision);
  if (found(txn->responses[0]) != nullptr) {
    return std::unexpected(conflict(fmt::format("spoke '{}' already exists", spoke.name)));
  }
  for (std::size_t i = 0; i < claims.size(); ++i) {
    if (const etcd::KeyValue* holder = found(txn->responses[i + 1])) {
      return std::unexpected(conflict(fmt::format("{} {} is already used by spoke '{}'",
                                                  claims[i].kind, claims[i].text, holder->value)));
    }
  }
  return std::unexpected(unexplained(what));
}

StoreWriteResult EtcdStore::writeReplace(const peers::Spoke& spoke,
                                         std::uint64_t expected_generation,
                                         const AuditRecord* audit) {
  const std::string what = fmt::format("replace of spoke '{}'", spoke.name);
  auto stored = readSpoke(spoke.name, what);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) {
    return std::unexpected(
        error(StoreErrorCode::kNotFound, fmt::format("spoke '{}' does not exist", spoke.name)));
  }
  const Stored& before = **stored;
  if (before.spoke.generation != expected_generation) {
    return std::unexpected(conflict(fmt::format("spoke '{}' has generation {}, not {}", spoke.name,
                                                before.spoke.generation, expected_generation)));
  }
  const std::vector<Claim> claims = claimsOf(spoke);
  if (auto twice = listedTwice(claims, spoke.name)) return std::unexpected(std::move(*twice));
  // The claims it keeps stay as they are; it takes the new ones and lets the others go.
  std::set<std::string> held;
  for (const Claim& claim : claimsOf(before.spoke)) held.insert(claim.key);
  std::vector<const Claim*> added;
  for (const Claim& claim : claims) {
    if (held.erase(claim.key) == 0) added.push_back(&claim);
  }
  const std::string key = spokeKey(spoke.name);
  const std::string record = encodeRecord(spoke);
  std::vector<etcd::Compare> compare{etcd::unchangedSince(key, before.mod_revision)};
  std::vector<etcd::RequestOp> success{etcd::putOp(key, record)};
  std::vector<etcd::RequestOp> failure{etcd::rangeOp(key)};
  for (const Claim* claim : added) {
    compare.push_back(etcd::absent(claim->key));
    success.push_back(etcd::putOp(claim->key, spoke.name));
    failure.push_back(etcd::rangeOp(claim->key));
  }
  for (const std::string& dropped : held) success.push_back(etcd::deleteOp(dropped));
  addAuditOps(audit, success);
  auto txn =
      sendTxn(etcd::txnRequest(compare, success, failure), failure.size(), what, key, record);
  if (!txn) return std::unexpected(txn.error());
  if (txn->succeeded) return static_cast<std::uint64_t>(txn->revision);
  const etcd::KeyValue* now = found(txn->responses[0]);
  if (now == nullptr) {
    return std::unexpected(
        error(StoreErrorCode::kNotFound, fmt::format("spoke '{}' does not exist", spoke.name)));
  }
  if (now->mod_revision != before.mod_revision) {
    auto current = decodeRecord(spoke.name, now->value, hub_name_);
    if (current && current->generation != expected_generation) {
      return std::unexpected(
          conflict(fmt::format("spoke '{}' has generation {}, not {}", spoke.name,
                               current->generation, expected_generation)));
    }
    return std::unexpected(
        conflict(fmt::format("spoke '{}' was changed by another writer (at revision {})",
                             spoke.name, now->mod_revision)));
  }
  for (std::size_t i = 0; i < added.size(); ++i) {
    if (const etcd::KeyValue* holder = found(txn->responses[i + 1])) {
      return std::unexpected(conflict(fmt::format("{} {} is already used by spoke '{}'",
                                                  added[i]->kind, added[i]->text, holder->value)));
    }
  }
  return std::unexpected(unexplained(what));
}

StoreWriteResult EtcdStore::writeRemove(std::string_view name, std::uint64_t expected_generation,
                                        const AuditRecord* audit) {
  const std::string what = fmt::format("removal of spoke '{}'", name);
  auto stored = readSpoke(name, what);
  if (!stored) return std::unexpected(stored.error());
  if (!*stored) {
    return std::unexpected(
        error(StoreErrorCode::kNotFound, fmt::format("spoke '{}' does not exist", name)));
  }
  const Stored& before = **stored;
  if (before.spoke.generation != expected_generation) {
    return std::unexpected(conflict(fmt::format("spoke '{}' has generation {}, not {}", name,
                                                before.spoke.generation, expected_generation)));
  }
  const std::string key = spokeKey(name);
  std::set<std::string> held;
  for (const Claim& claim : claimsOf(before.spoke)) held.insert(claim.key);
  const std::vector<etcd::Compare> compare{etcd::unchangedSince(key, before.mod_revision)};
  std::vector<etcd::RequestOp> success{etcd::deleteOp(key)};
  for (const std::string& claim : held) success.push_back(etcd::deleteOp(claim));
  addAuditOps(audit, success);
  const std::vector<etcd::RequestOp> failure{etcd::rangeOp(key)};
  auto txn =
      sendTxn(etcd::txnRequest(compare, success, failure), failure.size(), what, key, std::nullopt);
  if (!txn) return std::unexpected(txn.error());
  if (txn->succeeded) return static_cast<std::uint64_t>(txn->revision);
  const etcd::KeyValue* now = found(txn->responses[0]);
  if (now == nullptr) {
    return std::unexpected(
        error(StoreErrorCode::kNotFound, fmt::format("spoke '{}' does not exist", name)));
  }
  auto current = decodeRecord(name, now->value, hub_name_);
  if (current && current->generation != expected_generation) {
    return std::unexpected(conflict(fmt::format("spoke '{}' has generation {}, not {}", name,
                                                current->generation, expected_generation)));
  }
  return std::unexpected(conflict(fmt::format(
      "spoke '{}' was changed by another writer (at revision {})", name, now->mod_revision)));
}

}  // namespace transit::hub
