#include "hub/config/config.hpp"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <initializer_list>
#include <limits>
#include <map>
#include <system_error>
#include <utility>

#include "hub/config/yaml_document.hpp"
#include "peers/model/spoke_validation.hpp"
#include "routing/base/file_io.hpp"

namespace transit::hub {
namespace {

namespace fs = std::filesystem;
using transit::Ipv4Address;

constexpr std::int64_t kMinThreads = 1;
constexpr std::int64_t kMaxThreads = 64;
constexpr unsigned kDefaultThreads = 2;
constexpr std::int64_t kMaxMaxConnections = 100000;
constexpr std::size_t kDefaultMaxConnections = 4096;
// A configuration file is a few kilobytes; anything near this is not one.
constexpr std::size_t kMaxConfigBytes = 1 << 20;

// The children of a YAML map, by key.
using Fields = std::map<std::string, YAML::Node, std::less<>>;

std::string join(const std::string& path, std::string_view key) {
  return path.empty() ? std::string(key) : fmt::format("{}.{}", path, key);
}

std::string indexed(const std::string& path, std::size_t index) {
  return fmt::format("{}[{}]", path, index);
}

// "host:port" with host an IPv4 literal or a bracketed IPv6 literal. IPv6 hosts are kept in
// their canonical spelling (RFC 5952, as inet_ntop writes it) so that two spellings of one
// address compare equal. Messages never repeat the value.
std::expected<ListenAddress, std::string> parseListenAddress(std::string_view text) {
  constexpr std::string_view kShape =
      "must be host:port with an IPv4 address or a bracketed IPv6 address (\"[::1]:8080\"); "
      "hostnames are not accepted";
  ListenAddress out;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return std::unexpected(std::string(kShape));
    }
    const std::string host(text.substr(1, close - 1));
    in6_addr address{};
    if (::inet_pton(AF_INET6, host.c_str(), &address) != 1) {
      return std::unexpected("is not a valid IPv6 address in brackets");
    }
    char canonical[INET6_ADDRSTRLEN] = {};
    if (::inet_ntop(AF_INET6, &address, canonical, sizeof canonical) == nullptr) {
      return std::unexpected("is not a valid IPv6 address in brackets");
    }
    out.host = canonical;
    port_text = text.substr(close + 2);
  } else {
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      return std::unexpected(std::string(kShape));
    }
    const auto host = text.substr(0, colon);
    if (host.find(':') != std::string_view::npos) {
      return std::unexpected("an IPv6 address must be written in brackets (\"[::1]:8080\")");
    }
    auto address = Ipv4Address::parse(host);
    if (!address) {
      return std::unexpected(std::string(kShape));
    }
    out.host = address->toString();
    port_text = text.substr(colon + 1);
  }
  std::uint16_t port = 0;
  const auto* end = port_text.data() + port_text.size();
  auto [ptr, ec] = std::from_chars(port_text.data(), end, port);
  if (port_text.empty() || (port_text.size() > 1 && port_text.front() == '0') ||
      port_text.front() == '+' || port_text.front() == '-' || ec != std::errc() || ptr != end) {
    return std::unexpected("must end with a port 0-65535 (decimal, without leading zeros)");
  }
  out.port = port;
  return out;
}

std::optional<std::uint8_t> hexValue(char c) {
  if (c >= '0' && c <= '9') {
    return static_cast<std::uint8_t>(c - '0');
  }
  if (c >= 'a' && c <= 'f') {
    return static_cast<std::uint8_t>(c - 'a' + 10);
  }
  if (c >= 'A' && c <= 'F') {
    return static_cast<std::uint8_t>(c - 'A' + 10);
  }
  return std::nullopt;
}

std::optional<std::array<std::uint8_t, 32>> decodeSha256(std::string_view text) {
  std::array<std::uint8_t, 32> out{};
  if (text.size() != out.size() * 2) {
    return std::nullopt;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto high = hexValue(text[2 * i]);
    const auto low = hexValue(text[2 * i + 1]);
    if (!high || !low) {
      return std::nullopt;
    }
    out[i] = static_cast<std::uint8_t>((*high << 4) | *low);
  }
  return out;
}

// Walks the document and records the first problem; later problems are not reported (the
// operator fixes one key at a time). A read returns nullopt when its value is unusable, so
// callers skip only the checks that depend on that value.
class Reader {
 public:
  // When set, relative paths in the file (store.sqlite, api.tls.*, drivers.*) are resolved
  // against it.
  explicit Reader(std::optional<fs::path> base_dir) : base_dir_(std::move(base_dir)) {}

  const std::optional<ConfigError>& error() const { return error_; }

  void fail(std::string key, std::string message) {
    if (!error_) {
      error_ = ConfigError{std::move(key), std::move(message)};
    }
  }

