#include "hub/daemon/bootstrap.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <cerrno>
#include <cstdlib>
#include <system_error>
#include <utility>
#include <vector>

#include "hub/config/config.hpp"
#include "hub/config/yaml_document.hpp"
#include "hub/daemon/wiring.hpp"
#include "peers/model/spoke_validation.hpp"
#include "routing/base/file_io.hpp"
#include "routing/bird/bird_render.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;
using Kind = BootstrapError::Kind;

// BIRD's main configuration as it was, read to be put back: a few kilobytes.
constexpr std::size_t kMaxBirdConfigBytes = 1 << 20;

std::unexpected<BootstrapError> invalid(std::string message) {
  return std::unexpected(BootstrapError{Kind::kInvalid, std::move(message)});
}

std::unexpected<BootstrapError> failed(std::string message) {
  return std::unexpected(BootstrapError{Kind::kFailed, std::move(message)});
}

// "SOURCE: KEY: MESSAGE", as transit-hubd --check words a problem with a key.
std::unexpected<BootstrapError> invalidKey(std::string_view source, std::string_view key,
                                           std::string_view message) {
  return invalid(fmt::format("{}: {}: {}", source, key, message));
}

std::string reason(int error) { return std::error_code(error, std::generic_category()).message(); }

// The value of `key` in `map`: nullopt when absent, an error when given more than once. Keys that
// are not strings are left to hub::loadConfig.
std::expected<std::optional<YAML::Node>, std::string> uniqueEntry(const YAML::Node& map,
                                                                  std::string_view key) {
  std::optional<YAML::Node> found;
  for (const auto& entry : map) {
    if (!entry.first.IsScalar() || entry.first.Scalar() != key) continue;
    if (found) return std::unexpected("is given more than once");
    found = entry.second;
  }
  return found;
}

// An address the user data gives, checked as hub::loadConfig checks it.
std::expected<Ipv4Address, std::string> readAddress(const YAML::Node& node) {
  if (!node.IsScalar()) return std::unexpected("must be a string");
  auto address = Ipv4Address::parse(node.Scalar());
  if (!address) return std::unexpected(address.error());
  if (auto problem = peers::checkEndpointAddress(*address)) return std::unexpected(*problem);
  return *address;
}

// Writes `node` as it was read: every map entry (a key given twice stays twice, for
// hub::loadConfig to refuse), quoted scalars quoted (a quoted number is a string to the loader),
// explicit tags kept. Styles (flow, block) and comments are not kept.
void emit(YAML::Emitter& out, const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map:
      out << YAML::BeginMap;
      for (const auto& entry : node) {
        out << YAML::Key;
        emit(out, entry.first);
        out << YAML::Value;
        emit(out, entry.second);
      }
      out << YAML::EndMap;
      return;
    case YAML::NodeType::Sequence:
      out << YAML::BeginSeq;
      for (const auto& item : node) emit(out, item);
      out << YAML::EndSeq;
      return;
    case YAML::NodeType::Scalar:
      if (node.Tag() == "!") {
        out << YAML::DoubleQuoted << node.Scalar();
      } else if (node.Tag().empty() || node.Tag() == "?") {
        out << node.Scalar();
      } else {
        out << YAML::VerbatimTag(node.Tag()) << node.Scalar();
      }
      return;
    case YAML::NodeType::Null:
    case YAML::NodeType::Undefined:
      out << YAML::Null;
      return;
  }
}

// One address of the hub: given in the user data, or asked from the instance metadata.
struct HubAddress {
  std::string_view key;   // under hub
  std::string_view item;  // the instance metadata's name for it
  std::string_view hint;  // why a 404, and what to do
  std::optional<Ipv4Address> value;
  bool from_metadata = false;
};

std::expected<Ipv4Address, BootstrapError> lookUp(const MetadataLookup& metadata,
                                                  const HubAddress& address) {
  auto value = metadata(address.item);
  if (!value) {
    std::string message = value.error().message;
    if (value.error().status == 404) message += fmt::format(" ({})", address.hint);
    return failed(std::move(message));
  }
  auto parsed = Ipv4Address::parse(*value);
  if (!parsed) {
    return failed(fmt::format("instance metadata: {}: the answer is not an IPv4 address ({})",
                              address.item, parsed.error()));
  }
  if (auto problem = peers::checkEndpointAddress(*parsed)) {
    return failed(fmt::format("instance metadata: {}: {} cannot be hub.{}: {}", address.item,
                              parsed->toString(), address.key, *problem));
  }
  return *parsed;
}

