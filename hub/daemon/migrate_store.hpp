// Store migration: copies a single hub's registry (SQLite) into the pair's store (etcd), for
// `transit-hubd --migrate-store --from-sqlite PATH --config CONFIG.yaml`.
//
// Owns nothing; one call on the main thread, with no registry, reconciler or server running.
// Every spoke is copied as stored (generation, route tag, inside /30s, outside addresses, PSKs,
// created/updated times) through the target's normal create, so the target holds the same
// claims (for etcd: on each /30, outside address and route tag) a create through the API makes.
// What it reports names spokes and counts, never a PSK.
#pragma once

#include <cstddef>
#include <expected>
#include <string>
#include <vector>

#include "hub/store/store.hpp"

namespace transit::hub {

struct MigrationReport {
  enum class Outcome {
    kCopied,           // the missing spokes were written; the target now holds every spoke
    kAlreadyMigrated,  // the target held every spoke already, identical: nothing written
  };
  Outcome outcome = Outcome::kCopied;
  std::vector<std::string> copied;  // the spokes written, by name
  std::size_t total = 0;            // the spokes of the source (all now in the target)
};

// Loads `from` and `to`; refuses, writing nothing, when `to` holds a spoke `from` lacks or one
// that differs from `from`'s (a re-run after a complete or interrupted migration finds only
// identical spokes and copies what is missing); otherwise creates every spoke `to` lacks, in
// name order, then reloads `to` and checks that it holds exactly `from`'s spokes. The error
// says what stood in the way and what was written before it (never a PSK).
std::expected<MigrationReport, std::string> migrateStore(Store& from, Store& to);

// The report as the command prints it: "copied 3 spoke(s) from A to B: x, y, z" or
// "already migrated, 3 spoke(s) in B".
std::string describeMigration(const MigrationReport& report, const Store& from, const Store& to);

}  // namespace transit::hub