  // A map whose keys are all in `known`, each at most once.
  std::optional<Fields> map(const YAML::Node& node, const std::string& path,
                            std::initializer_list<std::string_view> known) {
    if (!node.IsMap()) {
      fail(path, "must be a map");
      return std::nullopt;
    }
    Fields fields;
    for (const auto& entry : node) {
      if (!entry.first.IsScalar()) {
        fail(path, "has a key that is not a string");
        return std::nullopt;
      }
      const std::string& key = entry.first.Scalar();
      if (std::find(known.begin(), known.end(), key) == known.end()) {
        fail(join(path, key), "is not a known key");
        return std::nullopt;
      }
      if (!fields.emplace(key, entry.second).second) {
        fail(join(path, key), "is given more than once");
        return std::nullopt;
      }
    }
    return fields;
  }

  std::optional<YAML::Node> required(const Fields& fields, const std::string& path,
                                     std::string_view key) {
    auto it = fields.find(key);
    if (it == fields.end()) {
      fail(join(path, key), "is required");
      return std::nullopt;
    }
    return it->second;
  }

  static std::optional<YAML::Node> optional(const Fields& fields, std::string_view key) {
    auto it = fields.find(key);
    if (it == fields.end()) {
      return std::nullopt;
    }
    return it->second;
  }

  std::optional<std::string> string(const YAML::Node& node, const std::string& key) {
    if (!node.IsScalar()) {
      fail(key, "must be a string");
      return std::nullopt;
    }
    return node.Scalar();
  }

  // A plain decimal integer: no quotes, no sign but '-', no leading zeros, no hex, octal,
  // exponent or fraction. Values beyond the 64-bit range saturate so that the key's own range
  // check reports them.
  std::optional<std::int64_t> integer(const YAML::Node& node, const std::string& key) {
    constexpr std::string_view kMessage = "must be an integer";
    const bool plain =
        node.IsScalar() && (node.Tag() == "?" || node.Tag() == "tag:yaml.org,2002:int");
    if (!plain) {
      fail(key, std::string(kMessage));
      return std::nullopt;
    }
    std::string_view text = node.Scalar();
    const bool negative = !text.empty() && text.front() == '-';
    if (negative) {
      text.remove_prefix(1);
    }
    const bool digits = !text.empty() && std::all_of(text.begin(), text.end(),
                                                     [](char c) { return c >= '0' && c <= '9'; });
    if (!digits || (text.size() > 1 && text.front() == '0')) {
      fail(key, std::string(kMessage));
      return std::nullopt;
    }
    std::int64_t magnitude = 0;
    const auto* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, magnitude);
    if (ec == std::errc::result_out_of_range) {
      return negative ? std::numeric_limits<std::int64_t>::min()
                      : std::numeric_limits<std::int64_t>::max();
    }
    if (ec != std::errc() || ptr != end) {
      fail(key, std::string(kMessage));
      return std::nullopt;
    }
    return negative ? -magnitude : magnitude;
  }

  std::optional<fs::path> path(const YAML::Node& node, const std::string& key) {
    auto text = string(node, key);
    if (!text) {
      return std::nullopt;
    }
    if (text->empty()) {
      fail(key, "must not be empty");
      return std::nullopt;
    }
    fs::path out(*text);
    if (base_dir_ && out.is_relative()) {
      out = (*base_dir_ / out).lexically_normal();
    }
    return out;
  }

  // A file the daemon will open later: fail now, at --check time, if it cannot be read.
  std::optional<fs::path> readableFile(const YAML::Node& node, const std::string& key) {
    auto file = path(node, key);
    if (!file) {
      return std::nullopt;
    }
    if (auto readable = checkReadable(*file); !readable) {
      fail(key, readable.error());
      return std::nullopt;
    }
    return file;
  }

  std::optional<Ipv4Address> endpointAddress(const YAML::Node& node, const std::string& key) {
    auto text = string(node, key);
    if (!text) {
      return std::nullopt;
    }
    auto address = Ipv4Address::parse(*text);
    if (!address) {
      fail(key, address.error());
      return std::nullopt;
    }
    if (auto problem = peers::checkEndpointAddress(*address)) {
      fail(key, *problem);
      return std::nullopt;
    }
    return *address;
  }

  // A list of distinct listen addresses; `at_least_one` refuses an empty list.
  std::optional<std::vector<ListenAddress>> listenList(const YAML::Node& node,
                                                       const std::string& key, bool at_least_one) {
    if (!node.IsSequence()) {
      fail(key, "must be a list");
      return std::nullopt;
    }
    if (at_least_one && node.size() == 0) {
      fail(key, "must list at least one address");
      return std::nullopt;
    }
    std::vector<ListenAddress> out;
    for (std::size_t i = 0; i < node.size(); ++i) {
      const auto item_key = indexed(key, i);
      auto text = string(node[i], item_key);
      if (!text) {
        return std::nullopt;
      }
      auto address = parseListenAddress(*text);
      if (!address) {
        fail(item_key, address.error());
        return std::nullopt;
      }
      for (std::size_t j = 0; j < out.size(); ++j) {
        if (out[j] == *address) {
          fail(item_key, fmt::format("duplicates {}", indexed(key, j)));
          return std::nullopt;
        }
      }
      out.push_back(std::move(*address));
    }
    return out;
  }

 private:
  std::optional<fs::path> base_dir_;
  std::optional<ConfigError> error_;
};

