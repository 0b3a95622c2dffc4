#include "hub/ctl/output.hpp"

#include <algorithm>
#include <array>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cstddef>
#include <set>
#include <span>

namespace transit::ctl {
namespace {

namespace json = boost::json;

// Replaces C0 controls, DEL and the UTF-8 encodings of C1 controls (U+0080..U+009F) by '?'.
std::string sanitize(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte < 0x20 || byte == 0x7f) {
      out.push_back('?');
    } else if (byte == 0xc2 && i + 1 < text.size() &&
               static_cast<unsigned char>(text[i + 1]) >= 0x80 &&
               static_cast<unsigned char>(text[i + 1]) <= 0x9f) {
      out.push_back('?');
      ++i;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string out;
  for (const auto& part : parts) {
    if (!out.empty()) {
      out += separator;
    }
    out += part;
  }
  return out;
}

const json::value* member(const json::object& object, std::string_view key) {
  return object.if_contains(key);
}

std::string displayArray(const json::array& array, std::string_view separator) {
  if (array.empty()) {
    return "-";
  }
  std::vector<std::string> parts;
  parts.reserve(array.size());
  for (const auto& element : array) {
    parts.push_back(displayValue(&element));
  }
  return join(parts, separator);
}

// "key: value" lines: `known` keys first in that order (absent ones shown as "-" when `always`),
// then any other key of the object except `skip`, in the object's order. "psk" never shows.
std::string renderKeyValues(const json::object& object, std::span<const std::string_view> known,
                            std::span<const std::string_view> skip) {
  std::string out;
  for (const auto key : known) {
    out += std::string(key) + ": " + displayValue(member(object, key)) + "\n";
  }
  for (const auto& [json_key, value] : object) {
    const std::string_view key = json_key;
    const bool listed = std::ranges::find(known, key) != known.end() ||
                        std::ranges::find(skip, key) != skip.end() || key == "psk";
    if (!listed) {
      out += sanitize(key) + ": " + displayValue(&value) + "\n";
    }
  }
  return out;
}

// The array `body[key]`, or an error saying the body has none.
std::expected<const json::array*, std::string> listMember(const json::value& body,
                                                          std::string_view key) {
  const auto* list = body.is_object() ? body.as_object().if_contains(key) : nullptr;
  if (list == nullptr || !list->is_array()) {
    return std::unexpected("the body has no \"" + std::string(key) + "\" list");
  }
  return &list->as_array();
}

// `value[key]` when `value` is an object, else null.
const json::value* nested(const json::value* value, std::string_view key) {
  return value != nullptr && value->is_object() ? value->as_object().if_contains(key) : nullptr;
}

bool isTrue(const json::value* value) {
  return value != nullptr && value->is_bool() && value->as_bool();
}

std::string yesNo(const json::value* value) {
  if (value == nullptr || !value->is_bool()) {
    return "-";
  }
  return value->as_bool() ? "yes" : "no";
}

// An array's elements joined by `separator` ("-" when empty); anything else as displayValue.
std::string listCell(const json::value* value, std::string_view separator) {
  if (value != nullptr && value->is_array()) {
    return displayArray(value->as_array(), separator);
  }
  return displayValue(value);
}

// The strings of body["warnings"], each after `prefix`, one per line.
std::string warningLines(const json::object& body, std::string_view prefix) {
  std::string out;
  const auto* warnings = member(body, "warnings");
  if (warnings != nullptr && warnings->is_array()) {
    for (const auto& warning : warnings->as_array()) {
      out += std::string(prefix) + displayValue(&warning) + "\n";
    }
  }
  return out;
}

// What a summary covers: the first kMaxCoveredShown prefixes, then ", ... (N more)".
std::string coveredList(const json::array& covers) {
  std::vector<std::string> parts;
  for (std::size_t i = 0; i < covers.size() && i < kMaxCoveredShown; ++i) {
    parts.push_back(displayValue(&covers[i]));
  }
  std::string out = join(parts, ", ");
  if (covers.size() > kMaxCoveredShown) {
    out += ", ... (" + std::to_string(covers.size() - kMaxCoveredShown) + " more)";
  }
  return out;
}

std::string statusLine(unsigned status, std::string_view reason) {
  std::string line = "HTTP " + std::to_string(status);
  if (!reason.empty()) {
    line += " " + sanitize(reason);
  }
  return line;
}

}  // namespace

ExitCode exitCodeForStatus(unsigned status) {
  if (status >= 200 && status < 300) {
    return ExitCode::kOk;
  }
  if (status == 401 || status == 403) {
    return ExitCode::kAuth;
  }
  if (status >= 400 && status < 600) {
    return ExitCode::kApiRefused;
  }
  return ExitCode::kUnreachable;
}

std::optional<ApiError> parseApiError(std::string_view body) {
  boost::system::error_code ec;
  const json::value parsed = json::parse(body, ec);
  if (ec || !parsed.is_object()) {
    return std::nullopt;
  }
  const auto* error = parsed.as_object().if_contains("error");
  if (error == nullptr || !error->is_object()) {
    return std::nullopt;
  }
  const auto& fields = error->as_object();
  const auto* message = fields.if_contains("message");
  if (message == nullptr || !message->is_string()) {
    return std::nullopt;
  }
  ApiError out;
  out.message = std::string(message->as_string());
  if (const auto* code = fields.if_contains("code"); code != nullptr && code->is_string()) {
    out.code = std::string(code->as_string());
  }
  if (const auto* field = fields.if_contains("field");
      field != nullptr && field->is_string() && !field->as_string().empty()) {
    out.field = std::string(field->as_string());
  }
  return out;
}

std::string describeApiError(const ApiError& error) {
  std::string out = sanitize(error.message);
  if (error.field) {
    out += " (field: " + sanitize(*error.field) + ")";
  }
  return out;
}

std::expected<json::value, Failure> interpretResponse(unsigned status, std::string_view reason,
                                                      std::string_view body,
                                                      std::string_view server) {
  const std::string unexpected = "unexpected response from " + std::string(server) + ": ";
  const ExitCode code = exitCodeForStatus(status);
  if (code == ExitCode::kOk) {
    if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) {
      return json::value(nullptr);
    }
    boost::system::error_code ec;
    json::value parsed = json::parse(body, ec);
    if (ec) {
      return std::unexpected(
          Failure{ExitCode::kUnreachable,
                  unexpected + statusLine(status, reason) +
                      " with a body that is not JSON (is --server the hub's API?)"});
    }
    return parsed;
  }
  if (code == ExitCode::kUnreachable) {
    return std::unexpected(
        Failure{code, unexpected + statusLine(status, reason) + " (is --server the hub's API?)"});
  }
  if (auto error = parseApiError(body)) {
    return std::unexpected(Failure{code, describeApiError(*error)});
  }
  return std::unexpected(Failure{ExitCode::kUnreachable,
                                 unexpected + statusLine(status, reason) +
                                     " without the API's error JSON (is --server the hub's API?)"});
}