// Steps that undo what a run did, run in reverse order unless the run is committed.
class Rollback {
 public:
  Rollback() = default;
  ~Rollback() {
    if (committed_) return;
    for (auto it = steps_.rbegin(); it != steps_.rend(); ++it) (*it)();
  }
  Rollback(const Rollback&) = delete;
  Rollback& operator=(const Rollback&) = delete;

  void add(std::function<void()> step) { steps_.push_back(std::move(step)); }
  void remove(fs::path path) {
    add([path = std::move(path)] {
      std::error_code ignored;
      fs::remove(path, ignored);
    });
  }
  void removeAll(const std::vector<fs::path>& paths) {
    for (const auto& path : paths) remove(path);
  }
  void commit() { committed_ = true; }

 private:
  std::vector<std::function<void()>> steps_;
  bool committed_ = false;
};

// Whether `path` exists (a dangling symlink does too).
std::expected<bool, std::string> pathExists(const fs::path& path) {
  struct stat info {};
  if (::lstat(path.c_str(), &info) == 0) return true;
  if (errno == ENOENT) return false;
  return std::unexpected(fmt::format("cannot inspect {}: {}", path.string(), reason(errno)));
}

// `content` into a new private (0600) file beside `out`; its path.
std::expected<fs::path, BootstrapError> writeTemporary(const fs::path& out,
                                                       std::string_view content,
                                                       Rollback& rollback) {
  std::string name = out.string() + ".bootstrap-XXXXXX";
  const int fd = ::mkstemp(name.data());  // 0600
  if (fd < 0) {
    return failed(
        fmt::format("cannot create a temporary file beside {}: {}", out.string(), reason(errno)));
  }
  const fs::path temp = name;
  rollback.remove(temp);
  bool ok = ::fchmod(fd, 0600) == 0;
  for (std::size_t done = 0; ok && done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) done += static_cast<std::size_t>(n);
  }
  ok = ok && ::fsync(fd) == 0;
  int why = errno;
  if (::close(fd) != 0 && ok) {
    ok = false;
    why = errno;
  }
  if (!ok) return failed(fmt::format("cannot write {}: {}", temp.string(), reason(why)));
  return temp;
}

// drivers.mode live: BIRD's main configuration, and the include file when it is missing.
std::expected<void, BootstrapError> writeBird(const Config& config, std::string_view source,
                                              Rollback& rollback, BootstrapReport& report) {
  const auto options = birdOptions(config);
  const std::string text = renderMainConfig(options);
  if (text.find(fmt::format("include \"{}\";", options.include_path)) == std::string::npos) {
    return invalidKey(source, "drivers.bird.include_file",
                      "BIRD cannot include this path (an absolute path without '\"', '\\' or "
                      "control characters)");
  }

  const fs::path main_config = options.main_config_path;
  struct stat info {};
  if (::lstat(main_config.c_str(), &info) == 0) {
    if (!S_ISREG(info.st_mode)) {
      return failed(fmt::format("cannot write {}: not a regular file", main_config.string()));
    }
    auto before = readFile(main_config, kMaxBirdConfigBytes);
    if (!before) return failed(before.error());
    // Put back as it was if a later step fails.
    rollback.add([main_config, before = std::move(*before), mode = info.st_mode & 07777] {
      (void)writeAtomically(main_config, before, WriteOptions{.mode = mode});
    });
  } else if (errno == ENOENT) {
    rollback.remove(main_config);
  } else {
    return failed(fmt::format("cannot inspect {}: {}", main_config.string(), reason(errno)));
  }
  if (auto written = writeAtomically(main_config, text, WriteOptions{.mode = 0644}); !written) {
    return failed(written.error());
  }
  report.bird_main_config = main_config;

  const fs::path include = options.include_path;
  auto include_there = pathExists(include);
  if (!include_there) return failed(include_there.error());
  if (*include_there) return {};
  const int fd =
      ::open(include.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0) return failed(fmt::format("cannot create {}: {}", include.string(), reason(errno)));
  rollback.remove(include);
  bool ok = ::fchmod(fd, 0644) == 0 && ::fsync(fd) == 0;
  const int why = errno;
  ok = ::close(fd) == 0 && ok;
  if (!ok) return failed(fmt::format("cannot create {}: {}", include.string(), reason(why)));
  if (auto synced = syncDirectory(include.parent_path()); !synced) return failed(synced.error());
  report.bird_include_created = include;
  return {};
}

}  // namespace

