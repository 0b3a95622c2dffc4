#include "hub/ctl/commands/status.hpp"

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

void Version::setup(CLI::App& /*app*/) {}

int Version::run(const Session& session) const {
  session.out << "transit-hubctl " << TRANSIT_HUB_VERSION << "\n";
  return 0;
}

}  // namespace transit::ctl
