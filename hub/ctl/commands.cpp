#include "hub/ctl/commands.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/asio/ip/address_v4.hpp>
#include <boost/json/array.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/url/encode.hpp>
#include <boost/url/rfc/unreserved_chars.hpp>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <istream>
#include <memory>
#include <ostream>
#include <system_error>

#include "hub/ctl/client.hpp"
#include "hub/ctl/output.hpp"

namespace transit::ctl {
namespace {

namespace json = boost::json;
namespace http = boost::beast::http;

constexpr std::string_view kTunnelForm = "OUTSIDE_IP[,inside=CIDR][,psk-file=PATH]";
constexpr std::size_t kMaxFileSize = 64ULL * 1024 * 1024;
constexpr std::size_t kMaxTunnels = 2;

constexpr const char* kFooter =
    "Exit codes:\n"
    "  0  success\n"
    "  1  the API refused the request (HTTP 4xx other than 401/403, or 5xx)\n"
    "  2  usage error (bad flags, missing token, unreadable file, malformed --tunnel)\n"
    "  3  cannot reach the server, TLS failure, or a response that is not the API's\n"
    "  4  authentication or authorization refused (HTTP 401/403)\n"
    "\n"
    "Environment:\n"
    "  TRANSIT_HUB_URL    server URL when --server is not given\n"
    "  TRANSIT_HUB_TOKEN  API token when --token-file is not given\n";

constexpr const char* kAddFooter =
    "A PSK is never taken on the command line (it would show in ps): give psk-file=PATH in\n"
    "--tunnel (the file's content, trailing whitespace trimmed) or a \"psk\" in the --file JSON.\n"
    "Without one the hub generates the key. A PSK is never printed.\n\n";

constexpr const char* kRoutesFooter =
    "For operators checking what the spokes announce and which path the hub uses. One row per\n"
    "route BIRD holds for the hub's spokes, sorted by prefix. STATE is \"selected\" for BIRD's\n"
    "best route to the prefix, \"filtered\" for a route the spoke's import filter refused\n"
    "(outside the spoke's declared CIDRs; never used), empty for an alternative path. TUNNEL is\n"
    "\"-\" for a static spoke's routes, MED \"-\" when the route carries none.\n\n";

constexpr const char* kConflictsFooter =
    "For operators finding overlapping address space. A spoke may announce only prefixes inside\n"
    "its own CIDRs: a route that overlaps another spoke's declared CIDR is refused and the\n"
    "owner's routes are used. One row per refused prefix and announcing spoke, with the tunnels\n"
    "whose sessions carried it and the CIDR it overlaps.\n\n";

constexpr const char* kExportsFooter =
    "For operators checking what a spoke is sent, as the hub's last reconciliation pass planned\n"
    "it. A spoke is sent at most its export limit of prefixes; when it must reach more, the hub\n"
    "sends summaries, listed with the prefixes they cover (the first 8). Warnings say when\n"
    "summaries cover unrouted addresses or the limit cannot be met.\n\n";

constexpr const char* kStaticRoutesFooter =
    "For whoever configures the AWS side of a static spoke's VPN connection: one prefix per\n"
    "line, to enter as the connection's static routes (lines starting with # are comments).\n"
    "A spoke that uses BGP exchanges its routes over BGP: the API refuses (exit 1); see\n"
    "`spoke exports NAME` instead.\n\n";

constexpr const char* kImportAwsFooter =
    "For whoever onboards a VPN connection they created in AWS (its customer gateway is this\n"
    "hub's public IP and, with BGP, its ASN: see `transit-hubctl hub`). FILE is the document\n"
    "DescribeVpnConnections returns as CustomerGatewayConfiguration, or the console's Generic\n"
    "download; - reads it from stdin. It must not be empty nor larger than 256 KiB (the hub's\n"
    "limit too). The hub takes each tunnel's outside address, inside CIDR and PSK from it;\n"
    "--name and --cidr give what the document does not know. The document holds the PSKs: it is\n"
    "sent to the hub as is and never printed. Prints the new spoke as `spoke add` does.\n"
    "With --update, NAME is an existing vpc spoke and FILE a new document of its connection\n"
    "(tunnels replaced or modified in AWS, PSKs rotated): the hub takes the same fields from it\n"
    "and keeps the spoke's own settings; --cidr, --segment and --preferred-hub replace the\n"
    "spoke's only when given (PUT /v1/spokes/NAME/import/aws).\n\n";

constexpr const char* kConfigFooter =
    "For whoever configures the on-prem router of a site spoke (its customer gateway): a\n"
    "complete configuration of the site's end of both tunnels, IKE/IPsec with the PSKs, the\n"
    "tunnel interfaces and, with BGP, the neighbours, as files to install there. Formats:\n"
    "  strongswan  swanctl/conf.d/ (connections and PSKs), a script creating the XFRM\n"
    "              interfaces and, for a BGP spoke, BIRD 2 and FRR files\n"
    "  libreswan   ipsec.d/ (conns and secrets), the same script, BIRD 2 and FRR files\n"
    "  aws-xml     the document AWS gives for a VPN connection, the site as the customer\n"
    "              gateway and this hub as the VPN gateway (one file: NAME.xml)\n"
    "The output holds the PSKs: keep it private (do not paste it into tickets or chats).\n"
    "Without --output-dir it is printed: each file after a \"# ==== PATH ====\" line (and a\n"
    "\"# DESCRIPTION\" line); aws-xml as the XML document exactly; --json prints the API's answer\n"
    "as is. With --output-dir DIR each file is written under DIR (created 0700 if new),\n"
    "atomically, mode 0600 when it holds a PSK, 0755 for a .sh script, else 0644, replacing an\n"
    "existing file; one `wrote PATH (MODE)` line is printed per file, never the content.\n"
    "A vpc spoke has none (AWS configures its other end): the API refuses (exit 1).\n\n";

constexpr std::string_view kAwsXml = "aws-xml";

std::string_view trimRight(std::string_view text) {
  const auto end = text.find_last_not_of(" \t\r\n\v\f");
  return end == std::string_view::npos ? std::string_view() : text.substr(0, end + 1);
}

std::string_view trim(std::string_view text) {
  text = trimRight(text);
  const auto begin = text.find_first_not_of(" \t\r\n\v\f");
  return begin == std::string_view::npos ? std::string_view() : text.substr(begin);
}

bool isIpv4(std::string_view text) {
  boost::system::error_code ec;
  boost::asio::ip::make_address_v4(std::string(text), ec);
  return !ec;
}

bool isIpv4Cidr(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos || !isIpv4(text.substr(0, slash))) {
    return false;
  }
  const std::string_view length = text.substr(slash + 1);
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), value);
  return ec == std::errc() && end == length.data() + length.size() && !length.empty() &&
         length.size() <= 2 && value <= 32;
}

