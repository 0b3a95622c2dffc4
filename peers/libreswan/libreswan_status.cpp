#include "peers/libreswan/libreswan_status.hpp"

#include <algorithm>
#include <charconv>

namespace transit::peers {
namespace {

// Calls fn(code, rest) for every line that starts with three digits and a space.
template <typename Fn>
void forEachLine(std::string_view text, Fn&& fn) {
  while (!text.empty()) {
    const auto end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
    }
    if (line.size() < 4 || line[3] != ' ') {
      continue;
    }
    int code = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + 3, code);
    if (ec != std::errc{} || ptr != line.data() + 3) {
      continue;
    }
    fn(code, line.substr(4));
  }
}

// Reads `"name"` at the start of text; returns the name and advances text past the quote.
bool takeQuoted(std::string_view& text, std::string& name) {
  if (text.empty() || text.front() != '"') {
    return false;
  }
  const auto close = text.find('"', 1);
  if (close == std::string_view::npos || close == 1) {
    return false;
  }
  name.assign(text.substr(1, close - 1));
  text.remove_prefix(close + 1);
  return true;
}

// `#<digits>: ` then the rest; the digits go to serial.
bool takeSerial(std::string_view& text, std::uint64_t& serial) {
  if (text.size() < 3 || text.front() != '#') {
    return false;
  }
  const auto [ptr, ec] = std::from_chars(text.data() + 1, text.data() + text.size(), serial);
  const auto i = static_cast<std::size_t>(ptr - text.data());
  if (ec != std::errc{} || i == 1 || i + 1 >= text.size() || text[i] != ':' || text[i + 1] != ' ') {
    return false;
  }
  text.remove_prefix(i + 2);
  return true;
}
bool takeSerial(std::string_view& text) {
  std::uint64_t ignored = 0;
  return takeSerial(text, ignored);
}

// Whether one of the `; `-separated flags after the state's description is exactly `flag`.
bool hasFlag(std::string_view rest, std::string_view flag) {
  std::size_t pos = 0;
  while ((pos = rest.find(flag, pos)) != std::string_view::npos) {
    const auto end = pos + flag.size();
    const bool starts = pos >= 2 && rest.substr(pos - 2, 2) == "; ";
    const bool ends = end == rest.size() || rest[end] == ';';
    if (starts && ends) {
      return true;
    }
    pos = end;
  }
  return false;
}

int stateRank(std::string_view state) {
  if (state == "STATE_V2_ESTABLISHED_CHILD_SA") return 100;
  if (state == "STATE_V2_ESTABLISHED_IKE_SA") return 90;
  if (state.find("REKEY") != std::string_view::npos) return 80;
  if (state.find("NEW_CHILD") != std::string_view::npos) return 70;
  if (state.find("IKE_AUTH_CHILD") != std::string_view::npos) return 60;
  if (state == "STATE_V2_PARENT_I2" || state == "STATE_V2_PARENT_R_EAP") return 50;
  if (state == "STATE_V2_PARENT_I1" || state == "STATE_V2_PARENT_R1") return 40;
  if (state == "STATE_V2_PARENT_I0" || state == "STATE_V2_PARENT_R0") return 30;
  if (state.find("DELETE") != std::string_view::npos) return 10;
  return 20;
}

bool parseUint(std::string_view text, std::uint64_t& value) {
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc{} && ptr != text.data();
}

// The number after `key=` in a `, `-separated list, if present.
bool fieldValue(std::string_view text, std::string_view key, std::uint64_t& value) {
  std::size_t pos = 0;
  while ((pos = text.find(key, pos)) != std::string_view::npos) {
    const bool at_start = pos == 0 || text[pos - 1] == ' ' || text[pos - 1] == ',';
    if (at_start) {
      return parseUint(text.substr(pos + key.size()), value);
    }
    pos += key.size();
  }
  return false;
}

}  // namespace

std::map<std::string, StatusConnection> parseStatusConnections(std::string_view text) {
  std::map<std::string, StatusConnection> out;
  forEachLine(text, [&](int code, std::string_view rest) {
    if (code != 0) {
      return;
    }
    std::string name;
    if (!takeQuoted(rest, name) || rest.empty()) {
      return;
    }
    // The connection list: `"name": ...` or an instance `"name"[N] ...: ...`.
    if (rest.front() != ':' && rest.front() != '[') {
      return;
    }
    auto& conn = out[name];
    const auto policy = rest.find("policy: ");
    if (policy != std::string_view::npos) {
      std::string_view flags = rest.substr(policy + 8);
      flags = flags.substr(0, flags.find(';'));
      while (!flags.empty()) {
        const auto plus = flags.find('+');
        if (flags.substr(0, plus) == "UP") {
          conn.up_policy = true;
        }
        flags = plus == std::string_view::npos ? std::string_view{} : flags.substr(plus + 1);
      }
    }
  });
  return out;
}

