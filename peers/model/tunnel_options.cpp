#include "peers/model/tunnel_options.hpp"

#include <boost/json.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <set>
#include <utility>

#include "peers/model/spoke.hpp"
#include "peers/model/tunnel_options_json.hpp"

namespace transit::peers {
namespace json = boost::json;

namespace {

template <typename Enum, std::size_t N>
std::optional<Enum> parseName(std::string_view text,
                              const std::array<std::pair<Enum, std::string_view>, N>& names) {
  for (const auto& [value, name] : names) {
    if (name == text) return value;
  }
  return std::nullopt;
}

template <typename Enum, std::size_t N>
std::string_view nameOf(Enum value, const std::array<std::pair<Enum, std::string_view>, N>& names) {
  for (const auto& [candidate, name] : names) {
    if (candidate == value) return name;
  }
  return "?";
}

template <typename Enum, std::size_t N>
std::string allowedNames(const std::array<std::pair<Enum, std::string_view>, N>& names) {
  std::string out;
  for (const auto& [value, name] : names) {
    out += out.empty() ? "" : ", ";
    out += name;
  }
  return out;
}

constexpr std::array<std::pair<IkeVersion, std::string_view>, 2> kIkeVersions{{
    {IkeVersion::kIkev1, "ikev1"},
    {IkeVersion::kIkev2, "ikev2"},
}};
constexpr std::array<std::pair<Encryption, std::string_view>, 4> kEncryptions{{
    {Encryption::kAes128, "AES128"},
    {Encryption::kAes256, "AES256"},
    {Encryption::kAes128Gcm16, "AES128-GCM-16"},
    {Encryption::kAes256Gcm16, "AES256-GCM-16"},
}};
constexpr std::array<std::pair<Integrity, std::string_view>, 4> kIntegrities{{
    {Integrity::kSha1, "SHA1"},
    {Integrity::kSha2_256, "SHA2-256"},
    {Integrity::kSha2_384, "SHA2-384"},
    {Integrity::kSha2_512, "SHA2-512"},
}};
constexpr std::array<std::pair<DpdAction, std::string_view>, 3> kDpdActions{{
    {DpdAction::kClear, "clear"},
    {DpdAction::kNone, "none"},
    {DpdAction::kRestart, "restart"},
}};
constexpr std::array<std::pair<StartupAction, std::string_view>, 2> kStartupActions{{
    {StartupAction::kAdd, "add"},
    {StartupAction::kStart, "start"},
}};

bool isGcm(Encryption e) { return e == Encryption::kAes128Gcm16 || e == Encryption::kAes256Gcm16; }
bool isModp(int group) { return group == 5 || (group >= 14 && group <= 18); }

std::string_view libreswanCipher(Encryption e) {
  switch (e) {
    case Encryption::kAes128:
      return "aes128";
    case Encryption::kAes256:
      return "aes256";
    case Encryption::kAes128Gcm16:
      return "aes_gcm128";
    case Encryption::kAes256Gcm16:
      return "aes_gcm256";
  }
  return "aes256";
}

std::string_view libreswanHash(Integrity i) {
  switch (i) {
    case Integrity::kSha1:
      return "sha1";
    case Integrity::kSha2_256:
      return "sha2_256";
    case Integrity::kSha2_384:
      return "sha2_384";
    case Integrity::kSha2_512:
      return "sha2_512";
  }
  return "sha2_256";
}

FieldError problem(std::string_view path, std::string_view key, std::string message) {
  return FieldError{fmt::format("{}.{}", path, key), std::move(message)};
}

// A list of names (strings) from `value`, each parsed with `names`; non-empty, no duplicates.
template <typename Enum, std::size_t N>
std::expected<std::vector<Enum>, FieldError> nameList(
    const json::value& value, std::string_view path, std::string_view key,
    const std::array<std::pair<Enum, std::string_view>, N>& names) {
  if (!value.is_array()) {
    return std::unexpected(problem(path, key, "must be an array of strings"));
  }
  const auto& array = value.get_array();
  if (array.empty()) {
    return std::unexpected(problem(path, key, "must list at least one value"));
  }
  std::vector<Enum> out;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string field = fmt::format("{}[{}]", key, i);
    if (!array[i].is_string()) {
      return std::unexpected(problem(path, field, "must be a string"));
    }
    const auto parsed = parseName(std::string_view(array[i].get_string()), names);
    if (!parsed) {
      return std::unexpected(problem(path, field, "must be one of " + allowedNames(names)));
    }
    if (std::ranges::find(out, *parsed) != out.end()) {
      return std::unexpected(problem(path, field, "is listed twice"));
    }
    out.push_back(*parsed);
  }
  return out;
}

std::expected<std::int64_t, FieldError> integer(const json::value& value, std::string_view path,
                                                std::string_view key) {
  if (value.is_int64()) return value.get_int64();
  if (value.is_uint64() && value.get_uint64() <= 0x7fffffffffffffffULL) {
    return static_cast<std::int64_t>(value.get_uint64());
  }
  if (value.is_double()) {
    // 30.0 is an integer a client may send. Bounded before the cast (a double beyond int64's
    // range has no conversion; found by fuzzing): every option's bound is far below 2^53.
    const double d = value.get_double();
    if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
        d == static_cast<double>(static_cast<std::int64_t>(d))) {
      return static_cast<std::int64_t>(d);
    }
  }
  return std::unexpected(problem(path, key, "must be an integer"));
}