// Visible ASCII only: a token goes into an HTTP header.
bool isHeaderSafe(std::string_view token) {
  return std::ranges::all_of(token, [](char c) { return c > 0x20 && c < 0x7f; });
}

// "64 MiB", "256 KiB": a size limit as messages say it.
std::string sizeText(std::size_t bytes) {
  if (bytes % (1024 * 1024) == 0) {
    return std::to_string(bytes / (1024 * 1024)) + " MiB";
  }
  return std::to_string(bytes / 1024) + " KiB";
}

// All of `in` (stdin for `--file -`), at most `limit` bytes; `why` follows the size in the
// error for a longer stream.
std::expected<std::string, std::string> readStream(std::istream& in,
                                                   std::size_t limit = kMaxFileSize,
                                                   std::string_view why = "") {
  std::string content;
  char buffer[65536];
  while (in.read(buffer, sizeof buffer) || in.gcount() > 0) {
    content.append(buffer, static_cast<std::size_t>(in.gcount()));
    if (content.size() > limit) {
      return std::unexpected("cannot read stdin: larger than " + sizeText(limit) +
                             std::string(why));
    }
  }
  if (in.bad()) {
    return std::unexpected("cannot read stdin");
  }
  return content;
}

// All of the file at `path`, at most `limit` bytes; `why` follows the size in the error for a
// longer file. An error names the file and the reason, never its content.
std::expected<std::string, std::string> readFileAtMost(const std::string& path, std::size_t limit,
                                                       std::string_view why = "") {
  const auto failure = [&path](int error) {
    return std::unexpected("cannot read " + path + ": " +
                           std::error_code(error, std::generic_category()).message());
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file(std::fopen(path.c_str(), "rb"),
                                                       &std::fclose);
  if (!file) {
    return failure(errno);
  }
  std::string content;
  char buffer[65536];
  for (;;) {
    const std::size_t n = std::fread(buffer, 1, sizeof buffer, file.get());
    content.append(buffer, n);
    if (content.size() > limit) {
      return std::unexpected("cannot read " + path + ": larger than " + sizeText(limit) +
                             std::string(why));
    }
    if (n < sizeof buffer) {
      break;
    }
  }
  if (std::ferror(file.get()) != 0) {
    return failure(errno);
  }
  return content;
}

// The document of `spoke import-aws`: FILE, or stdin for "-"; refused when empty or over
// kMaxAwsDocumentSize. The bytes are returned exactly as read.
std::expected<std::string, std::string> readAwsDocument(const std::string& file, std::istream& in) {
  constexpr std::string_view kWhy = ", the most the hub accepts";
  const bool from_stdin = file == "-";
  auto text = from_stdin ? readStream(in, kMaxAwsDocumentSize, kWhy)
                         : readFileAtMost(file, kMaxAwsDocumentSize, kWhy);
  if (!text) {
    return text;
  }
  if (text->empty()) {
    return std::unexpected((from_stdin ? std::string("stdin") : file) +
                           " is empty: expected the VPN connection's configuration document");
  }
  return text;
}

int fail(std::ostream& err, const Failure& failure) {
  err << "error: " << failure.message << "\n";
  return static_cast<int>(failure.code);
}

int usage(std::ostream& err, std::string message) {
  return fail(err, Failure{ExitCode::kUsage, std::move(message)});
}

// The parsed command line.
struct Invocation {
  enum class Command {
    kNone,
    kSpokeAdd,
    kSpokeList,
    kSpokeShow,
    kSpokeDelete,
    kSpokeExports,
    kSpokeStaticRoutes,
    kSpokeImportAws,
    kSpokeConfig,
    kRoutes,
    kConflicts,
    kHub,
    kVersion
  };
  Command command = Command::kNone;

  std::string server;
  std::string token_file;
  bool json = false;
  std::string ca_file;
  double timeout_seconds = 10;

  SpokeAddFlags add;
  std::string add_file;
  std::string name;  // show, delete, exports, static-routes, config
  std::uint64_t if_match = 0;
  std::string routes_spoke;  // routes --spoke
  std::string import_file;   // import-aws FILE, "-" for stdin
  std::string import_name;   // import-aws --name
  std::vector<std::string> import_cidrs;
  std::string import_segment;
  std::string import_preferred_hub;
  bool import_update = false;  // import-aws --update: PUT /v1/spokes/NAME/import/aws
  bool routes_filtered = false;
  bool routes_accepted = false;
  std::string config_format;      // config --format
  std::string config_output_dir;  // config --output-dir

  // Which optional flags were given.
  bool has_server = false;
  bool has_token_file = false;
  bool has_ca_file = false;
  bool has_add_name = false;
  bool has_add_file = false;
  bool has_if_match = false;
  bool has_routes_spoke = false;
  bool has_import_segment = false;
  bool has_import_preferred_hub = false;
  bool has_config_output_dir = false;
};

// Builds the CLI11 app writing into `inv`; `finish` copies the "given" bits after parsing.
class CommandLine {
 public:
  explicit CommandLine(Invocation& inv) : inv_(inv) {
    app_.footer(kFooter);
    app_.require_subcommand(1);
    app_.fallthrough();
    app_.failure_message([](const CLI::App*, const CLI::Error& error) {
      return "error: " + std::string(error.what()) + "\nRun with --help for more information.\n";
    });
    server_ = app_.add_option("--server", inv_.server,
                              "API URL, http:// or https://, may end in a path prefix "
                              "(default: $TRANSIT_HUB_URL, else " +
                                  std::string(kDefaultServer) + ")")
                  ->type_name("URL");
    token_file_ = app_.add_option("--token-file", inv_.token_file,
                                  "file whose first line is the bearer token "
                                  "(default: $TRANSIT_HUB_TOKEN)")
                      ->type_name("PATH");
    app_.add_flag("--json", inv_.json, "print the API's JSON response instead of tables");
    ca_file_ = app_.add_option("--ca-file", inv_.ca_file,
                               "CA bundle (PEM) to verify an https server with "
                               "(default: the system trust store)")
                   ->type_name("PATH");
    app_.add_option("--timeout", inv_.timeout_seconds,
                    "seconds for connect + request, up to 3600 (default: 10)")
        ->type_name("SECONDS")
        ->check(CLI::Range(0.001, 3600.0).description(""));

    auto* spoke = app_.add_subcommand("spoke", "manage spokes");
    spoke->require_subcommand(1);
    spoke->fallthrough();
    addSpokeAdd(*spoke);
    list_ = spoke->add_subcommand("list", "list spokes (GET /v1/spokes)");
    list_->fallthrough();
    show_ = spoke->add_subcommand("show", "show one spoke (GET /v1/spokes/NAME)");
    show_->fallthrough();
    show_->add_option("NAME", inv_.name, "spoke name")->type_name("")->required();
    delete_ = spoke->add_subcommand("delete", "delete a spoke (DELETE /v1/spokes/NAME)");
    delete_->fallthrough();
    delete_->add_option("NAME", inv_.name, "spoke name")->type_name("")->required();
    if_match_ = delete_
                    ->add_option("--if-match", inv_.if_match,
                                 "delete only if the spoke is at this generation")
                    ->type_name("GENERATION")
                    ->check(CLI::PositiveNumber.description(""));
    exports_ = spoke->add_subcommand(
        "exports", "show what the hub sends a spoke (GET /v1/spokes/NAME/exports)");
    exports_->fallthrough();
    exports_->footer(std::string(kExportsFooter) + kFooter);
    exports_->add_option("NAME", inv_.name, "spoke name")->type_name("")->required();
    static_routes_ = spoke->add_subcommand("static-routes",
                                           "print the routes to enter on AWS for a static spoke "
                                           "(GET /v1/spokes/NAME/static-routes)");
    static_routes_->fallthrough();
    static_routes_->footer(std::string(kStaticRoutesFooter) + kFooter);
    static_routes_->add_option("NAME", inv_.name, "spoke name")->type_name("")->required();
    addSpokeImportAws(*spoke);
    addSpokeConfig(*spoke);
    addRoutes();
    conflicts_ = app_.add_subcommand(
        "conflicts",
        "list routes refused for overlapping another spoke's CIDRs (GET /v1/conflicts)");
    conflicts_->fallthrough();
    conflicts_->footer(std::string(kConflictsFooter) + kFooter);
    hub_ = app_.add_subcommand("hub", "show this hub (GET /v1/hub)");
    hub_->fallthrough();
    version_ = app_.add_subcommand("version", "print the client's version");
    version_->fallthrough();
  }

  CLI::App& app() { return app_; }

  void finish() {
    inv_.has_server = server_->count() > 0;
    inv_.has_token_file = token_file_->count() > 0;
    inv_.has_ca_file = ca_file_->count() > 0;
    inv_.has_add_name = add_name_->count() > 0;
    inv_.has_add_file = add_file_->count() > 0;
    inv_.has_if_match = if_match_->count() > 0;
    inv_.has_routes_spoke = routes_spoke_->count() > 0;
    inv_.has_import_segment = import_segment_->count() > 0;
    inv_.has_import_preferred_hub = import_preferred_hub_->count() > 0;
    inv_.has_config_output_dir = config_output_dir_->count() > 0;
    if (routing_->count() > 0) {
      inv_.add.routing = routing_value_;
    }
    if (asn_->count() > 0) {
      inv_.add.asn = asn_value_;
    }
    if (preferred_hub_->count() > 0) {
      inv_.add.preferred_hub = preferred_hub_value_;
    }
    if (segment_->count() > 0) {
      inv_.add.segment = segment_value_;
    }
    using Command = Invocation::Command;
    if (add_->parsed()) {
      inv_.command = Command::kSpokeAdd;
    } else if (list_->parsed()) {
      inv_.command = Command::kSpokeList;
    } else if (show_->parsed()) {
      inv_.command = Command::kSpokeShow;
    } else if (delete_->parsed()) {
      inv_.command = Command::kSpokeDelete;
    } else if (exports_->parsed()) {
      inv_.command = Command::kSpokeExports;
    } else if (static_routes_->parsed()) {
      inv_.command = Command::kSpokeStaticRoutes;
    } else if (import_aws_->parsed()) {
      inv_.command = Command::kSpokeImportAws;
    } else if (config_->parsed()) {
      inv_.command = Command::kSpokeConfig;
    } else if (routes_->parsed()) {
      inv_.command = Command::kRoutes;
    } else if (conflicts_->parsed()) {
      inv_.command = Command::kConflicts;
    } else if (hub_->parsed()) {
      inv_.command = Command::kHub;
    } else if (version_->parsed()) {
      inv_.command = Command::kVersion;
    }
  }

 private:
  void addSpokeConfig(CLI::App& spoke) {
    config_ = spoke.add_subcommand("config",
                                   "print or write the configuration of a site spoke's on-prem "
                                   "router, PSKs included (GET /v1/spokes/NAME/config)");
    config_->fallthrough();
    config_->footer(std::string(kConfigFooter) + kFooter);
    config_->add_option("NAME", inv_.name, "spoke name (a site)")->type_name("")->required();
    config_->add_option("--format", inv_.config_format, "strongswan, libreswan or aws-xml")
        ->type_name("FORMAT")
        ->required()
        ->check(CLI::IsMember(
            std::vector<std::string>{"strongswan", "libreswan", std::string(kAwsXml)}));
    config_output_dir_ = config_
                             ->add_option("--output-dir", inv_.config_output_dir,
                                          "write the files under DIR instead of printing them")
                             ->type_name("DIR");
  }

  void addSpokeImportAws(CLI::App& spoke) {
    import_aws_ = spoke.add_subcommand("import-aws",
                                       "onboard a VPN connection you created in AWS from its "
                                       "configuration document (POST /v1/spokes/import/aws)");
    import_aws_->fallthrough();
    import_aws_->footer(std::string(kImportAwsFooter) + kFooter);
    import_aws_
        ->add_option("FILE", inv_.import_file,
                     "the connection's configuration document (XML), or - for stdin")
        ->type_name("")
        ->required();
    import_aws_
        ->add_option("--name", inv_.import_name,
                     "name of the new spoke (with --update: of the spoke to update)")
        ->type_name("NAME")
        ->required();
    import_aws_
        ->add_option("--cidr", inv_.import_cidrs,
                     "a CIDR of the VPC behind the connection; repeat for more (required "
                     "without --update)")
        ->type_name("CIDR")
        ->allow_extra_args(false);
    import_aws_->add_flag("--update", inv_.import_update,
                          "update the existing spoke NAME from a new document of its connection");
    import_segment_ =
        import_aws_->add_option("--segment", inv_.import_segment, "segment (default: default)")
            ->type_name("SEG");
    import_preferred_hub_ = import_aws_
                                ->add_option("--preferred-hub", inv_.import_preferred_hub,
                                             "the hub this spoke's traffic should prefer")
                                ->type_name("HUB");
  }

  void addRoutes() {
    routes_ = app_.add_subcommand("routes",
                                  "list the routes BIRD holds for the spokes, refused ones "
                                  "included (GET /v1/routes)");
    routes_->fallthrough();
    routes_->footer(std::string(kRoutesFooter) + kFooter);
    routes_spoke_ =
        routes_->add_option("--spoke", inv_.routes_spoke, "only the routes learned from this spoke")
            ->type_name("NAME");
    auto* filtered = routes_->add_flag("--filtered", inv_.routes_filtered,
                                       "only the routes the spokes' import filters refused");
    auto* accepted =
        routes_->add_flag("--accepted", inv_.routes_accepted, "only the routes not refused");
    filtered->excludes(accepted);
    accepted->excludes(filtered);
  }

  void addSpokeAdd(CLI::App& spoke) {
    add_ = spoke.add_subcommand("add", "create a spoke (POST /v1/spokes)");
    add_->fallthrough();
    add_->footer(std::string(kAddFooter) + kFooter);
    add_name_ = add_->add_option("NAME", inv_.add.name, "spoke name")->type_name("");
    auto* kind = add_->add_option("--kind", inv_.add.kind, "vpc or site")
                     ->type_name("KIND")
                     ->check(CLI::IsMember({"vpc", "site"}));
    auto* cidr = add_->add_option("--cidr", inv_.add.cidrs, "a CIDR of the spoke; repeat for more")
                     ->type_name("CIDR")
                     ->allow_extra_args(false);
    routing_ = add_->add_option("--routing", routing_value_, "bgp (default) or static")
                   ->type_name("MODE")
                   ->check(CLI::IsMember({"bgp", "static"}));
    asn_ = add_->add_option("--asn", asn_value_, "the spoke's BGP ASN (required for bgp)")
               ->type_name("N")
               ->check(CLI::Range(std::int64_t{1}, std::int64_t{4294967295}).description(""));
    preferred_hub_ = add_->add_option("--preferred-hub", preferred_hub_value_,
                                      "the hub this spoke's traffic should prefer")
                         ->type_name("HUB");
    segment_ = add_->add_option("--segment", segment_value_, "segment (default: default)")
                   ->type_name("SEG");
    auto* tunnel =
        add_->add_option("--tunnel", inv_.add.tunnels, std::string(kTunnelForm) + "; once or twice")
            ->type_name("SPEC")
            ->allow_extra_args(false);
    add_file_ = add_->add_option("--file", inv_.add_file,
                                 "the full spoke JSON from FILE, or - for stdin; a NAME given "
                                 "too must equal the file's name")
                    ->type_name("FILE|-");
    for (auto* other : {kind, cidr, routing_, asn_, preferred_hub_, segment_, tunnel}) {
      add_file_->excludes(other);
    }
  }

  Invocation& inv_;
  CLI::App app_{"Command-line client of the Transit Hub REST API.", "transit-hubctl"};
  CLI::Option* server_ = nullptr;
  CLI::Option* token_file_ = nullptr;
  CLI::Option* ca_file_ = nullptr;
  CLI::App* add_ = nullptr;
  CLI::App* list_ = nullptr;
  CLI::App* show_ = nullptr;
  CLI::App* delete_ = nullptr;
  CLI::App* exports_ = nullptr;
  CLI::App* static_routes_ = nullptr;
  CLI::App* import_aws_ = nullptr;
  CLI::App* config_ = nullptr;
  CLI::App* routes_ = nullptr;
  CLI::App* conflicts_ = nullptr;
  CLI::App* hub_ = nullptr;
  CLI::App* version_ = nullptr;
  CLI::Option* add_name_ = nullptr;
  CLI::Option* add_file_ = nullptr;
  CLI::Option* routing_ = nullptr;
  CLI::Option* asn_ = nullptr;
  CLI::Option* preferred_hub_ = nullptr;
  CLI::Option* segment_ = nullptr;
  CLI::Option* if_match_ = nullptr;
  CLI::Option* routes_spoke_ = nullptr;
  CLI::Option* import_segment_ = nullptr;
  CLI::Option* import_preferred_hub_ = nullptr;
  CLI::Option* config_output_dir_ = nullptr;
  std::string routing_value_;
  std::int64_t asn_value_ = 0;
  std::string preferred_hub_value_;
  std::string segment_value_;
};

// The request a command sends, or a usage error.
std::expected<ApiRequest, std::string> buildRequest(const Invocation& inv, std::istream& in) {
  using Command = Invocation::Command;
  ApiRequest request;
  switch (inv.command) {
    case Command::kSpokeAdd: {
      std::expected<json::object, std::string> body;
      if (inv.has_add_file) {
        std::expected<std::string, std::string> text;
        if (inv.add_file == "-") {
          text = readStream(in);
        } else {
          text = readFile(inv.add_file);
        }
        if (!text) {
          return std::unexpected(text.error());
        }
        const std::string source = inv.add_file == "-" ? "stdin" : inv.add_file;
        body =
            spokeBodyFromFile(*text, inv.has_add_name ? std::optional(inv.add.name) : std::nullopt);
        if (!body) {
          return std::unexpected(source + ": " + body.error());
        }
      } else {
        body = buildSpokeBody(inv.add);
        if (!body) {
          return std::unexpected(body.error());
        }
      }
      request.method = http::verb::post;
      request.path = {"v1", "spokes"};
      request.body = json::serialize(*body);
      return request;
    }
    case Command::kSpokeList:
      request.path = {"v1", "spokes"};
      return request;
    case Command::kSpokeShow:
      request.path = {"v1", "spokes", inv.name};
      return request;
    case Command::kSpokeDelete:
      request.method = http::verb::delete_;
      request.path = {"v1", "spokes", inv.name};
      if (inv.has_if_match) {
        request.if_match = inv.if_match;
      }
      return request;
    case Command::kSpokeExports:
      request.path = {"v1", "spokes", inv.name, "exports"};
      return request;
    case Command::kSpokeStaticRoutes:
      request.path = {"v1", "spokes", inv.name, "static-routes"};
      return request;
    case Command::kSpokeImportAws: {
      auto document = readAwsDocument(inv.import_file, in);
      if (!document) {
        return std::unexpected(document.error());
      }
      if (!inv.import_update && inv.import_cidrs.empty()) {
        return std::unexpected(
            "--cidr is required: the CIDRs of the VPC behind the connection (with --update the "
            "spoke's are kept)");
      }
      if (inv.import_update) {
        request.method = http::verb::put;
        request.path = {"v1", "spokes", inv.import_name, "import", "aws"};
      } else {
        request.method = http::verb::post;
        request.path = {"v1", "spokes", "import", "aws"};
      }
      request.body = std::move(*document);
      request.content_type = "application/xml";
      return request;
    }
    case Command::kSpokeConfig:
      if (inv.has_config_output_dir && inv.config_output_dir.empty()) {
        return std::unexpected("--output-dir needs a directory");
      }
      if (inv.has_config_output_dir && inv.json) {
        return std::unexpected(
            "--json prints the API's answer, --output-dir writes files: give one of them");
      }
      request.path = {"v1", "spokes", inv.name, "config"};
      if (inv.config_format == kAwsXml) {
        request.accept = "application/xml, application/json";  // errors are JSON
      }
      return request;
    case Command::kRoutes:
      request.path = {"v1", "routes"};
      return request;
    case Command::kConflicts:
      request.path = {"v1", "conflicts"};
      return request;
    case Command::kHub:
      request.path = {"v1", "hub"};
      return request;
    case Command::kVersion:
    case Command::kNone:
      break;
  }
  return std::unexpected("no command given");
}

// The query parameters a command sends.
std::vector<std::pair<std::string, std::string>> queryOf(const Invocation& inv) {
  std::vector<std::pair<std::string, std::string>> query;
  if (inv.command == Invocation::Command::kRoutes) {
    if (inv.has_routes_spoke) query.emplace_back("spoke", inv.routes_spoke);
    if (inv.routes_filtered || inv.routes_accepted) {
      query.emplace_back("filtered", inv.routes_filtered ? "true" : "false");
    }
  }
  if (inv.command == Invocation::Command::kSpokeConfig) {
    query.emplace_back("format", inv.config_format);
  }
  if (inv.command == Invocation::Command::kSpokeImportAws) {
    if (!inv.import_update) query.emplace_back("name", inv.import_name);  // else in the path
    for (const auto& cidr : inv.import_cidrs) {
      query.emplace_back("cidr", cidr);
    }
    if (inv.has_import_segment) query.emplace_back("segment", inv.import_segment);
    if (inv.has_import_preferred_hub) {
      query.emplace_back("preferred_hub", inv.import_preferred_hub);
    }
  }
  return query;
}

// Prints a successful response the way the command wants; an error is a body the command
// cannot show (not the API's).
std::expected<void, std::string> printResult(const Invocation& inv, const json::value& body,
                                             const std::string& raw, std::ostream& out) {
  using Command = Invocation::Command;
  if (inv.command == Command::kSpokeDelete) {
    if (!inv.json) {
      out << "Deleted spoke " << inv.name << "\n";
    }
    return {};
  }
  if (inv.json) {
    out << raw;
    if (raw.empty() || raw.back() != '\n') {
      out << "\n";
    }
    return {};
  }
  std::expected<std::string, std::string> text;
  switch (inv.command) {
    case Command::kSpokeAdd:
      text = renderCreated(body);
      break;
    case Command::kSpokeImportAws:
      text = inv.import_update ? renderUpdated(body) : renderCreated(body);
      break;
    case Command::kSpokeList:
      text = renderSpokeList(body);
      break;
    case Command::kSpokeShow:
      text = renderSpoke(body);
      break;
    case Command::kSpokeExports:
      text = renderExports(body);
      break;
    case Command::kSpokeStaticRoutes:
      text = renderStaticRoutes(body);
      break;
    case Command::kRoutes:
      text = renderRoutes(body);
      break;
    case Command::kConflicts:
      text = renderConflicts(body);
      break;
    case Command::kHub:
      text = renderHub(body);
      break;
    default:
      text = std::string();
      break;
  }
  if (!text) {
    return std::unexpected(text.error());
  }
  out << *text;
  return {};
}

std::string errnoText(int error) {
  return std::error_code(error, std::generic_category()).message();
}

// Creates the directory `dir` with `mode` (less the umask) unless it exists; true when it made
// it. An existing one must be a directory (or a link to one).
std::expected<bool, std::string> makeDirectory(const std::string& dir, mode_t mode) {
  if (::mkdir(dir.c_str(), mode) == 0) {
    return true;
  }
  const int error = errno;
  struct stat info {};
  if (error == EEXIST && ::stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) {
    return false;
  }
  if (error == EEXIST) {
    return std::unexpected("cannot create " + dir + ": it exists and is not a directory");
  }
  return std::unexpected("cannot create " + dir + ": " + errnoText(error));
}

// Writes `content` to `target` with `mode` atomically: a temporary file in the same directory,
// synced, then renamed over `target` (an existing file is replaced, never half-written). The
// temporary file is mode 0600 from its creation, so a key is never readable by others.
std::expected<void, std::string> writeAtomically(const std::string& target,
                                                 std::string_view content, mode_t mode) {
  const auto slash = target.rfind('/');
  std::string temp = target.substr(0, slash + 1) + "." + target.substr(slash + 1) + ".XXXXXX";
  int fd = ::mkstemp(temp.data());
  if (fd < 0) {
    return std::unexpected("cannot write " + target + ": " + errnoText(errno));
  }
  const auto failed = [&](int error) {
    if (fd >= 0) {
      ::close(fd);
    }
    ::unlink(temp.c_str());
    return std::unexpected("cannot write " + target + ": " + errnoText(error));
  };
  if (::fchmod(fd, mode) != 0) {
    return failed(errno);
  }
  for (std::size_t done = 0; done < content.size();) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0) {
      return failed(errno);
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0) {
    return failed(errno);
  }
  const int closed = ::close(fd);
  fd = -1;
  if (closed != 0) {
    return failed(errno);
  }
  if (::rename(temp.c_str(), target.c_str()) != 0) {
    return failed(errno);
  }
  return {};
}