std::map<std::string, ShowStatesEntry> parseShowStates(std::string_view text) {
  std::map<std::string, ShowStatesEntry> out;
  forEachLine(text, [&](int code, std::string_view rest) {
    std::string name;
    std::uint64_t serial = 0;
    if (code != 0 || !takeSerial(rest, serial) || !takeQuoted(rest, name)) {
      return;
    }
    // `[inst]`, an optional peer, `:port`, then the state name up to the next space.
    const auto state_at = rest.find(" STATE_");
    if (state_at == std::string_view::npos) {
      return;  // e.g. "pending CHILD SA for" lines
    }
    std::string_view state = rest.substr(state_at + 1);
    state = state.substr(0, state.find(' '));
    auto& entry = out[name];
    if (state == "STATE_V2_ESTABLISHED_IKE_SA") {
      entry.ike_established = true;
      entry.established_ike_sas.push_back(
          EstablishedIkeSa{serial, hasFlag(rest.substr(state_at), "newest")});
    } else if (state == "STATE_V2_ESTABLISHED_CHILD_SA") {
      entry.child_established = true;
    }
    const int rank = stateRank(state);
    if (rank > entry.rank) {
      entry.rank = rank;
      entry.state.assign(state);
    }
  });
  return out;
}

std::vector<std::uint64_t> duplicateIkeSas(const ShowStatesEntry& entry) {
  const auto& sas = entry.established_ike_sas;
  if (sas.size() < 2) {
    return {};
  }
  std::uint64_t kept = 0;
  for (const auto& sa : sas) {
    kept = std::max(kept, sa.serial);
  }
  for (const auto& sa : sas) {
    if (sa.newest) {
      kept = sa.serial;
    }
  }
  std::vector<std::uint64_t> out;
  for (const auto& sa : sas) {
    if (sa.serial != kept) {
      out.push_back(sa.serial);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::map<std::string, TrafficEntry> parseTrafficStatus(std::string_view text) {
  std::map<std::string, TrafficEntry> out;
  forEachLine(text, [&](int code, std::string_view rest) {
    std::string name;
    if (code != 6 || !takeSerial(rest) || !takeQuoted(rest, name)) {
      return;
    }
    auto& entry = out[name];
    std::uint64_t value = 0;
    if (fieldValue(rest, "inBytes=", value)) {
      entry.in_bytes += value;
    }
    if (fieldValue(rest, "outBytes=", value)) {
      entry.out_bytes += value;
    }
  });
  return out;
}

std::vector<ObservedTunnel> buildObservedTunnels(std::string_view status,
                                                 std::string_view showstates,
                                                 std::string_view trafficstatus,
                                                 std::string_view prefix) {
  const auto loaded = parseStatusConnections(status);
  const auto states = parseShowStates(showstates);
  const auto traffic = parseTrafficStatus(trafficstatus);
  std::map<std::string, ObservedTunnel> tunnels;
  auto owned = [&](const std::string& name) { return name.starts_with(prefix); };
  auto at = [&](const std::string& name) -> ObservedTunnel& {
    auto& tunnel = tunnels[name];
    tunnel.name = name;
    return tunnel;
  };
  for (const auto& [name, conn] : loaded) {
    if (owned(name)) {
      at(name).loaded = true;
    }
  }
  for (const auto& [name, entry] : states) {
    if (!owned(name)) {
      continue;
    }
    auto& tunnel = at(name);
    tunnel.loaded = true;  // a state implies the connection exists
    tunnel.ike_up = entry.ike_established || entry.child_established;
    tunnel.ipsec_up = entry.child_established && traffic.contains(name);
    tunnel.state = entry.state;
    tunnel.duplicate_ike_sas = duplicateIkeSas(entry);
  }
  for (const auto& [name, entry] : traffic) {
    if (!owned(name) || !tunnels.contains(name)) {
      continue;  // bytes of a connection without states are stale; ignore them
    }
    auto& tunnel = at(name);
    tunnel.in_bytes = entry.in_bytes;
    tunnel.out_bytes = entry.out_bytes;
  }
  std::vector<ObservedTunnel> out;
  out.reserve(tunnels.size());
  for (auto& [name, tunnel] : tunnels) {
    out.push_back(std::move(tunnel));
  }
  return out;
}

}  // namespace transit::peers
