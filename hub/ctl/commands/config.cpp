#include "hub/ctl/commands/config.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <filesystem>
#include <ostream>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace transit::ctl {
namespace {

constexpr std::string_view kConfigFooter =
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

// `--output-dir`: creates `dir` (0700 when new) and the files' subdirectories, writes each file
// and prints "wrote PATH (MODE)" for it. Stops at the first failure.
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

}  // namespace

void SpokeConfig::setup(CLI::App& app) {
  app.footer(footerWith(kConfigFooter));
  app.add_option("NAME", name, "spoke name (a site)")->type_name("")->required();
  app.add_option("--format", format, "strongswan, libreswan or aws-xml")
      ->type_name("FORMAT")
      ->required()
      ->check(
          CLI::IsMember(std::vector<std::string>{"strongswan", "libreswan", std::string(kAwsXml)}));
  app.add_option("--output-dir", output_dir, "write the files under DIR instead of printing them")
      ->type_name("DIR");
}

std::expected<ApiRequest, std::string> SpokeConfig::request(const Session& session) const {
  if (output_dir && output_dir->empty()) {
    return std::unexpected("--output-dir needs a directory");
  }
  if (output_dir && session.flags.json) {
    return std::unexpected(
        "--json prints the API's answer, --output-dir writes files: give one of them");
  }
  ApiRequest request;
  request.path = {"v1", "spokes", name, "config"};
  request.query.emplace_back("format", format);
  if (format == kAwsXml) {
    request.accept = "application/xml, application/json";  // errors are JSON
  }
  return request;
}

int SpokeConfig::print(const Answer& answer, const Session& session) const {
  const ApiResponse& response = answer.response;
  std::vector<ConfigFile> files;
  if (format == kAwsXml) {
    auto xml = interpretXmlResponse(response.status, response.reason, response.content_type,
                                    response.body, answer.server);
    if (!xml) {
      return fail(session.err, xml.error());
    }
    if (!output_dir) {
      session.out << *xml;  // exactly, --json or not: the document is the API's answer
      return 0;
    }
    files.push_back(ConfigFile{name + ".xml", "", true, std::move(*xml)});
    if (auto refused = checkConfigPath(files.front().path)) {
      return usage(session.err,
                   "cannot name a file after the spoke: " + files.front().path + " " + *refused);
    }
  } else {
    auto body = interpretResponse(response.status, response.reason, response.body, answer.server);
    if (!body) {
      return fail(session.err, body.error());
    }
    if (session.flags.json) {
      printRaw(response.body, session.out);
      return 0;
    }
    auto parsed = parseConfigFiles(*body);
    if (!parsed) {
      return fail(session.err,
                  Failure{ExitCode::kUnreachable, "unexpected response from " + answer.server +
                                                      ": " + parsed.error() +
                                                      (output_dir ? "; nothing was written" : "")});
    }
    files = std::move(*parsed);
    if (!output_dir) {
      session.out << renderConfigFiles(files);
      return 0;
    }
  }
  return writeConfigFiles(*output_dir, files, session.out, session.err);
}

}  // namespace transit::ctl
