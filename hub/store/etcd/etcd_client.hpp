// EtcdTransport and EtcdClient: POST a JSON body to a path of etcd's JSON gateway ("/v3/kv/txn")
// and get etcd's JSON answer, or a classified error.
//
// Owns (EtcdClient): its own io_context, at most one HTTP/1.1 keep-alive connection (plain or
// TLS) to the endpoint that answered last, the TLS context and the auth token. Synchronous:
// post() runs the io_context on the calling thread until the answer or the deadline. One thread
// at a time: EtcdStore's caller (the Registry's writer thread); EtcdStore's health probe has a
// client of its own.
//
// Failover: endpoints are tried in turn, starting with the one that answered last. A request
// moves on to the next endpoint when it cannot have reached etcd (resolving, connecting, the TLS
// handshake or writing the request failed) or etcd answered 5xx ("no leader", "leader changed").
// A write (any path but range, status and authenticate) that was sent without an answer, or was
// answered "request timed out" or 500 (its proposal may still commit), is never sent again: it
// fails kUnavailable with outcome_unknown set, and the caller reads to find out. Each endpoint
// gets `timeout` for one request (`connect_timeout` of it to connect). An answer that came only
// after another endpoint failed is logged at warn with why the others failed. Every request
// requires a leader (gRPC metadata hasleader): a member cut off from the others answers "no
// leader" at once, never proposes the write, and the request moves on, instead of holding it
// for etcd's request timeout (7 s) and answering "request timed out".
// Auth: with a user, the first request authenticates (/v3/auth/authenticate) and every request
// carries the token in the Authorization header; an answer 401 (the token expired or etcd
// restarted) authenticates again, once, and sends the request again.
// TLS: https endpoints; the server's certificate is verified against `ca_file` (or the system's
// store) and its DNS name or IP address against the endpoint's host; an optional client
// certificate. Messages name the endpoint and etcd's message, never the password, the token or
// anything sent in a body.
#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <cstddef>
#include <expected>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hub/store/etcd/etcd_json.hpp"

namespace transit::hub {

class EtcdTransport {
 public:
  virtual ~EtcdTransport() = default;
  // etcd's answer (HTTP 200) to `body` POSTed to `path`, or why there is none.
  virtual std::expected<boost::json::value, EtcdError> post(std::string_view path,
                                                            const boost::json::value& body) = 0;
};

struct EtcdTlsOptions {
  std::string ca_file;    // PEM; empty: the system's trusted certificates
  std::string cert_file;  // PEM client certificate (chain); empty: none
  std::string key_file;   // its PEM private key; required with cert_file
};

struct EtcdClientOptions {
  // "http://10.0.1.5:2379" or "https://etcd-a.internal:2379", each a member's client URL. All
  // http or all https.
  std::vector<std::string> endpoints;
  EtcdTlsOptions tls;  // for https endpoints
  std::string user;    // empty: no authentication
  std::string password;
  std::chrono::milliseconds timeout{10000};  // one request on one endpoint, connecting included
  std::chrono::milliseconds connect_timeout{2000};
};

class EtcdClient final : public EtcdTransport {
 public:
  // Checks the options (endpoint URLs, TLS files) without contacting etcd: kInvalid when one is
  // wrong.
  static std::expected<std::unique_ptr<EtcdClient>, EtcdError> create(
      const EtcdClientOptions& options);

  ~EtcdClient() override;
  EtcdClient(const EtcdClient&) = delete;
  EtcdClient& operator=(const EtcdClient&) = delete;

  std::expected<boost::json::value, EtcdError> post(std::string_view path,
                                                    const boost::json::value& body) override;

  // The endpoint URLs, joined by ",".
  std::string endpoints() const;
  // The index of the endpoint that answered last (tests).
  std::size_t currentEndpoint() const;
  // Any thread: a post() in progress returns at once (kUnavailable "cancelled"), and so does
  // every later one. For a client that another thread waits for (EtcdStoreWatch's check).
  void cancel();

 private:
  friend class EtcdStream;
  struct State;  // the io_context, TLS context, endpoints and connection (etcd_client.cpp)
  explicit EtcdClient(std::unique_ptr<State> state);

  std::unique_ptr<State> state_;
};

// EtcdStream: one long-lived streaming POST (a watch, /v3/watch) over a connection of its own,
// with EtcdClient's endpoints, TLS and authentication; the answer's body is read as it comes
// (chunked). One thread at a time, but cancel() may come from any thread.
class EtcdStream {
 public:
  static std::expected<std::unique_ptr<EtcdStream>, EtcdError> create(
      const EtcdClientOptions& options);
  ~EtcdStream();
  EtcdStream(const EtcdStream&) = delete;
  EtcdStream& operator=(const EtcdStream&) = delete;

  // Closes any open stream, then POSTs `body` to `path` with the extra `headers`, trying the
  // endpoints in turn from the one that served last, until one answers HTTP 200 (within
  // `timeout` each); the body is then read with read().
  std::expected<void, EtcdError> open(std::string_view path, const boost::json::value& body,
                                      std::span<const std::pair<std::string, std::string>> headers);

  enum class Read {
    kData,   // appended some of the body (maybe nothing: a chunk's framing)
    kQuiet,  // nothing came within `wait`; the read goes on with the next call
    kEnded,  // the body is complete (etcd ended the stream); closed
  };
  // Waits up to `wait` for more of the open stream's body and appends it to `out`. An error
  // (the connection broke, cancel()) closes the stream.
  std::expected<Read, EtcdError> read(std::string& out, std::chrono::milliseconds wait);
  void close();
  // The URL of the endpoint the stream is open on (or was last).
  std::string endpoint() const;
  // Any thread: a blocked open() or read() returns at once, and every later call fails.
  void cancel();

 private:
  struct Impl;
  explicit EtcdStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Whether `path` only reads, so sending it again after a lost answer is harmless.
bool etcdPathIsRead(std::string_view path);

}  // namespace transit::hub
