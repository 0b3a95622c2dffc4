#include "peers/libreswan/libreswan_driver.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fmt/format.h>
#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <sstream>

#include "peers/libreswan/libreswan_status.hpp"
#include "routing/base/file_io.hpp"
#include "routing/base/run_command.hpp"

namespace transit::peers {
namespace {

using Kind = DriverError::Kind;

DriverError error(Kind kind, std::string message) { return DriverError{kind, std::move(message)}; }

std::optional<std::string> readFile(const std::string& path) { return readWholeFile(path); }

// The first whack line with an error code (020-099), if any.
std::optional<std::pair<int, std::string>> whackError(std::string_view out) {
  std::optional<std::pair<int, std::string>> found;
  while (!out.empty()) {
    const auto end = out.find('\n');
    const std::string_view line = out.substr(0, end);
    out = end == std::string_view::npos ? std::string_view{} : out.substr(end + 1);
    if (line.size() < 4 || line[3] != ' ') {
      continue;
    }
    int code = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + 3, code);
    if (ec == std::errc{} && ptr == line.data() + 3 && code >= 20 && code < 100 && !found) {
      found.emplace(code, std::string(line));
    }
  }
  return found;
}

Kind kindForWhackCode(int code) {
  switch (code) {
    case 22:  // cannot orient: neither end is one of our addresses
    case 27:  // malformed id
      return Kind::kInvalid;
    case 33:  // whack itself: pluto not running
      return Kind::kNeedsDependency;
    default:
      return Kind::kTransient;
  }
}

// The N of the `ipsec-interface=N` line renderConnection writes in kXfrm mode.
std::optional<std::uint32_t> interfaceIdIn(std::string_view conf) {
  constexpr std::string_view kKey = "ipsec-interface=";
  while (!conf.empty()) {
    const auto end = conf.find('\n');
    std::string_view line = conf.substr(0, end);
    conf = end == std::string_view::npos ? std::string_view{} : conf.substr(end + 1);
    while (!line.empty() && (line.front() == '\t' || line.front() == ' ')) {
      line.remove_prefix(1);
    }
    if (!line.starts_with(kKey)) {
      continue;
    }
    line.remove_prefix(kKey.size());
    std::uint32_t id = 0;
    const auto [ptr, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
    if (ec == std::errc{} && ptr == line.data() + line.size()) {
      return id;
    }
  }
  return std::nullopt;
}

}  // namespace

std::expected<std::unique_ptr<LibreswanDriver>, DriverError> LibreswanDriver::create(
    LibreswanOptions options, CommandRunner& runner) {
  std::unique_ptr<LibreswanDriver> driver(new LibreswanDriver(std::move(options), runner));
  // NAME.conf is what pluto runs; NAME.conf.pending (a load interrupted by a crash) may have had
  // its link made already. A missing or unreadable directory holds no tunnels.
  std::error_code ec;
  for (std::filesystem::directory_iterator it(driver->options_.conf_dir, ec), end; !ec && it != end;
       it.increment(ec)) {
    const std::string file = it->path().filename().string();
    const bool pending = file.ends_with(".conf.pending");
    if (!pending && !file.ends_with(".conf")) {
      continue;
    }
    const std::string name = file.substr(0, file.size() - (pending ? 13 : 5));
    if (!ownedConnectionName(name, driver->options_.prefix)) {
      continue;
    }
    driver->files_.insert(name);
    if (driver->options_.links != TunnelLinks::kXfrm ||
        (pending && std::filesystem::exists(driver->confPath(name)))) {
      continue;
    }
    const auto conf = readFile(it->path().string());
    if (const auto id = conf ? interfaceIdIn(*conf) : std::nullopt) {
      driver->link_ids_[name] = *id;
    }
  }
  const auto text = readFile(driver->options_.secrets_file);
  if (!text) {
    return driver;
  }
  for (auto& secret : parseSecrets(*text)) {
    if (ownedConnectionName(secret.name, driver->options_.prefix)) {
      driver->secrets_[secret.name] = Secret{secret.local_id, secret.remote, std::move(secret.psk)};
    }
  }
  return driver;
}

std::string LibreswanDriver::confPath(std::string_view name) const {
  return fmt::format("{}/{}.conf", options_.conf_dir, name);
}

std::expected<std::string, DriverError> LibreswanDriver::whack(const std::vector<std::string>& args,
                                                               bool secrets_output) {
  std::vector<std::string> argv{options_.whack, "--ctlsocket", options_.ctl_socket};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string what = "whack";
  for (const auto& arg : args) {
    what += " " + arg;
  }
  auto result = runner_.run(argv, options_.command_timeout);
  if (!result) {
    return std::unexpected(
        error(Kind::kNeedsDependency, fmt::format("{}: {}", what, result.error())));
  }
  if (result->timed_out) {
    return std::unexpected(error(Kind::kTransient, fmt::format("{}: timed out", what)));
  }
  if (result->err.find("Pluto is not running") != std::string::npos) {
    return std::unexpected(
        error(Kind::kNeedsDependency, fmt::format("{}: pluto is not running", what)));
  }
  if (result->exit_code == 33 || result->signal != 0) {
    return std::unexpected(
        error(Kind::kTransient,
              fmt::format("{}: whack failed (exit {}, signal {}): {}", what, result->exit_code,
                          result->signal, secrets_output ? "" : firstLine(result->err))));
  }
  if (secrets_output) {
    // `003 ERROR "file" line N: index "WORDS" ...` can quote words of the secrets file.
    std::size_t problems = 0;
    for (std::size_t pos = 0; (pos = result->out.find("ERROR", pos)) != std::string::npos; ++pos) {
      ++problems;
    }
    if (problems > 0) {
      return std::unexpected(
          error(Kind::kInvalid,
                fmt::format("{}: pluto reported {} problem(s) reading the secrets file {}", what,
                            problems, options_.secrets_file)));
    }
    return std::move(result->out);
  }
  if (auto bad = whackError(result->out)) {
    return std::unexpected(
        error(kindForWhackCode(bad->first), fmt::format("{}: {}", what, bad->second)));
  }
  if (result->exit_code != 0) {
    return std::unexpected(
        error(Kind::kTransient,
              fmt::format("{}: exit {}: {}", what, result->exit_code, firstLine(result->err))));
  }
  return std::move(result->out);
}

std::expected<void, DriverError> LibreswanDriver::writeSecrets() {
  std::vector<TunnelSpec> specs;
  specs.reserve(secrets_.size());
  for (const auto& [name, secret] : secrets_) {
    TunnelSpec spec;
    spec.name = name;
    spec.local_id = secret.local_id;
    spec.remote_address = secret.remote;
    spec.psk = secret.psk;
    specs.push_back(std::move(spec));
  }
  const std::string content = renderSecrets(specs);
  if (readFile(options_.secrets_file) == content) {
    return {};
  }
  return writePrivateFileAtomically(options_.secrets_file, content);
}

DriverError LibreswanDriver::scrub(DriverError error, std::string_view extra_psk) const {
  auto redact = [&](std::string_view psk) {
    if (psk.empty()) {
      return;
    }
    for (std::size_t pos = 0; (pos = error.message.find(psk, pos)) != std::string::npos;) {
      error.message.replace(pos, psk.size(), "<redacted>");
    }
  };
  redact(extra_psk);
  for (const auto& [name, secret] : secrets_) {
    redact(secret.psk);
  }
  return error;
}

std::expected<void, DriverError> LibreswanDriver::apply(const TunnelSpec& spec) {
  auto applied = applyUnscrubbed(spec);
  if (!applied) {
    return std::unexpected(scrub(std::move(applied.error()), spec.psk));
  }
  return applied;
}

std::expected<void, DriverError> LibreswanDriver::remove(std::string_view name) {
  auto removed = removeUnscrubbed(name);
  if (!removed) {
    return std::unexpected(scrub(std::move(removed.error())));
  }
  return removed;
}

std::expected<void, DriverError> LibreswanDriver::addconn(const std::string& name,
                                                          const std::string& file) {
  std::vector<std::string> argv{options_.addconn, "--ctlsocket", options_.ctl_socket,
                                "--config",       file,          name};
  auto result = runner_.run(argv, options_.command_timeout);
  if (!result) {
    return std::unexpected(
        error(Kind::kNeedsDependency, fmt::format("addconn {}: {}", name, result.error())));
  }
  if (result->timed_out) {
    return std::unexpected(error(Kind::kTransient, fmt::format("addconn {}: timed out", name)));
  }
  // pluto's refusals come back as exit 36 with no text (the reason is in pluto's log), syntax
  // errors as exit 3 with a message on stderr.
  const std::string all = result->out + result->err;
  if (result->exit_code == 36 || result->exit_code == 3 ||
      all.find("failed to add") != std::string::npos ||
      all.find("syntax error") != std::string::npos) {
    return std::unexpected(
        error(Kind::kInvalid,
              fmt::format("addconn {}: pluto refused the connection (exit {}); see pluto's log{}{}",
                          name, result->exit_code, all.empty() ? "" : ": ", firstLine(all))));
  }
  if (all.find("not running") != std::string::npos ||
      all.find("connect(pluto_ctl)") != std::string::npos) {
    return std::unexpected(
        error(Kind::kNeedsDependency, fmt::format("addconn {}: pluto is not running", name)));
  }
  if (!result->exitedWith(0)) {
    return std::unexpected(
        error(Kind::kTransient, fmt::format("addconn {}: exit {}, signal {}: {}", name,
                                            result->exit_code, result->signal, firstLine(all))));
  }
  return {};
}

std::expected<void, DriverError> LibreswanDriver::applyUnscrubbed(const TunnelSpec& spec) {
  if (!ownedConnectionName(spec.name, options_.prefix)) {
    return std::unexpected(error(Kind::kInvalid, fmt::format("tunnel name '{}' is not one the "
                                                             "hub owns (prefix '{}')",
                                                             spec.name, options_.prefix)));
  }
  if (!pskRenderable(spec.psk)) {
    return std::unexpected(error(
        Kind::kInvalid, fmt::format("tunnel {}: the pre-shared key has characters the secrets "
                                    "file cannot hold",
                                    spec.name)));
  }
  // What pluto has loaded now (and whether --initiate was done: the UP policy).
  auto status = whack({"--status"});
  if (!status) {
    return std::unexpected(status.error());
  }
  const auto loaded = parseStatusConnections(*status);
  const auto conn = loaded.find(spec.name);
  const bool is_loaded = conn != loaded.end();

  const Secret secret{spec.local_id, spec.remote_address, spec.psk};
  const auto old_secret = secrets_.find(spec.name);
  if (old_secret == secrets_.end() || !(old_secret->second == secret)) {
    secrets_[spec.name] = secret;
    if (auto written = writeSecrets(); !written) {
      return written;
    }
    reread_pending_ = true;
  }
  if (reread_pending_) {
    // pluto forgets the old key without an outage (the key is used at the next IKE_AUTH);
    // addconn NAME does not re-read secrets, so this also comes before a first load.
    if (auto reread = whack({"--rereadsecrets"}, true); !reread) {
      return std::unexpected(reread.error());
    }
    reread_pending_ = false;
  }

  if (options_.links == TunnelLinks::kXfrm) {
    // A tunnel that moves to another interface id leaves its old link behind; it goes before
    // the new conn replaces the old one (a failure is retried by the next apply).
    if (const auto old = link_ids_.find(spec.name);
        old != link_ids_.end() && old->second != spec.interface_id) {
      if (auto removed = removeLinkUnlessShared(spec.name, old->second); !removed) {
        return removed;
      }
    }
    // The link, with its address and MTU, exists before pluto loads the conn: pluto
    // reuses it, and BGP has its address as soon as the Child SA is up.
    link_ids_[spec.name] = spec.interface_id;
    if (auto ensured = xfrm_.ensure(spec); !ensured) {
      return ensured;
    }
  }

  // NAME.conf is what pluto accepted last: a new version goes to NAME.conf.pending, is loaded
  // from there and renamed into place only once addconn accepted it, so a failed or
  // interrupted load is retried by the next apply (also after a restart of transit-hubd).
  const std::string path = confPath(spec.name);
  const std::string rendered = renderConnection(spec, options_);
  bool added = false;
  if (readFile(path) != rendered || !is_loaded) {
    // addconn NAME replaces a loaded connection (tears its SAs down): only for real changes.
    const std::string pending = path + ".pending";
    files_.insert(spec.name);
    if (auto written = writePrivateFileAtomically(pending, rendered); !written) {
      return written;
    }
    if (auto added_now = addconn(spec.name, pending); !added_now) {
      ::unlink(pending.c_str());
      return added_now;
    }
    if (::rename(pending.c_str(), path.c_str()) != 0) {
      return std::unexpected(error(
          Kind::kTransient, fmt::format("cannot rename {}: {}", pending, std::strerror(errno))));
    }
    added = true;
  }
  const bool already_up = !added && conn->second.up_policy;
  if (spec.initiate && !already_up) {
    // Asynchronous: returns at once; pluto keeps trying (keyingtries=%forever, UP policy).
    if (auto initiated = whack({"--name", spec.name, "--initiate", "--asynchronous"}); !initiated) {
      return std::unexpected(initiated.error());
    }
  }
  return {};
}

std::expected<void, DriverError> LibreswanDriver::removeUnscrubbed(std::string_view name) {
  if (!ownedConnectionName(name, options_.prefix)) {
    return std::unexpected(error(Kind::kInvalid, fmt::format("tunnel name '{}' is not one the "
                                                             "hub owns (prefix '{}')",
                                                             name, options_.prefix)));
  }
  // An unknown name prints nothing and exits 0: a missing connection counts as removed.
  if (auto deleted = whack({"--name", std::string(name), "--delete"}); !deleted) {
    return std::unexpected(deleted.error());
  }
  // pluto never deletes an ipsecN it did not create; the link goes once the conn is gone. The
  // conf file stays until then, so a failure here is retried (also after a restart).
  if (const auto link = link_ids_.find(name);
      options_.links == TunnelLinks::kXfrm && link != link_ids_.end()) {
    if (auto removed = removeLinkUnlessShared(name, link->second); !removed) {
      return removed;
    }
    link_ids_.erase(link);
  }
  for (const std::string& path : {confPath(name), confPath(name) + ".pending"}) {
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) {
      return std::unexpected(
          error(Kind::kTransient, fmt::format("cannot delete {}: {}", path, std::strerror(errno))));
    }
  }
  if (auto file = files_.find(name); file != files_.end()) files_.erase(file);
  if (auto it = secrets_.find(name); it != secrets_.end()) {
    secrets_.erase(it);
    if (auto written = writeSecrets(); !written) {
      return written;
    }
    if (auto reread = whack({"--rereadsecrets"}, true); !reread) {
      return std::unexpected(reread.error());
    }
  }
  return {};
}