std::expected<std::uint32_t, FieldError> bounded(const json::value& value, std::string_view path,
                                                 std::string_view key, std::int64_t low,
                                                 std::int64_t high, std::string_view unit) {
  auto number = integer(value, path, key);
  if (!number) return std::unexpected(number.error());
  if (*number < low || *number > high) {
    return std::unexpected(
        problem(path, key, fmt::format("must be between {} and {}{}", low, high, unit)));
  }
  return static_cast<std::uint32_t>(*number);
}

// DH groups AWS allows in a phase that the hub's IKE daemon also implements.
std::expected<std::vector<int>, FieldError> dhGroups(const json::value& value,
                                                     std::string_view path, std::string_view key,
                                                     int phase) {
  if (!value.is_array()) {
    return std::unexpected(problem(path, key, "must be an array of integers"));
  }
  const auto& array = value.get_array();
  if (array.empty()) {
    return std::unexpected(problem(path, key, "must list at least one group"));
  }
  std::vector<int> out;
  for (std::size_t i = 0; i < array.size(); ++i) {
    const std::string field = fmt::format("{}[{}]", key, i);
    auto number = integer(array[i], path, field);
    if (!number) return std::unexpected(number.error());
    const auto group = *number;
    const bool aws = group == 2 || (phase == 2 && group == 5) || (group >= 14 && group <= 24);
    if (!aws) {
      return std::unexpected(problem(path, field,
                                     phase == 1
                                         ? "must be a phase 1 DH group AWS allows: 2, 14-24"
                                         : "must be a phase 2 DH group AWS allows: 2, 5, 14-24"));
    }
    if (group == 2 || group >= 22) {
      return std::unexpected(
          problem(path, field,
                  fmt::format("DH group {} is allowed by AWS but not by the hub's IKE daemon "
                              "(libreswan dropped it as too weak); use 14-21",
                              group)));
    }
    if (std::ranges::find(out, static_cast<int>(group)) != out.end()) {
      return std::unexpected(problem(path, field, "is listed twice"));
    }
    out.push_back(static_cast<int>(group));
  }
  return out;
}

}  // namespace

std::string_view toString(IkeVersion value) { return nameOf(value, kIkeVersions); }
std::string_view toString(Encryption value) { return nameOf(value, kEncryptions); }
std::string_view toString(Integrity value) { return nameOf(value, kIntegrities); }
std::string_view toString(DpdAction value) { return nameOf(value, kDpdActions); }
std::string_view toString(StartupAction value) { return nameOf(value, kStartupActions); }

bool TunnelOptions::ikev2() const {
  return std::ranges::find(ike_versions, IkeVersion::kIkev2) != ike_versions.end();
}

