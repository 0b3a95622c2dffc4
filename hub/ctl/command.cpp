#include "hub/ctl/command.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <boost/json/parse.hpp>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <istream>
#include <memory>
#include <ostream>
#include <string_view>
#include <system_error>
#include <utility>

namespace transit::ctl {
namespace {

std::string_view trim(std::string_view text) {
  text = trimRight(text);
  const auto begin = text.find_first_not_of(" \t\r\n\v\f");
  return begin == std::string_view::npos ? std::string_view() : text.substr(begin);
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

}  // namespace

std::string footerWith(std::string_view own) { return std::string(own) + std::string(kFooter); }

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

int ApiCommand::run(const Session& session) const {
  const GlobalFlags& flags = session.flags;
  ClientOptions options;
  std::string server_source = "--server";
  std::string server_text;
  if (flags.server) {
    server_text = *flags.server;
  } else {
    server_source = session.env.server_url ? "TRANSIT_HUB_URL" : "the default server URL";
    server_text = session.env.server_url.value_or(std::string(kDefaultServer));
  }
  auto server = parseServerUrl(server_text);
  if (!server) {
    return usage(session.err, "invalid " + server_source + ": " + server.error());
  }
  options.server = *server;
  const double timeout_seconds = flags.timeout_seconds.value_or(kDefaultTimeoutSeconds);
  options.timeout = std::max(std::chrono::milliseconds(1),
                             std::chrono::milliseconds(std::llround(timeout_seconds * 1000)));
  if (flags.ca_file) {
    if (!options.server.tls) {
      session.err << "warning: --ca-file is ignored for an http:// server\n";
    }
    options.ca_file = *flags.ca_file;
  }

  auto built = request(session);
  if (!built) {
    return usage(session.err, built.error());
  }
  auto token = loadToken(flags.token_file, session.env.token);
  if (!token) {
    return usage(session.err, token.error());
  }
  if (token->warning) {
    session.err << "warning: " << *token->warning << "\n";
  }
  options.token = token->value;

  auto response = sendRequest(options, *built);
  if (!response) {
    const auto code = response.error().kind == ClientError::Kind::kSetup ? ExitCode::kUsage
                                                                         : ExitCode::kUnreachable;
    return fail(session.err, Failure{code, response.error().message});
  }
  return print(Answer{*response, options.server.display}, session);
}

int printRendered(const Answer& answer, const Session& session, Renderer render) {
  const ApiResponse& response = answer.response;
  auto body = interpretResponse(response.status, response.reason, response.body, answer.server);
  if (!body) {
    return fail(session.err, body.error());
  }
  if (session.flags.json) {
    printRaw(response.body, session.out);
    return 0;
  }
  auto text = render(*body);
  if (!text) {
    return fail(session.err,
                Failure{ExitCode::kUnreachable,
                        "unexpected response from " + answer.server + ": " + text.error()});
  }
  session.out << *text;
  return 0;
}

void PageFlags::setup(CLI::App& app) {
  app.add_option("--limit", limit, "at most N items, and the cursor of the rest (1-1000)")
      ->type_name("N")
      ->check(CLI::Range(1U, 1000U));
  app.add_option("--cursor", cursor, "the page after this cursor (printed under a page)")
      ->type_name("ID");
}

void PageFlags::addTo(ApiRequest& request) const {
  if (limit) request.query.emplace_back("limit", std::to_string(*limit));
  if (cursor) request.query.emplace_back("cursor", *cursor);
}

int printPage(const Answer& answer, const Session& session, Renderer render) {
  const int code = printRendered(answer, session, render);
  if (code != 0 || session.flags.json) return code;
  boost::system::error_code ec;
  const auto body = boost::json::parse(answer.response.body, ec);
  if (ec || !body.is_object()) return code;
  if (const auto* next = body.as_object().if_contains("next");
      next != nullptr && next->is_string()) {
    // A cursor is made of names and hex digits; anything else is not printed to the terminal.
    const std::string_view cursor = next->as_string();
    if (std::ranges::all_of(cursor, [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
                 std::string_view("._:,/-").find(c) != std::string_view::npos;
        })) {
      session.out << "More: repeat the command with --cursor " << cursor << "\n";
    }
  }
  return code;
}

void printRaw(const std::string& body, std::ostream& out) {
  out << body;
  if (body.empty() || body.back() != '\n') {
    out << "\n";
  }
}

int fail(std::ostream& err, const Failure& failure) {
  err << "error: " << failure.message << "\n";
  return static_cast<int>(failure.code);
}

int usage(std::ostream& err, std::string message) {
  return fail(err, Failure{ExitCode::kUsage, std::move(message)});
}

std::string_view trimRight(std::string_view text) {
  const auto end = text.find_last_not_of(" \t\r\n\v\f");
  return end == std::string_view::npos ? std::string_view() : text.substr(0, end + 1);
}

std::expected<std::string, std::string> readStream(std::istream& in, std::size_t limit,
                                                   std::string_view why) {
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

std::expected<std::string, std::string> readFileAtMost(const std::string& path, std::size_t limit,
                                                       std::string_view why) {
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

std::expected<std::string, std::string> readFile(const std::string& path) {
  return readFileAtMost(path, kMaxFileSize);
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

}  // namespace transit::ctl