std::string renderTable(const std::vector<std::string>& header,
                        const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths(header.size(), 0);
  const auto measure = [&widths](const std::vector<std::string>& row) {
    for (std::size_t i = 0; i < row.size() && i < widths.size(); ++i) {
      widths[i] = std::max(widths[i], row[i].size());
    }
  };
  measure(header);
  std::ranges::for_each(rows, measure);

  std::string out;
  const auto emit = [&](const std::vector<std::string>& row) {
    std::string line;
    for (std::size_t i = 0; i < widths.size(); ++i) {
      const std::string& cell = i < row.size() ? row[i] : std::string();
      line += cell;
      if (i + 1 < widths.size()) {
        line.append(widths[i] - cell.size() + 2, ' ');
      }
    }
    line.erase(line.find_last_not_of(' ') + 1);
    out += line + "\n";
  };
  emit(header);
  std::ranges::for_each(rows, emit);
  return out;
}

std::string displayValue(const json::value* value) {
  if (value == nullptr || value->is_null()) {
    return "-";
  }
  if (value->is_string()) {
    return sanitize(value->as_string());
  }
  if (value->is_array()) {
    return displayArray(value->as_array(), ", ");
  }
  if (value->is_object()) {
    std::vector<std::string> parts;
    for (const auto& [key, element] : value->as_object()) {
      if (key != "psk") {
        parts.push_back(sanitize(key) + "=" + displayValue(&element));
      }
    }
    return parts.empty() ? "-" : join(parts, ", ");
  }
  return json::serialize(*value);  // number or bool
}

