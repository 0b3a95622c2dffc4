// Registry: every change it writes carries its audit record (who, which request, what changed,
// when), written in the change's own store transaction, and one journal line.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <spdlog/spdlog.h>

#include <boost/json.hpp>
#include <chrono>
#include <string>
#include <vector>

#include "hub/core/registry.hpp"
#include "tests/fakes/log_capture.hpp"
#include "tests/fakes/manual_clock.hpp"
#include "tests/fakes/memory_store.hpp"

namespace transit::hub {
namespace {

using peers::SpokeDraft;
using peers::TunnelDraft;
using ::testing::HasSubstr;
using ::testing::Not;

SpokeDraft vpcDraft(std::string name, std::string cidr, std::string outside) {
  SpokeDraft d;
  d.name = std::move(name);
  d.kind = "vpc";
  d.cidrs = std::vector<std::string>{std::move(cidr)};
  d.asn = 64512;
  d.tunnels = std::vector<TunnelDraft>{TunnelDraft{std::move(outside), std::nullopt, std::nullopt}};
  return d;
}

class RegistryAuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    spdlog::set_level(spdlog::level::warn);
    Registry::Options options;
    options.validation.hub_asn = 65000;
    options.validation.hub_name = "hub-a";
    options.validation.hub_addresses = {*Ipv4Address::parse("203.0.113.10")};
    options.psk_source = [this] { return "generatedSekr3t" + std::to_string(++psk_counter_); };
    auto created = Registry::create(store_, clock_, nullptr, std::move(options));
    ASSERT_TRUE(created.has_value()) << created.error().message;
    registry_ = std::move(*created);
  }

  std::vector<AuditRecord> trail(std::string spoke = {}) {
    auto page = registry_->readAudit(AuditQuery{1000, "", std::move(spoke)});
    EXPECT_TRUE(page.has_value());
    return page ? page->records : std::vector<AuditRecord>{};
  }

  static const AuditChange* change(const AuditRecord& record, std::string_view field) {
    for (const auto& c : record.changes) {
      if (c.field == field) return &c;
    }
    return nullptr;
  }

  fakes::MemoryStore store_;
  fakes::ManualClock clock_;
  int psk_counter_ = 0;
  std::unique_ptr<Registry> registry_;
};

