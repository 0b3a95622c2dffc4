// The store the configuration names: SqliteStore for store.sqlite (a single hub), EtcdStore for
// store.etcd (the pair). Called once by main.cpp on the main thread, before the registry.
#pragma once

#include <expected>
#include <memory>
#include <string>

#include "hub/config/config.hpp"
#include "hub/store/store.hpp"

namespace transit::hub {

// Opens the configured store; the error says which store and why (never a password). For etcd
// it reads store.etcd.password_file (at most 4 KiB; one trailing newline is not part of the
// password) and does not contact etcd (the registry's load() does, first).
std::expected<std::unique_ptr<Store>, std::string> openStore(const Config& config);

}  // namespace transit::hub