std::expected<UserDataOutput, BootstrapError> transformUserData(std::string_view text,
                                                                std::string_view source,
                                                                const fs::path& tls_dir,
                                                                const BootstrapDeps& deps) {
  if (text.size() > kMaxUserDataBytes) {
    return invalid(fmt::format("{} is larger than {} bytes", source, kMaxUserDataBytes));
  }
  FirstYamlDocument documents;
  try {
    documents = loadFirstYamlDocument(std::string(text));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) return invalid(fmt::format("{}: YAML syntax error: {}", source, e.msg));
    return invalid(fmt::format("{}: YAML syntax error at line {}, column {}: {}", source,
                               e.mark.line + 1, e.mark.column + 1, e.msg));
  }
  if (documents.documents == 0 || documents.root.IsNull()) {
    return invalid(fmt::format("{}: the user data is empty", source));
  }
  if (documents.documents > 1) {
    return invalid(fmt::format("{}: the user data must be a single YAML document", source));
  }
  YAML::Node root = documents.root;
  if (!root.IsMap()) {
    return invalid(fmt::format("{}: the top level must be a map of sections", source));
  }

  // What this step reads: hub (a map), its addresses and name, api.tls. Everything else is
  // hub::loadConfig's, after the transformation.
  auto hub_entry = uniqueEntry(root, "hub");
  if (!hub_entry) return invalidKey(source, "hub", hub_entry.error());
  if (!*hub_entry) return invalidKey(source, "hub", "is required");
  YAML::Node hub = **hub_entry;  // a handle: changes reach `root`
  if (!hub.IsMap()) return invalidKey(source, "hub", "must be a map");

  bool self_signed = false;
  YAML::Node api;
  auto api_entry = uniqueEntry(root, "api");
  if (!api_entry) return invalidKey(source, "api", api_entry.error());
  if (*api_entry && (*api_entry)->IsMap()) {
    api = **api_entry;
    auto tls = uniqueEntry(api, "tls");
    if (!tls) return invalidKey(source, "api.tls", tls.error());
    if (*tls && (*tls)->IsScalar()) {
      if ((*tls)->Scalar() != "self-signed") {
        return invalidKey(source, "api.tls", "must be a map of cert and key, or self-signed");
      }
      self_signed = true;
    }
  }

  HubAddress addresses[] = {
      {"public_ip", "public-ipv4",
       "the instance has no public IPv4 address: give hub.public_ip in the user data", std::nullopt,
       false},
      {"local_ip", "local-ipv4",
       "the instance metadata has no local IPv4 address: give hub.local_ip in the user data",
       std::nullopt, false},
  };
  for (auto& address : addresses) {
    const auto key = fmt::format("hub.{}", address.key);
    auto entry = uniqueEntry(hub, address.key);
    if (!entry) return invalidKey(source, key, entry.error());
    if (!*entry) continue;
    auto value = readAddress(**entry);
    if (!value) return invalidKey(source, key, value.error());
    address.value = *value;
  }
  std::string name;
  if (self_signed) {  // the certificate's common name
    auto entry = uniqueEntry(hub, "name");
    if (!entry) return invalidKey(source, "hub.name", entry.error());
    if (!*entry) return invalidKey(source, "hub.name", "is required");
    if (!(*entry)->IsScalar()) return invalidKey(source, "hub.name", "must be a string");
    name = (*entry)->Scalar();
    if (auto problem = peers::checkName(name)) return invalidKey(source, "hub.name", *problem);
  }

  // The metadata first: a failed lookup leaves no certificate behind.
  for (auto& address : addresses) {
    if (address.value) continue;
    auto value = lookUp(deps.metadata, address);
    if (!value) return std::unexpected(value.error());
    address.value = *value;
    address.from_metadata = true;
  }

  UserDataOutput output;
  output.public_ip_from_metadata = addresses[0].from_metadata;
  output.local_ip_from_metadata = addresses[1].from_metadata;
  if (self_signed) {
    auto files = deps.certificate(
        tls_dir, SelfSignedRequest{name, {*addresses[0].value, *addresses[1].value}});
    if (!files) return failed(files.error());
    output.certificate = std::move(*files);
  }

  try {
    for (const auto& address : addresses) {
      if (address.from_metadata) hub[std::string(address.key)] = address.value->toString();
    }
    if (output.certificate) {
      YAML::Node tls(YAML::NodeType::Map);
      tls["cert"] = output.certificate->cert.string();
      tls["key"] = output.certificate->key.string();
      api["tls"] = tls;
    }
    YAML::Emitter emitter;
    emit(emitter, root);
    if (!emitter.good()) throw YAML::EmitterException(emitter.GetLastError());
    output.yaml = fmt::format(
        "# The hub's configuration, written by transit-hubd --bootstrap from {} (its comments "
        "are not kept).\n{}\n",
        source, emitter.c_str());
  } catch (const YAML::Exception& e) {
    if (output.certificate) removeCreated(output.certificate->created);
    return failed(fmt::format("{}: cannot write the configuration: {}", source, e.msg));
  }
  return output;
}

