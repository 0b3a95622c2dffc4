#include "routing/base/command_runner.hpp"

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>
#include <array>
#include <cerrno>
#include <cstring>

extern char** environ;

namespace transit {
namespace {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }
  int get() const { return fd_; }
  void reset(int fd = -1) {
    if (fd_ >= 0) {
      ::close(fd_);
    }
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

struct Pipe {
  Fd read;
  Fd write;
};

std::expected<void, std::string> makePipe(Pipe& pipe) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) {
    return std::unexpected(fmt::format("pipe: {}", std::strerror(errno)));
  }
  pipe.read.reset(fds[0]);
  pipe.write.reset(fds[1]);
  return {};
}

// Reads what is available; returns false once the pipe is at EOF (or broken).
bool drain(Fd& fd, std::string& sink) {
  std::array<char, 16384> buffer{};
  for (;;) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n > 0) {
      sink.append(buffer.data(), static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    }
    fd.reset();
    return false;
  }
}

// Pumps both pipes until both close or `deadline` passes. Returns true when both closed.
bool pump(Fd& out, Fd& err, CommandResult& result, std::chrono::steady_clock::time_point deadline) {
  while (out.get() >= 0 || err.get() >= 0) {
    const auto now = std::chrono::steady_clock::now();
    if (now >= deadline) {
      return false;
    }
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - now);
    std::array<pollfd, 2> fds{pollfd{out.get(), POLLIN, 0}, pollfd{err.get(), POLLIN, 0}};
    const int ready = ::poll(fds.data(), fds.size(), static_cast<int>(left.count()));
    if (ready < 0 && errno != EINTR) {
      return false;
    }
    if (ready <= 0) {
      continue;
    }
    if (out.get() >= 0 && fds[0].revents != 0) {
      drain(out, result.out);
    }
    if (err.get() >= 0 && fds[1].revents != 0) {
      drain(err, result.err);
    }
  }
  return true;
}

void fillStatus(int status, CommandResult& result) {
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.signal = WTERMSIG(status);
  }
}

// Waits for pid without blocking past `deadline`; true when reaped.
bool reapBy(pid_t pid, CommandResult& result, std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    int status = 0;
    const pid_t r = ::waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      fillStatus(status, result);
      return true;
    }
    if (r < 0 && errno != EINTR) {
      return true;  // not our child any more; nothing left to wait for
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      return false;
    }
    // Bounded back-off while the child handles SIGTERM; only reached after a timeout.
    ::usleep(10000);
  }
}

}  // namespace

std::expected<CommandResult, std::string> PosixCommandRunner::run(
    const std::vector<std::string>& argv, std::chrono::milliseconds timeout) {
  std::vector<std::string> full = wrapper_;
  full.insert(full.end(), argv.begin(), argv.end());
  if (full.empty()) {
    return std::unexpected(std::string("empty command"));
  }
  std::vector<char*> cargv;
  cargv.reserve(full.size() + 1);
  for (auto& arg : full) {
    cargv.push_back(arg.data());
  }
  cargv.push_back(nullptr);

  Pipe out;
  Pipe err;
  if (auto ok = makePipe(out); !ok) {
    return std::unexpected(ok.error());
  }
  if (auto ok = makePipe(err); !ok) {
    return std::unexpected(ok.error());
  }

  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out.write.get(), STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, err.write.get(), STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  posix_spawnattr_setpgroup(&attr, 0);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGPIPE);
  sigaddset(&defaults, SIGTERM);
  sigaddset(&defaults, SIGINT);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr,
                           POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);

  pid_t pid = -1;
  const int rc = ::posix_spawnp(&pid, cargv[0], &actions, &attr, cargv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  out.write.reset();
  err.write.reset();
  if (rc != 0) {
    return std::unexpected(fmt::format("cannot start {}: {}", full[0], std::strerror(rc)));
  }
  ::fcntl(out.read.get(), F_SETFL, O_NONBLOCK);
  ::fcntl(err.read.get(), F_SETFL, O_NONBLOCK);

  CommandResult result;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  if (pump(out.read, err.read, result, deadline) && reapBy(pid, result, deadline)) {
    return result;
  }
  // Timed out: the whole process group gets SIGTERM, then SIGKILL after the grace period.
  result.timed_out = true;
  ::kill(-pid, SIGTERM);
  const auto grace = std::chrono::steady_clock::now() + kill_grace_;
  pump(out.read, err.read, result, grace);
  if (!reapBy(pid, result, grace)) {
    ::kill(-pid, SIGKILL);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    fillStatus(status, result);
  } else {
    ::kill(-pid, SIGKILL);  // leftovers of the group that ignored SIGTERM
  }
  return result;
}

}  // namespace transit