std::expected<TunnelOptions, FieldError> decodeTunnelOptions(const json::value& value,
                                                             std::string_view path) {
  TunnelOptions out;
  if (value.is_null()) return out;
  if (!value.is_object()) {
    return std::unexpected(FieldError{std::string(path), "must be an object"});
  }
  for (const auto& [key_view, item] : value.get_object()) {
    const std::string_view key = key_view;
    if (item.is_null()) continue;  // null keeps the default
    std::expected<void, FieldError> done;
    auto assign = [&](auto result, auto& target) {
      if (!result) {
        done = std::unexpected(result.error());
      } else {
        target = std::move(*result);
      }
    };
    if (key == "ike_versions") {
      assign(nameList(item, path, key, kIkeVersions), out.ike_versions);
    } else if (key == "phase1_encryption") {
      assign(nameList(item, path, key, kEncryptions), out.phase1.encryption);
    } else if (key == "phase2_encryption") {
      assign(nameList(item, path, key, kEncryptions), out.phase2.encryption);
    } else if (key == "phase1_integrity") {
      assign(nameList(item, path, key, kIntegrities), out.phase1.integrity);
    } else if (key == "phase2_integrity") {
      assign(nameList(item, path, key, kIntegrities), out.phase2.integrity);
    } else if (key == "phase1_dh_groups") {
      assign(dhGroups(item, path, key, 1), out.phase1.dh_groups);
    } else if (key == "phase2_dh_groups") {
      assign(dhGroups(item, path, key, 2), out.phase2.dh_groups);
    } else if (key == "phase1_lifetime_seconds") {
      assign(bounded(item, path, key, 900, 28800, " seconds"), out.phase1.lifetime_seconds);
    } else if (key == "phase2_lifetime_seconds") {
      assign(bounded(item, path, key, 900, 3600, " seconds"), out.phase2.lifetime_seconds);
    } else if (key == "rekey_margin_seconds") {
      assign(bounded(item, path, key, 60, 1800, " seconds"), out.rekey_margin_seconds);
    } else if (key == "rekey_fuzz_percent") {
      assign(bounded(item, path, key, 0, 100, " percent"), out.rekey_fuzz_percent);
    } else if (key == "replay_window") {
      assign(bounded(item, path, key, 64, 2048, " packets"), out.replay_window);
    } else if (key == "dpd_timeout_seconds") {
      assign(bounded(item, path, key, 30, 3600, " seconds"), out.dpd_timeout_seconds);
    } else if (key == "dpd_timeout_action" || key == "startup_action") {
      if (!item.is_string()) {
        done = std::unexpected(problem(path, key, "must be a string"));
      } else if (key == "dpd_timeout_action") {
        const auto parsed = parseName(std::string_view(item.get_string()), kDpdActions);
        if (!parsed) {
          done = std::unexpected(problem(path, key, "must be one of " + allowedNames(kDpdActions)));
        } else {
          out.dpd_timeout_action = *parsed;
        }
      } else {
        const auto parsed = parseName(std::string_view(item.get_string()), kStartupActions);
        if (!parsed) {
          done = std::unexpected(
              problem(path, key, "must be one of " + allowedNames(kStartupActions)));
        } else {
          out.startup_action = *parsed;
        }
      }
    } else {
      return std::unexpected(problem(path, key, "is not a known tunnel option"));
    }
    if (!done) return std::unexpected(done.error());
  }
  // Rules across options (AWS's and the IKE daemon's).
  if (out.phase2.lifetime_seconds >= out.phase1.lifetime_seconds) {
    return std::unexpected(
        problem(path, "phase2_lifetime_seconds", "must be less than phase1_lifetime_seconds"));
  }
  if (out.rekey_margin_seconds > out.phase2.lifetime_seconds / 2) {
    return std::unexpected(problem(path, "rekey_margin_seconds",
                                   fmt::format("must be at most half of phase2_lifetime_seconds "
                                               "({} seconds)",
                                               out.phase2.lifetime_seconds / 2)));
  }
  if (out.startup_action == StartupAction::kStart && !out.ikev2()) {  // AWS: IKEv2 only
    return std::unexpected(problem(path, "startup_action", "start needs IKEv2 in ike_versions"));
  }
  if (!out.ikev2() && !std::ranges::any_of(out.phase2.dh_groups, isModp)) {
    return std::unexpected(problem(path, "phase2_dh_groups",
                                   "IKEv1 needs a MODP group (5, 14-18) for PFS: libreswan has no "
                                   "elliptic-curve groups for IKEv1 phase 2"));
  }
  if (!out.ikev2() && std::ranges::any_of(out.phase1.encryption, isGcm)) {
    return std::unexpected(problem(path, "phase1_encryption",
                                   "IKEv1 has no GCM in phase 1: list AES128 or AES256, or "
                                   "allow ikev2"));
  }
  return out;
}