// `spoke config --output-dir`: creates `dir` (0700 when new) and the files' subdirectories,
// writes each file and prints "wrote PATH (MODE)" for it. Stops at the first failure.
int writeConfigFiles(std::string dir, const std::vector<ConfigFile>& files, std::ostream& out,
                     std::ostream& err) {
  while (dir.size() > 1 && dir.back() == '/') {
    dir.pop_back();
  }
  const std::filesystem::path parent = std::filesystem::path(dir).parent_path();
  std::error_code ec;
  if (!parent.empty() && !std::filesystem::is_directory(parent, ec)) {
    std::filesystem::create_directories(parent, ec);
    if (ec) {
      return usage(err, "cannot create " + parent.string() + ": " + ec.message());
    }
  }
  auto created = makeDirectory(dir, 0700);
  if (!created) {
    return usage(err, created.error());
  }
  if (*created && ::chmod(dir.c_str(), 0700) != 0) {
    return usage(err, "cannot set the mode of " + dir + ": " + errnoText(errno));
  }
  for (const auto& file : files) {
    for (auto slash = file.path.find('/'); slash != std::string::npos;
         slash = file.path.find('/', slash + 1)) {
      if (auto made = makeDirectory(dir + "/" + file.path.substr(0, slash), 0755); !made) {
        return usage(err, made.error());
      }
    }
    const std::string target = dir + "/" + file.path;
    const unsigned mode = configFileMode(file);
    if (auto written = writeAtomically(target, file.content, mode); !written) {
      return usage(err, written.error());
    }
    out << "wrote " << target << " (" << modeText(mode) << ")\n";
  }
  return 0;
}

