// RealEtcd: a private single-member etcd 3.4 for tool tests, on 127.0.0.1 and ports nobody
// holds, with its data in a directory the test owns.
//
// Owns: the etcd process. The constructor starts it (fork/exec of TRANSIT_ETCD_BINARY, log to
// <dir>/etcd.log) and waits, bounded, until it answers a range; the destructor kills it with
// SIGKILL and reaps it whatever happened, and the child dies with the test process too
// (PR_SET_PDEATHSIG). kill() and start() stop it and start it again on the same data directory
// and ports. Plain HTTP, or TLS with a client certificate required (makeCertificates() writes a
// CA, a server certificate for 127.0.0.1 and a client certificate with the openssl CLI). Test
// thread only.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/json/value.hpp>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "hub/store/etcd/etcd_client.hpp"
#include "hub/store/etcd/etcd_json.hpp"

namespace transit::etcd_test {

namespace fs = std::filesystem;

// A port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
inline std::uint16_t freePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error("socket() failed");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;
  socklen_t length = sizeof(address);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    ::close(fd);
    throw std::runtime_error("cannot bind a port on 127.0.0.1");
  }
  ::close(fd);
  return ntohs(address.sin_port);
}

// Runs `argv` (found in PATH) with its output to `log`; its exit status (127: could not run).
inline int runTool(const std::vector<std::string>& argv, const fs::path& log) {
  std::vector<char*> args;
  for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
  args.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
    if (out >= 0) {
      ::dup2(out, 1);
      ::dup2(out, 2);
    }
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  int status = 0;
  if (pid < 0 || ::waitpid(pid, &status, 0) != pid) return 127;
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

inline std::string readFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

struct TlsFiles {
  fs::path ca;           // the CA certificate both sides trust
  fs::path server_cert;  // for IP 127.0.0.1 (and no DNS name)
  fs::path server_key;
  fs::path client_cert;  // CN hub-a, clientAuth
  fs::path client_key;
  fs::path other_ca;  // a CA that signed none of these
};

// Writes a CA, a server certificate for 127.0.0.1 and a client certificate into `dir` with the
// openssl CLI; nullopt (and a test failure) if openssl fails.
inline std::optional<TlsFiles> makeCertificates(const fs::path& dir) {
  const fs::path log = dir / "openssl.log";
  TlsFiles files{dir / "ca.crt",     dir / "server.crt", dir / "server.key",
                 dir / "client.crt", dir / "client.key", dir / "other-ca.crt"};
  // clientAuth too: etcd's gateway dials etcd's own gRPC port with the server's certificate,
  // which --client-cert-auth then checks as a client certificate.
  std::ofstream(dir / "server.ext") << "subjectAltName=IP:127.0.0.1\n"
                                       "extendedKeyUsage=serverAuth,clientAuth\n";
  std::ofstream(dir / "client.ext") << "extendedKeyUsage=clientAuth\n";
  const std::string ec = "ec_paramgen_curve:prime256v1";
  auto ca = [&](const fs::path& cert, const fs::path& key, const std::string& name) {
    return runTool({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout",
                    key.string(), "-out", cert.string(), "-days", "2", "-subj", "/CN=" + name},
                   log);
  };
  auto signedBy = [&](const std::string& name, const fs::path& cert, const fs::path& key,
                      const fs::path& ext) {
    const fs::path csr = dir / (name + ".csr");
    if (runTool({"openssl", "req", "-newkey", "ec", "-pkeyopt", ec, "-nodes", "-keyout",
                 key.string(), "-out", csr.string(), "-subj", "/CN=" + name},
                log) != 0) {
      return 1;
    }
    return runTool({"openssl", "x509", "-req", "-in", csr.string(), "-CA", files.ca.string(),
                    "-CAkey", (dir / "ca.key").string(), "-CAcreateserial", "-out", cert.string(),
                    "-days", "2", "-extfile", ext.string()},
                   log);
  };
  if (ca(files.ca, dir / "ca.key", "transit-test-ca") != 0 ||
      ca(files.other_ca, dir / "other-ca.key", "someone-else") != 0 ||
      signedBy("server", files.server_cert, files.server_key, dir / "server.ext") != 0 ||
      signedBy("hub-a", files.client_cert, files.client_key, dir / "client.ext") != 0) {
    ADD_FAILURE() << "openssl failed:\n" << readFile(log);
    return std::nullopt;
  }
  return files;
}

class RealEtcd {
 public:
  // Starts etcd with its data under `dir`; with `tls`, clients must use https and present a
  // certificate signed by its CA.
  explicit RealEtcd(fs::path dir, std::optional<TlsFiles> tls = std::nullopt)
      : dir_(std::move(dir)),
        tls_(std::move(tls)),
        client_port_(freePort()),
        peer_port_(freePort()) {
    start();
  }
  ~RealEtcd() { kill(); }
  RealEtcd(const RealEtcd&) = delete;
  RealEtcd& operator=(const RealEtcd&) = delete;

  std::string endpoint() const {
    return (tls_ ? "https://127.0.0.1:" : "http://127.0.0.1:") + std::to_string(client_port_);
  }
  std::uint16_t port() const { return client_port_; }
  // What a client needs to reach it (TLS files included).
  hub::EtcdClientOptions clientOptions() const {
    hub::EtcdClientOptions options;
    options.endpoints = {endpoint()};
    if (tls_)
      options.tls = {tls_->ca.string(), tls_->client_cert.string(), tls_->client_key.string()};
    options.timeout = std::chrono::milliseconds(2000);
    options.connect_timeout = std::chrono::milliseconds(500);
    return options;
  }

  // SIGKILL, and reap it.
  void kill() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  // SIGSTOP / SIGCONT: a member that keeps its connections open but answers nothing (a hung
  // host), then goes on.
  void pause() { ::kill(pid_, SIGSTOP); }
  void resume() { ::kill(pid_, SIGCONT); }

  // Starts it (again, on the same data directory and ports) and waits until it answers a range.
  void start() {
    kill();
    const std::string client = endpoint();
    const std::string peer = "http://127.0.0.1:" + std::to_string(peer_port_);
    std::vector<std::string> argv{
        TRANSIT_ETCD_BINARY, "--name=s1", "--data-dir=" + (dir_ / "data").string(),
        "--listen-client-urls=" + client, "--advertise-client-urls=" + client,
        "--listen-peer-urls=" + peer, "--initial-advertise-peer-urls=" + peer,
        "--initial-cluster=s1=" + peer,
        // One member, no peers: it elects itself in ~0.1 s, not ~0.4 s.
        "--heartbeat-interval=10", "--election-timeout=100", "--logger=zap", "--log-level=error"};
    if (tls_) {
      argv.push_back("--cert-file=" + tls_->server_cert.string());
      argv.push_back("--key-file=" + tls_->server_key.string());
      argv.push_back("--trusted-ca-file=" + tls_->ca.string());
      argv.push_back("--client-cert-auth");
    }
    std::vector<char*> args;
    for (const auto& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    const std::string log = (dir_ / "etcd.log").string();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the test, even when it crashes
      const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
      if (out >= 0) {
        ::dup2(out, 1);
        ::dup2(out, 2);
      }
      ::execv(args[0], args.data());
      ::_exit(127);
    }
    ASSERT_GT(pid_, 0) << "fork failed";
    waitUntilServing();
  }

  // POSTs to the gateway as `user` (none: anonymous); the answer, or a test failure.
  std::optional<boost::json::value> admin(std::string_view path, const boost::json::value& body,
                                          const std::string& user = {},
                                          const std::string& password = {}) const {
    auto options = clientOptions();
    options.user = user;
    options.password = password;
    auto client = hub::EtcdClient::create(options);
    if (!client) {
      ADD_FAILURE() << client.error().message;
      return std::nullopt;
    }
    auto answer = (*client)->post(path, body);
    if (!answer) {
      ADD_FAILURE() << path << ": " << answer.error().message;
      return std::nullopt;
    }
    return *answer;
  }

 private:
  void waitUntilServing() {
    auto client = hub::EtcdClient::create(clientOptions());
    ASSERT_TRUE(client.has_value()) << client.error().message;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    std::string last;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        FAIL() << "etcd exited at start:\n" << readFile(dir_ / "etcd.log");
      }
      auto answer = (*client)->post("/v3/kv/range", hub::etcd::rangeRequest("ready?"));
      if (answer) return;
      last = answer.error().message;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    FAIL() << "etcd did not answer within 15 s (" << last << "):\n" << readFile(dir_ / "etcd.log");
  }

  fs::path dir_;
  std::optional<TlsFiles> tls_;
  std::uint16_t client_port_;
  std::uint16_t peer_port_;
  pid_t pid_ = -1;
};

}  // namespace transit::etcd_test
