#include "hub/store/store.hpp"

namespace transit::hub {

StoreWriteResult Store::create(const peers::Spoke& spoke) {
  const StoreWrite write{StoreWrite::Kind::kCreate, &spoke, spoke.name, 0};
  return apply(std::span(&write, 1)).front();
}

StoreWriteResult Store::replace(const peers::Spoke& spoke, std::uint64_t expected_generation) {
  const StoreWrite write{StoreWrite::Kind::kReplace, &spoke, spoke.name, expected_generation};
  return apply(std::span(&write, 1)).front();
}

StoreWriteResult Store::remove(std::string_view name, std::uint64_t expected_generation) {
  const StoreWrite write{StoreWrite::Kind::kRemove, nullptr, std::string(name),
                         expected_generation};
  return apply(std::span(&write, 1)).front();
}

std::expected<AuditPage, StoreError> Store::readAudit(const AuditQuery& /*query*/) const {
  return std::unexpected(
      StoreError{StoreErrorCode::kUnavailable, describe() + " keeps no audit trail"});
}

}  // namespace transit::hub