// What `spoke config` does with the hub's answer: prints it, or writes its files.
int finishConfig(const Invocation& inv, const ApiResponse& response, const std::string& server,
                 std::ostream& out, std::ostream& err) {
  std::vector<ConfigFile> files;
  if (inv.config_format == kAwsXml) {
    auto xml = interpretXmlResponse(response.status, response.reason, response.content_type,
                                    response.body, server);
    if (!xml) {
      return fail(err, xml.error());
    }
    if (!inv.has_config_output_dir) {
      out << *xml;  // exactly, --json or not: the document is the API's answer
      return 0;
    }
    files.push_back(ConfigFile{inv.name + ".xml", "", true, std::move(*xml)});
    if (auto refused = checkConfigPath(files.front().path)) {
      return usage(err,
                   "cannot name a file after the spoke: " + files.front().path + " " + *refused);
    }
  } else {
    auto body = interpretResponse(response.status, response.reason, response.body, server);
    if (!body) {
      return fail(err, body.error());
    }
    if (inv.json) {
      out << response.body;
      if (response.body.empty() || response.body.back() != '\n') {
        out << "\n";
      }
      return 0;
    }
    auto parsed = parseConfigFiles(*body);
    if (!parsed) {
      return fail(err, Failure{ExitCode::kUnreachable,
                               "unexpected response from " + server + ": " + parsed.error() +
                                   (inv.has_config_output_dir ? "; nothing was written" : "")});
    }
    files = std::move(*parsed);
    if (!inv.has_config_output_dir) {
      out << renderConfigFiles(files);
      return 0;
    }
  }
  return writeConfigFiles(inv.config_output_dir, files, out, err);
}

