#include "hub/daemon/migrate_store.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <string_view>

namespace transit::hub {
namespace {

using SpokeIndex = std::map<std::string, const peers::Spoke*, std::less<>>;

SpokeIndex indexByName(const StoreContents& contents) {
  SpokeIndex out;
  for (const auto& spoke : contents.spokes) out.emplace(spoke.name, &spoke);
  return out;
}

// Which of the spoke's fields differ, by name (a PSK's value never shows: only "tunnels").
std::string differences(const peers::Spoke& target, const peers::Spoke& source) {
  std::vector<std::string> fields;
  if (target.generation != source.generation) {
    fields.push_back(
        fmt::format("generation {} there, {} here", target.generation, source.generation));
  }
  if (target.route_tag != source.route_tag) {
    fields.push_back(
        fmt::format("route tag {} there, {} here", target.route_tag, source.route_tag));
  }
  if (target.tunnels != source.tunnels) fields.emplace_back("tunnels");
  if (target.created_at != source.created_at || target.updated_at != source.updated_at) {
    fields.emplace_back("created/updated times");
  }
  if (fields.empty()) fields.emplace_back("its configuration");
  std::string out;
  for (const auto& field : fields) out += (out.empty() ? "" : ", ") + field;
  return out;
}

std::string joinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& name : names) out += (out.empty() ? "" : ", ") + name;
  return out;
}

}  // namespace

std::expected<MigrationReport, std::string> migrateStore(Store& from, Store& to) {
  auto source = from.load();
  if (!source) {
    return std::unexpected(
        fmt::format("cannot read {}: {}", from.describe(), source.error().message));
  }
  auto target = to.load();
  if (!target) {
    return std::unexpected(
        fmt::format("cannot read {}: {}", to.describe(), target.error().message));
  }
  const SpokeIndex wanted = indexByName(*source);
  const SpokeIndex held = indexByName(*target);

  // Anything in the target that is not exactly what the source holds stops the migration
  // before a single write.
  std::vector<std::string> problems;
  for (const auto& [name, spoke] : held) {
    const auto it = wanted.find(name);
    if (it == wanted.end()) {
      problems.push_back(fmt::format("spoke {} is there but not in {}", name, from.describe()));
    } else if (!(*spoke == *it->second)) {
      problems.push_back(
          fmt::format("spoke {} differs ({})", name, differences(*spoke, *it->second)));
    }
  }
  if (!problems.empty()) {
    return std::unexpected(fmt::format(
        "refused, nothing written: {} already holds {} spoke(s) of another registry: {}",
        to.describe(), problems.size(), joinNames(problems)));
  }

  MigrationReport report;
  report.total = source->spokes.size();
  std::vector<const peers::Spoke*> missing;
  for (const auto& [name, spoke] : wanted) {
    if (!held.contains(name)) missing.push_back(spoke);
  }
  if (missing.empty()) {
    report.outcome = MigrationReport::Outcome::kAlreadyMigrated;
    return report;
  }

  // One create per spoke, each its own write (the target's normal create: its claims with it).
  std::vector<StoreWrite> writes;
  writes.reserve(missing.size());
  for (const peers::Spoke* spoke : missing) {
    writes.push_back(StoreWrite{StoreWrite::Kind::kCreate, spoke, spoke->name, 0});
  }
  const auto results = to.apply(writes);
  std::vector<std::string> refused;
  for (std::size_t i = 0; i < results.size(); ++i) {
    if (results[i]) {
      report.copied.push_back(missing[i]->name);
    } else {
      refused.push_back(fmt::format("{}: {}", missing[i]->name, results[i].error().message));
    }
  }
  if (!refused.empty()) {
    return std::unexpected(fmt::format(
        "{} of {} spoke(s) could not be written to {} ({}); written: {}. Once the cause is "
        "fixed, run the migration again: it copies what is missing",
        refused.size(), missing.size(), to.describe(), joinNames(refused),
        report.copied.empty() ? std::string("none") : joinNames(report.copied)));
  }

  // Read back: the target must now hold exactly the source's spokes.
  auto after = to.load();
  if (!after) {
    return std::unexpected(fmt::format("copied {} spoke(s) but cannot read {} back: {}",
                                       report.copied.size(), to.describe(), after.error().message));
  }
  if (after->spokes != source->spokes) {
    return std::unexpected(fmt::format(
        "copied {} spoke(s) but {} does not read back as {} holds them (another writer?)",
        report.copied.size(), to.describe(), from.describe()));
  }
  return report;
}

std::string describeMigration(const MigrationReport& report, const Store& from, const Store& to) {
  if (report.outcome == MigrationReport::Outcome::kAlreadyMigrated) {
    return fmt::format("already migrated, {} spoke(s) in {}", report.total, to.describe());
  }
  return fmt::format("copied {} spoke(s) from {} to {}: {}", report.copied.size(), from.describe(),
                     to.describe(), joinNames(report.copied));
}

}  // namespace transit::hub
