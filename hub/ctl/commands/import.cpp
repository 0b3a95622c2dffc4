#include "hub/ctl/commands/import.hpp"

#include <CLI/CLI.hpp>
#include <string_view>
#include <utility>

namespace transit::ctl {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kImportAwsFooter =
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

// The document: FILE, or stdin for "-"; refused when empty or over kMaxAwsDocumentSize. The
// bytes are returned exactly as read.
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

}  // namespace

void SpokeImportAws::setup(CLI::App& app) {
  app.footer(footerWith(kImportAwsFooter));
  app.add_option("FILE", file, "the connection's configuration document (XML), or - for stdin")
      ->type_name("")
      ->required();
  app.add_option("--name", name, "name of the new spoke (with --update: of the spoke to update)")
      ->type_name("NAME")
      ->required();
  app.add_option("--cidr", cidrs,
                 "a CIDR of the VPC behind the connection; repeat for more (required "
                 "without --update)")
      ->type_name("CIDR")
      ->allow_extra_args(false);
  app.add_flag("--update", update,
               "update the existing spoke NAME from a new document of its connection");
  app.add_option("--segment", segment, "segment (default: default)")->type_name("SEG");
  app.add_option("--preferred-hub", preferred_hub, "the hub this spoke's traffic should prefer")
      ->type_name("HUB");
}

std::expected<ApiRequest, std::string> SpokeImportAws::request(const Session& session) const {
  auto document = readAwsDocument(file, session.in);
  if (!document) {
    return std::unexpected(document.error());
  }
  if (!update && cidrs.empty()) {
    return std::unexpected(
        "--cidr is required: the CIDRs of the VPC behind the connection (with --update the "
        "spoke's are kept)");
  }
  ApiRequest request;
  if (update) {
    request.method = http::verb::put;
    request.path = {"v1", "spokes", name, "import", "aws"};
  } else {
    request.method = http::verb::post;
    request.path = {"v1", "spokes", "import", "aws"};
    request.query.emplace_back("name", name);  // with --update it is in the path
  }
  for (const auto& cidr : cidrs) {
    request.query.emplace_back("cidr", cidr);
  }
  if (segment) {
    request.query.emplace_back("segment", *segment);
  }
  if (preferred_hub) {
    request.query.emplace_back("preferred_hub", *preferred_hub);
  }
  request.body = std::move(*document);
  request.content_type = "application/xml";
  return request;
}

int SpokeImportAws::print(const Answer& answer, const Session& session) const {
  return printRendered(answer, session, update ? &renderUpdated : &renderCreated);
}

}  // namespace transit::ctl