std::expected<void, DriverError> LibreswanDriver::removeLinkUnlessShared(
    std::string_view name, std::uint32_t interface_id) {
  for (const auto& [other, id] : link_ids_) {
    if (id == interface_id && other != name) {
      return {};  // another tunnel's link now
    }
  }
  return xfrm_.remove(interface_id);
}

std::expected<void, DriverError> LibreswanDriver::deleteIkeSa(std::string_view name,
                                                              std::uint64_t serial) {
  if (!ownedConnectionName(name, options_.prefix)) {
    return std::unexpected(error(Kind::kInvalid, fmt::format("tunnel name '{}' is not one the "
                                                             "hub owns (prefix '{}')",
                                                             name, options_.prefix)));
  }
  // State numbers are pluto's own; the state is looked up again under this connection, so one
  // observed before a restart of pluto can never delete another connection's state.
  auto states = whack({"--showstates"});
  if (!states) {
    return std::unexpected(scrub(std::move(states.error())));
  }
  const auto parsed = parseShowStates(*states);
  const auto conn = parsed.find(std::string(name));
  if (conn == parsed.end() ||
      std::ranges::none_of(conn->second.established_ike_sas,
                           [&](const EstablishedIkeSa& sa) { return sa.serial == serial; })) {
    return {};  // gone already (rekeyed, expired or deleted by the peer)
  }
  if (auto deleted = whack({"--deletestate", std::to_string(serial)}); !deleted) {
    if (deleted.error().message.find("021 no state") != std::string::npos) {
      return {};  // gone between the two commands
    }
    return std::unexpected(scrub(std::move(deleted.error())));
  }
  return {};
}

