// CannedHttpServer: an HTTP/1.1 server on 127.0.0.1 and a free port that answers each
// connection with the next of a list of canned responses and records every request it read.
// The transit-hubctl tests (tests/hub/ctl_*_test.cpp) run the real client against it.
//
// Owns: the acceptor (bound in the constructor, so a client can connect at once), the io_context
// and the one server thread that runs it, and the list of recorded requests. Plain HTTP, or TLS
// with a server context the test owns and keeps alive. Connections are served one at a time on
// the server thread; connections beyond the list are never accepted. The test thread calls
// url(), port() and requests() (guarded by a mutex). No sleeps: a silent response waits for the
// client to give up and close.
#pragma once

#include <openssl/ssl.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace transit::fakes {

// One answer, sent on one connection, which is then closed.
struct CannedResponse {
  unsigned status = 200;
  std::string body;
  // Unset: application/json when the body is non-empty, no Content-Type when it is empty.
  // Set: sent as given; an empty string sends no Content-Type at all.
  std::optional<std::string> content_type = std::nullopt;
  // Sent as well, e.g. Location and ETag of a created resource, or Cache-Control.
  std::vector<std::pair<boost::beast::http::field, std::string>> headers = {};
  bool silent = false;  // read the request, then never answer
};

// What the server read of one request; a header the client did not send is empty.
struct RecordedRequest {
  std::string method;
  std::string target;
  std::string host;
  std::string authorization;
  std::string accept;
  std::string content_type;
  std::string user_agent;
  std::string if_match;
  std::string body;
  std::string sni;             // the TLS server name the client asked for; empty over plain HTTP
  std::string require_leader;  // etcd's gRPC metadata header Grpc-Metadata-hasleader
  // Every header as sent, by name (e.g. the instance metadata's X-aws-ec2-metadata-token).
  std::vector<std::pair<std::string, std::string>> fields = {};

  // The value of the header `name` (case-insensitive); empty when it was not sent.
  std::string field(std::string_view name) const {
    for (const auto& [key, value] : fields) {
      if (boost::beast::iequals(key, name)) return value;
    }
    return "";
  }
};

class CannedHttpServer {
 public:
  explicit CannedHttpServer(std::vector<CannedResponse> canned,
                            boost::asio::ssl::context* tls = nullptr)
      : canned_(std::move(canned)),
        tls_(tls),
        acceptor_(ioc_, Tcp::endpoint(boost::asio::ip::make_address_v4("127.0.0.1"), 0)) {
    acceptNext();
    thread_ = std::thread([this] { ioc_.run(); });
  }
  ~CannedHttpServer() {
    boost::asio::post(ioc_, [this] { acceptor_.close(); });
    thread_.join();
  }
  CannedHttpServer(const CannedHttpServer&) = delete;
  CannedHttpServer& operator=(const CannedHttpServer&) = delete;

  std::string port() const { return std::to_string(acceptor_.local_endpoint().port()); }
  // "http://127.0.0.1:PORT" by default; `path` is appended as given.
  std::string url(const std::string& scheme = "http", const std::string& host = "127.0.0.1",
                  const std::string& path = "") const {
    return scheme + "://" + host + ":" + port() + path;
  }
  // Every request read so far, in order.
  std::vector<RecordedRequest> requests() const {
    const std::lock_guard lock(mutex_);
    return recorded_;
  }

 private:
  using Tcp = boost::asio::ip::tcp;

  void acceptNext() {
    if (next_ >= canned_.size()) {
      return;
    }
    acceptor_.async_accept([this](boost::beast::error_code ec, Tcp::socket socket) {
      if (ec) {
        return;
      }
      serve(socket, canned_[next_++]);
      acceptNext();
    });
  }

  void serve(Tcp::socket& socket, const CannedResponse& canned) {
    if (tls_ == nullptr) {
      exchange(socket, canned, "");
      return;
    }
    boost::asio::ssl::stream<Tcp::socket&> stream(socket, *tls_);
    boost::beast::error_code ec;
    stream.handshake(boost::asio::ssl::stream_base::server, ec);
    if (!ec) {
      const char* sni = SSL_get_servername(stream.native_handle(), TLSEXT_NAMETYPE_host_name);
      exchange(stream, canned, sni != nullptr ? sni : "");
    }
  }

  template <class Stream>
  void exchange(Stream& stream, const CannedResponse& canned, const std::string& sni) {
    namespace http = boost::beast::http;
    boost::beast::flat_buffer buffer;
    http::request<http::string_body> request;
    boost::beast::error_code ec;
    http::read(stream, buffer, request, ec);
    if (ec) {
      return;
    }
    {
      const std::lock_guard lock(mutex_);
      recorded_.push_back(RecordedRequest{
          std::string(request.method_string()), std::string(request.target()),
          std::string(request[http::field::host]), std::string(request[http::field::authorization]),
          std::string(request[http::field::accept]),
          std::string(request[http::field::content_type]),
          std::string(request[http::field::user_agent]),
          std::string(request[http::field::if_match]), request.body(), sni,
          std::string(request["Grpc-Metadata-hasleader"]), headerFields(request)});
    }
    if (canned.silent) {  // until the client gives up and closes
      char byte = 0;
      boost::asio::read(stream, boost::asio::buffer(&byte, 1), ec);
      return;
    }
    http::response<http::string_body> response{static_cast<http::status>(canned.status), 11};
    for (const auto& [field, value] : canned.headers) {
      response.set(field, value);
    }
    const std::string content_type =
        canned.content_type.value_or(canned.body.empty() ? "" : "application/json");
    if (!content_type.empty()) {
      response.set(http::field::content_type, content_type);
    }
    response.body() = canned.body;
    response.keep_alive(false);
    response.prepare_payload();
    http::write(stream, response, ec);
  }

  template <class Request>
  static std::vector<std::pair<std::string, std::string>> headerFields(const Request& request) {
    std::vector<std::pair<std::string, std::string>> out;
    for (const auto& field : request) {
      out.emplace_back(std::string(field.name_string()), std::string(field.value()));
    }
    return out;
  }

  std::vector<CannedResponse> canned_;
  std::size_t next_ = 0;  // server thread only
  boost::asio::ssl::context* tls_;
  boost::asio::io_context ioc_;
  Tcp::acceptor acceptor_;
  mutable std::mutex mutex_;
  std::vector<RecordedRequest> recorded_;
  std::thread thread_;
};

}  // namespace transit::fakes
