#include "hub/ctl/commands/status.hpp"

#include <CLI/CLI.hpp>
#include <string>
#include <string_view>

#include <ostream>

namespace transit::ctl {

void Hub::setup(CLI::App& /*app*/) {}

std::expected<ApiRequest, std::string> Hub::request(const Session& /*session*/) const {
  ApiRequest request;
  request.path = {"v1", "hub"};
  return request;
}

int Hub::print(const Answer& answer, const Session& session) const {
  return printRendered(answer, session, &renderHub);
}

namespace {

constexpr std::string_view kAuditFooter =
    "For operators and auditors: who changed which spoke, when, and what. One row per change\n"
    "(create, replace, delete, import, reimport), newest first, with the token that asked, the\n"
    "request id (as in the hub's log) and the fields that changed; --json shows their values\n"
    "before and after. A PSK is never shown: a changed one is listed as psk (secret).\n\n";

}  // namespace

void Audit::setup(CLI::App& app) {
  app.footer(footerWith(kAuditFooter));
  app.add_option("--spoke", spoke, "only this spoke's changes")->type_name("NAME");
  page.setup(app);  // the API's default page: 100 changes
}

std::expected<ApiRequest, std::string> Audit::request(const Session& /*session*/) const {
  ApiRequest request;
  request.path = {"v1", "audit"};
  if (spoke) request.query.emplace_back("spoke", *spoke);
  page.addTo(request);
  return request;
}

int Audit::print(const Answer& answer, const Session& session) const {
  return printPage(answer, session, &renderAudit);
}

void Version::setup(CLI::App& /*app*/) {}

int Version::run(const Session& session) const {
  session.out << "transit-hubctl " << TRANSIT_HUB_VERSION << "\n";
  return 0;
}

}  // namespace transit::ctl