int run(const Invocation& inv, const Environment& env, std::istream& in, std::ostream& out,
        std::ostream& err) {
  if (inv.command == Invocation::Command::kVersion) {
    out << "transit-hubctl " << TRANSIT_HUB_VERSION << "\n";
    return 0;
  }

  ClientOptions options;
  std::string server_source = "--server";
  std::string server_text = inv.server;
  if (!inv.has_server) {
    server_source = env.server_url ? "TRANSIT_HUB_URL" : "the default server URL";
    server_text = env.server_url.value_or(std::string(kDefaultServer));
  }
  auto server = parseServerUrl(server_text);
  if (!server) {
    return usage(err, "invalid " + server_source + ": " + server.error());
  }
  options.server = *server;
  options.timeout = std::max(std::chrono::milliseconds(1),
                             std::chrono::milliseconds(std::llround(inv.timeout_seconds * 1000)));
  if (inv.has_ca_file) {
    if (!options.server.tls) {
      err << "warning: --ca-file is ignored for an http:// server\n";
    }
    options.ca_file = inv.ca_file;
  }

  auto request = buildRequest(inv, in);
  if (!request) {
    return usage(err, request.error());
  }
  request->query = queryOf(inv);
  auto token =
      loadToken(inv.has_token_file ? std::optional(inv.token_file) : std::nullopt, env.token);
  if (!token) {
    return usage(err, token.error());
  }
  if (token->warning) {
    err << "warning: " << *token->warning << "\n";
  }
  options.token = token->value;

  auto response = sendRequest(options, *request);
  if (!response) {
    const auto code = response.error().kind == ClientError::Kind::kSetup ? ExitCode::kUsage
                                                                         : ExitCode::kUnreachable;
    return fail(err, Failure{code, response.error().message});
  }
  if (inv.command == Invocation::Command::kSpokeConfig) {
    return finishConfig(inv, *response, options.server.display, out, err);
  }
  auto body =
      interpretResponse(response->status, response->reason, response->body, options.server.display);
  if (!body) {
    return fail(err, body.error());
  }
  if (auto printed = printResult(inv, *body, response->body, out); !printed) {
    return fail(
        err, Failure{ExitCode::kUnreachable, "unexpected response from " + options.server.display +
                                                 ": " + printed.error()});
  }
  return 0;
}

}  // namespace