TEST_F(RegistryAuditTest, EachChangeIsRecordedWithWhoWhichRequestWhatAndWhen) {
  const ChangeOrigin alice{"alice-admin", "req-1", ""};
  ASSERT_TRUE(registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"), alice));
  clock_.advance(std::chrono::seconds(90));
  ASSERT_TRUE(registry_->replace("prod-a", vpcDraft("prod-a", "10.2.0.0/16", "198.51.100.10"), 1,
                                 ChangeOrigin{"bob-admin", "req-2", ""}));
  clock_.advance(std::chrono::seconds(30));
  ASSERT_TRUE(registry_->remove("prod-a", 2, ChangeOrigin{"carol-admin", "req-3", ""}));

  const auto records = trail();
  ASSERT_EQ(records.size(), 3U);
  const AuditRecord& removed = records[0];
  const AuditRecord& replaced = records[1];
  const AuditRecord& created = records[2];

  EXPECT_EQ(created.action, "create");
  EXPECT_EQ(created.actor, "alice-admin");
  EXPECT_EQ(created.request_id, "req-1");
  EXPECT_EQ(created.hub, "hub-a");
  EXPECT_EQ(created.spoke, "prod-a");
  EXPECT_EQ(created.generation, 1U);
  EXPECT_EQ(created.at, std::chrono::time_point_cast<std::chrono::milliseconds>(
                            clock_.now() - std::chrono::seconds(120)));
  // A create lists what the spoke holds: nothing before, the value after.
  const AuditChange* cidrs = change(created, "cidrs");
  ASSERT_NE(cidrs, nullptr);
  EXPECT_FALSE(cidrs->before.has_value());
  EXPECT_EQ(cidrs->after, boost::json::value(boost::json::array{"10.1.0.0/16"}));

  EXPECT_EQ(replaced.action, "replace");
  EXPECT_EQ(replaced.actor, "bob-admin");
  EXPECT_EQ(replaced.generation, 2U);
  // Only what changed, by its path.
  ASSERT_EQ(replaced.changes.size(), 1U);
  EXPECT_EQ(replaced.changes[0].field, "cidrs[0]");
  EXPECT_EQ(replaced.changes[0].before, boost::json::value("10.1.0.0/16"));
  EXPECT_EQ(replaced.changes[0].after, boost::json::value("10.2.0.0/16"));

  EXPECT_EQ(removed.action, "delete");
  EXPECT_EQ(removed.actor, "carol-admin");
  EXPECT_EQ(removed.generation, 2U);
  const AuditChange* gone = change(removed, "cidrs");
  ASSERT_NE(gone, nullptr);
  EXPECT_FALSE(gone->after.has_value());
  EXPECT_GT(removed.revision, replaced.revision);
  EXPECT_GT(replaced.revision, created.revision);
}

TEST_F(RegistryAuditTest, APskIsNeverRecordedButItsChangeIs) {
  SpokeDraft draft = vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10");
  (*draft.tunnels)[0].psk = "firstSekr3tKey_1";
  ASSERT_TRUE(registry_->create(draft, ChangeOrigin{"alice-admin", "req-1", ""}));
  (*draft.tunnels)[0].psk = "secondSekr3tKey_2";
  ASSERT_TRUE(registry_->replace("prod-a", draft, 1, ChangeOrigin{"alice-admin", "req-2", ""}));
  const auto records = trail();
  ASSERT_EQ(records.size(), 2U);
  for (const auto& record : records) {
    EXPECT_THAT(encodeAuditRecord(record), Not(HasSubstr("Sekr3t")));
    EXPECT_THAT(boost::json::serialize(auditRecordJson(record)), Not(HasSubstr("Sekr3t")));
  }
  ASSERT_EQ(records[0].changes.size(), 1U);
  EXPECT_EQ(records[0].changes[0].field, "tunnels[0].psk");
  EXPECT_TRUE(records[0].changes[0].secret);
}

TEST_F(RegistryAuditTest, ARefusedOrEmptyChangeRecordsNothing) {
  ASSERT_TRUE(registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10")));
  // Refused: another spoke's CIDR; a stale generation; a store that cannot write.
  EXPECT_FALSE(registry_->create(vpcDraft("prod-b", "10.1.0.0/16", "198.51.100.11")));
  EXPECT_FALSE(registry_->replace("prod-a", vpcDraft("prod-a", "10.2.0.0/16", "198.51.100.10"), 7));
  store_.failNextWrites(1, StoreErrorCode::kUnavailable);
  EXPECT_FALSE(registry_->create(vpcDraft("prod-c", "10.3.0.0/16", "198.51.100.12")));
  // A PUT of what is stored changes nothing and writes nothing.
  EXPECT_TRUE(registry_->replace("prod-a", vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"), 1));
  const auto records = trail();
  ASSERT_EQ(records.size(), 1U);
  EXPECT_EQ(records[0].actor, "hub");  // no origin given: the hub itself
}

TEST_F(RegistryAuditTest, AnImportIsRecordedAsSuchAndANamedUpdateAsItsAction) {
  ASSERT_TRUE(registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"),
                                ChangeOrigin{"ci", "req-1", "import"}));
  ASSERT_TRUE(registry_->update(
      "aws-reimport", "prod-a", std::nullopt,
      [](const peers::Spoke&) -> std::expected<SpokeDraft, HubError> {
        return vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.20");
      },
      ChangeOrigin{"ci", "req-2", "reimport"}));
  const auto records = trail();
  ASSERT_EQ(records.size(), 2U);
  EXPECT_EQ(records[1].action, "import");
  EXPECT_EQ(records[0].action, "reimport");
  const AuditChange* outside = change(records[0], "tunnels[0].outside_ip");
  ASSERT_NE(outside, nullptr);
  EXPECT_EQ(outside->after, boost::json::value("198.51.100.20"));
}

TEST_F(RegistryAuditTest, EachWrittenChangeHasOneJournalLineNamingWhoAndWhat) {
  fakes::LogCapture log;
  ASSERT_TRUE(registry_->create(vpcDraft("prod-a", "10.1.0.0/16", "198.51.100.10"),
                                ChangeOrigin{"alice-admin", "req-9", ""}));
  ASSERT_TRUE(registry_->replace("prod-a", vpcDraft("prod-a", "10.2.0.0/16", "198.51.100.10"), 1,
                                 ChangeOrigin{"bob-admin", "req-10", ""}));
  const std::string text = log.text();
  EXPECT_THAT(text, HasSubstr("audit: create of spoke prod-a by alice-admin (request req-9)"));
  EXPECT_THAT(text, HasSubstr("audit: replace of spoke prod-a by bob-admin (request req-10)"));
  EXPECT_THAT(text, HasSubstr("changed cidrs[0]"));
  EXPECT_THAT(text, Not(HasSubstr("Sekr3t")));
}

}  // namespace
}  // namespace transit::hub