void readHub(Reader& reader, const YAML::Node& node, Config::Hub& hub) {
  const std::string path = "hub";
  auto fields = reader.map(node, path, {"name", "asn", "public_ip", "local_ip"});
  if (!fields) {
    return;
  }
  if (auto name_node = reader.required(*fields, path, "name")) {
    if (auto name = reader.string(*name_node, "hub.name")) {
      if (auto problem = peers::checkName(*name)) {
        reader.fail("hub.name", *problem);
      } else {
        hub.name = *name;
      }
    }
  }
  if (auto asn_node = reader.required(*fields, path, "asn")) {
    if (auto asn = reader.integer(*asn_node, "hub.asn")) {
      if (auto problem = peers::checkHubAsn(*asn)) {
        reader.fail("hub.asn", *problem);
      } else {
        hub.asn = static_cast<std::uint32_t>(*asn);
      }
    }
  }
  if (auto public_node = reader.required(*fields, path, "public_ip")) {
    if (auto address = reader.endpointAddress(*public_node, "hub.public_ip")) {
      hub.public_ip = *address;
    }
  }
  if (auto local_node = reader.required(*fields, path, "local_ip")) {
    if (auto address = reader.endpointAddress(*local_node, "hub.local_ip")) {
      hub.local_ip = *address;
    }
  }
}

std::optional<ApiToken> readToken(Reader& reader, const YAML::Node& node, const std::string& path) {
  auto fields = reader.map(node, path, {"name", "role", "sha256"});
  if (!fields) {
    return std::nullopt;
  }
  ApiToken token;
  auto name_node = reader.required(*fields, path, "name");
  auto name = name_node ? reader.string(*name_node, join(path, "name")) : std::nullopt;
  if (!name) {
    return std::nullopt;
  }
  if (auto problem = peers::checkName(*name)) {
    reader.fail(join(path, "name"), *problem);
    return std::nullopt;
  }
  token.name = *name;

  auto role_node = reader.required(*fields, path, "role");
  auto role = role_node ? reader.string(*role_node, join(path, "role")) : std::nullopt;
  if (!role) {
    return std::nullopt;
  }
  if (*role == "read") {
    token.role = Role::kRead;
  } else if (*role == "admin") {
    token.role = Role::kAdmin;
  } else {
    reader.fail(join(path, "role"), "must be read or admin");
    return std::nullopt;
  }

  auto hash_node = reader.required(*fields, path, "sha256");
  auto hash_text = hash_node ? reader.string(*hash_node, join(path, "sha256")) : std::nullopt;
  if (!hash_text) {
    return std::nullopt;
  }
  auto hash = decodeSha256(*hash_text);
  if (!hash) {
    reader.fail(join(path, "sha256"), "must be 64 hexadecimal characters");
    return std::nullopt;
  }
  token.sha256 = *hash;
  return token;
}

void readTokens(Reader& reader, const YAML::Node& node, std::vector<ApiToken>& tokens) {
  const std::string path = "api.tokens";
  if (!node.IsSequence()) {
    reader.fail(path, "must be a list");
    return;
  }
  if (node.size() == 0) {
    reader.fail(path, "must list at least one token");
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i) {
    const auto item_path = indexed(path, i);
    auto token = readToken(reader, node[i], item_path);
    if (!token) {
      return;
    }
    for (std::size_t j = 0; j < tokens.size(); ++j) {
      if (tokens[j].name == token->name) {
        reader.fail(join(item_path, "name"),
                    fmt::format("duplicates {}", join(indexed(path, j), "name")));
        return;
      }
      if (tokens[j].sha256 == token->sha256) {
        reader.fail(join(item_path, "sha256"),
                    fmt::format("duplicates {}", join(indexed(path, j), "sha256")));
        return;
      }
    }
    tokens.push_back(std::move(*token));
  }
}

void readTls(Reader& reader, const YAML::Node& node, std::optional<TlsConfig>& tls) {
  const std::string path = "api.tls";
  auto fields = reader.map(node, path, {"cert", "key"});
  if (!fields) {
    return;
  }
  auto cert_node = reader.required(*fields, path, "cert");
  auto key_node = reader.required(*fields, path, "key");
  if (!cert_node || !key_node) {
    return;
  }
  auto cert = reader.readableFile(*cert_node, "api.tls.cert");
  auto key = cert ? reader.readableFile(*key_node, "api.tls.key") : std::nullopt;
  if (cert && key) {
    tls = TlsConfig{std::move(*cert), std::move(*key)};
  }
}