Environment Environment::fromProcess() {
  const auto read = [](const char* name) -> std::optional<std::string> {
    const char* value = std::getenv(name);  // NOLINT(concurrency-mt-unsafe): single-threaded CLI
    if (value == nullptr || *value == '\0') {
      return std::nullopt;
    }
    return std::string(value);
  };
  return Environment{read("TRANSIT_HUB_URL"), read("TRANSIT_HUB_TOKEN")};
}

std::expected<TunnelSpec, std::string> parseTunnelSpec(std::string_view text) {
  const std::string form = " (expected " + std::string(kTunnelForm) + ")";
  std::vector<std::string_view> items;
  for (std::size_t start = 0;;) {
    const auto comma = text.find(',', start);
    items.push_back(text.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) {
      break;
    }
    start = comma + 1;
  }
  TunnelSpec spec;
  const std::string_view outside = items.front();
  if (outside.empty() || outside.find('=') != std::string_view::npos) {
    return std::unexpected("--tunnel must start with the outside IP address" + form);
  }
  if (!isIpv4(outside)) {
    return std::unexpected("--tunnel: \"" + std::string(outside) + "\" is not an IPv4 address" +
                           form);
  }
  spec.outside_ip = std::string(outside);
  for (std::size_t i = 1; i < items.size(); ++i) {
    // An item is never echoed: a mistyped one could be a key pasted by hand.
    const std::string where = "--tunnel item " + std::to_string(i + 1);
    const std::string_view item = items[i];
    const auto equals = item.find('=');
    if (equals == std::string_view::npos) {
      return std::unexpected(where + " is not key=value" + form);
    }
    const std::string_view key = item.substr(0, equals);
    const std::string_view value = item.substr(equals + 1);
    if (key == "psk") {
      return std::unexpected(
          "--tunnel: a PSK is never taken on the command line (it would show in ps); "
          "use psk-file=PATH");
    }
    if (key != "inside" && key != "psk-file") {
      return std::unexpected(where + " has an unknown key (expected inside= or psk-file=)");
    }
    std::optional<std::string>& slot = key == "inside" ? spec.inside_cidr : spec.psk_file;
    if (slot) {
      return std::unexpected("--tunnel: " + std::string(key) + "= is given twice");
    }
    if (value.empty()) {
      return std::unexpected("--tunnel: " + std::string(key) + "= needs a value" + form);
    }
    if (key == "inside" && !isIpv4Cidr(value)) {
      return std::unexpected("--tunnel: inside=\"" + std::string(value) +
                             "\" is not an IPv4 CIDR such as 169.254.20.0/30");
    }
    slot = std::string(value);
  }
  return spec;
}