std::expected<std::string, std::string> renderSpokeList(const json::value& body) {
  const auto* spokes = body.is_object() ? body.as_object().if_contains("spokes") : nullptr;
  if (spokes == nullptr || !spokes->is_array()) {
    return std::unexpected("the body has no \"spokes\" list");
  }
  if (spokes->as_array().empty()) {
    return "No spokes.\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& element : spokes->as_array()) {
    if (!element.is_object()) {
      return std::unexpected("an element of \"spokes\" is not an object");
    }
    const auto& spoke = element.as_object();
    const auto* routing = member(spoke, "routing");
    const bool is_static =
        routing != nullptr && routing->is_string() && routing->as_string() == "static";
    const auto* cidrs = member(spoke, "cidrs");
    const auto* tunnels = member(spoke, "tunnels");
    rows.push_back({
        displayValue(member(spoke, "name")),
        displayValue(member(spoke, "kind")),
        displayValue(routing),
        is_static ? "-" : displayValue(member(spoke, "asn")),
        displayValue(member(spoke, "segment")),
        cidrs != nullptr && cidrs->is_array() ? displayArray(cidrs->as_array(), ",")
                                              : displayValue(cidrs),
        tunnels != nullptr && tunnels->is_array() ? std::to_string(tunnels->as_array().size())
                                                  : "-",
        displayValue(member(spoke, "generation")),
    });
  }
  return renderTable({"NAME", "KIND", "ROUTING", "ASN", "SEGMENT", "CIDRS", "TUNNELS", "GEN"},
                     rows);
}

std::expected<std::string, std::string> renderSpoke(const json::value& body) {
  if (!body.is_object()) {
    return std::unexpected("the body is not a spoke object");
  }
  const auto& spoke = body.as_object();
  static constexpr std::array<std::string_view, 11> kKnown = {
      "name",  "kind",       "routing",   "asn",        "preferred_hub", "segment",
      "cidrs", "generation", "route_tag", "created_at", "updated_at"};
  static constexpr std::array<std::string_view, 1> kSkip = {"tunnels"};
  std::string out = renderKeyValues(spoke, kKnown, kSkip);

  const auto* tunnels = member(spoke, "tunnels");
  if (tunnels == nullptr || !tunnels->is_array() || tunnels->as_array().empty()) {
    return out + "tunnels: -\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& element : tunnels->as_array()) {
    if (!element.is_object()) {
      return std::unexpected("an element of \"tunnels\" is not an object");
    }
    const auto& tunnel = element.as_object();
    const auto* psk_set = member(tunnel, "psk_set");
    const bool set = psk_set != nullptr && psk_set->is_bool() && psk_set->as_bool();
    rows.push_back({displayValue(member(tunnel, "hub")), displayValue(member(tunnel, "outside_ip")),
                    displayValue(member(tunnel, "inside_cidr")),
                    displayValue(member(tunnel, "hub_inside_ip")),
                    displayValue(member(tunnel, "peer_inside_ip")), set ? "set" : "-"});
  }
  return out + "\n" +
         renderTable({"HUB", "OUTSIDE_IP", "INSIDE_CIDR", "HUB_INSIDE_IP", "PEER_INSIDE_IP", "PSK"},
                     rows);
}

namespace {
std::expected<std::string, std::string> renderWithHeadline(std::string_view verb,
                                                           const json::value& body) {
  auto view = renderSpoke(body);
  if (!view) {
    return view;
  }
  const auto& spoke = body.as_object();
  return std::string(verb) + " spoke " + displayValue(member(spoke, "name")) + " (generation " +
         displayValue(member(spoke, "generation")) + ")\n" + *view;
}
}  // namespace

std::expected<std::string, std::string> renderCreated(const json::value& body) {
  return renderWithHeadline("Created", body);
}

std::expected<std::string, std::string> renderUpdated(const json::value& body) {
  return renderWithHeadline("Updated", body);
}