void readApi(Reader& reader, const YAML::Node& node, Config::Api& api) {
  const std::string path = "api";
  auto fields = reader.map(
      node, path, {"listen", "tokens", "tls", "unauthenticated", "threads", "max_connections"});
  if (!fields) {
    return;
  }
  if (auto listen_node = reader.required(*fields, path, "listen")) {
    if (auto listen = reader.listenList(*listen_node, "api.listen", true)) {
      api.listen = std::move(*listen);
    }
  }
  if (auto tokens_node = reader.required(*fields, path, "tokens")) {
    readTokens(reader, *tokens_node, api.tokens);
  }
  if (auto tls_node = Reader::optional(*fields, "tls")) {
    readTls(reader, *tls_node, api.tls);
  }
  api.unauthenticated = api.listen;
  if (auto open_node = Reader::optional(*fields, "unauthenticated")) {
    const std::string key = "api.unauthenticated";
    if (auto open = reader.listenList(*open_node, key, false)) {
      for (std::size_t i = 0; i < open->size(); ++i) {
        if (std::find(api.listen.begin(), api.listen.end(), (*open)[i]) == api.listen.end()) {
          reader.fail(indexed(key, i), "is not one of api.listen");
          break;
        }
      }
      api.unauthenticated = std::move(*open);
    }
  }
  api.threads = kDefaultThreads;
  if (auto threads_node = Reader::optional(*fields, "threads")) {
    if (auto threads = reader.integer(*threads_node, "api.threads")) {
      if (*threads < kMinThreads || *threads > kMaxThreads) {
        reader.fail("api.threads", fmt::format("must be {}-{}", kMinThreads, kMaxThreads));
      } else {
        api.threads = static_cast<unsigned>(*threads);
      }
    }
  }
  api.max_connections = kDefaultMaxConnections;
  if (auto max_node = Reader::optional(*fields, "max_connections")) {
    if (auto max = reader.integer(*max_node, "api.max_connections")) {
      if (*max < 1 || *max > kMaxMaxConnections) {
        reader.fail("api.max_connections", fmt::format("must be 1-{}", kMaxMaxConnections));
      } else {
        api.max_connections = static_cast<std::size_t>(*max);
      }
    }
  }
}

// An etcd member's client URL: http:// or https://, a host, an explicit port, nothing else.
bool isEtcdEndpoint(std::string_view url) {
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!url.starts_with(scheme)) continue;
    const auto rest = url.substr(scheme.size());
    const auto colon = rest.rfind(':');
    if (colon == std::string_view::npos || colon == 0) return false;
    const auto host = rest.substr(0, colon);
    const auto port = rest.substr(colon + 1);
    const bool host_ok = std::all_of(host.begin(), host.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '[' ||
             c == ']' || c == ':';
    });
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return host_ok && !port.empty() && ec == std::errc() && ptr == port.data() + port.size() &&
           value >= 1 && value <= 65535;
  }
  return false;
}

void readEtcd(Reader& reader, const YAML::Node& node, Config::Store::Etcd& etcd) {
  const std::string path = "store.etcd";
  auto fields = reader.map(node, path, {"endpoints", "prefix", "tls", "user", "password_file"});
  if (!fields) {
    return;
  }
  if (auto endpoints = reader.required(*fields, path, "endpoints")) {
    if (!endpoints->IsSequence() || endpoints->size() == 0) {
      reader.fail("store.etcd.endpoints", "must be a list of at least one URL");
    } else {
      std::optional<bool> https;
      for (std::size_t i = 0; i < endpoints->size(); ++i) {
        const std::string key = fmt::format("store.etcd.endpoints[{}]", i);
        auto url = reader.string((*endpoints)[i], key);
        if (!url) return;
        if (!isEtcdEndpoint(*url)) {
          reader.fail(key, "must be http://HOST:PORT or https://HOST:PORT");
          return;
        }
        const bool secure = url->starts_with("https://");
        if (https && *https != secure) {
          reader.fail(key, "must use the same scheme as the other endpoints");
          return;
        }
        https = secure;
        if (std::find(etcd.endpoints.begin(), etcd.endpoints.end(), *url) != etcd.endpoints.end()) {
          reader.fail(key, "is listed twice");
          return;
        }
        etcd.endpoints.push_back(*url);
      }
    }
  }
  if (auto prefix_node = Reader::optional(*fields, "prefix")) {
    if (auto prefix = reader.string(*prefix_node, "store.etcd.prefix")) {
      const bool printable =
          std::all_of(prefix->begin(), prefix->end(), [](char c) { return c > 0x20 && c < 0x7f; });
      if (prefix->size() < 2 || prefix->front() != '/' || prefix->back() != '/' || !printable) {
        reader.fail("store.etcd.prefix",
                    "must start and end with '/' and hold printable characters only");
      } else {
        etcd.prefix = *prefix;
      }
    }
  }
  if (auto tls_node = Reader::optional(*fields, "tls")) {
    if (auto tls = reader.map(*tls_node, "store.etcd.tls", {"ca", "cert", "key"})) {
      for (const auto& [key, target] :
           {std::pair{"ca", &etcd.tls.ca}, {"cert", &etcd.tls.cert}, {"key", &etcd.tls.key}}) {
        if (auto value = Reader::optional(*tls, key)) {
          if (auto file = reader.readableFile(*value, join("store.etcd.tls", key))) {
            *target = std::move(*file);
          }
        }
      }
      if (etcd.tls.cert.empty() != etcd.tls.key.empty()) {
        reader.fail("store.etcd.tls", "cert and key go together");
      }
    }
  }
  if (auto user_node = Reader::optional(*fields, "user")) {
    if (auto user = reader.string(*user_node, "store.etcd.user")) {
      if (user->empty()) {
        reader.fail("store.etcd.user", "must not be empty");
      } else {
        etcd.user = *user;
      }
    }
  }
  if (auto file_node = Reader::optional(*fields, "password_file")) {
    if (auto file = reader.readableFile(*file_node, "store.etcd.password_file")) {
      etcd.password_file = std::move(*file);
    }
  }
  if (etcd.user.empty() != etcd.password_file.empty()) {
    reader.fail("store.etcd", "user and password_file go together");
  }
  const bool https = !etcd.endpoints.empty() && etcd.endpoints.front().starts_with("https://");
  if (!https && (!etcd.tls.ca.empty() || !etcd.tls.cert.empty())) {
    reader.fail("store.etcd.tls", "needs https:// endpoints");
  }
}