std::expected<json::object, std::string> buildSpokeBody(const SpokeAddFlags& flags) {
  if (flags.name.empty()) {
    return std::unexpected("spoke add needs NAME (or --file FILE)");
  }
  if (flags.kind != "vpc" && flags.kind != "site") {
    return std::unexpected("spoke add needs --kind vpc or --kind site");
  }
  if (flags.cidrs.empty()) {
    return std::unexpected("spoke add needs at least one --cidr");
  }
  if (flags.tunnels.empty() || flags.tunnels.size() > kMaxTunnels) {
    return std::unexpected("spoke add needs --tunnel once or twice");
  }
  const std::string routing = flags.routing.value_or("bgp");
  if (routing != "bgp" && routing != "static") {
    return std::unexpected("--routing must be bgp or static");
  }
  if (routing == "static" && flags.asn) {
    return std::unexpected("--asn applies only to --routing bgp");
  }
  if (routing == "bgp" && !flags.asn) {
    return std::unexpected("--asn is required for --routing bgp");
  }

  json::object body;
  body["name"] = flags.name;
  body["kind"] = flags.kind;
  json::array cidrs;
  for (const auto& cidr : flags.cidrs) {
    cidrs.emplace_back(cidr);
  }
  body["cidrs"] = std::move(cidrs);
  body["routing"] = routing;
  if (routing == "bgp") {
    body["asn"] = *flags.asn;
  }
  if (flags.preferred_hub) {
    body["preferred_hub"] = *flags.preferred_hub;
  }
  if (flags.segment) {
    body["segment"] = *flags.segment;
  }
  json::array tunnels;
  for (const auto& text : flags.tunnels) {
    auto spec = parseTunnelSpec(text);
    if (!spec) {
      return std::unexpected(spec.error());
    }
    json::object tunnel;
    tunnel["outside_ip"] = spec->outside_ip;
    if (spec->inside_cidr) {
      tunnel["inside_cidr"] = *spec->inside_cidr;
    }
    if (spec->psk_file) {
      auto content = readFile(*spec->psk_file);
      if (!content) {
        return std::unexpected(content.error());
      }
      const std::string_view psk = trimRight(*content);
      if (psk.empty()) {
        return std::unexpected("psk file " + *spec->psk_file + " is empty");
      }
      tunnel["psk"] = psk;
    }
    tunnels.emplace_back(std::move(tunnel));
  }
  body["tunnels"] = std::move(tunnels);
  return body;
}