std::expected<BootstrapReport, BootstrapError> runBootstrap(const fs::path& user_data,
                                                            const fs::path& out,
                                                            const BootstrapDeps& deps) {
  Rollback rollback;
  auto out_there = pathExists(out);
  if (!out_there) return failed(out_there.error());
  if (*out_there) {
    return invalid(fmt::format(
        "{} already exists: refusing to overwrite a configuration (bootstrap writes the first "
        "one only; edit it, or remove it to bootstrap again)",
        out.string()));
  }
  std::error_code ec;
  const fs::path absolute_out = fs::absolute(out, ec).lexically_normal();
  if (ec) return failed(fmt::format("cannot resolve {}: {}", out.string(), ec.message()));
  const fs::path dir = absolute_out.parent_path();
  if (!fs::is_directory(dir, ec)) {
    return invalid(fmt::format("{}: the directory {} does not exist", out.string(), dir.string()));
  }

  auto text = readFile(user_data, kMaxUserDataBytes);
  if (!text) return invalid(text.error());
  const std::string source = user_data.string();
  auto output = transformUserData(*text, source, dir / "tls", deps);
  if (!output) return std::unexpected(output.error());
  if (output->certificate) rollback.removeAll(output->certificate->created);

  // Loaded by the hub's own loader from beside OUT: relative paths resolve as they will.
  auto temp = writeTemporary(absolute_out, output->yaml, rollback);
  if (!temp) return std::unexpected(temp.error());
  auto config = loadConfig(*temp);
  if (!config) return invalid(fmt::format("{}: {}", source, config.error().toString()));

  BootstrapReport report;
  report.out = out;
  report.hub_name = config->hub.name;
  report.public_ip = config->hub.public_ip;
  report.local_ip = config->hub.local_ip;
  report.public_ip_from_metadata = output->public_ip_from_metadata;
  report.local_ip_from_metadata = output->local_ip_from_metadata;
  report.certificate = output->certificate;
  if (config->drivers.mode == DriverMode::kLive) {
    if (auto bird = writeBird(*config, source, rollback, report); !bird) {
      return std::unexpected(bird.error());
    }
  }

  // link(2) never replaces: an OUT that appeared meanwhile is kept and refused.
  if (::link(temp->c_str(), absolute_out.c_str()) != 0) {
    if (errno == EEXIST) {
      return invalid(
          fmt::format("{} already exists: refusing to overwrite a configuration", out.string()));
    }
    return failed(fmt::format("cannot write {}: {}", out.string(), reason(errno)));
  }
  rollback.remove(absolute_out);
  if (::unlink(temp->c_str()) != 0) {
    return failed(fmt::format("cannot remove {}: {}", temp->string(), reason(errno)));
  }
  if (auto synced = syncDirectory(dir); !synced) {
    return failed(fmt::format("cannot write {}: {}", out.string(), synced.error()));
  }
  rollback.commit();
  return report;
}

std::string BootstrapReport::summary() const {
  std::string details = fmt::format("hub {}, public_ip {}, local_ip {}", hub_name,
                                    public_ip.toString(), local_ip.toString());
  if (public_ip_from_metadata && local_ip_from_metadata) {
    details += ", both from instance metadata";
  } else if (public_ip_from_metadata) {
    details += ", public_ip from instance metadata";
  } else if (local_ip_from_metadata) {
    details += ", local_ip from instance metadata";
  }
  if (certificate) {
    details += fmt::format(", self-signed certificate {} ({})", certificate->cert.string(),
                           certificate->reused ? "reused" : "new");
  }
  if (bird_main_config) {
    details += fmt::format(", BIRD main configuration {}", bird_main_config->string());
  }
  if (bird_include_created) {
    details += fmt::format(", empty BIRD include {}", bird_include_created->string());
  }
  return fmt::format("wrote {} ({})", out.string(), details);
}

}  // namespace transit::hub
