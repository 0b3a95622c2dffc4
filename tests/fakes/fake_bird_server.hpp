// FakeBirdServer: a unix-socket server on its own thread that speaks BIRD's control protocol
// from a script, plus a loader for the recorded transcripts in tests/data/bird.
//
// Owns: the listening socket (created in the constructor, so clients can connect at once), the
// server thread and the list of commands received. The test thread calls commands() and
// connections(); the handler runs on the server thread. No sleeps: a "hanging" reply waits for
// the client to close or the server to stop.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <functional>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace transit::fakes {

inline constexpr const char* kBirdGreeting = "0001 BIRD 2.0.12 ready.\n";

// One ">>> command" of a transcript and the raw bytes BIRD answered ("| " gutter removed).
struct TranscriptExchange {
  std::string command;
  std::string reply;
};

struct Transcript {
  std::string greeting;
  std::vector<TranscriptExchange> exchanges;
};

// Reads a birdwire.py transcript: "| LINE" = a received line, ">>> CMD" = a sent command.
inline Transcript loadTranscript(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot open transcript " + path);
  Transcript transcript;
  std::string line;
  std::string* target = &transcript.greeting;
  while (std::getline(in, line)) {
    if (line.rfind(">>> ", 0) == 0) {
      transcript.exchanges.push_back({line.substr(4), ""});
      target = &transcript.exchanges.back().reply;
    } else if (line.rfind("| ", 0) == 0) {
      *target += line.substr(2) + "\n";
    }
  }
  return transcript;
}

class FakeBirdServer {
 public:
  struct Response {
    std::vector<std::string> chunks;  // written one write() each
    bool close_after = false;         // close the connection after the chunks
    bool hang = false;                // after the chunks, never answer again
  };
  using Handler = std::function<Response(const std::string& command)>;

  FakeBirdServer(std::string socket_path, Handler handler,
                 std::vector<std::string> greeting = {kBirdGreeting})
      : path_(std::move(socket_path)),
        handler_(std::move(handler)),
        greeting_(std::move(greeting)) {
    ::unlink(path_.c_str());
    listen_fd_ = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::strncpy(address.sun_path, path_.c_str(), sizeof(address.sun_path) - 1);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) != 0 ||
        ::listen(listen_fd_, 8) != 0 || ::pipe2(wake_, O_CLOEXEC) != 0) {
      throw std::runtime_error("fake bird server: cannot listen on " + path_);
    }
    thread_ = std::thread([this] { serve(); });
  }

  ~FakeBirdServer() {
    const char byte = 'x';
    (void)!::write(wake_[1], &byte, 1);
    thread_.join();
    ::close(listen_fd_);
    ::close(wake_[0]);
    ::close(wake_[1]);
    ::unlink(path_.c_str());
  }

  FakeBirdServer(const FakeBirdServer&) = delete;
  FakeBirdServer& operator=(const FakeBirdServer&) = delete;

  std::vector<std::string> commands() const {
    std::lock_guard lock(mutex_);
    return commands_;
  }
  int connections() const {
    std::lock_guard lock(mutex_);
    return connections_;
  }

 private:
  // Waits until `fd` is readable; false when the server is stopping.
  bool waitReadable(int fd) {
    pollfd fds[2] = {{fd, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    while (::poll(fds, 2, -1) < 0) {
    }
    return (fds[1].revents & POLLIN) == 0;
  }

  static void writeAll(int fd, const std::string& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const auto n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;
      done += static_cast<std::size_t>(n);
    }
  }

  void serve() {
    while (waitReadable(listen_fd_)) {
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      {
        std::lock_guard lock(mutex_);
        ++connections_;
      }
      const bool stopping = !converse(fd);
      ::close(fd);
      if (stopping) return;
    }
  }

  // Serves one connection; false when the server is stopping.
  bool converse(int fd) {
    for (const auto& chunk : greeting_) writeAll(fd, chunk);
    std::string buffer;
    char chunk[512];
    for (;;) {
      const auto newline = buffer.find('\n');
      if (newline == std::string::npos) {
        if (!waitReadable(fd)) return false;
        const auto n = ::read(fd, chunk, sizeof(chunk));
        if (n <= 0) return true;  // client closed
        buffer.append(chunk, static_cast<std::size_t>(n));
        continue;
      }
      std::string command = buffer.substr(0, newline);
      buffer.erase(0, newline + 1);
      {
        std::lock_guard lock(mutex_);
        commands_.push_back(command);
      }
      const Response response = handler_(command);
      for (const auto& part : response.chunks) writeAll(fd, part);
      if (response.close_after) return true;
      if (response.hang) {
        while (waitReadable(fd)) {
          if (::read(fd, chunk, sizeof(chunk)) <= 0) return true;
        }
        return false;
      }
    }
  }

  std::string path_;
  Handler handler_;
  std::vector<std::string> greeting_;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  mutable std::mutex mutex_;
  std::vector<std::string> commands_;
  int connections_ = 0;
  std::thread thread_;
};

}  // namespace transit::fakes
