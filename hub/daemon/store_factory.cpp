#include "hub/daemon/store_factory.hpp"

#include <fmt/format.h>

#include <chrono>
#include <utility>

#include "hub/daemon/wiring.hpp"
#include "hub/store/etcd/etcd_store.hpp"
#include "hub/store/sqlite/sqlite_store.hpp"
#include "routing/base/file_io.hpp"

namespace transit::hub {

namespace {

AuditRetention auditRetention(const Config& config) {
  return AuditRetention{std::chrono::days(config.audit.retention_days), config.audit.max_records};
}

}  // namespace

std::expected<std::unique_ptr<Store>, std::string> openStore(const Config& config) {
  if (!config.store.etcd) {
    SqliteStoreOptions options;
    options.hub_name = config.hub.name;  // a record older than tunnels' hubs is this hub's
    auto store = SqliteStore::open(config.store.sqlite, options);
    if (!store) {
      return std::unexpected(fmt::format("cannot open the store {}: {}",
                                         config.store.sqlite.string(), store.error().message));
    }
    (*store)->setAuditRetention(auditRetention(config));
    return std::unique_ptr<Store>(std::move(*store));
  }
  const auto& etcd = *config.store.etcd;
  std::string password;
  if (!etcd.password_file.empty()) {
    constexpr std::size_t kMaxPassword = 4096;
    auto text = readFile(etcd.password_file, kMaxPassword);
    if (!text) {
      return std::unexpected(fmt::format("cannot read store.etcd.password_file: {}", text.error()));
    }
    password = std::move(*text);
    if (password.ends_with('\n')) password.pop_back();
    if (password.ends_with('\r')) password.pop_back();
    if (password.empty()) {
      return std::unexpected(
          fmt::format("store.etcd.password_file {} is empty", etcd.password_file.string()));
    }
  }
  auto options = etcdStoreOptions(etcd, std::move(password));
  options.hub_name = config.hub.name;  // a record older than tunnels' hubs is this hub's
  auto store = EtcdStore::open(options);
  if (!store) {
    return std::unexpected(fmt::format("cannot open the etcd store: {}", store.error().message));
  }
  (*store)->setAuditRetention(auditRetention(config));
  return std::unique_ptr<Store>(std::move(*store));
}

}  // namespace transit::hub