std::expected<json::object, std::string> spokeBodyFromFile(std::string_view text,
                                                           const std::optional<std::string>& name) {
  boost::system::error_code ec;
  json::value parsed = json::parse(text, ec);
  if (ec) {
    return std::unexpected("not valid JSON (" + ec.message() + ")");
  }
  if (!parsed.is_object()) {
    return std::unexpected("must hold a JSON object (a spoke)");
  }
  json::object body = std::move(parsed.as_object());
  if (name) {
    const auto* file_name = body.if_contains("name");
    if (file_name == nullptr) {
      body["name"] = *name;
    } else if (!file_name->is_string() || file_name->as_string() != *name) {
      return std::unexpected("NAME \"" + *name + "\" does not match the file's \"name\"");
    }
  }
  return body;
}

std::expected<Token, std::string> loadToken(const std::optional<std::string>& token_file,
                                            const std::optional<std::string>& env_token) {
  Token token;
  if (token_file) {
    auto content = readFile(*token_file);
    if (!content) {
      return std::unexpected("cannot load the token: " + content.error());
    }
    const std::string_view first = std::string_view(*content).substr(0, content->find('\n'));
    token.value = std::string(trim(first));
    if (token.value.empty()) {
      return std::unexpected("token file " + *token_file + " has an empty first line");
    }
    if (!isHeaderSafe(token.value)) {
      return std::unexpected("the token in " + *token_file +
                             " has characters an HTTP header cannot carry");
    }
    std::error_code ec;
    const auto permissions = std::filesystem::status(*token_file, ec).permissions();
    using std::filesystem::perms;
    if (!ec && (permissions & (perms::group_read | perms::others_read)) != perms::none) {
      token.warning = "token file " + *token_file +
                      " is readable by group or others; restrict it with chmod 600";
    }
    return token;
  }
  if (env_token && !trim(*env_token).empty()) {
    token.value = std::string(trim(*env_token));
    if (!isHeaderSafe(token.value)) {
      return std::unexpected("TRANSIT_HUB_TOKEN has characters an HTTP header cannot carry");
    }
    return token;
  }
  return std::unexpected("no API token: pass --token-file PATH or set TRANSIT_HUB_TOKEN");
}

std::expected<std::string, std::string> readFile(const std::string& path) {
  return readFileAtMost(path, kMaxFileSize);
}

int runCtl(int argc, const char* const* argv, const Environment& env, std::istream& in,
           std::ostream& out, std::ostream& err) {
  try {
    Invocation inv;
    CommandLine command_line(inv);
    try {
      command_line.app().parse(argc, argv);
    } catch (const CLI::ParseError& error) {
      const int code = command_line.app().exit(error, out, err);
      return code == 0 ? 0 : static_cast<int>(ExitCode::kUsage);
    }
    command_line.finish();
    return run(inv, env, in, out, err);
  } catch (const std::exception& error) {
    return fail(err, Failure{ExitCode::kUnreachable, error.what()});
  }
}

}  // namespace transit::ctl