DpdAction defaultDpdAction(bool site) { return site ? DpdAction::kRestart : DpdAction::kClear; }

StartupAction defaultStartupAction(bool site) {
  return site ? StartupAction::kStart : StartupAction::kAdd;
}

json::object encodeTunnelOptions(const TunnelOptions& options, bool site) {
  auto names = [](const auto& values) {
    json::array out;
    for (const auto value : values) out.emplace_back(toString(value));
    return out;
  };
  auto groups = [](const std::vector<int>& values) {
    json::array out;
    for (const int value : values) out.emplace_back(value);
    return out;
  };
  return json::object{
      {"ike_versions", names(options.ike_versions)},
      {"phase1_encryption", names(options.phase1.encryption)},
      {"phase1_integrity", names(options.phase1.integrity)},
      {"phase1_dh_groups", groups(options.phase1.dh_groups)},
      {"phase1_lifetime_seconds", options.phase1.lifetime_seconds},
      {"phase2_encryption", names(options.phase2.encryption)},
      {"phase2_integrity", names(options.phase2.integrity)},
      {"phase2_dh_groups", groups(options.phase2.dh_groups)},
      {"phase2_lifetime_seconds", options.phase2.lifetime_seconds},
      {"rekey_margin_seconds", options.rekey_margin_seconds},
      {"rekey_fuzz_percent", options.rekey_fuzz_percent},
      {"replay_window", options.replay_window},
      {"dpd_timeout_seconds", options.dpd_timeout_seconds},
      {"dpd_timeout_action", toString(dpdAction(options, site))},
      {"startup_action", toString(startupAction(options, site))},
  };
}

std::string libreswanIke(const TunnelOptions& options) {
  const auto& phase = options.phase1;
  std::vector<std::string> proposals;
  if (options.ikev2()) {
    std::string prfs;
    for (const auto i : phase.integrity)
      prfs += (prfs.empty() ? "" : "+") + std::string(libreswanHash(i));
    std::string groups;
    for (const int g : phase.dh_groups)
      groups += fmt::format("{}dh{}", groups.empty() ? "" : "+", g);
    for (const auto e : phase.encryption) {
      proposals.push_back(fmt::format("{}-{};{}", libreswanCipher(e), prfs, groups));
    }
  } else {
    for (const auto e : phase.encryption) {
      for (const auto i : phase.integrity) {
        for (const int g : phase.dh_groups) {
          proposals.push_back(fmt::format("{}-{};dh{}", libreswanCipher(e), libreswanHash(i), g));
        }
      }
    }
  }
  std::string out;
  for (const auto& p : proposals) out += (out.empty() ? "" : ",") + p;
  return out;
}

int pfsGroup(const TunnelOptions& options) {
  const auto& groups = options.phase2.dh_groups;
  if (!options.ikev2()) {
    if (const auto modp = std::ranges::find_if(groups, isModp); modp != groups.end()) return *modp;
  }
  return groups.empty() ? 14 : groups.front();
}

std::string libreswanEsp(const TunnelOptions& options) {
  const auto& phase = options.phase2;
  const int pfs = pfsGroup(options);
  std::vector<std::string> proposals;
  for (const auto e : phase.encryption) {
    if (isGcm(e)) {
      proposals.push_back(fmt::format("{};dh{}", libreswanCipher(e), pfs));
    } else if (options.ikev2()) {
      std::string hashes;
      for (const auto i : phase.integrity) {
        hashes += (hashes.empty() ? "" : "+") + std::string(libreswanHash(i));
      }
      proposals.push_back(fmt::format("{}-{};dh{}", libreswanCipher(e), hashes, pfs));
    } else {
      for (const auto i : phase.integrity) {
        proposals.push_back(fmt::format("{}-{};dh{}", libreswanCipher(e), libreswanHash(i), pfs));
      }
    }
  }
  std::string out;
  for (const auto& p : proposals) out += (out.empty() ? "" : ",") + p;
  return out;
}

}  // namespace transit::peers