std::expected<std::string, std::string> renderHub(const json::value& body) {
  if (!body.is_object()) {
    return std::unexpected("the body is not a hub object");
  }
  static constexpr std::array<std::string_view, 6> kBefore = {
      "name", "asn", "public_ip", "local_ip", "version", "drivers_mode"};
  static constexpr std::array<std::string_view, 3> kAfter = {"revision", "spokes", "ready"};
  static constexpr std::array<std::string_view, 10> kSkip = {
      "name",         "asn",   "public_ip", "local_ip", "version",
      "drivers_mode", "store", "revision",  "spokes",   "ready"};
  const auto& hub = body.as_object();
  std::string out;
  for (const auto key : kBefore) {
    out += std::string(key) + ": " + displayValue(member(hub, key)) + "\n";
  }
  // "store: etcd:http://10.0.1.5:2379/transit-hub/ (current, revision 12)", or while the hub's
  // view of it is stale "... (STALE since 2026-11-26T06:30:00Z, revision 12: why)". A hub
  // older than the store object sends the location alone.
  const auto* store = member(hub, "store");
  if (store != nullptr && store->is_object()) {
    const auto& s = store->as_object();
    const bool stale = displayValue(member(s, "state")) == "stale";
    out += "store: " + displayValue(member(s, "location")) + " (" +
           (stale ? "STALE since " + displayValue(member(s, "since")) + ", " : "current, ") +
           "revision " + displayValue(member(s, "revision")) +
           (stale ? ": " + displayValue(member(s, "reason")) : "") + ")\n";
  } else {
    out += "store: " + displayValue(store) + "\n";
  }
  for (const auto key : kAfter) {
    out += std::string(key) + ": " + displayValue(member(hub, key)) + "\n";
  }
  return out + renderKeyValues(hub, {}, kSkip);  // keys this CLI does not know, last
}

std::expected<std::string, std::string> renderRoutes(const json::value& body) {
  auto routes = listMember(body, "routes");
  if (!routes) {
    return std::unexpected(routes.error());
  }
  if ((*routes)->empty()) {
    return "No routes.\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& element : **routes) {
    if (!element.is_object()) {
      return std::unexpected("an element of \"routes\" is not an object");
    }
    const auto& route = element.as_object();
    std::string state;
    if (isTrue(member(route, "filtered"))) {
      state = "filtered";
    } else if (isTrue(member(route, "selected"))) {
      state = "selected";
    }
    rows.push_back({
        displayValue(member(route, "prefix")),
        displayValue(member(route, "spoke")),
        displayValue(member(route, "tunnel")),
        listCell(member(route, "as_path"), " "),
        displayValue(member(route, "med")),
        listCell(member(route, "next_hops"), ","),
        state,
    });
  }
  return renderTable({"PREFIX", "SPOKE", "TUNNEL", "AS-PATH", "MED", "NEXT-HOPS", "STATE"}, rows);
}

std::expected<std::string, std::string> renderConflicts(const json::value& body) {
  auto conflicts = listMember(body, "conflicts");
  if (!conflicts) {
    return std::unexpected(conflicts.error());
  }
  if ((*conflicts)->empty()) {
    return "No conflicts.\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& element : **conflicts) {
    if (!element.is_object()) {
      return std::unexpected("an element of \"conflicts\" is not an object");
    }
    const auto& conflict = element.as_object();
    const auto* announced_by = member(conflict, "announced_by");
    const auto* overlaps = member(conflict, "overlaps");
    rows.push_back({
        displayValue(member(conflict, "prefix")),
        displayValue(nested(announced_by, "spoke")),
        listCell(nested(announced_by, "tunnels"), ","),
        displayValue(nested(overlaps, "spoke")) + " " + displayValue(nested(overlaps, "cidr")),
        displayValue(member(conflict, "resolution")),
    });
  }
  return renderTable({"PREFIX", "ANNOUNCED-BY", "TUNNELS", "OVERLAPS", "RESOLUTION"}, rows);
}

std::expected<std::string, std::string> renderAudit(const json::value& body) {
  auto records = listMember(body, "records");
  if (!records) {
    return std::unexpected(records.error());
  }
  if ((*records)->empty()) {
    return "No changes recorded.\n";
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& element : **records) {
    if (!element.is_object()) {
      return std::unexpected("an element of \"records\" is not an object");
    }
    const auto& record = element.as_object();
    std::string changed;
    if (const auto* changes = member(record, "changes");
        changes != nullptr && changes->is_array()) {
      for (const auto& change : changes->as_array()) {
        if (!change.is_object()) continue;
        if (!changed.empty()) changed += ",";
        changed += displayValue(member(change.as_object(), "field"));
        if (isTrue(member(change.as_object(), "secret"))) changed += "(secret)";
      }
    }
    rows.push_back({displayValue(member(record, "at")), displayValue(member(record, "hub")),
                    displayValue(member(record, "actor")), displayValue(member(record, "action")),
                    displayValue(member(record, "spoke")),
                    displayValue(member(record, "generation")),
                    displayValue(member(record, "request_id")), changed.empty() ? "-" : changed});
  }
  return renderTable({"TIME", "HUB", "ACTOR", "ACTION", "SPOKE", "GEN", "REQUEST", "CHANGED"},
                     rows);
}

