// EtcdStore: the Store the HA pair shares, kept in etcd 3.4 through its JSON gateway.
//
// Owns: two EtcdTransports (the writer's and the health probe's) and the outcome of the last
// call. Built once by main.cpp; load() runs at start-up, then every write comes from the
// Registry's writer thread (one thread at a time). check() and describe() may be called from
// any thread (/readyz calls check() on every probe).
//
// Layout under the prefix (default "/transit-hub/"):
//   spokes/<name>          the spoke's record (record_codec.hpp), JSON
//   claims/inside/<cidr>   the name of the spoke that holds this tunnel inside /30
//   claims/outside/<hub>/<ip>  ... this tunnel outside address on that hub (one address may
//                          reach both hubs of the pair)
//   claims/tag/<n>         ... this route tag (tag 0, not allocated, claims nothing)
//   audit/<ms>-<hub>-<n>   an audit record (audit.hpp): the change's wall time in milliseconds
//                          (16 digits, so keys sort by time), the hub that wrote it, and that
//                          hub's count of records since it started; written in the change's txn,
//                          which also deletes the records older than the retention's age. The
//                          count bound is kept every kAuditCountCheck records (a count, then one
//                          delete of the oldest). The watch does not follow this range.
// Each write is one etcd txn, so a spoke and its claims change together or not at all, and two
// hubs writing at once cannot both take a name, a /30, an address or a tag:
// - create: CREATE == 0 on the spoke key and every claim key; puts them all;
// - replace and remove read the spoke first (kNotFound if absent, kConflict if its generation is
//   not the expected one), then write guarded by MOD == the mod_revision read (and CREATE == 0
//   on every claim the new record adds), dropping the claims it no longer holds.
// A refused txn reads the keys in its failure branch, in the same revision, and reports what
// held (gone: kNotFound; changed: kConflict; a claim: kConflict naming the holder, in the words
// SqliteStore uses). A write is acknowledged only once etcd answered that it succeeded, or a
// read showed that it did when its answer was lost (sendTxn()).
// Revisions: the store's revision is etcd's (header.revision), shared with every key in the
// cluster; it advances by one per write of this store when nothing else writes to etcd. An
// empty etcd is at revision 1.
// apply() runs each write as its own txn, in order; after one finds etcd unavailable the rest
// fail at once with its error rather than wait out a timeout each.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <expected>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "hub/store/etcd/etcd_client.hpp"
#include "hub/store/store.hpp"

namespace transit::hub {

struct EtcdStoreOptions {
  std::vector<std::string> endpoints;  // EtcdClientOptions::endpoints
  std::string prefix = "/transit-hub/";
  // This hub's name: the tunnels of a record written before tunnels named their hub are its.
  std::string hub_name;
  EtcdTlsOptions tls;
  std::string user;  // empty: etcd without authentication
  std::string password;
  std::chrono::milliseconds timeout{10000};  // one request on one endpoint
  std::chrono::milliseconds connect_timeout{2000};
  // check() probes etcd (a POST to /v3/maintenance/status, which needs no credentials) when
  // nothing was heard from it for this long, with probe_timeout; otherwise it answers with the
  // last call's outcome.
  std::chrono::milliseconds quiet_before_probe{3000};
  std::chrono::milliseconds probe_timeout{1000};
  // watch(): while the stream is quiet, a linearizable one-key range on the stream's endpoint
  // every watch_check_interval (within probe_timeout) checks that it still reaches a serving
  // etcd; a reconnect waits watch_retry_min, doubling up to watch_retry_max.
  std::chrono::milliseconds watch_check_interval{5000};
  std::chrono::milliseconds watch_retry_min{100};
  std::chrono::milliseconds watch_retry_max{2000};
  // The clock check() measures quiet time with; empty: std::chrono::steady_clock.
  std::function<std::chrono::steady_clock::time_point()> now;
};

class EtcdStore final : public Store {
 public:
  // Checks the options and builds the clients; does not contact etcd (load() does first).
  static std::expected<std::unique_ptr<EtcdStore>, StoreError> open(
      const EtcdStoreOptions& options);
  // Over given transports (tests: a fake that replays etcd's answers). `description` is what
  // describe() returns; options.endpoints, tls and credentials are not used.
  static std::unique_ptr<EtcdStore> withTransports(std::unique_ptr<EtcdTransport> transport,
                                                   std::unique_ptr<EtcdTransport> probe,
                                                   const EtcdStoreOptions& options,
                                                   std::string description);

  ~EtcdStore() override;
  EtcdStore(const EtcdStore&) = delete;
  EtcdStore& operator=(const EtcdStore&) = delete;