std::expected<TunnelObservation, DriverError> LibreswanDriver::observe() {
  const auto pid_text = readFile(options_.pid_file);
  if (!pid_text) {
    return std::unexpected(error(Kind::kNeedsDependency,
                                 fmt::format("pluto is not running (no {})", options_.pid_file)));
  }
  long pid = 0;
  {
    const auto begin = pid_text->data();
    const auto [ptr, ec] = std::from_chars(begin, begin + pid_text->size(), pid);
    if (ec != std::errc{} || pid <= 0) {
      return std::unexpected(
          error(Kind::kNeedsDependency,
                fmt::format("pluto is not running ({} holds no pid)", options_.pid_file)));
    }
  }
  // Field 22 of /proc/PID/stat (start time), after the parenthesised command name.
  const auto stat = readFile(fmt::format("/proc/{}/stat", pid));
  std::string start_time;
  if (stat) {
    const auto close = stat->rfind(')');
    if (close != std::string::npos) {
      std::istringstream fields(stat->substr(close + 1));
      std::string field;
      for (int i = 3; i <= 22 && fields >> field; ++i) {
        if (i == 22) {
          start_time = field;
        }
      }
    }
  }
  if (start_time.empty()) {
    return std::unexpected(error(
        Kind::kNeedsDependency,
        fmt::format("pluto is not running (stale {}: pid {} is gone)", options_.pid_file, pid)));
  }
  auto status = whack({"--status"});
  if (!status) {
    return std::unexpected(scrub(std::move(status.error())));
  }
  auto states = whack({"--showstates"});
  if (!states) {
    return std::unexpected(scrub(std::move(states.error())));
  }
  auto traffic = whack({"--trafficstatus"});
  if (!traffic) {
    return std::unexpected(scrub(std::move(traffic.error())));
  }
  TunnelObservation observation;
  observation.daemon_instance = fmt::format("{}:{}", pid, start_time);
  observation.tunnels = buildObservedTunnels(*status, *states, *traffic, options_.prefix);
  // What the hub holds for a connection pluto does not have: its file or its secret (left by a
  // removal while pluto was down, or a crash between writing and loading). Reported as not
  // loaded, so the reconciler removes it when no spoke wants it and loads it when one does.
  std::set<std::string, std::less<>> reported;
  for (const auto& tunnel : observation.tunnels) reported.insert(tunnel.name);
  auto report = [&](const std::string& name) {
    if (reported.insert(name).second) {
      ObservedTunnel held;
      held.name = name;
      observation.tunnels.push_back(std::move(held));
    }
  };
  for (const auto& name : files_) report(name);
  for (const auto& [name, secret] : secrets_) report(name);
  return observation;
}

}  // namespace transit::peers