std::expected<std::string, std::string> renderExports(const json::value& body) {
  auto prefixes = listMember(body, "prefixes");
  if (!prefixes) {
    return std::unexpected(prefixes.error());
  }
  const auto& plan = body.as_object();
  std::string out;
  out += "spoke: " + displayValue(member(plan, "spoke")) + "\n";
  out += "limit: " + displayValue(member(plan, "limit")) + "\n";
  out += "must reach: " + displayValue(member(plan, "must_reach")) + "\n";
  out += "sent: " + std::to_string((*prefixes)->size()) + "\n";
  out += "summarized: " + yesNo(member(plan, "summarized")) + "\n";
  out += "within limit: " + yesNo(member(plan, "within_limit")) + "\n";
  out += "wasted addresses: " + displayValue(member(plan, "wasted_addresses")) + "\n";
  out += "pending: " + yesNo(member(plan, "pending")) + "\n";
  out += warningLines(plan, "warning: ");
  out += "\n";
  if ((*prefixes)->empty()) {
    return out + (isTrue(member(plan, "pending"))
                      ? "No prefixes yet: no reconciliation pass has planned this spoke.\n"
                      : "No prefixes are sent.\n");
  }
  std::vector<std::vector<std::string>> rows;
  for (const auto& element : **prefixes) {
    if (!element.is_object()) {
      return std::unexpected("an element of \"prefixes\" is not an object");
    }
    const auto& entry = element.as_object();
    const auto* prefix = member(entry, "prefix");
    const auto* covers = member(entry, "covers");
    if (covers == nullptr || !covers->is_array()) {
      rows.push_back({displayValue(prefix), "-", ""});
      continue;
    }
    const auto& covered = covers->as_array();
    const bool summary = !(covered.size() == 1 && prefix != nullptr && covered[0] == *prefix);
    rows.push_back({displayValue(prefix), std::to_string(covered.size()),
                    summary ? coveredList(covered) : std::string()});
  }
  return out + renderTable({"PREFIX", "COVERS", "COVERED PREFIXES"}, rows);
}

std::expected<std::string, std::string> renderStaticRoutes(const json::value& body) {
  auto routes = listMember(body, "routes");
  if (!routes) {
    return std::unexpected(routes.error());
  }
  const auto& plan = body.as_object();
  const std::string spoke = displayValue(member(plan, "spoke"));
  const std::size_t count = (*routes)->size();
  std::string out = "# " + std::to_string(count) + (count == 1 ? " route" : " routes") +
                    " to enter on the AWS side of " + spoke + "'s VPN connection (limit " +
                    displayValue(member(plan, "limit")) + ")\n";
  if (isTrue(member(plan, "pending"))) {
    out += "# pending: no reconciliation pass has planned " + spoke + " yet\n";
  }
  out += warningLines(plan, "# warning: ");
  for (const auto& element : **routes) {
    if (!element.is_object()) {
      return std::unexpected("an element of \"routes\" is not an object");
    }
    out += displayValue(member(element.as_object(), "prefix")) + "\n";
  }
  return out;
}

std::optional<std::string> checkConfigPath(std::string_view path) {
  if (path.empty()) {
    return "is empty";
  }
  if (path.front() == '/') {
    return "is absolute";
  }
  const bool control = std::ranges::any_of(path, [](char c) {
    const auto byte = static_cast<unsigned char>(c);
    return byte < 0x20 || byte == 0x7f;
  });
  if (control) {
    return "has a control character";
  }
  for (std::size_t start = 0;;) {
    const auto slash = path.find('/', start);
    const std::string_view component =
        path.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (component == "..") {
      return "has a \"..\" component";
    }
    if (component == ".") {
      return "has a \".\" component";
    }
    if (component.empty()) {
      return "has an empty component";
    }
    if (slash == std::string_view::npos) {
      return std::nullopt;
    }
    start = slash + 1;
  }
}