void readStore(Reader& reader, const YAML::Node& node, Config::Store& store) {
  const std::string path = "store";
  auto fields = reader.map(node, path, {"sqlite", "etcd"});
  if (!fields) {
    return;
  }
  const auto sqlite_node = Reader::optional(*fields, "sqlite");
  const auto etcd_node = Reader::optional(*fields, "etcd");
  if (sqlite_node && etcd_node) {
    reader.fail(path, "must name one store: sqlite (a single hub) or etcd (the pair), not both");
    return;
  }
  if (etcd_node) {
    readEtcd(reader, *etcd_node, store.etcd.emplace(Config::Store::Etcd{}));
    return;
  }
  if (auto required = reader.required(*fields, path, "sqlite")) {
    if (auto sqlite = reader.path(*required, "store.sqlite")) {
      store.sqlite = std::move(*sqlite);
    }
  }
}

// One key of a map whose value is a path; an absent key leaves the target at its default.
struct PathKey {
  std::string_view key;
  fs::path* target;
};

void readPaths(Reader& reader, const Fields& fields, const std::string& path,
               std::initializer_list<PathKey> keys) {
  for (const auto& [key, target] : keys) {
    if (auto node = Reader::optional(fields, key)) {
      if (auto value = reader.path(*node, join(path, key))) {
        *target = std::move(*value);
      }
    }
  }
}

void readLibreswan(Reader& reader, const YAML::Node& node, Config::Drivers::Libreswan& libreswan) {
  const std::string path = "drivers.libreswan";
  auto fields = reader.map(
      node, path, {"whack", "addconn", "ctl_socket", "pid_file", "conf_dir", "secrets_file"});
  if (!fields) {
    return;
  }
  readPaths(reader, *fields, path,
            {{"whack", &libreswan.whack},
             {"addconn", &libreswan.addconn},
             {"ctl_socket", &libreswan.ctl_socket},
             {"pid_file", &libreswan.pid_file},
             {"conf_dir", &libreswan.conf_dir},
             {"secrets_file", &libreswan.secrets_file}});
}

void readBird(Reader& reader, const YAML::Node& node, Config::Drivers::Bird& bird) {
  const std::string path = "drivers.bird";
  auto fields = reader.map(node, path, {"socket", "include_file", "main_config"});
  if (!fields) {
    return;
  }
  readPaths(reader, *fields, path,
            {{"socket", &bird.socket},
             {"include_file", &bird.include_file},
             {"main_config", &bird.main_config}});
}

// A program the live drivers run: fail now, at --check time, if it cannot be. Sockets, pid files
// and configuration files are not checked: the daemons may start after the hub.
void checkExecutable(Reader& reader, const fs::path& file, const std::string& key) {
  std::error_code ec;
  if (!fs::is_regular_file(file, ec) || ::access(file.c_str(), X_OK) != 0) {
    reader.fail(key, fmt::format("{} is not an executable file", file.string()));
  }
}