  std::expected<StoreContents, StoreError> load() override;
  std::vector<StoreWriteResult> apply(std::span<const StoreWrite> writes) override;
  // "etcd:http://10.0.1.5:2379,http://10.0.2.5:2379/transit-hub/" (never a credential).
  std::string describe() const override;
  // The last call's outcome, or a short status probe when etcd was quiet for a while (one at a
  // time; a caller that finds a probe running gets the last outcome at once).
  std::expected<void, StoreError> check() const override;
  // A thread with its own connection that keeps a watch (POST /v3/watch, header
  // Grpc-Metadata-hasleader) on the spokes/ range from the revision of the last load() + 1 (from
  // now if nothing was loaded): `changed(revision)` for each change it reports; changed(0) when
  // the watch is cut (canceled, compacted, an error in the stream, the stream ends, the
  // connection fails, a liveness check fails) and again once a new watch is set up (from the
  // last revision it knows), with a backoff between attempts. The watch's cut() says why it is
  // cut until a new watch is set up. Null for a store made withTransports (no endpoints to
  // watch).
  std::unique_ptr<StoreWatch> watch(StoreChanged changed) override;
  // Through its own connection (reads wait for no write), newest first.
  std::expected<AuditPage, StoreError> readAudit(const AuditQuery& query) const override;

  // Audit records written between two checks of the count bound.
  static constexpr std::uint64_t kAuditCountCheck = 128;

 private:
  struct Claim;
  struct Stored;

  EtcdStore(std::unique_ptr<EtcdTransport> transport, std::unique_ptr<EtcdTransport> probe,
            const EtcdStoreOptions& options, std::string description);

  StoreWriteResult writeOne(const StoreWrite& write);
  StoreWriteResult writeCreate(const peers::Spoke& spoke, const AuditRecord* audit);
  StoreWriteResult writeReplace(const peers::Spoke& spoke, std::uint64_t expected_generation,
                                const AuditRecord* audit);
  StoreWriteResult writeRemove(std::string_view name, std::uint64_t expected_generation,
                               const AuditRecord* audit);
  // The ops a write's success branch adds for its audit record: the record, and the deletion of
  // the records older than the retention's age.
  void addAuditOps(const AuditRecord* audit, std::vector<etcd::RequestOp>& success);
  // Keeps the count bound: deletes the oldest records beyond max_records. Failures are logged;
  // the next check tries again.
  void trimAuditCount();
  std::string auditPrefix() const { return prefix_ + "audit/"; }

  std::string spokeKey(std::string_view name) const;
  std::vector<Claim> claimsOf(const peers::Spoke& spoke) const;
  // The spoke as stored (nullopt if absent), with its key's mod_revision.
  std::expected<std::optional<Stored>, StoreError> readSpoke(std::string_view name,
                                                             std::string_view what);
  // POSTs through the writer's transport and remembers the outcome for check().
  std::expected<boost::json::value, StoreError> post(std::string_view path,
                                                     const boost::json::value& body,
                                                     std::string_view what);
  // Sends a write's txn (`failure_ops` ranges in its failure branch, the first of them the
  // spoke's key) and parses etcd's answer. When the answer is lost (etcd may or may not have
  // applied it: the leader died with the proposal, a connection broke), it reads the spoke's
  // key to find out: `written` there (nullopt: the key absent) means it was applied, and the
  // answer is a success at that key's revision; otherwise the txn is sent once more, which its
  // compares make safe (it cannot apply twice, nor over another writer's change). Only a
  // read that fails too leaves the outcome unknown (kUnavailable, "etcd may still apply it").
  std::expected<etcd::TxnResponse, StoreError> sendTxn(const boost::json::value& request,
                                                       std::size_t failure_ops,
                                                       std::string_view what,
                                                       const std::string& key,
                                                       const std::optional<std::string>& written);
  void heard(const std::optional<StoreError>& failure, bool transient) const;

  std::unique_ptr<EtcdTransport> transport_;
  std::unique_ptr<EtcdTransport> probe_;
  // readAudit()'s connection, guarded by reader_mutex_; null (withTransports): it reads through
  // the probe's, under probe_mutex_.
  std::unique_ptr<EtcdTransport> reader_;
  mutable std::mutex reader_mutex_;
  std::uint64_t audit_written_ = 0;  // audit records this store wrote (writer thread)
  std::string prefix_;
  std::string hub_name_;
  std::string description_;
  std::chrono::milliseconds quiet_before_probe_;
  std::function<std::chrono::steady_clock::time_point()> now_;
  std::optional<EtcdClientOptions> watch_client_;  // unset: withTransports, no watch
  std::chrono::milliseconds watch_check_interval_;
  std::chrono::milliseconds watch_check_timeout_;
  std::chrono::milliseconds watch_retry_min_;
  std::chrono::milliseconds watch_retry_max_;
  std::atomic<std::int64_t> loaded_revision_{0};  // header.revision of the last load()

  // The outcome of the last call, for check(); guarded by health_mutex_.
  mutable std::mutex health_mutex_;
  mutable std::optional<std::chrono::steady_clock::time_point> last_heard_;  // unset: never
  mutable std::optional<StoreError> last_failure_;  // unset: the last call worked
  mutable bool last_failure_transient_ = false;     // etcd unreachable, not a refusal
  mutable std::mutex probe_mutex_;                  // held while a probe runs
};

}  // namespace transit::hub