std::expected<std::vector<ConfigFile>, std::string> parseConfigFiles(const json::value& body) {
  auto list = listMember(body, "files");
  if (!list) {
    return std::unexpected(list.error());
  }
  std::vector<ConfigFile> files;
  std::set<std::string, std::less<>> paths;
  for (std::size_t i = 0; i < (*list)->size(); ++i) {
    const std::string which = "file " + std::to_string(i + 1);
    const json::value& element = (**list)[i];
    if (!element.is_object()) {
      return std::unexpected(which + " is not an object");
    }
    const auto& object = element.as_object();
    const auto* path = member(object, "path");
    const auto* description = member(object, "description");
    const auto* secret = member(object, "secret");
    const auto* content = member(object, "content");
    if (path == nullptr || !path->is_string()) {
      return std::unexpected(which + " has no \"path\" string");
    }
    if (content == nullptr || !content->is_string()) {
      return std::unexpected(which + " has no \"content\" string");
    }
    if (secret == nullptr || !secret->is_bool()) {
      return std::unexpected(which + " has no \"secret\" boolean");
    }
    ConfigFile file;
    file.path = std::string(path->as_string());
    if (auto refused = checkConfigPath(file.path)) {
      return std::unexpected(which + "'s path \"" + sanitize(file.path) + "\" " + *refused);
    }
    if (!paths.insert(file.path).second) {
      return std::unexpected(which + "'s path \"" + file.path + "\" is given twice");
    }
    if (description != nullptr && description->is_string()) {
      file.description = std::string(description->as_string());
    }
    file.secret = secret->as_bool();
    file.content = std::string(content->as_string());
    files.push_back(std::move(file));
  }
  // A path that another one needs as a directory ("a" and "a/b") cannot be written.
  for (const auto& path : paths) {
    for (auto slash = path.find('/'); slash != std::string::npos;
         slash = path.find('/', slash + 1)) {
      if (paths.contains(std::string_view(path).substr(0, slash))) {
        return std::unexpected("the path \"" + path.substr(0, slash) +
                               "\" is both a file and a directory of \"" + path + "\"");
      }
    }
  }
  return files;
}

unsigned configFileMode(const ConfigFile& file) {
  if (file.secret) {
    return 0600;
  }
  if (file.path.ends_with(".sh")) {
    return 0755;
  }
  return 0644;
}

std::string modeText(unsigned mode) {
  std::string out;
  for (int shift = 9; shift >= 0; shift -= 3) {
    out.push_back(static_cast<char>('0' + ((mode >> shift) & 7U)));
  }
  return out;
}

std::string renderConfigFiles(const std::vector<ConfigFile>& files) {
  std::string out;
  for (const auto& file : files) {
    if (!out.empty()) {
      out += "\n";
    }
    out += "# ==== " + sanitize(file.path) + " ====\n";
    if (!file.description.empty()) {
      out += "# " + sanitize(file.description) + "\n";
    }
    out += file.content;
    if (!file.content.empty() && file.content.back() != '\n') {
      out += "\n";
    }
  }
  return out;
}

std::expected<std::string, Failure> interpretXmlResponse(unsigned status, std::string_view reason,
                                                         std::string_view content_type,
                                                         std::string_view body,
                                                         std::string_view server) {
  if (exitCodeForStatus(status) != ExitCode::kOk) {
    auto refused = interpretResponse(status, reason, body, server);
    if (!refused) {
      return std::unexpected(refused.error());
    }
    return std::unexpected(
        Failure{ExitCode::kUnreachable, "unexpected response from " + std::string(server)});
  }
  std::string media_type(content_type.substr(0, content_type.find(';')));
  media_type.erase(media_type.find_last_not_of(" \t") + 1);
  media_type.erase(0, media_type.find_first_not_of(" \t"));
  std::ranges::transform(media_type, media_type.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  const std::string unexpected =
      "unexpected response from " + std::string(server) + ": " + statusLine(status, reason);
  if (media_type != "application/xml" && media_type != "text/xml") {
    const std::string got = content_type.empty()
                                ? std::string(" without a Content-Type")
                                : " with Content-Type \"" + sanitize(content_type) + "\"";
    return std::unexpected(
        Failure{ExitCode::kUnreachable,
                unexpected + got + ", expected application/xml (is --server the hub's API?)"});
  }
  if (body.empty()) {
    return std::unexpected(
        Failure{ExitCode::kUnreachable, unexpected + " with an empty XML document"});
  }
  return std::string(body);
}

}  // namespace transit::ctl