bool validInterfaceName(std::string_view name) {
  if (name.empty() || name.size() > 15 || name == "." || name == "..") {
    return false;
  }
  return std::ranges::all_of(name, [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

void readDrivers(Reader& reader, const YAML::Node& node, Config::Drivers& drivers) {
  const std::string path = "drivers";
  auto fields = reader.map(
      node, path,
      {"mode", "tunnel_links", "libreswan", "xfrm", "bird", "dry_run_dir", "runtime_dir"});
  if (!fields) {
    return;
  }
  if (auto mode_node = Reader::optional(*fields, "mode")) {
    if (auto mode = reader.string(*mode_node, "drivers.mode")) {
      if (*mode == "dry-run") {
        drivers.mode = DriverMode::kDryRun;
      } else if (*mode == "live") {
        drivers.mode = DriverMode::kLive;
      } else {
        reader.fail("drivers.mode", "must be dry-run or live");
      }
    }
  }
  if (auto links_node = Reader::optional(*fields, "tunnel_links")) {
    if (auto links = reader.string(*links_node, "drivers.tunnel_links")) {
      if (*links == "xfrm") {
        drivers.tunnel_links = peers::TunnelLinks::kXfrm;
      } else if (*links == "external") {
        drivers.tunnel_links = peers::TunnelLinks::kExternal;
      } else {
        reader.fail("drivers.tunnel_links", "must be xfrm or external");
      }
    }
  }
  if (auto libreswan_node = Reader::optional(*fields, "libreswan")) {
    readLibreswan(reader, *libreswan_node, drivers.libreswan);
  }
  if (auto xfrm_node = Reader::optional(*fields, "xfrm")) {
    if (auto xfrm = reader.map(*xfrm_node, "drivers.xfrm", {"underlay_device"})) {
      if (auto device = Reader::optional(*xfrm, "underlay_device")) {
        if (auto name = reader.string(*device, "drivers.xfrm.underlay_device")) {
          if (!validInterfaceName(*name)) {
            reader.fail("drivers.xfrm.underlay_device",
                        "must be a network interface name (1-15 of A-Z a-z 0-9 . _ -)");
          } else {
            drivers.xfrm.underlay_device = *name;
          }
        }
      }
    }
  }
  if (auto bird_node = Reader::optional(*fields, "bird")) {
    readBird(reader, *bird_node, drivers.bird);
  }
  if (auto dir = Reader::optional(*fields, "dry_run_dir")) {
    if (auto value = reader.path(*dir, "drivers.dry_run_dir")) {
      drivers.dry_run_dir = std::move(*value);
    }
  }
  if (auto dir = Reader::optional(*fields, "runtime_dir")) {
    if (auto value = reader.path(*dir, "drivers.runtime_dir")) {
      drivers.runtime_dir = std::move(*value);
    }
  }
  if (drivers.mode == DriverMode::kLive && !reader.error()) {
    checkExecutable(reader, drivers.libreswan.whack, "drivers.libreswan.whack");
    checkExecutable(reader, drivers.libreswan.addconn, "drivers.libreswan.addconn");
  }
}

void readRouting(Reader& reader, const YAML::Node& node, Config::Routing& routing) {
  auto fields = reader.map(node, "routing", {"segments", "reserved", "not_preferred"});
  if (!fields) {
    return;
  }
  if (auto segments = Reader::optional(*fields, "segments")) {
    if (!segments->IsMap()) {
      reader.fail("routing.segments", "must be a map of segment name to a list of segments");
      return;
    }
    for (const auto& entry : *segments) {
      if (!entry.first.IsScalar()) {
        reader.fail("routing.segments", "has a key that is not a segment name");
        return;
      }
      const std::string name = entry.first.Scalar();
      const std::string key = "routing.segments." + name;
      if (auto problem = peers::checkName(name)) {
        reader.fail(key, "is not a segment name: " + *problem);
        return;
      }
      if (routing.segments.contains(name)) {
        reader.fail(key, "is given more than once");
        return;
      }
      if (!entry.second.IsSequence()) {
        reader.fail(key, "must be a list of segment names");
        return;
      }
      std::vector<std::string> reaches;
      for (std::size_t i = 0; i < entry.second.size(); ++i) {
        const auto item_key = fmt::format("{}[{}]", key, i);
        auto other = reader.string(entry.second[i], item_key);
        if (!other) {
          return;
        }
        if (auto problem = peers::checkName(*other)) {
          reader.fail(item_key, "is not a segment name: " + *problem);
          return;
        }
        reaches.push_back(*other);
      }
      routing.segments.emplace(name, std::move(reaches));
    }
  }
  if (auto reserved = Reader::optional(*fields, "reserved")) {
    if (!reserved->IsSequence()) {
      reader.fail("routing.reserved", "must be a list of IPv4 prefixes");
      return;
    }
    for (std::size_t i = 0; i < reserved->size(); ++i) {
      const auto key = fmt::format("routing.reserved[{}]", i);
      auto text = reader.string((*reserved)[i], key);
      if (!text) {
        return;
      }
      auto prefix = Ipv4Prefix::parse(*text);
      if (!prefix) {
        reader.fail(key, prefix.error());
        return;
      }
      routing.reserved.push_back(*prefix);
    }
  }
  if (auto node_np = Reader::optional(*fields, "not_preferred")) {
    auto np = reader.map(*node_np, "routing.not_preferred", {"prepend", "med"});
    if (!np) {
      return;
    }
    if (auto prepend = Reader::optional(*np, "prepend")) {
      if (auto value = reader.integer(*prepend, "routing.not_preferred.prepend")) {
        if (*value < 0 || *value > 10) {
          reader.fail("routing.not_preferred.prepend", "must be between 0 and 10");
        } else {
          routing.not_preferred_prepend = static_cast<std::uint32_t>(*value);
        }
      }
    }
    if (auto med = Reader::optional(*np, "med")) {
      if (med->IsNull()) {
        routing.not_preferred_med.reset();
      } else if (auto value = reader.integer(*med, "routing.not_preferred.med")) {
        if (*value < 0 || *value > 4294967295LL) {
          reader.fail("routing.not_preferred.med", "must be between 0 and 4294967295, or null");
        } else {
          routing.not_preferred_med = static_cast<std::uint32_t>(*value);
        }
      }
    }
  }
}

// An integer key in [low, high]; an absent key leaves the target at its default.
template <typename T>
void readBounded(Reader& reader, const Fields& fields, const std::string& path,
                 std::string_view key, std::int64_t low, std::int64_t high, T& target) {
  auto node = Reader::optional(fields, key);
  if (!node) return;
  const auto full = join(path, key);
  if (auto value = reader.integer(*node, full)) {
    if (*value < low || *value > high) {
      reader.fail(full, fmt::format("must be between {} and {}", low, high));
    } else {
      target = static_cast<T>(*value);
    }
  }
}

void readPair(Reader& reader, const YAML::Node& node, Config::Pair& pair) {
  const std::string path = "pair";
  auto fields = reader.map(node, path, {"peer", "link", "bfd"});
  if (!fields) {
    return;
  }
  if (auto peer_node = reader.required(*fields, path, "peer")) {
    if (auto peer = reader.map(*peer_node, "pair.peer", {"name", "public_ip", "local_ip"})) {
      if (auto name_node = reader.required(*peer, "pair.peer", "name")) {
        if (auto name = reader.string(*name_node, "pair.peer.name")) {
          if (auto problem = peers::checkName(*name)) {
            reader.fail("pair.peer.name", *problem);
          } else {
            pair.peer.name = *name;
          }
        }
      }
      for (const auto& [key, target] : {std::pair{"public_ip", &pair.peer.public_ip},
                                        std::pair{"local_ip", &pair.peer.local_ip}}) {
        if (auto value = reader.required(*peer, "pair.peer", key)) {
          if (auto address = reader.endpointAddress(*value, join("pair.peer", key))) {
            *target = *address;
          }
        }
      }
    }
  }
  if (auto link_node = Reader::optional(*fields, "link")) {
    const std::string link_path = "pair.link";
    auto link =
        reader.map(*link_node, link_path, {"vni", "port", "inside", "mtu", "underlay_device"});
    if (!link) return;
    readBounded(reader, *link, link_path, "vni", 1, 16777215, pair.link.vni);
    readBounded(reader, *link, link_path, "port", 1, 65535, pair.link.port);
    readBounded(reader, *link, link_path, "mtu", 1280, 8950, pair.link.mtu);
    if (auto inside_node = Reader::optional(*link, "inside")) {
      if (auto text = reader.string(*inside_node, "pair.link.inside")) {
        auto inside = Ipv4Prefix::parse(*text);
        if (!inside) {
          reader.fail("pair.link.inside", inside.error());
        } else if (inside->length() != 30) {
          reader.fail("pair.link.inside", "must be a /30");
        } else {
          pair.link.inside = *inside;
        }
      }
    }
    if (auto device = Reader::optional(*link, "underlay_device")) {
      if (auto name = reader.string(*device, "pair.link.underlay_device")) {
        if (!validInterfaceName(*name)) {
          reader.fail("pair.link.underlay_device",
                      "must be a network interface name (1-15 of A-Z a-z 0-9 . _ -)");
        } else {
          pair.link.underlay_device = *name;
        }
      }
    }
  }
  if (auto bfd_node = Reader::optional(*fields, "bfd")) {
    if (auto bfd = reader.map(*bfd_node, "pair.bfd", {"interval_ms", "multiplier"})) {
      readBounded(reader, *bfd, "pair.bfd", "interval_ms", 10, 10000, pair.bfd.interval_ms);
      readBounded(reader, *bfd, "pair.bfd", "multiplier", 2, 255, pair.bfd.multiplier);
    }
  }
}

// Checks that need more than one section: the pair against the hub and the store.
void checkPair(Reader& reader, const Config& config) {
  if (!config.pair) return;
  const auto& pair = *config.pair;
  if (pair.peer.name == config.hub.name) {
    reader.fail("pair.peer.name", "must differ from hub.name (the peer is the other hub)");
  } else if (pair.peer.public_ip == config.hub.public_ip) {
    reader.fail("pair.peer.public_ip", "must differ from hub.public_ip");
  } else if (pair.peer.local_ip == config.hub.local_ip) {
    reader.fail("pair.peer.local_ip", "must differ from hub.local_ip");
  } else if (!config.store.etcd) {
    reader.fail("pair", "needs store.etcd: the two hubs of a pair share one registry");
  }
}

void readLog(Reader& reader, const YAML::Node& node, Config::Log& log) {
  auto fields = reader.map(node, "log", {"level"});
  if (!fields) {
    return;
  }
  if (auto level_node = Reader::optional(*fields, "level")) {
    if (auto level = reader.string(*level_node, "log.level")) {
      static constexpr std::pair<std::string_view, LogLevel> kLevels[] = {
          {"trace", LogLevel::kTrace}, {"debug", LogLevel::kDebug}, {"info", LogLevel::kInfo},
          {"warn", LogLevel::kWarn},   {"error", LogLevel::kError},
      };
      const auto* it = std::find_if(std::begin(kLevels), std::end(kLevels),
                                    [&](const auto& entry) { return entry.first == *level; });
      if (it == std::end(kLevels)) {
        reader.fail("log.level", "must be one of trace, debug, info, warn, error");
      } else {
        log.level = it->second;
      }
    }
  }
}

void readAudit(Reader& reader, const YAML::Node& node, Config::Audit& audit) {
  auto fields = reader.map(node, "audit", {"retention_days", "max_records"});
  if (!fields) {
    return;
  }
  constexpr std::int64_t kMaxDays = 3650;
  constexpr std::int64_t kMinRecords = 100;
  constexpr std::int64_t kMaxRecords = 10'000'000;
  if (auto days_node = Reader::optional(*fields, "retention_days")) {
    if (auto days = reader.integer(*days_node, "audit.retention_days")) {
      if (*days < 1 || *days > kMaxDays) {
        reader.fail("audit.retention_days", fmt::format("must be 1-{}", kMaxDays));
      } else {
        audit.retention_days = static_cast<unsigned>(*days);
      }
    }
  }
  if (auto records_node = Reader::optional(*fields, "max_records")) {
    if (auto records = reader.integer(*records_node, "audit.max_records")) {
      if (*records < kMinRecords || *records > kMaxRecords) {
        reader.fail("audit.max_records", fmt::format("must be {}-{}", kMinRecords, kMaxRecords));
      } else {
        audit.max_records = static_cast<std::size_t>(*records);
      }
    }
  }
}

std::expected<Config, ConfigError> parse(std::string_view yaml_text,
                                         std::optional<fs::path> base_dir) {
  FirstYamlDocument documents;
  try {
    documents = loadFirstYamlDocument(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    if (e.mark.is_null()) {
      return std::unexpected(ConfigError{"", fmt::format("YAML syntax error: {}", e.msg)});
    }
    return std::unexpected(
        ConfigError{"", fmt::format("YAML syntax error at line {}, column {}: {}", e.mark.line + 1,
                                    e.mark.column + 1, e.msg)});
  }
  if (documents.documents == 0 || documents.root.IsNull()) {
    return std::unexpected(ConfigError{"", "the configuration is empty"});
  }
  if (documents.documents > 1) {
    return std::unexpected(ConfigError{"", "the configuration must be a single YAML document"});
  }
  const YAML::Node& root = documents.root;
  if (!root.IsMap()) {
    return std::unexpected(ConfigError{"", "the top level must be a map of sections"});
  }

  Config config;
  Reader reader(std::move(base_dir));
  try {
    auto fields =
        reader.map(root, "", {"hub", "api", "store", "pair", "drivers", "routing", "log", "audit"});
    if (fields) {
      if (auto hub = reader.required(*fields, "", "hub")) {
        readHub(reader, *hub, config.hub);
      }
      if (auto api = reader.required(*fields, "", "api")) {
        readApi(reader, *api, config.api);
      }
      if (auto store = reader.required(*fields, "", "store")) {
        readStore(reader, *store, config.store);
      }
      if (auto pair = Reader::optional(*fields, "pair")) {
        readPair(reader, *pair, config.pair.emplace(Config::Pair{}));
      }
      if (auto drivers = Reader::optional(*fields, "drivers")) {
        readDrivers(reader, *drivers, config.drivers);
      }
      if (auto routing = Reader::optional(*fields, "routing")) {
        readRouting(reader, *routing, config.routing);
      }
      if (auto log = Reader::optional(*fields, "log")) {
        readLog(reader, *log, config.log);
      }
      if (auto audit = Reader::optional(*fields, "audit")) {
        readAudit(reader, *audit, config.audit);
      }
    }
  } catch (const YAML::Exception& e) {
    // Not expected from a loaded document; reported rather than thrown all the same.
    reader.fail("", fmt::format("cannot read the configuration: {}", e.msg));
  }
  if (!reader.error()) {
    checkPair(reader, config);
  }
  if (reader.error()) {
    return std::unexpected(*reader.error());
  }
  if (config.drivers.dry_run_dir.empty()) {
    config.drivers.dry_run_dir = config.store.etcd ? fs::path("/var/lib/transit-hub/dry-run")
                                                   : config.store.sqlite.parent_path() / "dry-run";
  }
  return config;
}

}  // namespace

std::string_view toString(Role role) {
  switch (role) {
    case Role::kRead:
      return "read";
    case Role::kAdmin:
      return "admin";
  }
  return "unknown";
}

std::string_view toString(DriverMode mode) {
  switch (mode) {
    case DriverMode::kDryRun:
      return "dry-run";
    case DriverMode::kLive:
      return "live";
  }
  return "unknown";
}

std::string ListenAddress::toString() const {
  if (host.find(':') != std::string::npos) {
    return fmt::format("[{}]:{}", host, port);
  }
  return fmt::format("{}:{}", host, port);
}

std::string ConfigError::toString() const {
  return key.empty() ? message : fmt::format("{}: {}", key, message);
}

std::expected<Config, ConfigError> parseConfig(std::string_view yaml_text) {
  return parse(yaml_text, std::nullopt);
}

std::expected<Config, ConfigError> loadConfig(const std::filesystem::path& path) {
  auto text = readFile(path, kMaxConfigBytes);
  if (!text) {
    return std::unexpected(ConfigError{"", text.error()});
  }
  std::error_code ec;
  auto absolute = fs::absolute(path, ec);
  if (ec) {
    return std::unexpected(
        ConfigError{"", fmt::format("cannot resolve {}: {}", path.string(), ec.message())});
  }
  return parse(*text, absolute.parent_path());
}

}  // namespace transit::hub
